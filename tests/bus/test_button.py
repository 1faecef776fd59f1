#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The button policy with the real pairgated and the fake BlueZ. The button is a FIFO given as
`device`, written with struct input_event records whose timestamps are CLOCK_MONOTONIC
(time.monotonic() here): presses are scripted with exact times, before or after a request."""

import fcntl
import glob
import os
import signal
import struct
import time
import unittest

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import (ALLOWED, CANCELED, OTHER, STRANGER, BusTestCase, dev_path, iterate,
                     make_config, wait_until)

EV_SYN, EV_KEY = 0, 1
SYN_REPORT = 0
KEY_CONNECT = 218  # linux/input-event-codes.h
KEY_A = 30

ROUTES = {'RequestConfirmation': ['allowlist', 'button'],
          'RequestAuthorization': ['allowlist', 'button'],
          'AuthorizeService': ['allowlist', 'button'],
          'RequestPasskey': ['button']}
ADAPTER = '/org/bluez/hci0'
ADAPTER_IFACE = 'org.bluez.Adapter1'


class Button:
    """The writing end of the FIFO pairgated reads as its input device."""

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

    def press(self, down, up, key=KEY_CONNECT):
        """A press that went down at `down` and up at `up` (time.monotonic() seconds)."""
        self.event(EV_KEY, key, 1, down)
        self.event(EV_SYN, SYN_REPORT, 0, down)
        self.event(EV_KEY, key, 0, up)
        self.event(EV_SYN, SYN_REPORT, 0, up)

    def short_press_now(self):
        t = time.monotonic()
        self.press(t - 0.12, t - 0.02)


class ButtonTestCase(BusTestCase):

    def setUp(self):
        super().setUp()
        self.fifo = os.path.join(self.workdir, 'button-event')
        self.button = Button(self.fifo)

    def tearDown(self):
        self.button.close()
        super().tearDown()

    def config(self, request_timeout=25, create=True, **button):
        if create and not os.path.exists(self.fifo):
            os.mkfifo(self.fifo, 0o600)
        keys = dict(device=self.fifo, key='KEY_CONNECT')
        keys.update(button)
        section = harness.conf_section('button', keys)
        return make_config(routes=ROUTES, request_timeout=request_timeout, extra=section)

    def start(self, **kw):
        d = self.start_daemon(self.config(**kw))
        self.wait_input_opened()
        return d

    def wait_input_opened(self, count=1, timeout=5):
        recs = self.daemon.wait_audit(timeout, count=count, event='policy', policy='button')
        opened = [r for r in self.daemon.audit(event='policy', policy='button')
                  if r.get('input') in ('opened', 'reopened')]
        self.assertGreaterEqual(len(opened), count, 'button input not opened: %r\n%s'
                                % (recs, self.stderr_tail()))
        self.button.connect()

    def held(self, method, address, *args):
        call = self.call(method, dev_path(address), *args)
        self.assertHeld(call, 0.3)
        return call

    def adapter_sets(self, after=0):
        return [(c['name'], c['value']) for c in self.fake.calls_of('Set')[after:]
                if c['path'] == ADAPTER and c['iface'] == ADAPTER_IFACE]

    def adapter(self, name):
        return self.fake.adapter.props[ADAPTER_IFACE][name]


class Presses(ButtonTestCase):

    def test_short_press_allows(self):
        self.start()
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(123456))
        self.button.short_press_now()
        self.assertTrue(call.wait(3), 'no answer after a short press\n' + self.stderr_tail())
        self.assertAllowed(call)
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy'), rec.get('reason')),
                         ('allow', 'button', 'short press (0.1 s)'), rec.line)

    def test_long_press_denies(self):
        self.start(long_press_ms=500)
        call = self.held('AuthorizeService', STRANGER, '0000110b-0000-1000-8000-00805f9b34fb')
        t = time.monotonic()
        self.button.press(t - 0.25, t)  # started after the request, held 0.25 s: short...
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)
        call = self.held('RequestAuthorization', OTHER)
        iterate(0.5)
        t = time.monotonic()
        self.button.press(t - 0.7, t)  # ...0.7 s: long
        self.assertTrue(call.wait(3), 'no answer after a long press\n' + self.stderr_tail())
        self.assertRejected(call)
        rec = self.decision(call)
        self.assertEqual((rec['event'], rec.get('policy')), ('deny', 'button'), rec.line)
        self.assertTrue(rec.get('reason', '').startswith('long press'), rec.line)

    def test_held_down_denies_without_release(self):
        self.start(long_press_ms=400)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(1))
        self.button.event(EV_KEY, KEY_CONNECT, 1, time.monotonic())
        self.assertHeld(call, 0.2)
        self.assertTrue(call.wait(2))
        self.assertRejected(call)
        self.button.event(EV_KEY, KEY_CONNECT, 0, time.monotonic())
        iterate(0.2)

    def test_no_press_times_out(self):
        self.start(request_timeout=1)
        call = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(42))
        self.assertTrue(call.wait(4))
        self.assertError(call, CANCELED)
        self.assertGreater(call.latency, 0.8)
        self.assertEqual(self.decision(call)['event'], 'timeout')
        # the button still works for the next one
        call = self.held('RequestConfirmation', OTHER, dbus.UInt32(43))
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)

    def test_press_before_request_does_not_approve(self):
        self.start()
        t0 = time.monotonic()
        iterate(0.05)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(7))
        # read after the request arrived, but pressed before it: ignored
        self.button.press(t0 - 0.2, t0 - 0.1)
        self.daemon.wait_audit(3, event='policy', press='ignored')
        # held across the arrival: ignored as well
        self.button.press(t0 - 0.05, time.monotonic())
        self.daemon.wait_audit(3, count=2, event='policy', press='ignored')
        self.assertHeld(call, 0.3)
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)

    def test_press_while_idle_approves_nothing_later(self):
        """Without a window, a press with nothing pending is spent: the next request waits."""
        self.start()
        self.button.short_press_now()
        iterate(0.3)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(8))
        self.assertHeld(call, 0.3)
        self.call('Cancel')
        self.assertTrue(call.wait(3))
        self.assertError(call, CANCELED)

    def test_other_key_ignored(self):
        self.start()
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(9))
        t = time.monotonic()
        self.button.press(t - 0.1, t, key=KEY_A)
        self.assertHeld(call, 0.4)
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)

    def test_cancel_while_waiting(self):
        self.start()
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(11))
        self.call('Cancel')
        self.assertTrue(call.wait(3))
        self.assertError(call, CANCELED)
        self.assertEqual(self.decision(call)['event'], 'canceled')
        # the press that comes too late decides nothing, and breaks nothing
        self.button.short_press_now()
        iterate(0.3)
        nxt = self.held('RequestAuthorization', OTHER)
        self.button.short_press_now()
        self.assertTrue(nxt.wait(3))
        self.assertAllowed(nxt)

    def test_one_press_decides_the_oldest_of_two(self):
        self.start()
        a = self.held('RequestConfirmation', STRANGER, dbus.UInt32(111111))
        b = self.held('RequestAuthorization', OTHER)
        self.button.short_press_now()
        self.assertTrue(a.wait(3))
        self.assertAllowed(a)
        self.assertHeld(b, 0.4)
        rec = self.decision(a)
        self.assertEqual(rec.get('reason'), 'short press (0.1 s); oldest of 2 pending requests',
                         rec.line)
        self.button.short_press_now()
        self.assertTrue(b.wait(3))
        self.assertAllowed(b)
        self.assertEqual(self.decision(b).get('reason'), 'short press (0.1 s)')

    def test_passkey_passes(self):
        self.start(window=30)
        call = self.call_wait('RequestPasskey', dev_path(STRANGER))
        self.assertRejected(call)
        self.assertEqual(self.decision(call).get('reason'), 'no policy decided')

    def test_allowlisted_device_needs_no_press(self):
        self.start()
        call = self.call_wait('RequestConfirmation', dev_path(ALLOWED), dbus.UInt32(5))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('policy'), 'allowlist')

    def test_reload_while_waiting(self):
        """SIGHUP: the new instance takes the input and the waiting request over."""
        self.start()
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(12))
        self.button.close()
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_audit(5, event='reload-ok')
        # the old instance let go of the FIFO, the new one opened it
        wait_until(lambda: len([r for r in self.daemon.audit(event='policy', policy='button')
                                if r.get('input') in ('opened', 'reopened')]) >= 2, 5)
        self.button.connect()
        self.assertHeld(call, 0.2)
        self.button.short_press_now()
        self.assertTrue(call.wait(3), 'not decided after the reload\n' + self.stderr_tail())
        self.assertAllowed(call)


class Window(ButtonTestCase):

    def test_window_opens_and_closes(self):
        self.start(window=2)
        self.assertFalse(self.adapter('Discoverable'))
        n = len(self.fake.calls_of('Set'))
        t = time.monotonic()
        self.button.short_press_now()
        rec = self.daemon.wait_audit(3, event='policy', window='opened')[0]
        self.assertEqual(rec.get('adapter'), ADAPTER, rec.line)
        self.assertTrue(wait_until(lambda: self.adapter('Discoverable'), 3),
                        'adapter not made discoverable: %r' % self.adapter_sets(n))
        self.assertEqual(self.adapter_sets(n),
                         [('DiscoverableTimeout', 2), ('PairableTimeout', 2),
                          ('Pairable', True), ('Discoverable', True)])
        # requests routed to the button are allowed without a press while it is open
        call = self.call_wait('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(99))
        self.assertAllowed(call)
        self.assertEqual(self.decision(call).get('reason'), 'pairing window open')
        # it closes by itself after 2 s, and the adapter gets its settings back
        closed = self.daemon.wait_audit(4, event='policy', window='closed')
        self.assertTrue(closed, self.stderr_tail())
        self.assertGreater(time.monotonic() - t, 1.8)
        self.assertEqual(closed[0].get('reason'), '2 s elapsed', closed[0].line)
        self.assertTrue(wait_until(lambda: not self.adapter('Discoverable'), 3))
        wait_until(lambda: len(self.adapter_sets(n)) >= 8, 3)
        self.assertEqual(self.adapter_sets(n)[4:],
                         [('Discoverable', False), ('PairableTimeout', 0), ('Pairable', True),
                          ('DiscoverableTimeout', 180)])
        self.assertEqual(self.adapter('DiscoverableTimeout'), 180)
        self.assertEqual(self.adapter('PairableTimeout'), 0)
        # closed: the next request waits for a press again
        call = self.held('RequestConfirmation', OTHER, dbus.UInt32(98))
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertEqual(self.decision(call).get('reason'), 'short press (0.1 s)')

    def test_window_closes_after_first_pairing(self):
        self.start(window=30)
        self.button.short_press_now()
        self.daemon.wait_audit(3, event='policy', window='opened')
        self.assertTrue(wait_until(lambda: self.adapter('Discoverable'), 3))
        call = self.call_wait('RequestAuthorization', dev_path(STRANGER))
        self.assertAllowed(call)
        # a known device connecting (already paired, never seen unpaired) does not count
        self.fake.set_device(dev_path(ALLOWED), Connected=True)
        iterate(0.3)
        self.assertFalse(self.daemon.audit(event='policy', window='closed'))
        # the stranger's pairing completes
        self.fake.set_device(dev_path(STRANGER), Paired=True, Bonded=True)
        closed = self.daemon.wait_audit(3, event='policy', window='closed')
        self.assertTrue(closed, self.stderr_tail())
        self.assertEqual(closed[0].get('reason'), '1 successful pairing', closed[0].line)
        self.assertTrue(wait_until(lambda: not self.adapter('Discoverable'), 3))
        # and the window is really closed
        nxt = self.held('RequestConfirmation', OTHER, dbus.UInt32(3))
        self.call('Cancel')
        self.assertTrue(nxt.wait(3))

    def test_long_press_closes_window(self):
        self.start(window=30, long_press_ms=500)
        self.button.short_press_now()
        self.daemon.wait_audit(3, event='policy', window='opened')
        self.assertTrue(wait_until(lambda: self.adapter('Discoverable'), 3))
        t = time.monotonic()
        self.button.press(t - 0.8, t)
        closed = self.daemon.wait_audit(3, event='policy', window='closed')
        self.assertEqual(closed[0].get('reason'), 'closed early by a long press')
        self.assertTrue(wait_until(lambda: not self.adapter('Discoverable'), 3))

    def test_adapter_refuses(self):
        """BlueZ refuses (e.g. powered off): the window closes at once, audited with why."""
        self.start(window=30)
        self.fake.fail_always['Set'] = 'org.bluez.Error.Failed'
        self.button.short_press_now()
        closed = self.daemon.wait_audit(3, event='policy', window='closed')
        self.assertTrue(closed, self.stderr_tail())
        self.assertIn('the adapter refused', closed[0].get('reason', ''), closed[0].line)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(4))
        self.call('Cancel')
        self.assertTrue(call.wait(3))

    def test_window_closed_on_stop(self):
        self.start(window=30)
        self.button.short_press_now()
        self.assertTrue(wait_until(lambda: self.adapter('Discoverable'), 3))
        self.assertEqual(self.stop_daemon(), 0)
        self.assertTrue(wait_until(lambda: not self.adapter('Discoverable'), 3),
                        'adapter left discoverable after SIGTERM')


class Hotplug(ButtonTestCase):

    def test_device_absent_at_start_then_appears(self):
        sub = os.path.join(self.workdir, 'by-path')
        self.fifo = os.path.join(sub, 'platform-button-event')
        self.button = Button(self.fifo)
        self.start_daemon(self.config(create=False))
        self.assertTrue(wait_until(lambda: any(
            l.startswith('warning: button: input') and 'not available' in l
            for l in self.daemon.lines), 3), self.stderr_tail())
        self.assertFalse([r for r in self.daemon.audit_records if r.get('input')])
        os.mkdir(sub)
        os.mkfifo(self.fifo, 0o600)
        self.wait_input_opened(timeout=2)  # inotify: well before the 5 s retry
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(5))
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)

    def test_device_lost_and_back(self):
        self.start()
        self.button.close()  # last writer gone: the FIFO reports a hang-up
        self.daemon.wait_audit(3, event='policy', input='lost')
        os.unlink(self.fifo)
        iterate(0.5)
        self.assertFalse(self.daemon.audit(event='policy', input='reopened'))
        os.mkfifo(self.fifo, 0o600)
        self.daemon.wait_audit(3, event='policy', input='reopened')
        self.button.connect()
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(6))
        self.button.short_press_now()
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)


# ---- a real evdev device through uinput (root and /dev/uinput: the e2e VM, not the CI host) ----

UI_SET_EVBIT = 0x40045564   # _IOW('U', 100, int)
UI_SET_KEYBIT = 0x40045565  # _IOW('U', 101, int)
UI_DEV_SETUP = 0x405c5503   # _IOW('U', 3, struct uinput_setup)
UI_DEV_CREATE = 0x5501      # _IO('U', 1)
UI_DEV_DESTROY = 0x5502     # _IO('U', 2)
UINPUT_NAME = 'pairgate test button'


class UinputKey:
    """A virtual key device: the kernel timestamps its events, pairgated reads /dev/input/eventN."""

    def __init__(self, name=UINPUT_NAME, key=KEY_CONNECT):
        self.name, self.key, self.fd = name, key, None

    def create(self):
        before = set(glob.glob('/dev/input/event*'))
        self.fd = os.open('/dev/uinput', os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        fcntl.ioctl(self.fd, UI_SET_EVBIT, EV_KEY)
        fcntl.ioctl(self.fd, UI_SET_KEYBIT, self.key)
        fcntl.ioctl(self.fd, UI_DEV_SETUP,
                    struct.pack('HHHH80sI', 0x06, 0x1234, 0x5678, 1, self.name.encode(), 0))
        fcntl.ioctl(self.fd, UI_DEV_CREATE)
        new = wait_until(lambda: set(glob.glob('/dev/input/event*')) - before, 3)
        if not new:
            raise AssertionError('uinput device node did not appear')
        self.node = sorted(new)[0]
        return self.node

    def destroy(self):
        if self.fd is not None:
            fcntl.ioctl(self.fd, UI_DEV_DESTROY)
            os.close(self.fd)
            self.fd = None

    def emit(self, value):
        for t, c, v in ((EV_KEY, self.key, value), (EV_SYN, SYN_REPORT, 0)):
            os.write(self.fd, struct.pack('@llHHi', 0, 0, t, c, v))

    def press(self, hold):
        self.emit(1)
        iterate(hold)
        self.emit(0)


@unittest.skipUnless(os.access('/dev/uinput', os.W_OK), 'needs a writable /dev/uinput')
class RealInput(ButtonTestCase):

    def setUp(self):
        super().setUp()
        self.key = UinputKey()

    def tearDown(self):
        self.key.destroy()
        super().tearDown()

    def start_real(self, device, **kw):
        self.start_daemon(self.config(create=False, device=device, **kw))
        self.daemon.wait_audit(5, event='policy', input='opened')

    def test_by_path(self):
        node = self.key.create()
        self.start_real(node, long_press_ms=500)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(1))
        self.key.press(0.1)
        self.assertTrue(call.wait(3), self.stderr_tail())
        self.assertAllowed(call)
        self.assertTrue(self.decision(call).get('reason', '').startswith('short press'))
        call = self.held('RequestAuthorization', OTHER)
        self.key.press(0.8)  # denied by the long-press timer while still held
        self.assertTrue(call.wait(3), self.stderr_tail())
        self.assertRejected(call)

    def test_by_name_and_replug(self):
        self.key.create()
        self.start_real(UINPUT_NAME)
        # unplugged: lost at once (no spinning), back when a new node appears in /dev/input
        self.key.destroy()
        self.daemon.wait_audit(3, event='policy', input='lost')
        iterate(0.5)
        n_lines = len(self.daemon.lines)
        iterate(1.0)
        self.assertLess(len(self.daemon.lines) - n_lines, 3, 'busy after the device went away')
        self.key.create()
        self.daemon.wait_audit(3, event='policy', input='reopened')
        call = self.held('AuthorizeService', STRANGER, '0000110b-0000-1000-8000-00805f9b34fb')
        self.key.press(0.1)
        self.assertTrue(call.wait(3), self.stderr_tail())
        self.assertAllowed(call)

    def test_held_before_request_does_not_approve(self):
        node = self.key.create()
        self.start_real(node)
        self.key.emit(1)  # held down before the request comes
        iterate(0.2)
        call = self.held('RequestConfirmation', STRANGER, dbus.UInt32(2))
        self.key.emit(0)
        self.daemon.wait_audit(3, event='policy', press='ignored')
        self.assertHeld(call, 0.3)
        self.key.press(0.1)
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)


class Config(ButtonTestCase):

    def bad(self):
        base = make_config(routes=ROUTES)
        first = base.count('\n') + 1
        yield ('bad key name', base + 'button = {\n  device = "/dev/input/event0";\n'
               '  key = "KEY_BOGUS";\n};\n', first + 2)
        yield ('unknown key', base + 'button = {\n  device = "x";\n  key = "KEY_A";\n'
               '  colour = "red";\n};\n', first + 3)
        yield ('gpio without line', base + 'button = {\n  source = "gpio";\n'
               '  chip = "gpiochip0";\n};\n', first)
        yield ('bad chip', base + 'button = {\n  source = "gpio";\n  chip = "a b";\n'
               '  line = 3;\n};\n', first + 2)

    def test_check_config(self):
        for what, text, line in self.bad():
            with self.subTest(what):
                rc, d = self.run_daemon_to_exit(['--check-config'], text)
                self.assertEqual(rc, 3, '%s: exit %r\n%s' % (what, rc, '\n'.join(d.lines)))
                path = os.path.basename(d.argv[d.argv.index('-c') + 1])
                self.assertIn('%s:%d:' % (path, line), d.stderr_text,
                              '%s: %s:%d not named' % (what, path, line))
        # a device that is merely absent is fine for --check-config
        rc, d = self.run_daemon_to_exit(['--check-config'], self.config(create=False))
        self.assertEqual(rc, 0, '\n'.join(d.lines))

    def test_refuses_to_start_on_bad_key(self):
        text = make_config(routes=ROUTES) + 'button = { device = "x"; key = "KEY_BOGUS"; };\n'
        rc, d = self.run_daemon_to_exit([], text)
        self.assertEqual(rc, 3, '\n'.join(d.lines))
        self.assertIn('KEY_BOGUS', d.stderr_text)


if __name__ == '__main__':
    harness.main()
