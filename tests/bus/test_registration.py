#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Registration with BlueZ, sd_notify, and refusing bad configs at start."""

import os

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (AGENT_PATH, ALLOWED, BusTestCase, iterate, make_config, wait_until)


class Registration(BusTestCase):

    def check_registered(self, capability):
        sender = self.wait_registered(self.fake)
        regs = self.fake.calls_of('RegisterAgent')
        self.assertEqual(len(regs), 1, 'expected exactly one RegisterAgent: %r' % regs)
        reg = regs[0]
        self.assertEqual(reg['path'], AGENT_PATH)
        self.assertEqual(reg['capability'], capability)
        self.assertNotIn('error', reg)
        defaults = self.fake.calls_of('RequestDefaultAgent', sender)
        self.assertEqual(len(defaults), 1, defaults)
        self.assertEqual(defaults[0]['path'], AGENT_PATH)
        self.assertLess(self.fake.calls.index(reg), self.fake.calls.index(defaults[0]),
                        'RequestDefaultAgent must follow RegisterAgent')
        self.assertEqual(self.fake.default_agent.sender, sender)
        # The device cache is filled from GetManagedObjects.
        self.assertTrue(self.fake.calls_of('GetManagedObjects', sender),
                        'pairgated never called GetManagedObjects')
        # sd_notify: READY=1 and a STATUS= naming the capability.
        self.assertTrue(self.daemon.wait_notify(lambda d: 'READY=1' in d.split('\n')),
                        'no READY=1; notify messages: %r' % self.daemon.notify)
        self.assertTrue(wait_until(lambda: any(capability in v for v in
                                               self.daemon.notify_values('STATUS')), 5),
                        'no STATUS= mentioning %s: %r' % (capability, self.daemon.notify))
        recs = self.daemon.wait_audit(event='registered')
        self.assertTrue(recs, 'no audit event=registered\n' + self.stderr_tail())
        self.assertEqual(recs[-1].get('capability'), capability, recs[-1].line)
        return sender

    def test_register_keyboard_display(self):
        self.start_daemon(capability='KeyboardDisplay')
        self.check_registered('KeyboardDisplay')
        # and it answers requests once registered
        c = self.call_wait('RequestAuthorization', harness.dev_path(ALLOWED))
        self.assertAllowed(c)

    def test_register_noinputnooutput(self):
        self.start_daemon(capability='NoInputNoOutput')
        self.check_registered('NoInputNoOutput')

    def test_watchdog(self):
        # WatchdogSec= in the unit -> WATCHDOG_USEC in the environment -> WATCHDOG=1 pings
        # (at least twice per period).
        self.start_daemon(env={'WATCHDOG_USEC': '400000'})
        iterate(1.3)
        pings = [d for d in self.daemon.notify if 'WATCHDOG=1' in d.split('\n')]
        self.assertGreaterEqual(len(pings), 3, 'WATCHDOG=1 pings in 1.3 s with WATCHDOG_USEC='
                                '400000: %r' % self.daemon.notify)

    def test_no_watchdog_without_watchdog_usec(self):
        self.start_daemon()
        iterate(0.5)
        self.assertFalse([d for d in self.daemon.notify if 'WATCHDOG=1' in d.split('\n')])

    def test_bluez_appears_after_start(self):
        # org.bluez is not there yet: READY=1 anyway (the bus is up), no registration.
        self.fake.release_name()
        self.start_daemon(register=False, capability='DisplayOnly')
        self.assertTrue(self.daemon.wait_notify(lambda d: 'READY=1' in d.split('\n'), 10),
                        'no READY=1 without BlueZ: %r\n%s' % (self.daemon.notify,
                                                              self.stderr_tail()))
        iterate(0.3)
        self.assertFalse(self.fake.calls_of('RegisterAgent'))
        self.assertTrue(self.daemon.running())
        self.fake.acquire_name()
        self.check_registered('DisplayOnly')
        self.assertTrue(self.daemon.audit(event='bluez-appeared'), self.stderr_tail())


