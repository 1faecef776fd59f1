#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The speech policy in the real pairgated on the fake BlueZ, with a fake text-to-speech command
(tests/speech/fake-tts: records argv, stdin, process group and timing) and the real espeak-ng.

- RequestConfirmation = ["speech", "button"]: speech starts, a (scripted) button press allows,
  the speech is stopped (the fake's whole process group killed, no zombie left).
- Cancel and timeout stop it too; DisplayPasskey speech outlives its request and ends with the
  pairing (Paired, Connected, device removed); keypress notifications do not restart it.
- Hostile device names are never interpreted by a shell and are sanitised when spoken.
- A missing synthesiser is audited and changes no answer; the daemon stays up.
- A generated PIN is returned and spoken, never logged.
- The real espeak-ng, through the policy's own command path, produces non-silent speech of a
  plausible length (soxi / sox stat).
"""

import os
import re
import shutil
import subprocess

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus
from gi.repository import GLib

from harness import (CANCELED, STRANGER, BusTestCase, dev_path, iterate, make_config,
                     wait_until)
import test_button  # Button: scripted presses through a FIFO (read-only use)

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_TTS = os.path.join(os.path.dirname(HERE), 'speech', 'fake-tts')
PHONE_CLASS = 0x5a020c
PHONE = '44:55:66:77:88:99'


def val(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, str):
        return '"%s"' % v.replace('\\', '\\\\').replace('"', '\\"')
    if isinstance(v, (list, tuple)):
        return '[ %s ]' % ', '.join(val(x) for x in v)
    if isinstance(v, dict):
        return '{ %s }' % ' '.join('%s = %s;' % (k, val(x)) for k, x in v.items())
    return str(v)


def group(name, keys):
    return '%s = {\n%s};\n' % (name, ''.join('  %s = %s;\n' % (k, val(v))
                                           for k, v in keys.items()))


def sanitize(name, limit=32):
    """What speech_sanitize_name() keeps of a name (the oracle for the hostile names)."""
    out = ''
    for b in name.encode('utf-8'):
        c = chr(b)
        if not (b < 128 and (c.isalnum() or c in " .,'-_")):
            c = ' '
        if not out and c in ' -':  # never a leading '-' (it would read as an option)
            continue
        if c == ' ' and out[-1] == ' ':
            continue
        out += c
    if len(out) > limit:
        sp = out.rfind(' ', 0, limit + 1)
        out = out[:sp] if sp >= limit // 2 else out[:limit]
    return out.rstrip(' ') or None


def proc_stat(pid):
    """(state, ppid, pgrp) of a process, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(')') + 2:].split()
    return rest[0], int(rest[1]), int(rest[2])


def processes():
    for n in os.listdir('/proc'):
        if n.isdigit():
            st = proc_stat(int(n))
            if st:
                yield int(n), st


def group_alive(pgid):
    """A live (non-zombie) process is in the group."""
    return any(st[2] == pgid and st[0] != 'Z' for _, st in processes())


