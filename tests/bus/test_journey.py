#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The speaker journey's pieces with the real pairgated and the fake BlueZ: the daemon's pairing
window and the `window` policy, trust on approval (Device1.Trusted set after an approved pairing,
cleared when it is lost), and the allowlist that never approves re-pairing a bonded device by
address alone. The real-stack versions are the e2e `journey/` cases."""

import os
import time
import unittest

import dbus

import harness
from harness import (ALLOWED, OTHER, STRANGER, BusTestCase, dev_path, iterate,
                     make_config, wait_until)
from test_button import KEY_CONNECT, Button  # noqa: F401 (the FIFO button)

ADAPTER = '/org/bluez/hci0'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
SPEAKER_ROUTES = {'RequestConfirmation': ['allowlist', 'window', 'test'],
                  'RequestAuthorization': ['allowlist', 'window', 'test'],
                  'AuthorizeService': ['allowlist']}


def window_section(**keys):
    return harness.conf_section('window', keys)


class JourneyCase(BusTestCase):

    def adapter(self, name):
        return self.fake.adapter.props[ADAPTER_IFACE][name]

    def device(self, address, name):
        return self.fake.devices[dev_path(address)].props[DEVICE_IFACE][name]

    def adapter_sets(self, after=0):
        return [(c['name'], c['value']) for c in self.fake.calls_of('Set')[after:]
                if c['path'] == ADAPTER and c['iface'] == ADAPTER_IFACE]

    def device_sets(self, address):
        return [(c['name'], bool(c['value'])) for c in self.fake.calls_of('Set')
                if c['path'] == dev_path(address)]


class Window(JourneyCase):

    def start(self, test=None, **window):
        cfg = make_config(routes=SPEAKER_ROUTES, test=test or {'verdict': 'allow'},
                          extra=window_section(**window))
        return self.start_daemon(cfg)

    def test_closed_window_refuses_at_once(self):
        self.start(duration=30)
        t = time.monotonic()
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
        elapsed = time.monotonic() - t
        self.assertRejected(call)
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy'), rec.get('reason')),
                         ('deny', 'window', 'pairing window closed'), rec.line)
        self.assertLess(elapsed, 1.0)
        self.assertLess(int(rec['latency_ms']), 500, rec.line)
        # The allowlist still decides before the window.
        ok = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        self.assertAllowed(ok)

    def test_closed_window_keeps_the_adapter_unpairable(self):
        """bluetoothd turns bondable on when a default agent registers (AlwaysPairable=false):
        after registering, pairgated puts Pairable back to false while the window is closed."""
        self.assertTrue(self.adapter('Pairable'))
        self.start(duration=30)
        self.assertTrue(wait_until(lambda: not self.adapter('Pairable'), 3),
                        'Pairable not cleared: %r' % self.adapter_sets())
        self.assertFalse(self.adapter('Discoverable'))
        # bluetoothd restarts (a new unique name, Pairable on again): after the new
        # registration the adapter is made unpairable again.
        self.fake.close()
        self.fake = self.new_fake()
        self.assertTrue(self.adapter('Pairable'))
        self.wait_registered(self.fake)
        self.assertTrue(wait_until(lambda: not self.adapter('Pairable'), 3),
                        'Pairable not cleared after bluetoothd restarted: %r'
                        % self.adapter_sets())
        call = self.call_wait('RequestAuthorization', dev_path(STRANGER))
        self.assertRejected(call)

    def test_held_closed_against_bluetoothd(self):
        """Seen on the real stack: bluetoothd answers Busy to our Set while its own
        SET_BONDABLE (started by RequestDefaultAgent) is in flight, then announces
        Pairable=true. Both are undone while the window is closed."""
        self.fake.adapter.fail_once['Pairable'] = 'org.bluez.Error.Busy'
        self.start(duration=30)
        self.assertTrue(wait_until(lambda: not self.adapter('Pairable'), 3),
                        'Pairable not cleared after Busy: %r\n%s'
                        % (self.adapter_sets(), self.stderr_tail()))
        self.assertGreaterEqual([n for n, v in self.adapter_sets()].count('Pairable'), 2)
        # bluetoothd turns it on again by itself (its delayed SET_BONDABLE)
        n = len(self.adapter_sets())
        self.fake.set_adapter(Pairable=True)
        self.assertTrue(wait_until(lambda: not self.adapter('Pairable'), 3),
                        'Pairable left on: %r' % self.adapter_sets(n))
        self.fake.set_adapter(Discoverable=True)
        self.assertTrue(wait_until(lambda: not self.adapter('Discoverable'), 3))

    def test_pairable_when_closed_leaves_the_adapter(self):
        self.start(duration=30, pairable_when_closed=True)
        iterate(0.5)
        self.assertEqual(self.adapter_sets(), [])
        self.assertTrue(self.adapter('Pairable'))

    def test_at_start_opens_then_closes(self):
        self.start(duration=30, at_start=2)
        opened = self.daemon.wait_audit(3, event='policy', policy='window', window='opened')
        self.assertTrue(opened, self.stderr_tail())
        self.assertTrue(wait_until(lambda: self.adapter('Discoverable') and
                                   self.adapter('Pairable'), 3), self.adapter_sets())
        self.assertEqual(self.adapter('PairableTimeout'), 2)
        # open: the window passes, the next policy decides
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('policy'), 'test')
        closed = self.daemon.wait_audit(4, event='policy', policy='window', window='closed')
        self.assertTrue(closed, self.stderr_tail())
        self.assertEqual(closed[0].get('reason'), '2 s elapsed', closed[0].line)
        self.assertTrue(wait_until(lambda: not self.adapter('Pairable') and
                                   not self.adapter('Discoverable'), 3), self.adapter_sets())
        call = self.call_wait('RequestConfirmation', dev_path(OTHER), dbus.UInt32(6))
        self.assertRejected(call)
        self.assertEqual(self.decision(call).get('policy'), 'window')

    def test_window_closes_after_its_pairings(self):
        self.start(duration=30, at_start=30, pairings=1)
        self.daemon.wait_audit(3, event='policy', policy='window', window='opened')
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(7))
        self.assertAllowed(call)
        self.fake.set_device(dev_path(STRANGER), Paired=True, Bonded=True)
        closed = self.daemon.wait_audit(3, event='policy', policy='window', window='closed')
        self.assertTrue(closed, self.stderr_tail())
        self.assertEqual(closed[0].get('reason'), '1 successful pairing', closed[0].line)

    def test_button_press_opens_the_daemon_window(self):
        fifo = os.path.join(self.workdir, 'button-event')
        os.mkfifo(fifo, 0o600)
        routes = {'RequestConfirmation': ['allowlist', 'window', 'button']}
        cfg = make_config(routes=routes, extra=window_section(duration=30) +
                          'button = { device = "%s"; key = "KEY_CONNECT"; };\n' % fifo)
        self.start_daemon(cfg)
        self.daemon.wait_audit(5, event='policy', policy='button', input='opened')
        button = Button(fifo)
        button.connect()
        try:
            # (another device than below: decision() matches records by method and device)
            refused = self.call_wait('RequestConfirmation', dev_path(OTHER), dbus.UInt32(8))
            self.assertRejected(refused)
            self.assertEqual(self.decision(refused).get('policy'), 'window')
            button.short_press_now()
            self.assertTrue(self.daemon.wait_audit(3, event='policy', policy='window',
                                                   window='opened'), self.stderr_tail())
            # open: each request still waits for its own press
            call = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(9))
            self.assertHeld(call, 0.5)
            button.short_press_now()
            self.assertTrue(call.wait(3), self.stderr_tail())
            self.assertAllowed(call)
            self.assertEqual(self.decision(call).get('policy'), 'button')
        finally:
            button.close()

    def test_button_window_and_window_section_conflict(self):
        fifo = os.path.join(self.workdir, 'button-event')
        cfg = make_config(routes={'RequestConfirmation': ['button']},
                          extra=window_section(duration=30) +
                          'button = { device = "%s"; key = "KEY_CONNECT";\n window = 60; };\n'
                          % fifo)
        rc, d = self.run_daemon_to_exit(['--check-config'], cfg)
        self.assertEqual(rc, 3, d.stderr_text)
        self.assertIn('button.window and a window = { ... } section', d.stderr_text)


class TrustOnApproval(JourneyCase):

    def start(self, trust=True, test=None):
        cfg = make_config(routes=SPEAKER_ROUTES, test=test or {'verdict': 'allow'},
                          extra=window_section(duration=30, at_start=30,
                                               pairable_when_closed=True) +
                          ('' if trust else 'trust_on_approve = false;\n'))
        return self.start_daemon(cfg)

    def test_approved_pairing_is_trusted(self):
        self.start()
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(11))
        self.assertAllowed(call)
        iterate(0.3)
        self.assertEqual(self.device_sets(STRANGER), [], 'trusted before it paired')
        self.fake.set_device(dev_path(STRANGER), Paired=True, Bonded=True)
        self.assertTrue(wait_until(lambda: self.device(STRANGER, 'Trusted'), 3),
                        self.stderr_tail())
        rec = self.daemon.wait_audit(3, event='trusted')
        self.assertTrue(rec, self.stderr_tail())
        self.assertEqual(rec[0].get('address'), STRANGER, rec[0].line)
        self.assertIn('RequestConfirmation allowed by test', rec[0].get('reason'), rec[0].line)
        self.assertEqual(rec[0].get('request'), self.decision(call)['request'])
        # Trusted goes to the unique name of bluetoothd.
        sets = [c for c in self.fake.calls_of('Set') if c['path'] == dev_path(STRANGER)]
        self.assertEqual([(c['name'], bool(c['value'])) for c in sets], [('Trusted', True)])
        # The pairing is removed: pairgated takes the trust back.
        self.fake.set_device(dev_path(STRANGER), Paired=False, Bonded=False)
        self.assertTrue(wait_until(lambda: not self.device(STRANGER, 'Trusted'), 3),
                        self.stderr_tail())
        self.assertTrue(self.daemon.wait_audit(3, event='untrusted'), self.stderr_tail())

    def test_refused_or_unapproved_pairing_is_not_trusted(self):
        self.start(test={'verdict': 'deny'})
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(12))
        self.assertRejected(call)
        # a pairing the kernel accepted without asking anyone (Just Works, NoInputNoOutput)
        self.fake.set_device(dev_path(STRANGER), Paired=True, Bonded=True)
        self.fake.set_device(dev_path(OTHER), Paired=True, Bonded=True)
        iterate(0.5)
        self.assertEqual(self.device_sets(STRANGER) + self.device_sets(OTHER), [])
        self.assertFalse(self.daemon.audit(event='trusted'))

    def test_authorize_service_allowed_is_not_a_pairing_approval(self):
        self.start()
        call = self.call_wait('AuthorizeService', dev_path(ALLOWED),
                              '0000110d-0000-1000-8000-00805f9b34fb')
        self.assertAllowed(call)
        self.fake.set_device(dev_path(ALLOWED), Paired=True, Bonded=True)
        iterate(0.5)
        self.assertEqual(self.device_sets(ALLOWED), [])

    def test_trust_on_approve_off(self):
        self.start(trust=False)
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(13))
        self.assertAllowed(call)
        self.fake.set_device(dev_path(STRANGER), Paired=True, Bonded=True)
        iterate(0.5)
        self.assertEqual(self.device_sets(STRANGER), [])
        self.assertFalse(self.daemon.audit(event='trusted'))


class BondOverwrite(JourneyCase):

    initial_devices = ((ALLOWED, 'Owner phone'), (STRANGER, 'Stranger'), (OTHER, 'Other'))

    def setUp(self):
        super().setUp()
        # The owner's phone is bonded.
        self.fake.set_device(dev_path(ALLOWED), Paired=True, Bonded=True, Trusted=True)

    def test_allowlist_does_not_approve_repairing(self):
        self.start_daemon(make_config())
        for method, args in (('RequestConfirmation', (dbus.UInt32(424242),)),
                             ('RequestAuthorization', ())):
            call = self.call_wait(method, dev_path(ALLOWED), *args)
            self.assertRejected(call)
            rec = self.decision(call)
            self.assertEqual((rec['event'], rec.get('reason')), ('deny', 'no policy decided'),
                             rec.line)
        why = self.daemon.audit(event='policy', policy='allowlist')
        self.assertEqual(len(why), 2, self.stderr_tail())
        self.assertIn('already paired', why[0].get('reason'), why[0].line)
        self.assertEqual(why[0].get('address'), ALLOWED, why[0].line)
        # A profile connection of the bonded phone is still allowed by address.
        ok = self.call_wait('AuthorizeService', dev_path(ALLOWED),
                            '0000110d-0000-1000-8000-00805f9b34fb')
        self.assertAllowed(ok)

    def test_repairing_goes_to_a_person(self):
        self.start_daemon(make_config(routes={'RequestConfirmation': ['allowlist', 'test']},
                                      test={'verdict': 'allow'}))
        call = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('policy'), 'test')

    def test_unsafe_key_restores_the_old_behaviour(self):
        cfg = make_config(allowlist=None,
                          extra='allowlist = { devices = [ "%s" ]; '
                                'unsafe_approve_repairing = true; };\n' % ALLOWED)
        self.start_daemon(cfg)
        call = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(1))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('policy'), 'allowlist')


if __name__ == '__main__':
    harness.main()
