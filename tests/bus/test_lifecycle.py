#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""BlueZ going away and coming back, Release(), SIGHUP reloads."""

import os
import signal

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (AGENT_PATH, ALLOWED, CANCELED, OTHER, STRANGER, BusTestCase, dev_path,
                     iterate, make_config, wait_until)

HOLD_ROUTES = {'RequestConfirmation': ['allowlist', 'test'],
               'RequestAuthorization': ['allowlist', 'test'],
               'AuthorizeService': ['allowlist']}
HOLD = {'verdict': 'hold'}


class BluezRestart(BusTestCase):

    def registered_status(self):
        """The STATUS= pairgated settles on once registered (its wording is not ours)."""
        self.assertTrue(self.daemon.wait_audit(event='registered'), self.stderr_tail())
        n = -1
        while n != len(self.daemon.notify):  # wait until no new notification for 0.3 s
            n = len(self.daemon.notify)
            iterate(0.3)
        status = self.daemon.last_status()
        self.assertIn('DisplayYesNo', status or '', self.daemon.notify)
        return status

    def held_request(self, fake, address):
        c = self.call('RequestConfirmation', dev_path(address), dbus.UInt32(777777), fake=fake)
        self.assertHeld(c, 0.3)
        return c

    def test_bluez_crash_and_orderly_exit(self):
        self.start_daemon(routes=HOLD_ROUTES, test=HOLD)
        fake1 = self.fake
        registered = self.registered_status()
        a = self.held_request(fake1, STRANGER)

        # 1. bluetoothd crashes: its connection just drops
        fake1.close()
        self.assertTrue(self.daemon.wait_audit(event='bluez-vanished'),
                        'no bluez-vanished\n' + self.stderr_tail())
        self.assertTrue(wait_until(lambda: self.daemon.last_status() != registered, 5),
                        'STATUS= still says %r after BlueZ vanished' % registered)
        rec = self.decision(a)
        self.assertEqual(rec['event'], 'canceled', rec.line)
        self.assertTrue(self.daemon.running())

        # 2. it comes back (a new unique name): registered again, answering again
        fake2 = self.fake = self.new_fake()
        self.wait_registered(fake2, capability='DisplayYesNo')
        self.assertEqual(fake2.default_agent.path, AGENT_PATH)
        self.assertTrue(wait_until(lambda: self.daemon.last_status() == registered, 5),
                        'STATUS= after re-registration: %r' % self.daemon.notify)
        self.assertGreaterEqual(len(self.daemon.audit(event='bluez-appeared')), 2,
                                self.stderr_tail())
        self.assertAllowed(self.call_wait('RequestConfirmation', dev_path(ALLOWED),
                                          dbus.UInt32(1), fake=fake2))
        b = self.held_request(fake2, OTHER)

        # 3. an orderly exit: Cancel() for the outstanding request, Release(), then gone
        fake2.stop(release=True, cancel=True)
        self.assertTrue(self.daemon.wait_audit(event='bluez-vanished', count=2),
                        self.stderr_tail())
        rec = self.decision(b)
        self.assertEqual(rec['event'], 'canceled')
        # Cancel() and Release() were sent before bluetoothd left: they must be handled (not
        # dropped because their sender is gone by the time they are read), and as bluetoothd's.
        self.assertEqual(rec['reason'], 'canceled by bluetoothd', rec.line)
        self.assertIn('notice: bluetoothd released the agent', self.daemon.stderr_text)
        self.assertEqual(self.daemon.audit(event='foreign-caller'), [], self.stderr_tail())

        # 4. and back once more
        fake3 = self.fake = self.new_fake()
        self.wait_registered(fake3)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED),
                                          fake=fake3))
        # The old owners' unique names are no longer allowed to call (checked via fake3's
        # records being the only registration now)
        self.assertEqual(len(fake3.calls_of('RegisterAgent')), 1)

    def test_name_released_and_reacquired(self):
        # org.bluez is dropped but the old connection stays: it is now a foreign caller.
        self.start_daemon(routes=HOLD_ROUTES, test=HOLD)
        a = self.held_request(self.fake, STRANGER)
        agent = self.fake.default_agent.sender
        self.fake.release_name()
        self.assertTrue(self.daemon.wait_audit(event='bluez-vanished'), self.stderr_tail())
        self.assertEqual(self.decision(a)['event'], 'canceled')
        if wait_until(lambda: a.done, 1):
            self.assertEqual(a.error_name, CANCELED, a)
        # calls from the former owner are refused now
        c = self.fake.send_to(agent, 'RequestAuthorization', dev_path(ALLOWED))
        self.uncounted.add(id(c))
        self.assertTrue(c.wait(5))
        self.assertRejected(c)
        self.assertTrue(self.daemon.wait_audit(event='foreign-caller'), self.stderr_tail())
        # owner again -> registers again
        n = len(self.fake.calls)
        self.fake.acquire_name()
        self.wait_registered(self.fake, after=n)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))

    def test_release_then_new_owner(self):
        self.start_daemon(routes=HOLD_ROUTES, test=HOLD)
        a = self.held_request(self.fake, STRANGER)
        registered = self.registered_status()
        self.fake.release_agent()  # Release() alone, as the last thing before exit
        self.assertTrue(self.daemon.wait_audit(event='registration-lost'),
                        'no registration-lost after Release()\n' + self.stderr_tail())
        self.assertTrue(wait_until(lambda: self.daemon.last_status() != registered, 5),
                        'STATUS= still says %r after Release()' % registered)
        self.assertEqual(self.decision(a)['event'], 'canceled')
        if wait_until(lambda: a.done, 0.5):
            self.assertEqual(a.error_name, CANCELED, a)
        self.assertTrue(self.daemon.running())
        self.fake.close()
        fake2 = self.fake = self.new_fake()
        self.wait_registered(fake2)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED),
                                          fake=fake2))

    def test_sigterm_without_bluez(self):
        self.start_daemon()
        self.fake.close()
        self.assertTrue(self.daemon.wait_audit(event='bluez-vanished'), self.stderr_tail())
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.stderr_tail())


