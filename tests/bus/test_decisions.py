#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Decisions: allowlist, routes, the device cache, foreign callers, the passkey/PIN methods."""

import os
import subprocess
import textwrap

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (AGENT_PATH, ALLOWED, REJECTED, STRANGER, BusTestCase, dev_path, iterate,
                     send_agent_call)

UUID_A2DP = '0000110b-0000-1000-8000-00805f9b34fb'


class Allowlist(BusTestCase):

    def test_allowed_and_rejected_per_method(self):
        self.start_daemon()
        cases = [('RequestConfirmation', (dbus.UInt32(123456),)),
                 ('RequestAuthorization', ()),
                 ('AuthorizeService', (UUID_A2DP,))]
        for method, extra in cases:
            with self.subTest(method):
                ok = self.call_wait(method, dev_path(ALLOWED), *extra)
                self.assertAllowed(ok)
                rec = self.decision(ok)
                self.assertEqual(rec['event'], 'allow', rec.line)
                self.assertEqual(rec.get('decision'), 'allow', rec.line)
                self.assertEqual(rec.get('address'), ALLOWED, rec.line)
                self.assertEqual(rec.get('name'), 'Owner phone', rec.line)
                self.assertEqual(rec.get('policy'), 'allowlist', rec.line)
                self.assertTrue(rec.get('request'), rec.line)
                if method == 'AuthorizeService':
                    self.assertEqual(rec.get('uuid', '').lower(), UUID_A2DP, rec.line)

                no = self.call_wait(method, dev_path(STRANGER), *extra)
                self.assertRejected(no)
                rec = self.decision(no)
                self.assertEqual(rec['event'], 'deny', rec.line)
                self.assertEqual(rec.get('decision'), 'deny', rec.line)
                self.assertEqual(rec.get('address'), STRANGER, rec.line)
                self.assertEqual(rec.get('name'), 'Stranger', rec.line)
                self.assertTrue(rec.get('reason'), rec.line)
        ids = [r['request'] for r in self.daemon.audit_records if r['event'] in ('allow', 'deny')]
        self.assertEqual(len(ids), len(set(ids)), 'request ids reused: %r' % ids)

    def test_no_route_and_empty_route(self):
        self.start_daemon(routes={'RequestConfirmation': ['allowlist'],
                                  'RequestAuthorization': []})
        # control: the routed method works
        self.assertAllowed(self.call_wait('RequestConfirmation', dev_path(ALLOWED),
                                          dbus.UInt32(1)))
        # no route at all, even for an allowlisted device
        for method, extra in (('AuthorizeService', (UUID_A2DP,)), ('RequestPasskey', ()),
                              ('RequestPinCode', ())):
            with self.subTest(method):
                c = self.call_wait(method, dev_path(ALLOWED), *extra)
                self.assertRejected(c)
                self.assertEqual(self.decision(c)['event'], 'deny')
        # empty route: nobody decides -> rejected
        c = self.call_wait('RequestAuthorization', dev_path(ALLOWED))
        self.assertRejected(c)
        self.assertEqual(self.decision(c)['event'], 'deny')

    def test_matches_address_not_path(self):
        # An object whose path looks allowlisted but whose Address is not (and vice versa for
        # the RPA case below): the Address property decides.
        spoof = dev_path(ALLOWED, '/org/bluez/hci0')
        self.fake.clear_devices(emit=False)
        self.fake.add_device('5D:00:00:00:00:01', 'Spoof', address_type='random', path=spoof,
                             emit=False)
        self.start_daemon()
        c = self.call_wait('RequestAuthorization', spoof)
        self.assertRejected(c)
        self.assertEqual(self.decision(c).get('address'), '5D:00:00:00:00:01')


