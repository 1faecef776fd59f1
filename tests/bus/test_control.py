#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The control interface (org.pairgate, docs/control-interface.md) with the real pairgated and the
fake BlueZ: every method, the signals, decisions of requests held by `operator` and by `button`,
the window, the devices, and who may call it (the bus policy of systemd/pairgate-dbus.conf and
pairgated's own check)."""

import grp
import os
import pwd
import subprocess
import time
import unittest

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (ALLOWED, CANCELED, OTHER, STRANGER, BusTestCase, dev_path, iterate,
                     make_config, wait_until)
from test_button import Button

NAME = 'org.pairgate'
PATH = '/org/pairgate/control'
IFACE = 'org.pairgate.Control1'
ERR = 'org.pairgate.Error.'
BUS_ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
ADMIN_GROUP = 'pairgate-admin'
POLICY_FILE = os.path.join(os.path.dirname(os.path.dirname(harness.HERE)), 'systemd',
                           'pairgate-dbus.conf')
NOBODY = 65534
TEST_ADMIN = 'pairgate-ctltest'  # a member of pairgate-admin, created by Access when absent
UNKNOWN = '33:44:55:66:77:88'  # no Device1 object

OPERATOR_ROUTES = {'RequestConfirmation': ['allowlist', 'operator'],
                   'RequestAuthorization': ['allowlist', 'operator'],
                   'AuthorizeService': ['allowlist', 'operator'],
                   'RequestPasskey': ['operator'],
                   'RequestPinCode': ['operator']}


class ControlTestCase(BusTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.foreign_connection()
        self.signals = []
        self.client.add_signal_receiver(self._on_signal, dbus_interface=IFACE,
                                        bus_name=NAME, path=PATH, member_keyword='member')

    def _on_signal(self, *args, member=None):
        self.signals.append((member, args))

    def start(self, routes=OPERATOR_ROUTES, extra='', **kw):
        d = self.start_daemon(make_config(routes=routes, extra=extra, **kw))
        if not wait_until(lambda: self.client.name_has_owner(NAME), 5):
            self.fail('pairgated did not take %s\n%s' % (NAME, self.stderr_tail()))
        return d

    def ctl_result(self, method, *args, signature=None, timeout=10):
        """Call method without blocking the main loop (the fake BlueZ lives in it): ('ok',
        reply) or ('error', error name)."""
        out = []
        self.client.call_async(NAME, PATH, IFACE, method, signature, args,
                               lambda *r: out.append(('ok', r[0] if len(r) == 1 else r)),
                               lambda e: out.append(('error', e.get_dbus_name())),
                               timeout=timeout)
        if not wait_until(lambda: out, timeout):
            self.fail('%s%r: no reply\n%s' % (method, args, self.stderr_tail()))
        return out[0]

    def ctl(self, method, *args, signature=None):
        kind, value = self.ctl_result(method, *args, signature=signature)
        if kind != 'ok':
            self.fail('%s%r failed: %s\n%s' % (method, args, value, self.stderr_tail()))
        return value

    def ctl_error(self, method, *args, signature=None):
        kind, value = self.ctl_result(method, *args, signature=signature)
        if kind == 'ok':
            self.fail('%s%r succeeded, expected an error' % (method, args))
        return value

    def wait_signal(self, member, pred=lambda args: True, timeout=5):
        got = wait_until(lambda: [a for m, a in self.signals if m == member and pred(a)], timeout)
        self.assertTrue(got, 'no %s signal; got %r\n%s' % (member, self.signals,
                                                          self.stderr_tail()))
        return got[-1]

    def held(self, call):
        """The RequestStarted dictionary of `call` (method + device), once it is held."""
        args = self.wait_signal('RequestStarted',
                                lambda a: a[0]['Method'] == call.method
                                and a[0]['Device'] == call.device)
        return args[0]


class Requests(ControlTestCase):

    def test_operator_approve(self):
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
        req = self.held(c)
        self.assertHeld(c)
        self.assertEqual(req['HeldBy'], 'operator')
        self.assertEqual(req['Needs'], '')
        self.assertEqual(req['Address'], STRANGER)
        self.assertEqual(req['AddressType'], 'public')
        self.assertEqual(req['Name'], 'Stranger')
        self.assertEqual(req['Passkey'], 123456)
        self.assertEqual(req['Adapter'], '/org/bluez/hci0')
        self.assertIn('Model', req)
        now = time.time() * 1e6
        self.assertLess(abs(req['ArrivedRealtime'] - now), 5e6)
        self.assertLess(abs(req['TimeoutRealtime'] - req['ArrivedRealtime'] - 25e6), 1e6)
        listed = self.ctl('ListRequests')
        self.assertEqual([r['Id'] for r in listed], [req['Id']])
        self.assertEqual(dict(listed[0]), dict(req))
        self.ctl('Approve', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c)
        ended = self.wait_signal('RequestEnded', lambda a: a[0] == req['Id'])
        self.assertEqual(tuple(ended[1:3]), ('allow', 'operator'))
        self.assertIn('control interface', ended[3])
        rec = self.decision(c)
        self.assertEqual(rec['event'], 'allow')
        self.assertEqual(rec['policy'], 'operator')
        self.assertEqual(rec['control_uid'], '0')
        self.assertEqual(rec['request'], str(req['Id']))
        self.assertEqual(self.ctl('ListRequests'), [])

    def test_operator_deny(self):
        self.start()
        c = self.call('AuthorizeService', dev_path(STRANGER),
                      '0000110d-0000-1000-8000-00805f9b34fb')
        req = self.held(c)
        self.assertEqual(req['Uuid'], '0000110d-0000-1000-8000-00805f9b34fb')
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertRejected(c)
        ended = self.wait_signal('RequestEnded', lambda a: a[0] == req['Id'])
        self.assertEqual(tuple(ended[1:3]), ('deny', 'operator'))
        rec = self.decision(c)
        self.assertEqual((rec['event'], rec['policy'], rec['control_uid']),
                         ('deny', 'operator', '0'))

    def test_allowlisted_not_held(self):
        """A request answered at once never appears and sends no signal."""
        self.start()
        c = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        self.assertAllowed(c)
        iterate(0.3)
        self.assertEqual([m for m, a in self.signals if m.startswith('Request')], [])

    def test_passkey(self):
        self.start()
        c = self.call('RequestPasskey', dev_path(STRANGER))
        req = self.held(c)
        self.assertEqual(req['Needs'], 'passkey')
        self.assertNotIn('Passkey', req)
        i = dbus.UInt64(req['Id'])
        self.assertEqual(self.ctl_error('Approve', i), ERR + 'NotApplicable')
        self.assertEqual(self.ctl_error('EnterPinCode', i, '0000'), ERR + 'NotApplicable')
        for bad in (1000000, 4294967295):
            self.assertEqual(self.ctl_error('EnterPasskey', i, dbus.UInt32(bad)),
                             ERR + 'InvalidArguments')
        self.assertHeld(c, 0.1)
        self.ctl('EnterPasskey', i, dbus.UInt32(1234))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c, (1234,))
        rec = self.decision(c)
        self.assertEqual((rec['event'], rec['passkey'], rec['control_uid']),
                         ('allow', '001234', '0'))

    def test_passkey_zero(self):
        self.start()
        c = self.call('RequestPasskey', dev_path(STRANGER))
        req = self.held(c)
        self.ctl('EnterPasskey', dbus.UInt64(req['Id']), dbus.UInt32(0))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c, (0,))

    def test_pin(self):
        self.start()
        c = self.call('RequestPinCode', dev_path(STRANGER))
        req = self.held(c)
        self.assertEqual(req['Needs'], 'pin')
        i = dbus.UInt64(req['Id'])
        self.assertEqual(self.ctl_error('EnterPasskey', i, dbus.UInt32(1)), ERR + 'NotApplicable')
        for bad in ('', '0' * 17, 'ab\ncd', '\u00e9'):
            self.assertEqual(self.ctl_error('EnterPinCode', i, bad), ERR + 'InvalidArguments',
                             repr(bad))
        self.ctl('EnterPinCode', i, '0' * 16)
        self.assertTrue(c.wait(5))
        self.assertAllowed(c, ('0' * 16,))
        rec = self.decision(c)
        self.assertEqual(rec['control_uid'], '0')
        self.assertNotIn('0' * 16, self.daemon.stderr_text)

    def test_confirmation_enter_passkey_not_applicable(self):
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        req = self.held(c)
        self.assertEqual(self.ctl_error('EnterPasskey', dbus.UInt64(req['Id']), dbus.UInt32(5)),
                         ERR + 'NotApplicable')
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))

    def test_unknown_and_ended(self):
        self.start(request_timeout=2)
        for m, args in (('Approve', ()), ('Deny', ()), ('EnterPasskey', (dbus.UInt32(1),)),
                        ('EnterPinCode', ('1',))):
            self.assertEqual(self.ctl_error(m, dbus.UInt64(4242), *args), ERR + 'NotFound')
        # Ended meanwhile: bluetoothd canceled it, then it timed out.
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        req = self.held(c)
        self.call('Cancel')
        self.assertTrue(c.wait(5))
        self.assertError(c, CANCELED)
        ended = self.wait_signal('RequestEnded', lambda a: a[0] == req['Id'])
        self.assertEqual(ended[1], 'canceled')
        self.assertEqual(self.ctl_error('Approve', dbus.UInt64(req['Id'])), ERR + 'NotFound')
        c2 = self.call('RequestConfirmation', dev_path(OTHER), dbus.UInt32(6))
        req2 = self.held(c2)
        self.assertTrue(c2.wait(5))
        ended = self.wait_signal('RequestEnded', lambda a: a[0] == req2['Id'])
        self.assertEqual(ended[1], 'timeout')
        self.assertEqual(self.ctl_error('Deny', dbus.UInt64(req2['Id'])), ERR + 'NotFound')

    def test_decided_while_in_flight(self):
        """Two Approve calls sent back to back: the first decides, the second finds nothing;
        the request is answered once (the harness checks every reply on the bus)."""
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        req = self.held(c)
        results = []
        for _ in range(2):
            self.client.call_async(NAME, PATH, IFACE, 'Approve', 't', (req['Id'],),
                                   lambda *a: results.append('ok'),
                                   lambda e: results.append(e.get_dbus_name()))
        wait_until(lambda: len(results) == 2, 5)
        self.assertEqual(sorted(results), sorted(['ok', ERR + 'NotFound']))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c)

    def test_reload_keeps_held_requests_decidable(self):
        """A request held by the previous configuration's operator is still listed and decided
        after SIGHUP; a new one is held by the new configuration's."""
        self.start()
        c1 = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(1))
        r1 = self.held(c1)
        self.rewrite_config(make_config(routes=OPERATOR_ROUTES, request_timeout=20))
        self.daemon.signal(harness.signal.SIGHUP)
        self.daemon.wait_audit(event='reload-ok')
        c2 = self.call('RequestConfirmation', dev_path(OTHER), dbus.UInt32(2))
        r2 = self.held(c2)
        self.assertEqual([r['Id'] for r in self.ctl('ListRequests')], [r1['Id'], r2['Id']])
        self.ctl('Approve', dbus.UInt64(r1['Id']))
        self.ctl('Deny', dbus.UInt64(r2['Id']))
        self.assertTrue(c1.wait(5) and c2.wait(5))
        self.assertAllowed(c1)
        self.assertRejected(c2)

    def test_two_held_oldest_first(self):
        self.start()
        c1 = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(1))
        r1 = self.held(c1)
        c2 = self.call('RequestAuthorization', dev_path(OTHER))
        r2 = self.held(c2)
        self.assertEqual([r['Id'] for r in self.ctl('ListRequests')], [r1['Id'], r2['Id']])
        self.assertEqual(self.ctl('GetStatus')['Pending'], 2)
        self.ctl('Deny', dbus.UInt64(r2['Id']))
        self.ctl('Approve', dbus.UInt64(r1['Id']))
        self.assertTrue(c1.wait(5) and c2.wait(5))
        self.assertAllowed(c1)
        self.assertRejected(c2)
        st = self.ctl('GetStatus')
        self.assertEqual((st['Pending'], st['Allowed'], st['Denied']), (0, 1, 1))