class SpeechTestCase(BusTestCase):

    def setUp(self):
        super().setUp()
        self.log = os.path.join(self.workdir, 'tts.log')
        self.fifo = os.path.join(self.workdir, 'button-event')
        self.button = test_button.Button(self.fifo)
        self.phone = self.fake.add_device(PHONE, 'Phone', cls=PHONE_CLASS, connected=True)

    def tearDown(self):
        self.button.close()
        if hasattr(self, 'daemon') and self.daemon.running():
            # no zombie children, whatever the test did
            iterate(0.2)
            self.assertEqual(self.zombies(), [], 'zombie children of pairgated')
        super().tearDown()

    def fake_command(self, *opts):
        return [FAKE_TTS, '--log', self.log] + list(opts) + ['--', '{text}']

    def start(self, routes, speech=None, button=False, request_timeout=25, test=None):
        extra = group('speech', speech or {}) if speech is not None else ''
        if button:
            if not os.path.exists(self.fifo):
                os.mkfifo(self.fifo, 0o600)
            extra += group('button', {'device': self.fifo, 'key': 'KEY_CONNECT'})
        d = self.start_daemon(make_config(routes=routes, request_timeout=request_timeout,
                                          test=test, extra=extra))
        if button:
            d.wait_audit(5, event='policy', policy='button', input='opened')
            self.button.connect()
        return d

    # -- the fake's records
    def records(self, event=None, role=None):
        out = []
        try:
            with open(self.log) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return out
        for ln in lines:
            if not ln:
                continue
            r = GLib.Variant.parse(None, ln, None, None).unpack()
            if (event is None or r['event'] == event) and (role is None or r['role'] == role):
                out.append(r)
        return out

    def wait_records(self, event, count=1, timeout=5):
        ok = wait_until(lambda: len(self.records(event)) >= count, timeout)
        if not ok:
            self.fail('expected %d %r record(s) from the fake TTS, got %r\n%s'
                      % (count, event, self.records(), self.stderr_tail()))
        return self.records(event)

    def text(self, rec):
        self.assertEqual(len(rec['text']), 1, 'the text must be ONE argument: %r' % rec)
        return rec['text'][0]

    def zombies(self):
        pid = self.daemon.proc.pid
        return [p for p, st in processes() if st[1] == pid and st[0] == 'Z']

    def children(self):
        pid = self.daemon.proc.pid
        return [p for p, st in processes() if st[1] == pid]

    def assertGroupGone(self, pgid, timeout=3):
        self.assertTrue(wait_until(lambda: not group_alive(pgid), timeout),
                        'process group %d still alive\n%s' % (pgid, self.stderr_tail()))


class WithButton(SpeechTestCase):

    def test_speech_then_button_press_allows_and_stops_speech(self):
        self.start({'RequestConfirmation': ['speech', 'button']},
                   {'command': self.fake_command('--sleep', '30', '--grandchild')},
                   button=True)
        call = self.call('RequestConfirmation', self.phone, dbus.UInt32(123456))
        start = self.wait_records('start')[0]
        self.assertEqual(self.text(start), 'Pairing request from a phone. Code: 1 2 3 4 5 6. '
                         'Press the button to accept.')
        self.assertEqual(start['pgid'], start['pid'])
        self.assertEqual(start['ppid'], self.daemon.proc.pid)
        self.assertTrue(group_alive(start['pgid']))
        self.assertHeld(call, 0.3)  # speaking does not decide
        self.button.short_press_now()
        self.assertTrue(call.wait(3), 'no answer after the press\n' + self.stderr_tail())
        self.assertAllowed(call)
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy')), ('allow', 'button'), rec.line)
        # the voice stops with the decision: SIGTERM reached it, its group (grandchild) is gone
        self.wait_records('term')
        self.assertGroupGone(start['pgid'])
        self.assertFalse(proc_stat(start['grandchild']) and
                         proc_stat(start['grandchild'])[0] != 'Z')
        self.assertTrue(wait_until(lambda: not self.children(), 3), self.children())
        self.assertEqual(self.records('end'), [])
        self.assertEqual(self.daemon.audit(event='policy', policy='speech'), [])