class DeviceCache(BusTestCase):

    def test_device_not_in_cache(self):
        self.fake.clear_devices(emit=False)
        self.start_daemon()
        c = self.call_wait('RequestAuthorization', dev_path(ALLOWED))
        self.assertAllowed(c)
        rec = self.decision(c)
        self.assertEqual(rec.get('address'), ALLOWED, rec.line)
        self.assertFalse(rec.get('name'), rec.line)
        c = self.call_wait('RequestAuthorization', '/org/bluez/hci0/dev_12_34_56_78_9A_BC')
        self.assertRejected(c)
        self.assertEqual(self.decision(c).get('address'), '12:34:56:78:9A:BC')
        # lower-case hex in the path is not what bluetoothd produces, and paths that do not
        # parse must still be answered (rejected)
        for path in ('/org/bluez/hci0/dev_nonsense', '/org/bluez/hci0', '/'):
            with self.subTest(path):
                c = self.call_wait('RequestAuthorization', path)
                self.assertRejected(c)

    def test_device_added_changed_removed_at_run_time(self):
        late = '00:11:22:33:44:55'
        self.fake.clear_devices(emit=False)
        self.start_daemon(allowlist=[ALLOWED, late])
        path = self.fake.add_device(late, 'Late arrival', cls=0x5a020c)  # InterfacesAdded
        c = self.call_wait('RequestAuthorization', path)
        self.assertAllowed(c)
        self.assertEqual(self.decision(c).get('name'), 'Late arrival')
        self.fake.set_device(path, Name='Renamed', Alias='Renamed')  # PropertiesChanged
        c = self.call_wait('RequestAuthorization', path)
        self.assertAllowed(c)
        recs = [r for r in self.daemon.audit(method='RequestAuthorization', device=path)]
        self.assertEqual(recs[-1].get('name'), 'Renamed', recs[-1].line)
        self.fake.remove_device(path)  # InterfacesRemoved: unknown again, address from path
        c = self.call_wait('RequestAuthorization', path)
        self.assertAllowed(c)
        recs = [r for r in self.daemon.audit(method='RequestAuthorization', device=path)]
        self.assertEqual(recs[-1].get('address'), late, recs[-1].line)
        self.assertFalse(recs[-1].get('name'), 'removed device still cached: ' + recs[-1].line)

    def test_address_change_rpa_to_identity(self):
        rpa = '7A:11:22:33:44:55'
        self.start_daemon()
        path = self.fake.add_device(rpa, 'Phone', address_type='random')
        c = self.call_wait('RequestConfirmation', path, dbus.UInt32(111111))
        self.assertRejected(c)
        self.assertEqual(self.decision(c).get('address'), rpa)
        # key distribution: Address/AddressType change, the object path keeps the RPA
        self.fake.set_device(path, Address=ALLOWED, AddressType='public')
        c = self.call_wait('RequestConfirmation', path, dbus.UInt32(222222))
        self.assertAllowed(c)
        rec = self.daemon.audit(method='RequestConfirmation', device=path)[-1]
        self.assertEqual(rec['event'], 'allow', rec.line)
        self.assertEqual(rec.get('address'), ALLOWED, rec.line)
        self.assertEqual(rec.get('address_type'), 'public', rec.line)
        # no blocking per-call lookup: the answers came from the cache kept by signals
        sender = self.fake.default_agent.sender
        gets = [x for x in self.fake.calls if x['method'] in ('Get', 'GetAll')
                and x.get('sender') == sender]
        self.assertFalse(gets, 'pairgated looked properties up per call: %r' % gets)


    def test_spoofed_signals_ignored(self):
        # Only org.bluez's owner feeds the cache: another connection emitting ObjectManager /
        # Properties signals with BlueZ's paths must not change what pairgated believes.
        self.start_daemon()
        spoofer = self.foreign_connection()
        target = dev_path(STRANGER)
        sig = dbus.lowlevel.SignalMessage(target, 'org.freedesktop.DBus.Properties',
                                          'PropertiesChanged')
        sig.append('org.bluez.Device1',
                   dbus.Dictionary({'Address': dbus.String(ALLOWED),
                                    'Name': dbus.String('Spoofed'),
                                    'Alias': dbus.String('Spoofed')}, signature='sv'),
                   dbus.Array([], signature='s'), signature='sa{sv}as')
        spoofer.send_message(sig)
        fresh = '/org/bluez/hci0/dev_5E_00_00_00_00_02'
        sig = dbus.lowlevel.SignalMessage('/', 'org.freedesktop.DBus.ObjectManager',
                                          'InterfacesAdded')
        sig.append(dbus.ObjectPath(fresh), dbus.Dictionary({'org.bluez.Device1': dbus.Dictionary(
            {'Address': dbus.String(ALLOWED), 'AddressType': dbus.String('public'),
             'Name': dbus.String('Spoofed')}, signature='sv')}, signature='sa{sv}'),
            signature='oa{sa{sv}}')
        spoofer.send_message(sig)
        spoofer.flush()
        iterate(0.3)
        c = self.call_wait('RequestAuthorization', target)
        self.assertRejected(c)
        rec = self.decision(c)
        self.assertEqual((rec.get('address'), rec.get('name')), (STRANGER, 'Stranger'), rec.line)
        c = self.call_wait('RequestAuthorization', fresh)
        self.assertRejected(c)
        self.assertEqual(self.decision(c).get('address'), '5E:00:00:00:00:02')

    def test_odd_properties_survived(self):
        # Unexpected types, invalidated properties, partial objects: no crash, sane fallbacks.
        self.start_daemon()
        path = self.fake.add_device('5E:00:00:00:00:03', 'Odd', extra={
            'Class': dbus.String('not a number'), 'Paired': dbus.String('yes')})
        self.fake.set_device(path, invalidated=['Name', 'Alias'])
        self.fake.devices[path].set_props('org.bluez.Device1',
                                          {'Address': dbus.UInt32(7)})
        c = self.call_wait('RequestAuthorization', path)
        self.assertRejected(c)
        partial = '/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF'
        self.fake.clear_devices()
        self.fake.add_device(ALLOWED, None, path=partial, emit=False)
        props = self.fake.devices[partial].props['org.bluez.Device1']
        del props['Address']  # a Device1 without Address: the path gives it
        self.fake.object_manager.InterfacesAdded(
            dbus.ObjectPath(partial), dbus.Dictionary({'org.bluez.Device1': props},
                                                      signature='sa{sv}'))
        self.fake.object_manager.InterfacesAdded(
            dbus.ObjectPath('/org/bluez/hci0/dev_00_00_00_00_00_09'),
            dbus.Dictionary({'org.bluez.Battery1': {'Percentage': dbus.Byte(5)}},
                            signature='sa{sv}'))
        self.assertTrue(self.daemon.running())
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))