class Moved(ControlTestCase):
    """A held request passing to the next policy of its route is told (RequestChanged)."""

    def test_request_changed_when_passed_on(self):
        routes = {'RequestConfirmation': ['test', 'operator']}
        self.start(routes=routes, test={'verdict': 'pass', 'delay_ms': 400})
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
        req = self.held(c)
        self.assertEqual(req['HeldBy'], 'test')
        self.assertFalse([a for m, a in self.signals if m == 'RequestChanged'])
        moved = self.wait_signal('RequestChanged', lambda a: a[0]['Id'] == req['Id'])[0]
        self.assertEqual(moved['HeldBy'], 'operator')
        # the same request, only the holder changed
        self.assertEqual({k: v for k, v in moved.items() if k != 'HeldBy'},
                         {k: v for k, v in req.items() if k != 'HeldBy'})
        self.assertEqual([r['HeldBy'] for r in self.ctl('ListRequests')], ['operator'])
        self.assertHeld(c)
        self.ctl('Approve', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c)
        self.wait_signal('RequestEnded', lambda a: a[0] == req['Id'])
        self.assertEqual([m for m, a in self.signals if m.startswith('Request')],
                         ['RequestStarted', 'RequestChanged', 'RequestEnded'])


class NameTaken(ControlTestCase):

    def test_name_taken(self):
        """Another process owns org.pairgate: pairgated says so and goes on as the agent."""
        other = self.foreign_connection()
        self.assertEqual(other.request_name(NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE),
                         dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER)
        self.start_daemon(make_config(routes=OPERATOR_ROUTES))
        self.assertTrue(wait_until(lambda: any('cannot own' in ln or 'owned by another' in ln
                                               for ln in self.daemon.lines), 5),
                        self.stderr_tail())
        self.assertEqual(self.client.get_name_owner(NAME), other.get_unique_name())
        c = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        self.assertAllowed(c)