class Stopping(SpeechTestCase):

    ROUTES = {'RequestConfirmation': ['speech', 'test'],
              'DisplayPasskey': ['speech'],
              'RequestAuthorization': ['speech', 'test']}

    def test_cancel_stops_speech(self):
        self.start(self.ROUTES, {'command': self.fake_command('--sleep', '30')},
                   test={'verdict': 'hold'})
        call = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(1))
        start = self.wait_records('start')[0]
        self.assertEqual(self.text(start), 'Pairing request from a device. Code: 0 0 0 0 0 1. '
                         'Press the button to accept.')
        self.call('Cancel')
        self.assertTrue(call.wait(3))
        self.assertError(call, CANCELED)
        self.wait_records('term')
        self.assertGroupGone(start['pgid'])

    def test_timeout_stops_speech(self):
        self.start(self.ROUTES, {'command': self.fake_command('--sleep', '30')},
                   test={'verdict': 'hold'}, request_timeout=1)
        call = self.call('RequestAuthorization', self.phone)
        start = self.wait_records('start')[0]
        self.assertEqual(self.text(start),
                         'Pairing request from a phone. Press the button to accept.')
        self.assertTrue(call.wait(4))
        self.assertEqual(self.decision(call)['event'], 'timeout')
        self.wait_records('term')
        self.assertGroupGone(start['pgid'])

    def test_decision_by_next_policy_stops_speech(self):
        """The route end to end with the test policy deciding after 0.5 s."""
        self.start(self.ROUTES, {'command': self.fake_command('--sleep', '30')},
                   test={'verdict': 'allow', 'delay_ms': 500})
        call = self.call('RequestConfirmation', self.phone, dbus.UInt32(999999))
        start = self.wait_records('start')[0]
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('policy'), 'test')
        self.wait_records('term')
        self.assertGroupGone(start['pgid'])

    def test_display_passkey_until_paired(self):
        self.start(self.ROUTES, {'command': self.fake_command('--sleep', '30'),
                                 'repeat': 1})
        self.call('DisplayPasskey', self.phone, dbus.UInt32(4321), dbus.UInt16(0))
        start = self.wait_records('start')[0]
        self.assertEqual(self.text(start), 'Pairing code: 0 0 4 3 2 1.')
        # the request ended at once (no reply awaited), the voice goes on
        rec = self.daemon.wait_audit(3, event='allow', method='DisplayPasskey')
        self.assertTrue(rec)
        # keypress notifications: same passkey, entered growing: no restart
        for entered in range(1, 7):
            self.call('DisplayPasskey', self.phone, dbus.UInt32(4321), dbus.UInt16(entered))
        self.daemon.wait_audit(3, count=7, event='allow', method='DisplayPasskey')
        iterate(0.5)
        self.assertEqual(len(self.records('start')), 1)
        self.assertEqual(self.records('term'), [])
        self.assertTrue(group_alive(start['pgid']))
        # the pairing ends: Paired turns true
        self.fake.set_device(self.phone, Paired=True)
        self.wait_records('term')
        self.assertGroupGone(start['pgid'])

    def test_display_passkey_until_disconnected_or_removed(self):
        self.start(self.ROUTES, {'command': self.fake_command('--sleep', '30')})
        self.call('DisplayPasskey', self.phone, dbus.UInt32(1), dbus.UInt16(0))
        first = self.wait_records('start')[0]
        self.fake.set_device(self.phone, RSSI=dbus.Int16(-40))  # unrelated change
        iterate(0.4)
        self.assertEqual(self.records('term'), [])
        self.fake.set_device(self.phone, Connected=False)
        self.wait_records('term')
        self.assertGroupGone(first['pgid'])

        other = self.fake.add_device('77:66:55:44:33:22', 'Other phone', cls=PHONE_CLASS,
                                     connected=True)
        iterate(0.2)
        self.call('DisplayPasskey', other, dbus.UInt32(2), dbus.UInt16(0))
        second = self.wait_records('start', 2)[1]
        self.fake.remove_device(other)
        self.wait_records('term', 2)
        self.assertGroupGone(second['pgid'])


