#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile device names end up in the audit as one escaped, bounded line, and nothing runs.

About invalid UTF-8: a D-Bus string must be valid UTF-8 (libdbus refuses to marshal anything
else and dbus-daemon disconnects a peer that sends it), and bluetoothd itself replaces invalid
bytes in a remote name before exporting Name. So a name on the bus cannot carry invalid UTF-8 and
this test cannot send one; what it checks instead is the escaping of control characters, of
non-ASCII (multi-byte UTF-8, escaped byte by byte), of quotes/backslashes/"key=value" look-alikes,
and the bound on a 248-byte name (BlueZ's maximum) including a cut inside a multi-byte character.
"""

import os

import harness
from harness import ALLOWED, BusTestCase

NAME_MAX = 64  # AUDIT_NAME_MAX: raw bytes kept before "..."


class HostileNames(BusTestCase):

    def names(self, marker_dir):
        m = lambda n: os.path.join(marker_dir, n)  # noqa: E731
        return [
            '$(touch %s)' % m('dollar'),
            '`touch %s`; touch %s' % (m('backtick'), m('semicolon')),
            '|| touch %s & echo >%s' % (m('pipe'), m('redirect')),
            'evil\naudit event=allow request=999 method=RequestConfirmation decision=allow',
            'cr\rlf\n tab\t esc\x1b[31mred\x1b[0m del\x7f nul-less \x01\x02',
            'quote " backslash \\ fake \\x41 escape name=fake key="v"',
            'Ünïcödé 名前 😀',
            'N' * 248,
            'x' + '\u00e9' * 123 + 'y',  # 248 bytes; byte 64 is inside an 'é'
            '',
        ]

    def test_hostile_names(self):
        self.fake.clear_devices(emit=False)
        markers = os.path.join(self.workdir, 'markers')
        os.mkdir(markers)
        names = self.names(markers)
        paths = []
        for i, name in enumerate(names):
            addr = '66:00:00:00:00:%02X' % i
            self.assertLessEqual(len(name.encode()), 248)
            paths.append(self.fake.add_device(addr, name, emit=False))
        self.start_daemon(allowlist=[ALLOWED, '66:00:00:00:00:00'])
        # some arrive via GetManagedObjects (above), the same names again via InterfacesAdded
        for i, name in enumerate(names):
            paths.append(self.fake.add_device('67:00:00:00:00:%02X' % i, name))
        calls = [self.call('RequestAuthorization', p) for p in paths]
        for c in calls:
            self.assertTrue(c.wait(10), c)
        self.stop_daemon()

        for i, (path, call) in enumerate(zip(paths, calls)):
            name = names[i % len(names)]
            with self.subTest(name=name[:40], path=path):
                recs = [r for r in self.daemon.audit(device=path)
                        if r['event'] in harness.DECISION_EVENTS]
                self.assertEqual(len(recs), 1, 'decision records for %s: %r' % (path, recs))
                rec = recs[0]
                line = rec.line
                self.assertTrue(all(0x20 <= ord(ch) < 0x7f for ch in line),
                                'audit line not escaped to printable ASCII: %r' % line)
                raw = name.encode('utf-8')
                want = raw[:NAME_MAX] + (b'...' if len(raw) > NAME_MAX else b'')
                if raw:
                    self.assertIn('name', rec, line)
                    self.assertEqual(rec.bytes['name'], want,
                                     'name not escaped/bounded as expected: %r' % line)
                else:
                    self.assertFalse(rec.get('name'), line)
                self.assertLessEqual(len(rec.raw.get('name', '')), NAME_MAX * 4 + 3)

        # The forged record inside a name must not appear as a record of its own.
        forged = [r for r in self.daemon.audit_records if r.get('request') == '999']
        self.assertFalse(forged, 'a device name injected an audit record: %r'
                         % [r.line for r in forged])
        for line in self.daemon.lines:
            self.assertFalse(line.startswith(('audit event=allow request=999', ' tab', 'lf')),
                             'a device name broke a log line: %r' % line)
        self.assertEqual(os.listdir(markers), [], 'a device name was executed')


class NameSource(BusTestCase):
    """PAIRGATE_NAME is the device's Name when it has one; otherwise its Alias only when that is
    a real alias (bluetoothd makes Alias the address with dashes for a device without a name),
    and name_source says which. It used to be the Alias, whatever it was."""

    def test_name_and_alias(self):
        self.fake.clear_devices(emit=False)
        cases = [  # address, Name, Alias (None: bluetoothd's default), audited name, source
            ('68:00:00:00:00:01', 'Pixel 7', None, 'Pixel 7', 'name'),
            ('68:00:00:00:00:02', None, None, None, None),  # Alias is 68-00-00-00-00-02
            ('68:00:00:00:00:03', None, 'Kitchen radio', 'Kitchen radio', 'alias'),
            ('68:00:00:00:00:04', 'JBL Flip 5', 'Living room', 'JBL Flip 5', 'name'),
        ]
        for addr, name, alias, _, _ in cases:
            self.fake.add_device(addr, name, alias=alias, emit=False)
        self.start_daemon(allowlist=[c[0] for c in cases])
        self.assertEqual(self.fake.devices[harness.dev_path('68:00:00:00:00:02')]
                         .props['org.bluez.Device1']['Alias'], '68-00-00-00-00-02')
        for addr, _, _, want, source in cases:
            with self.subTest(addr):
                rec = self.decision(self.call_wait('RequestAuthorization', harness.dev_path(addr)))
                self.assertEqual((rec.get('name'), rec.get('name_source')), (want, source),
                                 rec.line)
        # a name learnt later wins over the user's alias
        path = harness.dev_path('68:00:00:00:00:03')
        self.fake.set_device(path, Name='Radio 3000')
        rec = self.decision(self.call_wait('RequestAuthorization', path))
        self.assertEqual((rec.get('name'), rec.get('name_source')), ('Radio 3000', 'name'),
                         rec.line)

if __name__ == '__main__':
    harness.main()