class ForeignCaller(BusTestCase):

    def test_foreign_caller_refused(self):
        self.start_daemon(routes={'RequestConfirmation': ['allowlist', 'test'],
                                  'RequestAuthorization': ['allowlist']},
                          test={'verdict': 'hold'})
        agent = self.fake.default_agent.sender
        held = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(424242))
        self.assertHeld(held)
        foreign = self.foreign_connection()
        me = foreign.get_unique_name()
        calls = {}
        for method, args in (('RequestAuthorization', (dbus.ObjectPath(dev_path(ALLOWED)),)),
                             ('RequestConfirmation', (dbus.ObjectPath(dev_path(ALLOWED)),
                                                      dbus.UInt32(1))),
                             ('RequestPasskey', (dbus.ObjectPath(dev_path(ALLOWED)),)),
                             ('Cancel', ()),
                             ('Release', ())):
            # ask for a reply even for Cancel/Release so the refusal is visible
            calls[method] = send_agent_call(foreign, agent, AGENT_PATH, method, args,
                                            no_reply=False, timeout=10)
        for method, c in calls.items():
            with self.subTest(method):
                self.assertTrue(c.wait(5), '%s from a foreign caller not answered' % method)
                self.assertEqual(c.error_name, REJECTED, c)
        recs = self.daemon.wait_audit(event='foreign-caller', count=len(calls))
        self.assertEqual(len(recs), len(calls), [r.line for r in recs])
        for r in recs:
            self.assertEqual(r.get('sender'), me, r.line)
        # the foreign Cancel did not cancel, the foreign Release did not unregister
        self.assertFalse(held.done, 'a foreign Cancel() answered the held request: %r' % held)
        self.assertFalse(self.daemon.audit(event='registration-lost'), self.stderr_tail())
        # the real BlueZ still gets answers, and its Cancel works
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
        self.call('Cancel')
        self.assertTrue(held.wait(5), 'Cancel from BlueZ did not end the held request')
        self.assertEqual(self.decision(held)['event'], 'canceled')


    def test_foreign_caller_other_user(self):
        # A local process of another (unprivileged) user is refused the same way: Rejected and
        # audited, not turned away before pairgated sees it.
        if os.getuid() != 0:
            self.skipTest('needs root to run the caller as another user')
        self.start_daemon()
        os.chmod(self.workdir, 0o755)
        agent = self.fake.default_agent.sender
        script = textwrap.dedent('''
            import sys, dbus, dbus.bus
            c = dbus.bus.BusConnection(sys.argv[1])
            print(c.get_unique_name(), flush=True)
            try:
                c.call_blocking(sys.argv[2], sys.argv[3], 'org.bluez.Agent1',
                                'RequestAuthorization', 'o', (sys.argv[4],), timeout=10)
                print('reply')
            except dbus.DBusException as e:
                print(e.get_dbus_name())
            ''')
        p = subprocess.Popen(['/usr/bin/python3', '-c', script, self.bus.address, agent,
                              AGENT_PATH, dev_path(ALLOWED)], user=65534, group=65534,
                             extra_groups=[], cwd=self.workdir, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        while p.poll() is None:
            iterate(0.05)
        out, err = p.communicate()
        lines = out.decode().split()
        self.assertEqual(len(lines), 2, (out, err))
        me, answer = lines
        self.assertEqual(answer, REJECTED, 'a foreign caller of another uid got %s' % answer)
        recs = self.daemon.wait_audit(event='foreign-caller')
        self.assertTrue(recs, 'foreign caller (uid 65534) not audited\n' + self.stderr_tail())
        self.assertEqual(recs[-1].get('sender'), me)


class PasskeyAndPin(BusTestCase):
    PIN_RETURNED = '73915046'
    PIN_DISPLAYED = '58203971'

    def test_display_and_request_methods(self):
        self.start_daemon(routes={'DisplayPasskey': ['test'], 'DisplayPinCode': ['test'],
                                  'RequestPasskey': ['test'], 'RequestPinCode': ['test']},
                          test={'verdict': 'allow', 'delay_ms': 0, 'passkey': 654321,
                                'pin': self.PIN_RETURNED})
        dev = dev_path(ALLOWED)
        # DisplayPasskey: NO_REPLY from bluetoothd, audited with the passkey
        self.call('DisplayPasskey', dev, dbus.UInt32(314159), dbus.UInt16(0))
        recs = self.daemon.wait_audit(method='DisplayPasskey')
        self.assertTrue(recs, 'DisplayPasskey not audited\n' + self.stderr_tail())
        self.assertEqual(int(recs[-1].get('passkey', -1)), 314159, recs[-1].line)
        # DisplayPinCode: a reply is expected; the PIN is never logged
        c = self.call_wait('DisplayPinCode', dev, self.PIN_DISPLAYED)
        self.assertTrue(c.done)
        self.assertTrue(self.daemon.wait_audit(method='DisplayPinCode'), self.stderr_tail())
        rec = self.daemon.audit(method='DisplayPinCode')[-1]
        self.assertEqual(rec['event'], 'allow', rec.line)
        self.assertNotIn('effect', rec, rec.line)
        # RequestPasskey -> the test policy's passkey as 'u'
        c = self.call_wait('RequestPasskey', dev)
        self.assertAllowed(c, (654321,))
        self.assertIsInstance(c.reply[0], dbus.UInt32)
        # RequestPinCode -> the test policy's PIN as 's', never logged
        c = self.call_wait('RequestPinCode', dev)
        self.assertAllowed(c, (self.PIN_RETURNED,))
        self.assertIsInstance(c.reply[0], dbus.String)
        self.assertTrue(self.decision(c))
        self.stop_daemon()
        for pin in (self.PIN_RETURNED, self.PIN_DISPLAYED):
            self.assertNotIn(pin, self.daemon.stderr_text, 'a PIN was logged')

    def test_refused_notifications_are_ignored_by_bluetoothd(self):
        """bluetoothd 5.66 ignores a refused DisplayPinCode (display_pincode_cb replies with the
        PIN whatever the error) and expects no reply to DisplayPasskey: the record keeps
        decision=deny but says the refusal has no effect (it used to say nothing)."""
        self.start_daemon(routes={'DisplayPasskey': ['test'], 'DisplayPinCode': ['test'],
                                  'RequestConfirmation': ['test']},
                          test={'verdict': 'deny'})
        dev = dev_path(STRANGER)
        c = self.call_wait('DisplayPinCode', dev, self.PIN_DISPLAYED)
        self.assertTrue(c.latency < 1.0, c)
        self.call('DisplayPasskey', dev, dbus.UInt32(314159), dbus.UInt16(0))
        self.daemon.wait_audit(method='DisplayPasskey')
        for method in ('DisplayPinCode', 'DisplayPasskey'):
            with self.subTest(method):
                rec = self.daemon.audit(method=method)[-1]
                self.assertEqual((rec['event'], rec.get('decision'), rec.get('policy')),
                                 ('deny', 'deny', 'test'), rec.line)
                self.assertEqual(rec.get('effect'), 'ignored-by-bluetoothd', rec.line)
        # a refusal bluetoothd honours says nothing more
        rec = self.decision(self.call_wait('RequestConfirmation', dev, dbus.UInt32(1)))
        self.assertEqual(rec['event'], 'deny', rec.line)
        self.assertNotIn('effect', rec, rec.line)

    def test_request_passkey_denied(self):
        self.start_daemon(routes={'RequestPasskey': ['test'], 'RequestPinCode': ['test']},
                          test={'verdict': 'deny', 'passkey': 1, 'pin': '1111'})
        self.assertRejected(self.call_wait('RequestPasskey', dev_path(ALLOWED)))
        self.assertRejected(self.call_wait('RequestPinCode', dev_path(ALLOWED)))

    def test_malformed_calls(self):
        # Wrong signatures must be answered with an error and must not disturb the daemon.
        self.start_daemon()
        for method, args, sig in (('RequestConfirmation', (dev_path(ALLOWED),), 'o'),
                                  ('RequestAuthorization', (dev_path(ALLOWED), 'x'), 'os'),
                                  ('AuthorizeService', (dev_path(ALLOWED), dbus.UInt32(1)), 'ou'),
                                  ('RequestAuthorization', ('not-a-path',), 's')):
            with self.subTest(method=method, sig=sig):
                c = self.call(method, *args, signature=sig, counted=False)
                self.assertTrue(c.wait(5), 'malformed %s(%s) not answered' % (method, sig))
                self.assertIsNotNone(c.error_name, c)
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
        self.assertTrue(self.daemon.running())


if __name__ == '__main__':
    harness.main()