class ButtonHeld(ControlTestCase):
    """Approve/Deny decide a request the button holds, as if the button had decided."""

    def start_with_button(self):
        fifo = os.path.join(self.workdir, 'button-event')
        os.mkfifo(fifo, 0o600)
        self.button = Button(fifo)
        self.addCleanup(self.button.close)
        routes = {'RequestConfirmation': ['allowlist', 'button'],
                  'RequestPasskey': ['button', 'operator']}
        extra = 'button = { device = "%s"; key = "KEY_CONNECT"; };' % fifo
        self.start(routes=routes, extra=extra)
        wait_until(lambda: self.daemon.audit(event='policy', input='opened'), 5)
        self.button.connect()

    def test_approve_button_wait(self):
        self.start_with_button()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(999999))
        req = self.held(c)
        self.assertEqual(req['HeldBy'], 'button')
        self.ctl('Approve', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c)
        rec = self.decision(c)
        self.assertEqual((rec['event'], rec['policy'], rec['control_uid']),
                         ('allow', 'button', '0'))
        # The button has nothing left to decide: a press now opens nothing and decides nothing.
        self.button.short_press_now()
        iterate(0.3)
        self.assertEqual(len(self.daemon.audit(event='allow')), 1)

    def test_deny_button_wait(self):
        self.start_with_button()
        c = self.call('RequestConfirmation', dev_path(OTHER), dbus.UInt32(1))
        req = self.held(c)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertRejected(c)
        self.assertEqual(self.decision(c)['policy'], 'button')

    def test_passkey_passes_button_to_operator(self):
        self.start_with_button()
        c = self.call('RequestPasskey', dev_path(STRANGER))
        req = self.held(c)
        self.assertEqual(req['HeldBy'], 'operator')
        self.ctl('EnterPasskey', dbus.UInt64(req['Id']), dbus.UInt32(654321))
        self.assertTrue(c.wait(5))
        self.assertAllowed(c, (654321,))