class Names(SpeechTestCase):

    def hostile(self, markers):
        m = lambda n: os.path.join(markers, n)  # noqa: E731
        return [
            '$(touch %s)' % m('dollar'),
            '`touch %s`; touch %s' % (m('backtick'), m('semicolon')),
            'x\ntouch %s\n|| touch %s & echo >%s' % (m('newline'), m('pipe'), m('redirect')),
            'press the button now',
            'Ünïcödé 名前 😀',
            'N' * 248,
            '-wfoo.wav --help',
        ]

    def test_hostile_names(self):
        markers = os.path.join(self.workdir, 'markers')
        os.mkdir(markers)
        names = self.hostile(markers)
        paths = [self.fake.add_device('66:00:00:00:00:%02X' % i, n, connected=True)
                 for i, n in enumerate(names)]
        self.start({'DisplayPasskey': ['speech']},
                   {'command': self.fake_command(), 'repeat': 1, 'speak_names': True,
                    'texts': {'DisplayPasskey': 'From {device}: {passkey}'}})
        for i, p in enumerate(paths):
            self.call('DisplayPasskey', p, dbus.UInt32(i), dbus.UInt16(0))
            self.wait_records('end', i + 1)
        texts = [self.text(r) for r in self.records('start')]
        self.assertEqual(len(texts), len(names))
        allowed = re.compile(r"^From [A-Za-z0-9 .,'_-]{1,32}: [0-9 ]+$")
        for t in texts:
            self.assertRegex(t, allowed)
        for i, (name, t) in enumerate(zip(names, texts)):
            self.assertEqual(t, 'From %s: %s' % (sanitize(name), ' '.join('%06d' % i)))
        self.assertTrue(texts[0].startswith('From touch tmp pg-bus-'), texts[0])
        self.assertEqual(texts[3], 'From press the button now: 0 0 0 0 0 3')  # why it's opt-in
        self.assertEqual(texts[5], 'From %s: 0 0 0 0 0 5' % ('N' * 32))
        self.assertEqual(texts[6], 'From wfoo.wav --help: 0 0 0 0 0 6')  # no option
        self.assertEqual(os.listdir(markers), [], 'a name was executed')

    def test_names_not_spoken_by_default(self):
        p = self.fake.add_device('66:00:00:00:00:01', 'press the button now', cls=0x240404,
                                 connected=True)
        self.start({'DisplayPasskey': ['speech']},
                   {'command': self.fake_command(), 'repeat': 1,
                    'texts': {'DisplayPasskey': 'From {device}: {passkey}'}})
        self.call('DisplayPasskey', p, dbus.UInt32(7), dbus.UInt16(0))
        rec = self.wait_records('end') and self.records('start')[0]
        self.assertEqual(self.text(rec), 'From a headset: 0 0 0 0 0 7')


    def test_spoken_name_is_the_audited_one(self):
        """speech says the name the audit records: Name over a user's alias, and for a device
        without a name its kind, not the address bluetoothd puts in Alias."""
        named = self.fake.add_device('66:00:00:00:00:01', 'JBL Flip 5', alias='Living room',
                                     cls=0x240404, connected=True)
        nameless = self.fake.add_device('66:00:00:00:00:02', None, cls=0x240404, connected=True)
        self.start({'DisplayPasskey': ['speech']},
                   {'command': self.fake_command(), 'repeat': 1, 'speak_names': True,
                    'texts': {'DisplayPasskey': 'From {device}: {passkey}'}})
        for i, p in enumerate((named, nameless)):
            self.call('DisplayPasskey', p, dbus.UInt32(i), dbus.UInt16(0))
            self.wait_records('end', i + 1)
        self.assertEqual([self.text(r) for r in self.records('start')],
                         ['From JBL Flip 5: 0 0 0 0 0 0', 'From a headset: 0 0 0 0 0 1'])
        self.assertEqual([r.get('name') for r in self.daemon.audit(method='DisplayPasskey')],
                         ['JBL Flip 5', None])


class Failures(SpeechTestCase):

    def test_missing_binary(self):
        self.start({'RequestConfirmation': ['speech', 'test'], 'DisplayPasskey': ['speech']},
                   {'command': ['/nonexistent/espeak-ng', '{text}']},
                   test={'verdict': 'allow', 'delay_ms': 200})
        call = self.call_wait('RequestConfirmation', self.phone, dbus.UInt32(5))
        self.assertAllowed(call)  # decided by the next policy, as without speech
        self.assertEqual(self.decision(call).get('policy'), 'test')
        recs = self.daemon.wait_audit(3, event='policy', policy='speech', tts='missing')
        self.assertTrue(recs, self.stderr_tail())
        self.assertIn("'/nonexistent/espeak-ng'", recs[0]['reason'])
        self.assertEqual(recs[0].get('method'), 'RequestConfirmation')
        self.call('DisplayPasskey', self.phone, dbus.UInt32(6), dbus.UInt16(0))
        self.daemon.wait_audit(3, count=2, event='policy', policy='speech', tts='missing')
        self.assertTrue(self.daemon.running())
        self.assertTrue(any(ln.startswith('warning: speech: cannot run command')
                            for ln in self.daemon.lines))

    def test_failing_tts(self):
        self.start({'RequestConfirmation': ['speech', 'test'], 'DisplayPasskey': ['speech']},
                   {'command': self.fake_command('--exit', '3'), 'repeat': 3},
                   # the synthesiser must fail while the request is still pending: fake-tts
                   # (python3 + GLib) took over 300 ms to start on a loaded 2-core machine
                   test={'verdict': 'deny', 'delay_ms': 3000})
        call = self.call_wait('RequestConfirmation', self.phone, dbus.UInt32(5))
        self.assertRejected(call)  # a failing synthesiser approves nothing
        recs = self.daemon.wait_audit(3, event='policy', policy='speech', tts='failed')
        self.assertIn('exited with status 3', recs[0]['reason'])
        iterate(1.5)
        self.assertEqual(len(self.records('start')), 1, 'retried a failing synthesiser')
        # its stderr is logged (escaped, one line) for a text without a PIN
        self.assertTrue(any(ln.startswith('warning: speech: its output: fake-tts tts done')
                            for ln in self.daemon.lines), self.stderr_tail())

    def test_hanging_tts(self):
        self.start({'DisplayPasskey': ['speech']},
                   {'command': self.fake_command('--sleep', '60'), 'utterance_timeout': 1})
        self.call('DisplayPasskey', self.phone, dbus.UInt32(8), dbus.UInt16(0))
        start = self.wait_records('start')[0]
        recs = self.daemon.wait_audit(4, event='policy', policy='speech', tts='timeout')
        self.assertTrue(recs, self.stderr_tail())
        self.assertGroupGone(start['pgid'])