class SystemUser(BusTestCase):
    """pairgated.service runs as User=pairgate while bluetoothd runs as root with a capability
    bounding set of CAP_NET_ADMIN CAP_NET_BIND_SERVICE (Debian's bluetooth.service). Calls from
    bluetoothd must reach the agent: nothing but the owner-of-org.bluez check may refuse them."""

    UID = 65534  # nobody: any uid other than the fake BlueZ's

    def test_unprivileged_daemon_answers_bluez(self):
        if os.getuid() != 0:
            self.skipTest('needs root to start pairgated as another user')
        self.start_daemon(user=self.UID)
        self.check_answers()

    def check_answers(self):
        ok = self.call_wait('RequestAuthorization', harness.dev_path(ALLOWED))
        self.assertAllowed(ok)
        no = self.call_wait('RequestConfirmation', harness.dev_path(harness.STRANGER),
                            dbus.UInt32(123456))
        self.assertRejected(no)
        self.assertEqual(self.decision(no)['event'], 'deny')


class ConfigAtStart(BusTestCase):
    """--check-config and refusing to start on an invalid file (exit 3, file:line named)."""

    GOOD = make_config(test=None)
    def bad_configs(self):
        yield 'unknown capability', make_config(capability='Bogus'), 2
        yield 'capability prefix', make_config(capability='Display'), 2
        yield 'capability case', make_config(capability='displayyesno'), 2
        yield 'unknown key', make_config() + 'no_such_key = 1;\n', None
        yield ('bad address',
               'capability = "DisplayYesNo";\n'
               'routes = { RequestConfirmation = [ "allowlist" ]; };\n'
               'allowlist = {\n  devices = [ "AA:BB:CC:DD:EE" ];\n};\n', 4)
        yield ('unknown policy',
               'capability = "DisplayYesNo";\n'
               'routes = {\n  RequestConfirmation = [ "allowlist", "nosuchpolicy" ];\n};\n'
               'allowlist = { devices = [ ]; };\n', 3)
        yield ('unknown method',
               'capability = "DisplayYesNo";\n'
               'routes = {\n  RequestConfirmation = [ "allowlist" ];\n'
               '  RequestCoffee = [ "allowlist" ];\n};\n'
               'allowlist = { devices = [ ]; };\n', 4)
        yield ('wrong type', 'capability = "DisplayYesNo";\nrequest_timeout = "soon";\n', 2)
        yield ('syntax error', 'capability = "DisplayYesNo"\nrequest_timeout = ;\n', 2)

    def test_check_config(self):
        rc, d = self.run_daemon_to_exit(['--check-config'], self.GOOD)
        self.assertEqual(rc, 0, 'good config refused:\n' + '\n'.join(d.lines))
        for what, text, line in self.bad_configs():
            with self.subTest(what):
                rc, d = self.run_daemon_to_exit(['--check-config'], text)
                self.assertEqual(rc, 3, '%s: --check-config exit %r\n%s'
                                 % (what, rc, '\n'.join(d.lines)))
                path = d.argv[d.argv.index('-c') + 1]
                err = d.stderr_text
                self.assertIn(os.path.basename(path), err, '%s: file not named' % what)
                if line is not None:
                    self.assertIn('%s:%d' % (os.path.basename(path), line), err,
                                  '%s: line %d not named in %r' % (what, line, err))

    def test_refuses_to_start(self):
        text = make_config(allowlist=['not-an-address'])
        rc, d = self.run_daemon_to_exit([], text)
        self.assertEqual(rc, 3, '\n'.join(d.lines))
        self.assertFalse(self.fake.calls_of('RegisterAgent'))
        self.assertFalse([n for n in d.notify if 'READY=1' in n.split('\n')],
                         'READY=1 sent with an invalid config')


if __name__ == '__main__':
    harness.main()
