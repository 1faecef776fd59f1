#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The keypad policy with the real pairgated and the fake BlueZ. The keypad is a FIFO given as
`device`, written with struct input_event records whose timestamps are CLOCK_MONOTONIC
(time.monotonic() here), like the button's tests: keys are typed with exact times, before or
after a request. One test also types on a real uinput keypad opened by name (root and
/dev/uinput needed: skipped with the reason otherwise).
- RequestPasskey = ["keypad"]: typed digits + Enter answer the passkey; a 7th digit is ignored;
  Backspace deletes; Escape refuses; keys from before the request do not count; the digits go to
  the oldest request; the typed digits never appear in the log (only the audit's passkey=).
- RequestPinCode: the digits are the PIN, never logged.
- Other methods pass; the device absent at start is waited for and opened when it appears.
- ["speech", "keypad"] with echo = true: speech says what to type, then each digit.
- The control interface (EnterPasskey, EnterPinCode: `pairgatectl passkey`) answers a request the
  keypad holds, audited as the keypad's with the caller's uid.
"""
import fcntl
import os
import signal
import struct
import time
import unittest

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (CANCELED, OTHER, STRANGER, BusTestCase, dev_path, iterate, make_config,
                     wait_until)
import test_control  # the control interface's client helpers (read-only use)
import test_speech  # the fake TTS and its records (read-only use)

EV_SYN, EV_KEY, SYN_REPORT = 0, 1, 0
KEY_ESC, KEY_BACKSPACE, KEY_ENTER, KEY_KPENTER, KEY_A = 1, 14, 28, 96, 30
DIGIT = {'1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11}
KP = {'7': 71, '8': 72, '9': 73, '4': 75, '5': 76, '6': 77, '1': 79, '2': 80, '3': 81, '0': 82}


def codes(text, keypad=True):
    """'12<3\\n' -> key codes: digits (keypad or top row), '<' Backspace, '\\n' Enter, 'x' Esc."""
    out = []
    for c in text:
        if c.isdigit():
            out.append((KP if keypad else DIGIT)[c])
        else:
            out.append({'<': KEY_BACKSPACE, '\n': KEY_KPENTER if keypad else KEY_ENTER,
                        'x': KEY_ESC, 'a': KEY_A}[c])
    return out


class Keypad:
    """The writing end of the FIFO pairgated reads as its keypad."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def connect(self):
        self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def event(self, type_, code, value, t):
        sec = int(t)
        usec = int(round((t - sec) * 1e6))
        os.write(self.fd, struct.pack('@llHHi', sec, usec, type_, code, value))

    def type(self, text, t=None, keypad=True):
        """Press and release each key, 10 ms apart, the first at t (default: now)."""
        t = time.monotonic() if t is None else t
        for i, code in enumerate(codes(text, keypad)):
            for value in (1, 0):
                self.event(EV_KEY, code, value, t + i * 0.01)
                self.event(EV_SYN, SYN_REPORT, 0, t + i * 0.01)


class KeypadTestCase(BusTestCase):
    ROUTES = {'RequestPasskey': ['keypad'], 'RequestPinCode': ['keypad'],
              'RequestConfirmation': ['allowlist', 'keypad']}

    def setUp(self):
        super().setUp()
        self.fifo = os.path.join(self.workdir, 'keypad-event')
        self.keypad = Keypad(self.fifo)

    def tearDown(self):
        self.keypad.close()
        super().tearDown()

    def config(self, request_timeout=25, create=True, routes=None, extra='', **keypad):
        if create and not os.path.exists(self.fifo):
            os.mkfifo(self.fifo, 0o600)
        keys = dict(device=self.fifo)
        keys.update(keypad)
        return make_config(routes=routes or self.ROUTES, request_timeout=request_timeout,
                           extra=harness.conf_section('keypad', keys) + extra)

    def start(self, **kw):
        d = self.start_daemon(self.config(**kw))
        self.wait_input_opened()
        return d

    def wait_input_opened(self, timeout=5):
        recs = self.daemon.wait_audit(timeout, event='policy', policy='keypad', input='opened')
        self.assertTrue(recs, 'keypad input not opened\n' + self.stderr_tail())
        self.keypad.connect()

    def held(self, method, address, *args):
        call = self.call(method, dev_path(address), *args)
        self.assertHeld(call, 0.3)
        return call

    def logged(self, *parts, timeout=3):
        return wait_until(lambda: any(all(p in l for p in parts) for l in self.daemon.lines),
                          timeout)

    def assertNotLogged(self, secret):
        """The digits typed appear nowhere in pairgated's output but the audit's passkey=."""
        for line in self.daemon.lines:
            if line.startswith('audit '):
                line = ' '.join(w for w in line.split() if not w.startswith('passkey='))
            self.assertNotIn(secret, line, 'typed digits logged: %r' % line)


class Typing(KeypadTestCase):

    def test_passkey_typed_allows(self):
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('012345\n')
        self.assertTrue(call.wait(3), 'no answer after Enter\n' + self.stderr_tail())
        self.assertAllowed(call, (12345,))
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy'), rec.get('reason')),
                         ('allow', 'keypad', '6 digits typed on the keypad'), rec.line)
        self.assertEqual(int(rec['passkey']), 12345, rec.line)
        self.assertNotLogged('012345')

    def test_top_row_digits_backspace_and_seventh_digit(self):
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        # a typo corrected, a letter ignored, a 7th digit ignored; the top-row Enter submits
        self.keypad.type('19<2a34567', keypad=False)
        self.assertHeld(call, 0.3)
        self.keypad.type('8\n', keypad=False)
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (123456,))
        self.assertTrue(self.logged('keypad: a digit beyond 6 ignored'), self.stderr_tail())

    def test_short_passkey_is_a_number(self):
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('\n42\n')  # Enter with no digit does nothing
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (42,))

    def test_escape_refuses(self):
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('12x')
        self.assertTrue(call.wait(3))
        self.assertRejected(call)
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy'), rec.get('reason')),
                         ('deny', 'keypad', 'Escape pressed on the keypad'), rec.line)

    def test_keys_before_the_request_do_not_count(self):
        self.start()
        t0 = time.monotonic()
        iterate(0.05)
        call = self.held('RequestPasskey', STRANGER)
        # read after the request arrived, but typed before it: ignored, Enter included
        self.keypad.type('999999\n', t=t0 - 0.5)
        self.assertHeld(call, 0.3)
        self.keypad.type('000777\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (777,))

    def test_digits_go_to_the_oldest(self):
        self.start()
        first = self.held('RequestPasskey', STRANGER)
        iterate(0.05)
        second = self.held('RequestPinCode', OTHER)
        self.keypad.type('111111\n')
        self.assertTrue(first.wait(3))
        self.assertAllowed(first, (111111,))
        self.assertHeld(second, 0.2)
        self.keypad.type('0000123456789\n')
        self.assertTrue(second.wait(3))
        self.assertAllowed(second, ('0000123456789',))
        rec = self.decision(second)
        self.assertEqual((rec['event'], rec.get('policy')), ('allow', 'keypad'), rec.line)
        self.assertNotLogged('0000123456789')

    def test_timeout_forgets_the_digits(self):
        self.start(request_timeout=1)
        call = self.call('RequestPasskey', dev_path(STRANGER))
        iterate(0.2)
        self.keypad.type('123')
        self.assertTrue(call.wait(4))
        self.assertError(call, CANCELED)
        self.assertEqual(self.decision(call)['event'], 'timeout')
        call = self.held('RequestPasskey', OTHER)
        self.keypad.type('45\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (45,))

    def test_other_methods_pass(self):
        self.start()
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(5), timeout=3)
        self.assertRejected(call)
        rec = self.decision(call)
        self.assertEqual(rec['event'], 'deny', rec.line)

    def test_reload_keeps_request_and_digits(self):
        """SIGHUP: the new instance takes the waiting request and the digits typed for it."""
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('12')
        iterate(0.3)
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_audit(5, event='reload-ok')
        iterate(0.3)
        self.assertFalse(call.done)
        self.keypad.type('3\n')
        self.assertTrue(call.wait(3), 'not answered after the reload\n' + self.stderr_tail())
        self.assertAllowed(call, (123,))

    def test_cancel_while_waiting(self):
        self.start()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('12')
        self.call('Cancel')
        self.assertTrue(call.wait(3))
        self.assertError(call, CANCELED)
        self.keypad.type('3\n')  # nothing waits: ignored
        iterate(0.2)


class Device(KeypadTestCase):

    def test_absent_at_start_then_appears(self):
        self.start_daemon(self.config(create=False))
        self.assertTrue(self.logged('warning: keypad: input', 'not available'), self.stderr_tail())
        call = self.held('RequestPasskey', STRANGER)
        os.mkfifo(self.fifo, 0o600)
        self.wait_input_opened()
        self.keypad.type('654321\n')
        self.assertTrue(call.wait(3), self.stderr_tail())
        self.assertAllowed(call, (654321,))

    def test_lost_and_reopened(self):
        self.start()
        self.keypad.close()  # the last writer goes: a hang-up, like an unplugged keypad
        self.daemon.wait_audit(5, event='policy', policy='keypad', input='lost')
        os.unlink(self.fifo)
        iterate(0.5)
        self.assertFalse(self.daemon.audit(event='policy', policy='keypad', input='reopened'))
        os.mkfifo(self.fifo, 0o600)
        self.daemon.wait_audit(5, event='policy', policy='keypad', input='reopened')
        self.keypad.connect()
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('2\n')
        self.assertTrue(call.wait(3), self.stderr_tail())
        self.assertAllowed(call, (2,))

    def test_uinput_keypad_by_name(self):
        if os.geteuid() != 0 or not os.access('/dev/uinput', os.W_OK):
            self.skipTest('needs root and a writable /dev/uinput (modprobe uinput)')
        name = 'pairgate bus-test keypad %d' % os.getpid()
        ui = Uinput(name, list(KP.values()) + [KEY_KPENTER, KEY_BACKSPACE, KEY_ESC])
        try:
            ui.create()
            self.start_daemon(self.config(device=name))
            recs = self.daemon.wait_audit(5, event='policy', policy='keypad', input='opened')
            self.assertTrue(recs, self.stderr_tail())
            call = self.held('RequestPasskey', STRANGER)
            for code in codes('314159\n'):
                ui.tap(code)
            self.assertTrue(call.wait(3), self.stderr_tail())
            self.assertAllowed(call, (314159,))
        finally:
            ui.destroy()


class ThroughControl(KeypadTestCase, test_control.ControlTestCase):
    """The control interface answers a request the keypad holds (pairgatectl passkey over SSH),
    as if the keypad had; the digits typed so far are dropped with the keypad's call."""

    ctl_held = test_control.ControlTestCase.held  # RequestStarted of a call (held() is ours)

    def start_ctl(self):
        d = self.start()
        self.assertTrue(wait_until(lambda: self.client.name_has_owner(test_control.NAME), 5),
                        self.stderr_tail())
        return d

    def test_enter_passkey_for_the_keypad(self):
        self.start_ctl()
        call = self.call('RequestPasskey', dev_path(STRANGER))
        req = self.ctl_held(call)
        self.assertEqual((req['HeldBy'], req['Needs']), ('keypad', 'passkey'))
        self.keypad.type('12')
        iterate(0.1)
        self.ctl('EnterPasskey', dbus.UInt64(req['Id']), dbus.UInt32(37154))
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (37154,))
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy'), rec.get('control_uid')),
                         ('allow', 'keypad', '0'), rec.line)
        # the keypad has nothing left: Enter now answers nothing, and the next request starts
        # from no digit
        self.keypad.type('\n')
        iterate(0.2)
        call = self.held('RequestPasskey', OTHER)
        self.keypad.type('3\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (3,))

    def test_enter_pin_for_the_keypad(self):
        self.start_ctl()
        call = self.call('RequestPinCode', dev_path(STRANGER))
        req = self.ctl_held(call)
        self.assertEqual((req['HeldBy'], req['Needs']), ('keypad', 'pin'))
        self.ctl('EnterPinCode', dbus.UInt64(req['Id']), '4711')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, ('4711',))


