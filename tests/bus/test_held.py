#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Held requests (the test-only `test` policy): Cancel, timeout, concurrency, max_pending,
races between a late verdict and Cancel/timeout, SIGTERM."""

import signal
import time

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (AGENT_PATH, ALLOWED, CANCELED, OTHER, STRANGER, BusTestCase, dev_path,
                     iterate)

UUID_A2DP = '0000110b-0000-1000-8000-00805f9b34fb'
HOLD_ROUTES = {'RequestConfirmation': ['allowlist', 'test'],
               'RequestAuthorization': ['allowlist', 'test'],
               'AuthorizeService': ['allowlist', 'test']}


class Held(BusTestCase):

    def test_cancel_while_held(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'})
        self.call('Cancel')  # nothing pending: harmless
        held = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
        self.assertHeld(held, 0.5)
        t = time.monotonic()
        self.call('Cancel')
        self.assertTrue(held.wait(3), 'held call not answered after Cancel\n' + self.stderr_tail())
        self.assertLess(time.monotonic() - t, 2)
        self.assertError(held, CANCELED)
        rec = self.decision(held)
        self.assertEqual(rec['event'], 'canceled', rec.line)
        self.assertEqual(rec.get('decision'), 'canceled', rec.line)
        self.assertEqual(rec.get('address'), STRANGER, rec.line)
        # still working afterwards
        self.assertAllowed(self.call_wait('RequestConfirmation', dev_path(ALLOWED),
                                          dbus.UInt32(1)))

    def test_timeout(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'}, request_timeout=1)
        held = self.call('AuthorizeService', dev_path(STRANGER),
                         '0000110b-0000-1000-8000-00805f9b34fb')
        self.assertTrue(held.wait(6), 'no answer after request_timeout=1\n' + self.stderr_tail())
        self.assertError(held, CANCELED)
        self.assertGreater(held.latency, 0.8, 'answered before the timeout')
        self.assertLess(held.latency, 3.0, 'answered long after the timeout')
        rec = self.decision(held)
        self.assertEqual(rec['event'], 'timeout', rec.line)
        self.assertEqual(rec.get('decision'), 'timeout', rec.line)
        if 'latency_ms' in rec:
            self.assertTrue(800 <= int(rec['latency_ms']) <= 3000, rec.line)

    def test_concurrent_requests_and_max_pending(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'}, request_timeout=2,
                          max_pending=2)
        a = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(111111))
        self.assertHeld(a, 0.7)
        b = self.call('RequestAuthorization', dev_path(OTHER))
        self.assertHeld(b, 0.2)
        # a third one, even for an allowlisted device, is refused at once
        c = self.call('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(333333))
        self.assertTrue(c.wait(2), 'call beyond max_pending not answered')
        self.assertRejected(c)
        self.assertLess(c.latency, 0.5)
        self.assertEqual(self.decision(c)['event'], 'deny')
        self.assertFalse(a.done or b.done, 'the refused third call disturbed the held ones')
        # each times out on its own clock, with its own device in the record
        self.assertTrue(a.wait(5), a)
        self.assertFalse(b.done, 'b answered together with a (should be ~0.9 s later)')
        self.assertTrue(b.wait(5), b)
        self.assertError(a, CANCELED)
        self.assertError(b, CANCELED)
        self.assertGreater(b.answered_at - a.answered_at, 0.4)
        ra, rb = self.decision(a), self.decision(b)
        self.assertEqual((ra['event'], ra.get('address'), ra.get('method')),
                         ('timeout', STRANGER, 'RequestConfirmation'), ra.line)
        self.assertEqual((rb['event'], rb.get('address'), rb.get('method')),
                         ('timeout', OTHER, 'RequestAuthorization'), rb.line)
        self.assertNotEqual(ra['request'], rb['request'])
        # slots are free again
        self.assertAllowed(self.call_wait('RequestConfirmation', dev_path(ALLOWED),
                                          dbus.UInt32(444444)))

    def test_refused_at_once_has_the_full_record(self):
        """A request refused at once (over max_pending) is audited with the fields of a decided
        one (it used to lack address_type, adapter, uuid and passkey)."""
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'}, max_pending=1)
        held = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(111111))
        self.assertHeld(held, 0.3)
        c = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(333333))
        self.assertRejected(c)
        refused = self.decision(c)
        want = {'event': 'deny', 'address': ALLOWED, 'address_type': 'public',
                'name': 'Owner phone', 'adapter': '/org/bluez/hci0',
                'model': 'numeric-comparison', 'passkey': '333333',
                'reason': 'too many pending requests (max_pending)'}
        self.assertEqual({k: refused.get(k) for k in want}, want, refused.line)
        s = self.call_wait('AuthorizeService', dev_path(ALLOWED), UUID_A2DP)
        self.assertRejected(s)
        self.assertEqual(self.decision(s).get('uuid'), UUID_A2DP, self.decision(s).line)
        # the same fields as a decided record, except the policy that decided
        self.call('Cancel')
        self.assertTrue(held.wait(3), held)
        decided = self.decision(self.call_wait('RequestConfirmation', dev_path(ALLOWED),
                                               dbus.UInt32(444444)))
        self.assertEqual(decided['event'], 'allow', decided.line)
        self.assertEqual(set(refused), set(decided) - {'policy'}, (refused.line, decided.line))

    def test_parallel_async_verdicts(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'allow', 'delay_ms': 600})
        paths = [self.fake.add_device('44:00:00:00:00:%02X' % i, 'Dev %d' % i)
                 for i in range(4)]
        calls = [self.call('RequestAuthorization', p) for p in paths]
        for c in calls:
            self.assertTrue(c.wait(5), c)
            self.assertAllowed(c)
            self.assertGreater(c.latency, 0.45)
        self.assertLess(max(c.answered_at for c in calls) - min(c.sent_at for c in calls), 2.0,
                        'the requests were not handled concurrently')
        for i, c in enumerate(calls):
            rec = self.decision(c)
            self.assertEqual(rec.get('name'), 'Dev %d' % i, rec.line)
            self.assertEqual(rec.get('policy'), 'test', rec.line)

    def test_cancel_races_late_verdict(self):
        # The verdict arrives 0.8 s after a Cancel: it must not produce a second answer/record.
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'allow', 'delay_ms': 1000})
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        self.assertHeld(c, 0.2)
        self.call('Cancel')
        self.assertTrue(c.wait(2))
        self.assertError(c, CANCELED)
        iterate(1.2)
        recs = [r for r in self.daemon.audit(device=dev_path(STRANGER))
                if r['event'] in harness.DECISION_EVENTS]
        self.assertEqual([r['event'] for r in recs], ['canceled'])

    def test_timeout_races_verdict(self):
        # Verdict and timeout fire at (nearly) the same moment: exactly one of them wins.
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'allow', 'delay_ms': 1000},
                          request_timeout=1)
        calls = [self.call('RequestAuthorization', self.fake.add_device(
            '45:00:00:00:00:%02X' % i, None)) for i in range(4)]
        for c in calls:
            self.assertTrue(c.wait(5), c)
            self.assertTrue(c.ok or c.error_name == CANCELED, c)
        iterate(0.5)
        for c in calls:
            recs = [r for r in self.daemon.audit(device=c.device)
                    if r['event'] in harness.DECISION_EVENTS]
            self.assertEqual(len(recs), 1, [r.line for r in recs])
            self.assertEqual(recs[0]['event'], 'allow' if c.ok else 'timeout', recs[0].line)

    def test_bluez_vanishes_before_late_verdict(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'allow', 'delay_ms': 500})
        c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        self.assertHeld(c, 0.15)
        self.fake.close()
        self.assertTrue(self.daemon.wait_audit(event='bluez-vanished'), self.stderr_tail())
        iterate(0.8)  # the verdict would have come by now
        recs = [r for r in self.daemon.audit(device=dev_path(STRANGER))
                if r['event'] in harness.DECISION_EVENTS]
        self.assertEqual([r['event'] for r in recs], ['canceled'])
        self.assertTrue(self.daemon.running())

    def test_flood(self):
        # Many calls, Cancels in between, a cap of 4: every call answered exactly once, the
        # ones beyond the cap refused at once, nothing leaks (checked at exit under ASan).
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'allow', 'delay_ms': 40},
                          max_pending=4, request_timeout=5)
        paths = [self.fake.add_device('46:00:00:00:%02X:%02X' % (i // 256, i % 256),
                                      'Flood %d' % i) for i in range(60)]
        calls = []
        for i, p in enumerate(paths):
            calls.append(self.call('RequestAuthorization', p))
            if i % 7 == 6:
                self.call('Cancel')
            if i % 5 == 4:
                iterate(0.02)
        for c in calls:
            self.assertTrue(c.wait(10), c)
            self.assertTrue(c.ok or c.error_name in (harness.REJECTED, CANCELED), c)
        self.assertTrue(any(c.ok for c in calls))
        self.assertTrue(any(c.error_name == harness.REJECTED for c in calls))
        # still healthy
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))

    def test_sigterm_with_held_request(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'})
        sender = self.fake.default_agent.sender
        held = self.call('RequestAuthorization', dev_path(STRANGER))
        self.assertHeld(held)
        self.daemon.signal(signal.SIGTERM)
        self.assertTrue(held.wait(5), 'held call not answered on SIGTERM\n' + self.stderr_tail())
        self.assertError(held, CANCELED)
        rc = self.daemon.wait_exit(15)
        self.assertEqual(rc, 0, 'exit status after SIGTERM\n' + self.stderr_tail())
        unreg = self.fake.calls_of('UnregisterAgent', sender)
        self.assertEqual(len(unreg), 1, self.fake.calls)
        self.assertEqual(unreg[0]['path'], AGENT_PATH)
        self.assertNotIn('error', unreg[0])
        self.assertIsNone(self.fake.default_agent)
        self.assertEqual(self.decision(held)['event'], 'canceled')
        self.assertTrue(self.daemon.audit(event='stopping'), self.stderr_tail())
        # systemctl shows the last STATUS=: it must not go back to "Not registered, retrying"
        # while pairgated unregisters on its way out.
        self.assertEqual(self.daemon.last_status(), 'Stopping', self.daemon.notify)

    def test_request_while_unregistering(self):
        """A call that arrives after SIGTERM, while pairgated waits for bluetoothd to answer
        UnregisterAgent, is answered Canceled at once (it used to be held, audited as canceled
        at exit, and never answered: the bus was closed first, bluetoothd got NoReply)."""
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'})
        self.daemon.signal(signal.SIGTERM)
        time.sleep(0.3)  # the fake runs in this process: UnregisterAgent is not answered yet
        late = self.call('RequestAuthorization', dev_path(OTHER))
        self.assertTrue(late.wait(8), 'late call not answered\n' + self.stderr_tail())
        self.assertError(late, CANCELED)
        self.assertEqual(self.daemon.wait_exit(15), 0, self.stderr_tail())
        rec = self.decision(late)
        self.assertEqual(rec['event'], 'canceled', rec.line)
        self.assertEqual(rec['reason'], 'pairgated is stopping', rec.line)
        self.assertEqual((rec.get('adapter'), rec.get('address_type')),
                         ('/org/bluez/hci0', 'public'), rec.line)

    def test_sigint_with_held_request(self):
        self.start_daemon(routes=HOLD_ROUTES, test={'verdict': 'hold'})
        held = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(9))
        self.assertHeld(held)
        self.daemon.signal(signal.SIGINT)
        self.assertTrue(held.wait(5))
        self.assertError(held, CANCELED)
        self.assertEqual(self.daemon.wait_exit(15), 0, self.stderr_tail())
        self.assertTrue(self.fake.calls_of('UnregisterAgent'))


if __name__ == '__main__':
    harness.main()