class Status(ControlTestCase):

    def test_status(self):
        self.start()
        st = self.ctl('GetStatus')
        self.assertTrue(st['Registered'])
        self.assertEqual(st['Capability'], 'DisplayYesNo')
        self.assertEqual(list(st['Adapters']), ['/org/bluez/hci0'])
        self.assertFalse(st['WindowConfigured'])
        self.assertFalse(st['WindowOpen'])
        self.assertEqual((st['WindowClosesRealtime'], st['WindowPairingsLeft']), (0, 0))
        self.assertEqual((st['Pending'], st['Allowed'], st['Denied']), (0, 0, 0))
        self.assertEqual(st['ConfigPath'], self.config_path)
        self.assertTrue(st['Version'])
        self.assertEqual(self.ctl_error('OpenWindow', dbus.UInt32(10)), ERR + 'NotApplicable')
        self.assertEqual(self.ctl_error('CloseWindow'), ERR + 'NotApplicable')

    def test_window(self):
        self.start(routes={'RequestConfirmation': ['window', 'operator']},
                   extra='window = { duration = 60; pairings = 2; };')
        self.assertTrue(self.ctl('GetStatus')['WindowConfigured'])
        self.assertEqual(self.ctl_error('OpenWindow', dbus.UInt32(3601)), ERR + 'InvalidArguments')
        self.ctl('OpenWindow', dbus.UInt32(30))
        args = self.wait_signal('WindowChanged', lambda a: a[0])
        self.assertLess(abs(args[1] - (time.time() + 30) * 1e6), 3e6)
        st = self.ctl('GetStatus')
        self.assertTrue(st['WindowOpen'])
        self.assertEqual(st['WindowPairingsLeft'], 2)
        self.assertLess(abs(st['WindowClosesRealtime'] - args[1]), 1e6)
        rec = self.daemon.wait_audit(event='control', action='open-window')
        self.assertEqual(rec[-1]['control_uid'], '0')
        self.ctl('CloseWindow')
        args = self.wait_signal('WindowChanged', lambda a: not a[0])
        self.assertEqual(args[1], 0)
        self.assertFalse(self.ctl('GetStatus')['WindowOpen'])
        rec = self.daemon.wait_audit(event='control', action='close-window')
        self.assertEqual(rec[-1]['control_uid'], '0')
        # 0: the configured duration
        self.ctl('OpenWindow', dbus.UInt32(0))
        args = self.wait_signal('WindowChanged', lambda a: a[0] and
                                abs(a[1] - (time.time() + 60) * 1e6) < 3e6)