class RegistrationFailure(BusTestCase):

    def check_failure(self, method, error):
        self.fake.fail_always[method] = error
        self.start_daemon(register=False)
        iterate(2.5)
        self.assertTrue(self.daemon.running(), self.stderr_tail())
        n = len(self.fake.calls_of(method))
        self.assertGreaterEqual(n, 1)
        self.assertLessEqual(n, 10, '%s retried %d times in 2.5 s (busy loop?)' % (method, n))
        # bluetoothd restarts and works again: registered
        self.fake.close()
        self.fake = self.new_fake()
        self.wait_registered(self.fake)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))

    def test_register_agent_fails(self):
        self.check_failure('RegisterAgent', 'org.bluez.Error.Failed')

    def test_request_default_agent_fails(self):
        self.check_failure('RequestDefaultAgent', 'org.bluez.Error.Failed')


class Reload(BusTestCase):

    def reload(self, text, event='reload-ok'):
        n = len(self.daemon.audit(event=event))
        self.rewrite_config(text)
        self.daemon.signal(signal.SIGHUP)
        recs = self.daemon.wait_audit(event=event, count=n + 1)
        self.assertEqual(len(recs), n + 1, 'no audit event=%s after SIGHUP\n%s'
                         % (event, self.stderr_tail()))
        return recs[-1]

    def test_good_reload_allowlist(self):
        self.start_daemon(routes=HOLD_ROUTES, test=HOLD)
        held = self.call('RequestConfirmation', dev_path(OTHER), dbus.UInt32(1))
        self.assertHeld(held, 0.2)
        self.assertRejected(self.call_wait('AuthorizeService', dev_path(STRANGER), '1234'))
        n = len(self.fake.calls)
        self.reload(make_config(routes=HOLD_ROUTES, test=HOLD, allowlist=[ALLOWED, STRANGER]))
        self.assertAllowed(self.call_wait('AuthorizeService', dev_path(STRANGER), '1234'))
        self.assertAllowed(self.call_wait('AuthorizeService', dev_path(ALLOWED), '1234'))
        # same capability: no re-registration
        again = [c['method'] for c in self.fake.calls[n:]
                 if c['method'] in ('RegisterAgent', 'UnregisterAgent', 'RequestDefaultAgent')]
        self.assertEqual(again, [], 'registration churn on a reload without capability change')
        # The request held across the reload is still held (by the old policies), and answered
        # exactly once, at SIGTERM.
        self.assertFalse(held.done, held)
        self.assertEqual(self.stop_daemon(), 0)
        self.assertTrue(held.wait(5), held)
        self.assertError(held, CANCELED)
        self.assertEqual(self.decision(held)['event'], 'canceled')

    def test_good_reload_capability(self):
        self.start_daemon(capability='DisplayYesNo')
        sender = self.fake.default_agent.sender
        n = len(self.fake.calls)
        self.reload(make_config(capability='NoInputNoOutput'))
        self.wait_registered(self.fake, capability='NoInputNoOutput', after=n)
        seq = [(c['method'], c.get('path'), c.get('capability')) for c in self.fake.calls[n:]
               if c['method'] in ('RegisterAgent', 'UnregisterAgent', 'RequestDefaultAgent')]
        self.assertEqual(seq, [('UnregisterAgent', AGENT_PATH, None),
                               ('RegisterAgent', AGENT_PATH, 'NoInputNoOutput'),
                               ('RequestDefaultAgent', AGENT_PATH, None)], seq)
        self.assertTrue(all('error' not in c for c in self.fake.calls[n:]), self.fake.calls[n:])
        self.assertEqual(self.fake.default_agent.sender, sender)
        self.assertEqual(self.fake.default_agent.capability, 'NoInputNoOutput')
        self.assertTrue(wait_until(lambda: any('NoInputNoOutput' in v for v in
                                               self.daemon.notify_values('STATUS')), 5),
                        'STATUS= not updated: %r' % self.daemon.notify)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))

    def test_capability_reload_is_not_a_loss(self):
        """Registering again for a new capability is no loss of the registration: it used to
        write a WARNING registration-lost before registered."""
        self.start_daemon(capability='DisplayYesNo')
        self.assertTrue(self.daemon.wait_audit(event='registered'), self.stderr_tail())
        n, k = len(self.fake.calls), len(self.daemon.audit_records)
        self.reload(make_config(capability='NoInputNoOutput'))
        self.wait_registered(self.fake, capability='NoInputNoOutput', after=n)
        self.daemon.wait_audit(event='registered', capability='NoInputNoOutput')
        seq = [(r['event'], r.get('capability')) for r in self.daemon.audit_records[k:]
               if r['event'] in ('registered', 'registration-lost')]
        self.assertEqual(seq, [('registered', 'NoInputNoOutput')], self.stderr_tail())

    def test_failed_capability_reregistration_is_a_loss(self):
        self.start_daemon(capability='DisplayYesNo')
        self.assertTrue(self.daemon.wait_audit(event='registered'), self.stderr_tail())
        n, k = len(self.fake.calls), len(self.daemon.audit_records)
        self.fake.fail_next['RegisterAgent'] = 'org.bluez.Error.Failed'
        self.reload(make_config(capability='NoInputNoOutput'))
        lost = self.daemon.wait_audit(event='registration-lost')
        self.assertTrue(lost, self.stderr_tail())
        self.assertIn('RegisterAgent failed', lost[-1].get('reason', ''), lost[-1].line)
        self.wait_registered(self.fake, capability='NoInputNoOutput', after=n)
        self.daemon.wait_audit(event='registered', capability='NoInputNoOutput')
        seq = [r['event'] for r in self.daemon.audit_records[k:]
               if r['event'] in ('registered', 'registration-lost')]
        self.assertEqual(seq, ['registration-lost', 'registered'], self.stderr_tail())

    def test_request_during_reregistration_uses_registered_capability(self):
        """A request bluetoothd sent under the old registration while pairgated registers again
        for a new capability is audited with the model of the capability bluetoothd has, not
        the newly configured one (which it used to be)."""
        self.start_daemon(capability='DisplayYesNo')
        n = len(self.fake.calls)
        self.rewrite_config(make_config(capability='NoInputNoOutput'))
        self.daemon.signal(signal.SIGHUP)
        # reloaded; UnregisterAgent + RegisterAgent are on their way, not yet seen by the fake
        self.assertTrue(self.daemon.poll_stderr(lambda: self.daemon.audit(event='reload-ok')),
                        self.stderr_tail())
        self.assertEqual(self.fake.calls[n:], [])
        old = self.call('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(123456))
        self.wait_registered(self.fake, capability='NoInputNoOutput', after=n)
        self.assertTrue(old.wait(5), old)
        rec = self.decision(old)
        self.assertEqual(rec.get('model'), 'numeric-comparison', rec.line)
        # once registered again, the new capability's model (NoInputNoOutput cannot confirm)
        self.daemon.wait_audit(event='registered', capability='NoInputNoOutput')
        rec = self.decision(self.call_wait('RequestConfirmation', dev_path(OTHER),
                                           dbus.UInt32(654321)))
        self.assertEqual(rec.get('model'), 'unknown', rec.line)

    def test_sighup_while_stopping_is_ignored(self):
        """A SIGHUP that arrives while pairgated waits for bluetoothd to answer UnregisterAgent
        is ignored: it used to reload and register the agent again (READY=1 after STOPPING=1,
        then an exit while registered)."""
        self.start_daemon()
        n = len(self.fake.calls)
        self.daemon.signal(signal.SIGTERM)
        # the fake runs in this process: UnregisterAgent stays unanswered while we do not iterate
        self.assertTrue(self.daemon.poll_stderr(lambda: self.daemon.audit(event='stopping')),
                        self.stderr_tail())
        self.daemon.signal(signal.SIGHUP)
        self.daemon.poll_stderr(lambda: self.daemon.audit(event='reload-ok') or
                                'SIGHUP ignored' in self.daemon.stderr_text)
        self.assertEqual(self.daemon.wait_exit(15), 0, self.stderr_tail())
        seq = [c['method'] for c in self.fake.calls[n:]
               if c['method'] in ('RegisterAgent', 'UnregisterAgent', 'RequestDefaultAgent')]
        self.assertEqual(seq, ['UnregisterAgent'], 'registered again while stopping')
        self.assertIsNone(self.fake.default_agent)
        stopping = [i for i, d in enumerate(self.daemon.notify) if 'STOPPING=1' in d.split('\n')]
        self.assertTrue(stopping, self.daemon.notify)
        after = [d for d in self.daemon.notify[stopping[0]:] if 'READY=1' in d.split('\n')]
        self.assertEqual(after, [], 'READY=1 after STOPPING=1: %r' % self.daemon.notify)
        self.assertFalse(self.daemon.audit(event='reload-ok'), self.stderr_tail())
        self.assertIn('SIGHUP ignored', self.daemon.stderr_text)

    def test_bad_reload_keeps_old_config(self):
        self.start_daemon()
        n = len(self.fake.calls)
        bad = [
            'capability = "DisplayYesNo"\nrequest_timeout = ;\n',        # syntax
            make_config(allowlist=[ALLOWED, STRANGER], capability='Bogus'),  # value
            make_config(allowlist=[ALLOWED, STRANGER, 'AA:BB']),          # address
            make_config(routes={'RequestAuthorization': ['allowlist', 'nosuch']},
                        allowlist=[STRANGER]),                            # unknown policy
            make_config(allowlist=[STRANGER]) + 'surprise = 1;\n',      # unknown key
        ]
        for i, text in enumerate(bad):
            with self.subTest(i=i):
                rec = self.reload(text, event='reload-refused')
                self.assertTrue(rec.get('reason'), rec.line)
                self.assertTrue(self.daemon.running())
                self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
                self.assertRejected(self.call_wait('RequestAuthorization', dev_path(STRANGER)))
        self.assertFalse(self.daemon.audit(event='reload-ok'))
        churn = [c for c in self.fake.calls[n:]
                 if c['method'] in ('RegisterAgent', 'UnregisterAgent', 'RequestDefaultAgent')]
        self.assertEqual(churn, [])
        # the file is missing altogether
        os.unlink(self.config_path)
        self.daemon.signal(signal.SIGHUP)
        self.assertTrue(self.daemon.wait_audit(event='reload-refused', count=len(bad) + 1),
                        self.stderr_tail())
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
        # and a good file afterwards is taken
        self.reload(make_config(allowlist=[STRANGER]))
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(STRANGER)))
        self.assertRejected(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))


if __name__ == '__main__':
    harness.main()