class Uinput:
    """A real input device through /dev/uinput (evdev timestamps its events)."""
    UI_SET_EVBIT, UI_SET_KEYBIT = 0x40045564, 0x40045565
    UI_DEV_SETUP, UI_DEV_CREATE, UI_DEV_DESTROY = 0x405c5503, 0x5501, 0x5502

    def __init__(self, name, keys):
        self.name, self.keys, self.fd = name, keys, None

    def create(self):
        self.fd = os.open('/dev/uinput', os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        fcntl.ioctl(self.fd, self.UI_SET_EVBIT, EV_KEY)
        for k in self.keys:
            fcntl.ioctl(self.fd, self.UI_SET_KEYBIT, k)
        fcntl.ioctl(self.fd, self.UI_DEV_SETUP,
                    struct.pack('HHHH80sI', 0x06, 0x1234, 0x5679, 1, self.name.encode(), 0))
        fcntl.ioctl(self.fd, self.UI_DEV_CREATE)
        iterate(0.3)  # the kernel creates /dev/input/eventN

    def tap(self, code):
        for value in (1, 0):
            os.write(self.fd, struct.pack('@llHHi', 0, 0, EV_KEY, code, value))
            os.write(self.fd, struct.pack('@llHHi', 0, 0, EV_SYN, SYN_REPORT, 0))
            time.sleep(0.01)

    def destroy(self):
        if self.fd is not None:
            fcntl.ioctl(self.fd, self.UI_DEV_DESTROY)
            os.close(self.fd)
            self.fd = None


class WithSpeech(KeypadTestCase, test_speech.SpeechTestCase):
    ROUTES = {'RequestPasskey': ['speech', 'keypad'], 'RequestPinCode': ['speech', 'keypad']}

    def start_with_speech(self, echo, routes=None):
        speech = test_speech.group('speech', {'command': self.fake_command(), 'repeat': 1})
        d = self.start_daemon(self.config(routes=routes, extra=speech, echo=echo))
        self.wait_input_opened()
        return d

    def test_prompt_and_digits_spoken(self):
        self.start_with_speech(True)
        call = self.held('RequestPasskey', STRANGER)
        first = self.wait_records('start', 1)
        self.assertIn('Type the six digits shown on', self.text(first[0]))
        # each digit said (a digit typed while the previous one is still said silences it)
        self.keypad.type('2')
        self.wait_records('start', 2)
        self.keypad.type('7')
        recs = self.wait_records('start', 3)
        self.assertEqual([self.text(r) for r in recs[1:3]], ['2', '7'])
        self.keypad.type('<')
        recs = self.wait_records('start', 4)
        self.assertEqual(self.text(recs[3]), 'Deleted.')
        self.keypad.type('1\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (21,))

    def test_pin_digits_go_to_stdin(self):
        self.start_with_speech(True)
        call = self.held('RequestPinCode', STRANGER)
        first = self.wait_records('start', 1)
        self.assertIn('PIN', self.text(first[0]))
        self.keypad.type('5')
        recs = self.wait_records('start', 2)
        # a PIN's digit never goes into argv (readable in /proc): the {text} argument is left
        # out and the text goes to the command's stdin
        self.assertEqual(recs[1]['text'], [], 'a PIN digit in argv: %r' % recs[1])
        self.keypad.type('\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, ('5',))

    def test_no_echo_prompt_only(self):
        self.start_with_speech(False)
        call = self.held('RequestPasskey', STRANGER)
        self.wait_records('start', 1)
        self.keypad.type('123456\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (123456,))
        iterate(0.3)
        self.assertEqual(len(self.records('start')), 1, self.records('start'))

    def test_speech_after_keypad_says_nothing(self):
        """Speech routed after the keypad never gets the request: nothing is said."""
        self.start_with_speech(True, routes={'RequestPasskey': ['keypad', 'speech']})
        call = self.held('RequestPasskey', STRANGER)
        self.keypad.type('9\n')
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (9,))
        iterate(0.3)
        self.assertEqual(self.records('start'), [])


if __name__ == '__main__':
    harness.main()