class Devices(ControlTestCase):

    def devices(self):
        return {d['Address']: d for d in self.ctl('ListDevices')}

    def test_list(self):
        listed_only = '44:55:66:77:88:99'
        self.start(allowlist=(ALLOWED, listed_only))
        self.fake.set_device(dev_path(OTHER), Paired=True, Bonded=True, Trusted=True)
        c = self.call('RequestConfirmation', dev_path(UNKNOWN), dbus.UInt32(1))
        req = self.held(c)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        c = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        iterate(0.2)
        devs = self.devices()
        self.assertEqual(set(devs), {ALLOWED, STRANGER, OTHER, UNKNOWN, listed_only})
        a = devs[ALLOWED]
        self.assertEqual((a['Allowlisted'], a['LastDecision'], a['LastMethod'], a['Refusals']),
                         (True, 'allow', 'RequestConfirmation', 0))
        self.assertEqual(a['Device'], dev_path(ALLOWED))
        self.assertEqual(a['Name'], 'Owner phone')
        self.assertLess(abs(a['LastDecisionRealtime'] - time.time() * 1e6), 10e6)
        o = devs[OTHER]
        self.assertEqual((o['Paired'], o['Bonded'], o['Trusted'], o['Blocked'],
                          o['TrustedByPairgate'], o['Allowlisted']),
                         (True, True, True, False, False, False))
        self.assertNotIn('LastDecision', o)
        u = devs[UNKNOWN]
        self.assertNotIn('Device', u)
        self.assertEqual((u['LastDecision'], u['Refusals'], u['AddressType']),
                         ('deny', 1, 'unknown'))
        only = devs[listed_only]
        self.assertEqual((only['Allowlisted'], only['Paired']), (True, False))
        self.assertNotIn('Device', only)
        for d in devs.values():
            self.assertEqual(d['LockedUntilRealtime'], 0)

    def test_forget(self):
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(1))
        req = self.held(c)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertEqual(self.devices()[STRANGER]['Refusals'], 1)
        self.ctl('ForgetDevice', STRANGER.lower())
        calls = self.fake.calls_of('RemoveDevice')
        self.assertEqual([(x['path'], x['device']) for x in calls],
                         [('/org/bluez/hci0', dev_path(STRANGER))])
        wait_until(lambda: STRANGER not in self.devices(), 5)
        self.assertNotIn(STRANGER, self.devices())
        rec = self.daemon.wait_audit(event='control', action='forget')
        self.assertEqual((rec[-1]['address'], rec[-1]['control_uid']), (STRANGER, '0'))
        self.assertEqual(self.ctl_error('ForgetDevice', STRANGER), ERR + 'NotFound')
        self.assertEqual(self.ctl_error('ForgetDevice', UNKNOWN), ERR + 'NotFound')
        self.assertEqual(self.ctl_error('ForgetDevice', 'not an address'),
                         ERR + 'InvalidArguments')

    def test_forget_history_only(self):
        self.start()
        c = self.call('RequestConfirmation', dev_path(UNKNOWN), dbus.UInt32(1))
        req = self.held(c)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        self.assertIn(UNKNOWN, self.devices())
        self.ctl('ForgetDevice', UNKNOWN)
        self.assertNotIn(UNKNOWN, self.devices())
        self.assertEqual(self.fake.calls_of('RemoveDevice'), [])

    def test_lift_lockout(self):
        self.start()
        self.assertEqual(self.ctl_error('LiftLockout', STRANGER), ERR + 'NotFound')
        self.assertEqual(self.ctl_error('LiftLockout', 'zz'), ERR + 'InvalidArguments')


