#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Self-test of the fake BlueZ, against a small Python agent (no pairgated needed)."""

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'bus'))

from harness import PrivateBus  # noqa: E402 (first: SKIPs without python3-dbus, dbus-daemon)

import dbus  # noqa: E402
import dbus.bus  # noqa: E402
import dbus.service  # noqa: E402

import fake_bluez  # noqa: E402
from fake_bluez import FakeBluez, wait_until  # noqa: E402


def call(conn, path, iface, method, sig='', args=(), dest='org.bluez'):
    """Method call that keeps the main loop running (the fake lives in this process).
    Returns ('ok', values) or ('error', name)."""
    out = []
    conn.call_async(dest, path, iface, method, sig, tuple(args),
                    lambda *v: out.append(('ok', v)),
                    lambda e: out.append(('error', e.get_dbus_name())), timeout=5)
    wait_until(lambda: out, 6)
    if not out:
        raise AssertionError('no reply to %s' % method)
    return out[0]


class MiniAgent(dbus.service.Object):
    """Records every Agent1 call with its sender and NO_REPLY flag; answers as told."""

    def __init__(self, conn, path='/test/agent'):
        super().__init__(conn, path)
        self.seen = []
        self.passkey = 123456

    def _rec(self, msg, *args):
        self.seen.append((msg.get_member(), msg.get_sender(), msg.get_no_reply(), args))

    @dbus.service.method('org.bluez.Agent1', in_signature='', out_signature='',
                         message_keyword='msg')
    def Release(self, msg=None):
        self._rec(msg)

    @dbus.service.method('org.bluez.Agent1', in_signature='', out_signature='',
                         message_keyword='msg')
    def Cancel(self, msg=None):
        self._rec(msg)

    @dbus.service.method('org.bluez.Agent1', in_signature='ouq', out_signature='',
                         message_keyword='msg')
    def DisplayPasskey(self, dev, pk, entered, msg=None):
        self._rec(msg, dev, pk, entered)

    @dbus.service.method('org.bluez.Agent1', in_signature='o', out_signature='u',
                         message_keyword='msg')
    def RequestPasskey(self, dev, msg=None):
        self._rec(msg, dev)
        return dbus.UInt32(self.passkey)

    @dbus.service.method('org.bluez.Agent1', in_signature='ou', out_signature='',
                         message_keyword='msg')
    def RequestConfirmation(self, dev, pk, msg=None):
        self._rec(msg, dev, pk)
        e = dbus.exceptions.DBusException('no')
        e._dbus_error_name = 'org.bluez.Error.Rejected'
        raise e


