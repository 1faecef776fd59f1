# SPDX-License-Identifier: MIT
"""Bus tests of `pairgatectl doctor`: a private dbus-daemon, the fake BlueZ (with or without its
adapter, with chosen adapter properties), a fake pairgated (org.pairgate with GetStatus, as
docs/control-interface.md describes it) and a fake root directory (--root) holding main.conf,
pairgate.conf, /proc entries (bluetoothd's command line, other agent programs), the bond store and
the installed files. Each case checks the findings, the exit status and that --json parses.

Usage: /usr/bin/python3 tests/bus/test_doctor.py --pairgatectl PATH [unittest args]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PrivateBus, fake_bluez, iterate  # noqa: E402 (skips without python3-dbus)
import dbus  # noqa: E402
import dbus.service  # noqa: E402

PAIRGATECTL = os.environ.get('PAIRGATECTL')
CONTROL = 'org.pairgate'
CONTROL_PATH = '/org/pairgate/control'
CONTROL_IFACE = 'org.pairgate.Control1'

CLEAN_MAIN_CONF = '[General]\nJustWorksRepairing = confirm\n'
CLEAN_CONFIG = 'capability = "DisplayYesNo";\n'


class FakePairgated(dbus.service.Object):
    """org.pairgate with GetStatus only; error: the D-Bus error name GetStatus answers."""

    def __init__(self, address, registered=True, capability='DisplayYesNo', error=None):
        self.conn = dbus.bus.BusConnection(address, mainloop=fake_bluez.mainloop())
        super().__init__(self.conn, CONTROL_PATH)
        self.conn.request_name(CONTROL, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
        self.registered = registered
        self.capability = capability
        self.error = error

    @dbus.service.method(CONTROL_IFACE, in_signature='', out_signature='a{sv}')
    def GetStatus(self):
        if self.error:
            raise fake_bluez.BluezError(self.error, 'no')
        return dbus.Dictionary({
            'Version': dbus.String('0.1.0'),
            'Registered': dbus.Boolean(self.registered),
            'Capability': dbus.String(self.capability),
            'Adapters': dbus.Array(['/org/bluez/hci0'], signature='s'),
        }, signature='sv')

    def close(self):
        self.remove_from_connection()
        self.conn.close()


class NoAdapterBluez(fake_bluez.FakeBluez):
    def start(self, request_name=True):
        super().start(request_name)
        self.adapter.remove_from_connection()
        return self

    def managed_objects(self):
        objs = super().managed_objects()
        del objs[dbus.ObjectPath(self.adapter_path)]
        return objs


class DoctorTest(unittest.TestCase):
    def setUp(self):
        if not PAIRGATECTL:
            self.skipTest('no --pairgatectl PATH given')
        fake_bluez.mainloop()
        self.workdir = tempfile.mkdtemp(prefix='pg-doctor-', dir='/tmp')
        self.root = os.path.join(self.workdir, 'root')
        self.bus = PrivateBus(self.workdir)
        self.fake = None
        self.pairgated = None
        # a clean machine: main.conf, pairgate.conf, bluetoothd without its battery plugin,
        # the D-Bus policy and the enabled unit installed, one bond matching nothing special.
        self.write('etc/bluetooth/main.conf', CLEAN_MAIN_CONF)
        self.write('etc/pairgate/pairgate.conf', CLEAN_CONFIG)
        self.write('usr/share/dbus-1/system.d/pairgate.conf', '<busconfig/>\n')
        self.write('lib/systemd/system/pairgate.service', '[Service]\n')
        os.makedirs(os.path.join(self.root, 'etc/systemd/system/multi-user.target.wants'))
        os.symlink('/lib/systemd/system/pairgate.service',
                   os.path.join(self.root,
                                'etc/systemd/system/multi-user.target.wants/pairgate.service'))
        self.write('var/lib/bluetooth/00:AA:01:00:00:01/settings', '[General]\n')
        # the fake BlueZ runs in this process: its /proc entry is ours
        self.bluetoothd_proc(['/usr/libexec/bluetooth/bluetoothd', '-P', 'battery'])

    def tearDown(self):
        if self.pairgated:
            self.pairgated.close()
        if self.fake:
            self.fake.close()
        self.bus.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- the world
    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def proc(self, pid, argv, comm=None):
        d = os.path.join(self.root, 'proc', str(pid))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'cmdline'), 'wb') as f:
            f.write(b''.join(a.encode() + b'\0' for a in argv))
        with open(os.path.join(d, 'comm'), 'w') as f:
            f.write((comm or os.path.basename(argv[0]))[:15] + '\n')
        return d

    def bluetoothd_proc(self, argv, version='5.66'):
        d = self.proc(os.getpid(), argv)
        # exe -> a stand-in "bluetoothd" that answers --version like the real one
        exe = self.write('usr/libexec/bluetooth/bluetoothd',
                         '#!/bin/sh\n[ "$1" = --version ] && echo %s\n' % version)
        os.chmod(exe, 0o755)
        link = os.path.join(d, 'exe')
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(exe, link)

    def start_fake(self, cls=fake_bluez.FakeBluez, **adapter):
        self.fake = cls(self.bus.address).start()
        if adapter:
            self.fake.set_adapter(**adapter)
        return self.fake

    def start_pairgated(self, **kw):
        self.pairgated = FakePairgated(self.bus.address, **kw)

    def doctor(self, *args, json_out=True):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address, NO_COLOR='1')
        cmd = [PAIRGATECTL, 'doctor', '--root', self.root] + list(args)
        if json_out:
            cmd.append('--json')
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        end = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < end:
            iterate(0.02)  # the fakes answer from this process's main loop
        if p.poll() is None:
            p.kill()
        out, err = p.communicate()
        self.assertNotIn(b'runtime error', err)
        self.assertNotIn(b'AddressSanitizer', err)
        self.assertNotIn(b'LeakSanitizer', err)
        if not json_out:
            return p.returncode, out.decode()
        doc = json.loads(out.decode())
        self.assertEqual(doc['summary']['exit_status'], p.returncode)
        return p.returncode, doc

    def severities(self, doc, check):
        return [c['severity'] for c in doc['checks'] if c['check'] == check]

    def assertWorst(self, doc, check, severity):
        order = ['ok', 'info', 'warning', 'critical']
        got = self.severities(doc, check)
        self.assertTrue(got, 'no finding for %s: %s' % (check, doc))
        self.assertEqual(max(got, key=order.index), severity, (check, got))

    # -- cases
    def test_clean(self):
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 0, doc)
        self.assertWorst(doc, 'bluetoothd', 'ok')
        self.assertIn('5.66', [c for c in doc['checks'] if c['check'] == 'bluetoothd'][0]['found'])
        self.assertWorst(doc, 'pairgated', 'ok')
        self.assertWorst(doc, 'just-works-repairing', 'ok')
        self.assertWorst(doc, 'battery-loop', 'ok')
        self.assertWorst(doc, 'installation', 'ok')
        rc, text = self.doctor(json_out=False)
        self.assertEqual(rc, 0)
        self.assertIn('0 warning, 0 critical', text)

    def test_jw_repairing_always_is_critical(self):
        self.write('etc/bluetooth/main.conf', '[General]\nJustWorksRepairing = always\n')
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'just-works-repairing', 'critical')
        self.assertEqual(doc['summary']['critical'], 1)

    def test_bluetooth_config_option(self):
        other = os.path.join(self.workdir, 'other-main.conf')
        with open(other, 'w') as f:
            f.write('[General]\nJustWorksRepairing = always\nAlwaysPairable = true\n')
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor('--bluetooth-config', other)
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'always-pairable', 'warning')

    def test_config_option_invalid(self):
        bad = os.path.join(self.workdir, 'bad.conf')
        with open(bad, 'w') as f:
            f.write('capability = "Telepathy";\n')
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor('--config', bad)
        self.assertEqual(rc, 2)
        found = [c['found'] for c in doc['checks'] if c['check'] == 'pairgate-config']
        self.assertTrue(found[0].startswith(bad + ':'), found)

    def test_no_adapter(self):
        self.start_fake(NoAdapterBluez)
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'adapter', 'critical')

    def test_adapter_off_and_not_pairable(self):
        self.start_fake(Powered=dbus.Boolean(False))
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'adapter', 'critical')
        self.fake.set_adapter(Powered=dbus.Boolean(True), Pairable=dbus.Boolean(False))
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        self.assertWorst(doc, 'adapter', 'warning')

    def test_bluetoothd_not_running(self):
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'bluetoothd', 'critical')
        self.assertEqual(self.severities(doc, 'adapter'), [])

    def test_pairgated_missing_unregistered_denied(self):
        self.start_fake()
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'pairgated', 'critical')
        # a pairgated process without org.pairgate (no policy, or a version without it)
        self.proc(999997, ['/usr/sbin/pairgated'])
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        self.assertWorst(doc, 'pairgated', 'warning')
        self.start_pairgated(registered=False)
        rc, doc = self.doctor()
        self.assertEqual(rc, 2)
        self.assertWorst(doc, 'pairgated', 'critical')
        self.pairgated.close()
        self.start_pairgated(error='org.pairgate.Error.AccessDenied')
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        self.assertWorst(doc, 'pairgated', 'warning')

    def test_other_agent_with_fixed_pin(self):
        self.proc(999999, ['/usr/bin/bt-agent', '-c', 'NoInputNoOutput', '-p', '/etc/pins'])
        self.proc(999998, ['/usr/bin/python3', '/usr/share/doc/bluez/simple-agent'])
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        agents = [c['found'] for c in doc['checks'] if c['check'] == 'other-agents']
        self.assertEqual(len(agents), 2, agents)
        self.assertTrue(any('bt-agent (pid 999999)' in a for a in agents), agents)
        self.assertTrue(any('simple-agent (pid 999998)' in a for a in agents), agents)
        self.assertWorst(doc, 'fixed-secrets', 'warning')

    def test_battery_plugin_loaded(self):
        self.bluetoothd_proc(['/usr/libexec/bluetooth/bluetoothd'])
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        self.assertWorst(doc, 'battery-loop', 'warning')
        # ReverseServiceDiscovery=false is 5.66's own remedy
        self.write('etc/bluetooth/main.conf', CLEAN_MAIN_CONF + 'ReverseServiceDiscovery = false\n')
        rc, doc = self.doctor()
        self.assertEqual(rc, 0)
        self.assertWorst(doc, 'battery-loop', 'ok')

    def test_bonds_and_allowlist(self):
        self.write('etc/pairgate/pairgate.conf', CLEAN_CONFIG +
                   'allowlist = { devices = [ "5A:11:22:33:44:55" ]; };\n')
        # a bond under a controller address that no adapter has any more
        self.write('var/lib/bluetooth/00:AA:01:00:00:99/C0:11:22:33:44:55/info',
                   '[General]\nAddressType=static\nTrusted=true\n'
                   '[PeripheralLongTermKey]\nKey=00\nAuthenticated=2\n')
        self.start_fake()
        self.start_pairgated()
        rc, doc = self.doctor()
        self.assertEqual(rc, 1)
        self.assertWorst(doc, 'allowlist', 'warning')
        bonds = [c for c in doc['checks'] if c['check'] == 'bonds']
        self.assertTrue(any('00:AA:01:00:00:99' in c['found'] and c['severity'] == 'warning'
                            for c in bonds), bonds)
        self.assertTrue(any('unauthenticated' in c['found'] for c in bonds), bonds)

    def test_usage(self):
        p = subprocess.run([PAIRGATECTL, 'doctor', '--bogus'], capture_output=True)
        self.assertEqual(p.returncode, 3)


def main():
    global PAIRGATECTL
    argv = list(sys.argv)
    if '--pairgatectl' in argv:
        i = argv.index('--pairgatectl')
        PAIRGATECTL = os.path.abspath(argv[i + 1])
        del argv[i:i + 2]
    if not PAIRGATECTL:
        sys.stderr.write('usage: %s --pairgatectl PATH [unittest args]\n' % argv[0])
        sys.exit(2)
    unittest.main(module='__main__', argv=argv, verbosity=2)


if __name__ == '__main__':
    main()