def run_as(uid, groups, address, method, *args):
    """Call method on the control interface as uid (gid uid) with the supplementary groups
    (a list of gids; [] clears them) with dbus-send; returns 'OK' or the D-Bus error name."""
    cmd = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid]
    cmd += ['--groups=' + ','.join(str(g) for g in groups)] if groups else ['--clear-groups']
    cmd += ['dbus-send', '--bus=' + address, '--print-reply', '--dest=' + NAME, PATH,
            '%s.%s' % (IFACE, method)] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd='/')
    if p.returncode == 0:
        return 'OK'
    for word in p.stderr.split():
        if word.startswith('org.') and word.endswith(':'):
            return word[:-1]
    return p.stderr.strip()


class Access(ControlTestCase):
    """Who may call: another uid is refused by the bus (the real policy file) and, where the bus
    lets it through, by pairgated itself; a member of pairgate-admin is allowed."""

    bus_policy_files = (POLICY_FILE,)

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: runs clients as uid %d with setpriv' % NOBODY)
        if not harness.shutil.which('setpriv') or not harness.shutil.which('dbus-send'):
            self.skipTest('needs setpriv (util-linux) and dbus-send (dbus-bin)')
        super().setUp()
        os.chmod(self.workdir, 0o755)
        os.chmod(os.path.join(self.workdir, 'bus'), 0o777)

    def admin_user(self):
        """A system user in pairgate-admin (dbus-daemon 1.14 takes a connection's groups from
        the user database, not from the process): created, with the group, when absent, and
        removed again after the test."""
        try:
            grp.getgrnam(ADMIN_GROUP)
        except KeyError:
            subprocess.run(['groupadd', '--system', ADMIN_GROUP], check=True)
            self.addCleanup(subprocess.run, ['groupdel', ADMIN_GROUP])
        try:
            pw = pwd.getpwnam(TEST_ADMIN)
        except KeyError:
            subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
                            '--shell', '/usr/sbin/nologin', '--groups', ADMIN_GROUP, TEST_ADMIN],
                           check=True)
            # before the group's removal (cleanups run last in, first out)
            self.addCleanup(subprocess.run, ['userdel', TEST_ADMIN])
            pw = pwd.getpwnam(TEST_ADMIN)
        self.assertIn(TEST_ADMIN, grp.getgrnam(ADMIN_GROUP).gr_mem)
        return pw.pw_uid, [grp.getgrnam(ADMIN_GROUP).gr_gid]

    def test_stranger_refused_by_the_bus(self):
        self.start()
        for method, args in (('GetStatus', ()), ('ListRequests', ()),
                             ('Approve', ('uint64:1',)), ('OpenWindow', ('uint32:10',)),
                             ('ForgetDevice', ('string:' + STRANGER,))):
            self.assertEqual(run_as(NOBODY, [], self.bus.address, method, *args),
                             BUS_ACCESS_DENIED, method)
        self.assertEqual(run_as(0, [], self.bus.address, 'GetStatus'), 'OK')

    def test_admin_member_allowed(self):
        uid, groups = self.admin_user()
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(42))
        req = self.held(c)
        self.assertEqual(run_as(uid, groups, self.bus.address, 'GetStatus'), 'OK')
        self.assertEqual(run_as(uid, groups, self.bus.address, 'Approve',
                                'uint64:%d' % req['Id']), 'OK')
        self.assertTrue(c.wait(5))
        self.assertAllowed(c)
        rec = self.decision(c)
        self.assertEqual((rec['control_uid'], rec['policy']), (str(uid), 'operator'))