class FakeBluezSelfTest(unittest.TestCase):

    def setUp(self):
        fake_bluez.mainloop()
        self.dir = tempfile.mkdtemp(prefix='pg-fake-', dir='/tmp')
        self.bus = PrivateBus(self.dir)
        self.fake = FakeBluez(self.bus.address)
        self.dev = self.fake.add_device('AA:BB:CC:DD:EE:FF', 'Phone', emit=False)
        self.fake.start()
        self.client = dbus.bus.BusConnection(self.bus.address, mainloop=fake_bluez.mainloop())
        self.signals = []
        self.client.add_signal_receiver(
            lambda *a, **kw: self.signals.append((kw['member'], kw['path'], a)),
            sender_keyword='sender', member_keyword='member', path_keyword='path',
            bus_name='org.bluez')

    def tearDown(self):
        self.client.close()
        self.fake.close()
        self.bus.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def am(self, method, sig, *args):
        kind, v = call(self.client, '/org/bluez', 'org.bluez.AgentManager1', method, sig, args)
        return None if kind == 'ok' else v

    def test_agent_manager_errors(self):
        self.assertEqual(self.am('RegisterAgent', 'os', '/a', 'Display'),
                         'org.bluez.Error.InvalidArguments')
        self.assertEqual(self.am('RequestDefaultAgent', 'o', '/a'), 'org.bluez.Error.DoesNotExist')
        self.assertEqual(self.am('UnregisterAgent', 'o', '/a'), 'org.bluez.Error.DoesNotExist')
        self.assertIsNone(self.am('RegisterAgent', 'os', '/a', ''))
        self.assertEqual(self.am('RegisterAgent', 'os', '/b', 'DisplayOnly'),
                         'org.bluez.Error.AlreadyExists')
        self.assertEqual(self.am('RequestDefaultAgent', 'o', '/b'), 'org.bluez.Error.DoesNotExist')
        self.assertIsNone(self.am('RequestDefaultAgent', 'o', '/a'))
        me = self.client.get_unique_name()
        self.assertEqual(self.fake.default_agent.sender, me)
        self.assertEqual(self.fake.default_agent.capability, '')
        self.assertIsNone(self.am('UnregisterAgent', 'o', '/a'))
        self.assertIsNone(self.fake.default_agent)
        self.assertEqual([c['method'] for c in self.fake.calls],
                         ['RegisterAgent', 'RequestDefaultAgent', 'UnregisterAgent',
                          'RegisterAgent', 'RegisterAgent', 'RequestDefaultAgent',
                          'RequestDefaultAgent', 'UnregisterAgent'])
        self.assertTrue(all(c['sender'] == me for c in self.fake.calls))

    def test_objects_and_signals(self):
        kind, (objs,) = call(self.client, '/', 'org.freedesktop.DBus.ObjectManager',
                             'GetManagedObjects')
        self.assertEqual(objs[self.dev]['org.bluez.Device1']['Name'], 'Phone')
        self.assertIn('org.bluez.Adapter1', objs['/org/bluez/hci0'])
        p = self.fake.add_device('11:22:33:44:55:66', None)
        self.fake.set_device(p, Address='11:22:33:44:55:67')
        self.fake.remove_device(p)
        self.fake.set_adapter(Powered=dbus.Boolean(False))
        wait_until(lambda: len(self.signals) >= 4, 3)
        self.assertEqual([s[0] for s in self.signals],
                         ['InterfacesAdded', 'PropertiesChanged', 'InterfacesRemoved',
                          'PropertiesChanged'])
        added = self.signals[0][2][1]['org.bluez.Device1']
        self.assertEqual(added['Alias'], '11-22-33-44-55-66')
        self.assertNotIn('Name', added)
        P = 'org.freedesktop.DBus.Properties'
        A = 'org.bluez.Adapter1'
        H = '/org/bluez/hci0'
        self.assertEqual(call(self.client, H, P, 'Get', 'ss', (A, 'Powered')), ('ok', (False,)))
        self.assertEqual(call(self.client, H, P, 'Set', 'ssv', (A, 'Pairable', dbus.Boolean(0))),
                         ('ok', ()))
        self.assertFalse(call(self.client, H, P, 'GetAll', 's', (A,))[1][0]['Pairable'])
        self.assertEqual(call(self.client, H, P, 'Set', 'ssv', (A, 'Address', 'x')),
                         ('error', 'org.freedesktop.DBus.Error.PropertyReadOnly'))

    def test_calls_to_the_agent(self):
        agent = MiniAgent(self.client)
        self.assertIsNone(self.am('RegisterAgent', 'os', '/test/agent', 'KeyboardDisplay'))
        me = self.client.get_unique_name()
        pk = self.fake.call_agent('RequestPasskey', self.dev)
        self.assertTrue(pk.wait(5))
        self.assertEqual(pk.reply, (123456,))
        rc = self.fake.call_agent('RequestConfirmation', self.dev, dbus.UInt32(42))
        self.assertTrue(rc.wait(5))
        self.assertEqual(rc.error_name, 'org.bluez.Error.Rejected')
        self.fake.call_agent('DisplayPasskey', self.dev, dbus.UInt32(7), dbus.UInt16(1))
        self.fake.call_agent('Cancel')
        self.fake.release_agent()
        self.assertIsNone(self.fake.default_agent)
        wait_until(lambda: len(agent.seen) >= 5, 3)
        self.assertEqual([(m, s, nr) for m, s, nr, _ in agent.seen],
                         [('RequestPasskey', self.fake.unique_name, False),
                          ('RequestConfirmation', self.fake.unique_name, False),
                          ('DisplayPasskey', self.fake.unique_name, True),
                          ('Cancel', self.fake.unique_name, True),
                          ('Release', self.fake.unique_name, True)])
        self.assertNotEqual(me, self.fake.unique_name)

    def test_agent_leaving_the_bus_is_forgotten(self):
        other = dbus.bus.BusConnection(self.bus.address, mainloop=fake_bluez.mainloop())
        self.assertEqual(call(other, '/org/bluez', 'org.bluez.AgentManager1', 'RegisterAgent',
                              'os', ('/x', 'NoInputNoOutput')), ('ok', ()))
        self.assertIsNotNone(self.fake.default_agent)
        other.close()
        self.assertTrue(wait_until(lambda: self.fake.default_agent is None, 3))


if __name__ == '__main__':
    unittest.main(verbosity=2)