class Pin(SpeechTestCase):

    def test_generated_pin_spoken_never_logged(self):
        self.start({'RequestPinCode': ['speech']},
                   {'command': self.fake_command('--sleep', '0.2', '--read-stdin'),
                    'generate_pin': True, 'repeat': 1})
        pins = []
        for i in range(2):
            call = self.call_wait('RequestPinCode', self.phone)
            self.assertIsNone(call.error_name, self.stderr_tail())
            pin = str(call.reply[0])
            self.assertRegex(pin, r'^[0-9]{6}$')
            pins.append(pin)
            self.assertEqual(self.decision(call).get('policy'), 'speech')
            # spoken although the request ended at once (a new PIN for the same device would
            # replace this speech: wait for it to finish)
            self.wait_records('end', i + 1)
        self.assertNotEqual(pins[0], pins[1])  # 1 in 10^6 to fail by chance
        starts = self.records('start')
        # never in argv (/proc/<pid>/cmdline is world-readable): the text goes to stdin
        self.assertEqual([r['text'] for r in starts], [[], []])
        self.assertEqual([r['stdin'] for r in starts],
                         ['Pairing PIN: %s.\n' % ' '.join(p) for p in pins])
        for r, p in zip(starts, pins):
            for a in r['argv']:
                self.assertNotIn(p, a)
                self.assertNotIn(' '.join(p), a)
        self.stop_daemon()
        out = self.daemon.stderr_text
        for p in pins:
            self.assertNotIn(p, out)
            self.assertNotIn(' '.join(p), out)


class RealEspeak(SpeechTestCase):

    def setUp(self):
        if not shutil.which('espeak-ng') or not shutil.which('soxi'):
            self.skipTest('espeak-ng and sox are needed')
        super().setUp()

    def test_wav(self):
        wav = os.path.join(self.workdir, 'out.wav')
        self.start({'DisplayPasskey': ['speech']},
                   {'command': ['espeak-ng', '-v', 'en', '-s', '140', '-w', wav, '{text}'],
                    'repeat': 1})
        self.call('DisplayPasskey', self.phone, dbus.UInt32(482916), dbus.UInt16(0))
        self.assertTrue(wait_until(lambda: os.path.exists(wav) and not self.children(), 20),
                        self.stderr_tail())
        self.assertEqual(self.daemon.audit(event='policy', policy='speech'), [])
        duration = float(subprocess.check_output(['soxi', '-D', wav]).decode())
        stat = subprocess.run(['sox', wav, '-n', 'stat'], stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, check=True).stderr.decode()
        rms = float(re.search(r'RMS\s+amplitude:\s+([0-9.]+)', stat).group(1))
        print('\n  espeak-ng DisplayPasskey prompt: %.2f s, RMS amplitude %.4f' % (duration, rms))
        self.assertGreater(duration, 2.0)
        self.assertLess(duration, 30.0)
        self.assertGreater(rms, 0.01)


if __name__ == '__main__':
    harness.main()