LISTENER = r"""
import sys, dbus, dbus.bus, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
conn = dbus.bus.BusConnection(sys.argv[1])
got = []
loop = GLib.MainLoop()


def on_signal(*args, member=None):
    got.append(member)
    if member == 'RequestEnded':
        loop.quit()


conn.add_signal_receiver(on_signal, dbus_interface=sys.argv[2], member_keyword='member')
# AddMatch is sent without waiting: a round trip after it makes sure the bus has it.
conn.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                   'GetId', '', ())
print('ready', flush=True)
GLib.timeout_add(int(float(sys.argv[3]) * 1000), loop.quit)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)  # SIGTERM: print what was heard
loop.run()
print(' '.join(got) or '-', flush=True)
"""


class SignalAccess(Access):
    """The signals (device names, numbers to compare) reach root and pairgate-admin only."""

    test_stranger_refused_by_the_bus = None  # Access's own tests run once, in Access
    test_admin_member_allowed = None

    def listen_as(self, uid, groups, seconds):
        cmd = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid]
        cmd += ['--groups=' + ','.join(str(g) for g in groups)] if groups else ['--clear-groups']
        p = subprocess.Popen(cmd + ['/usr/bin/python3', '-c', LISTENER, self.bus.address, IFACE,
                                    str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd='/')
        if p.stdout.readline().strip() != 'ready':
            self.fail('listener as uid %d did not start: %s' % (uid, p.communicate()[1]))
        return p

    def test_signals_only_to_admins(self):
        uid, groups = self.admin_user()
        self.start()
        # The stranger listens until the others have heard both signals (then SIGTERM).
        stranger = self.listen_as(NOBODY, [], 60)
        admin = self.listen_as(uid, groups, 20)
        root = self.listen_as(0, [], 20)
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(7))
        req = self.held(c)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))
        out_a, err_a = admin.communicate(timeout=30)
        out_r, _ = root.communicate(timeout=30)
        iterate(0.2)
        stranger.terminate()
        out_s, _ = stranger.communicate(timeout=30)
        self.assertEqual(out_a.split(), ['RequestStarted', 'RequestEnded'], err_a)
        self.assertEqual(out_r.split(), ['RequestStarted', 'RequestEnded'])
        self.assertEqual(out_s.split(), ['-'])


class DaemonCheck(ControlTestCase):
    """A permissive bus (no policy file) lets a stranger's call through: pairgated refuses it
    itself and audits the refusal."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: runs clients as uid %d with setpriv' % NOBODY)
        if not harness.shutil.which('setpriv') or not harness.shutil.which('dbus-send'):
            self.skipTest('needs setpriv (util-linux) and dbus-send (dbus-bin)')
        super().setUp()
        os.chmod(self.workdir, 0o755)
        os.chmod(os.path.join(self.workdir, 'bus'), 0o777)

    def test_stranger_refused_by_pairgated(self):
        self.start()
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(42))
        req = self.held(c)
        for method, args in (('GetStatus', ()), ('ListRequests', ()), ('ListDevices', ()),
                             ('Approve', ('uint64:%d' % req['Id'],)),
                             ('Deny', ('uint64:%d' % req['Id'],)),
                             ('EnterPasskey', ('uint64:%d' % req['Id'], 'uint32:1')),
                             ('EnterPinCode', ('uint64:%d' % req['Id'], 'string:1')),
                             ('OpenWindow', ('uint32:10',)), ('CloseWindow', ()),
                             ('ForgetDevice', ('string:' + STRANGER,)),
                             ('LiftLockout', ('string:' + STRANGER,))):
            self.assertEqual(run_as(NOBODY, [], self.bus.address, method, *args),
                             ERR + 'AccessDenied', method)
            recs = self.daemon.wait_audit(event='control-refused', method=method)
            self.assertEqual(recs[-1]['control_uid'], str(NOBODY))
        self.assertHeld(c, 0.1)
        self.ctl('Deny', dbus.UInt64(req['Id']))
        self.assertTrue(c.wait(5))


if __name__ == '__main__':
    harness.main()
