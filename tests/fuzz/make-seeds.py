#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the binary fuzz targets (tests/fuzz/corpus/TARGET/seed-*), in the
input formats the targets read (fuzz-input.h: a byte per choice, strings as length + bytes).
Run from anywhere; it rewrites only the seed-* files it makes. The config seeds are plain files."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# The hostile names the bus tests use (tests/bus/test_names.py).
NAMES = [
    '$(touch /tmp/x)', '`touch /tmp/y`; touch /tmp/z', '|| touch /tmp/p & echo >/tmp/r',
    'evil\naudit event=allow request=999 method=RequestConfirmation decision=allow',
    'cr\rlf\n tab\t esc\x1b[31mred\x1b[0m del\x7f \x01\x02',
    'quote " backslash \\ fake \\x41 escape name=fake key="v"',
    'Ünïcödé 名前 😀', '-wfile.wav', 'Pixel 7', 'AA-BB-CC-DD-EE-FF', 'N' * 200,
    'x' + 'é' * 100 + 'y',
]


def s(text):
    b = text.encode('utf-8') if isinstance(text, str) else text
    b = b[:255]
    return bytes([len(b)]) + b


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


# fuzz-address-audit: max, adapter size, string, event, uuid, device, source, passkey..., rest
for i, n in enumerate(NAMES + ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:0f',
                               '/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF', '/dev_11_22_33_44_55_66']):
    write('fuzz-address-audit', '%02d' % i,
          bytes([64, 32]) + s(n) + bytes([0]) + s('0000110b-0000-1000-8000-00805f9b34fb') +
          s('/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF') + bytes([0, 1]) + struct.pack('<II', 123456, 7) +
          b'/org/bluez/hci1/dev_aa_bb_cc_dd_ee_ff')

# fuzz-speech-text: allowed, max, passkey, class, has_class, speak, name, pin, template, argv...
TEMPLATES = ['Pairing request from {device}. Code: {passkey}. Press the button to accept.',
             'Pairing PIN: {pin}.', 'Pairing code: {passkey}.', '{{literal}} {kind}',
             '{text}', 'unbalanced {', '{unknown}']
for i, n in enumerate(NAMES):
    t = TEMPLATES[i % len(TEMPLATES)]
    argv = [b'espeak-ng', b'-v', b'en', b'{text}', b'--opt={text}!']
    write('fuzz-speech-text', '%02d' % i,
          bytes([0x0f, 32]) + struct.pack('<II', 12345, 0x5a020c) + bytes([1, 1]) + s(n) +
          s('0000') + s(t) + bytes([len(argv) - 1]) + b''.join(s(a) for a in argv) +
          bytes([len(argv) - 1]) + b''.join(s(a) for a in argv) + bytes([1, 2, 3, 4]))

# fuzz-device-cache: ops of kind, sender, path, ... (see op() in fuzz-device-cache.c).
def dict_entries(entries):
    # entries: (key index, type index, value bytes)
    return bytes([len(entries)]) + b''.join(bytes([k, t]) + v for k, t, v in entries)

TYPES = 'sobuyqnixtdgav'
def name_entry(n):
    return (2, TYPES.index('s'), s(n))

for i, n in enumerate(NAMES):
    added = (bytes([0, 1, 0]) + bytes([1, 0]) +  # InterfacesAdded, owner, path 0, 1 iface Device1
             dict_entries([(0, 0, s('AA:BB:CC:DD:EE:FF')), name_entry(n),
                           (3, 0, s('AA-BB-CC-DD-EE-FF')), (5, TYPES.index('u'),
                                                            struct.pack('<I', 0x5a020c)),
                           (6, TYPES.index('b'), b'\x01')]))
    changed = (bytes([2, 1, 0, 1]) +  # PropertiesChanged, owner, path 0, Device1
               dict_entries([(3, 0, s(n)), (2, TYPES.index('u'), b'\x01\x00\x00\x00')]) +
               bytes([2, 2, 5]))  # invalidated: Name, Class
    removed = bytes([4, 1, 0, 1, 0])  # InterfacesRemoved, owner, path 0, [Device1]
    reset = bytes([5, 1, 0, 1])  # device_cache_reset
    stranger = bytes([0, 0, 1]) + bytes([1, 0]) + dict_entries([name_entry('stranger')])
    write('fuzz-device-cache', '%02d' % i, added + changed + stranger + removed + added + reset +
          bytes([1, 2, 0]) + dict_entries([name_entry(n)]))

# fuzz-agent: config, then calls (method, how, args) and devices.
for cfg in range(9):
    calls = bytes([cfg])
    # a device with a hostile name (add_device: path 0, name, paired, class)
    calls += bytes([0, 0]) + s(NAMES[cfg]) + b'\x01' + struct.pack('<I', 0x240404)
    for m, args in [(4, bytes([0]) + struct.pack('<I', 123456)),  # RequestConfirmation(o, u)
                    (0, bytes([0])), (2, bytes([1])), (5, bytes([0])),
                    (6, bytes([0]) + s('0000110b-0000-1000-8000-00805f9b34fb')),
                    (1, bytes([0]) + s('0000')), (3, bytes([0]) + struct.pack('<IH', 1, 2)),
                    (7, b''), (8, b'')]:
        calls += bytes([1, m, 0x02]) + args  # owner
        calls += bytes([1, m, 0x01]) + args  # stranger
    write('fuzz-agent', '%02d' % cfg, calls)

# fuzz-button-input: key choice, debounce, chunk; then struct input_event records.
def ev(sec, usec, typ, code, value):
    return struct.pack('<qqHHi', sec, usec, typ, code, value)

EV_SYN, EV_KEY, KEY_CONNECT, SYN_REPORT, SYN_DROPPED = 0, 1, 0xda, 0, 3
presses = b''.join(ev(1, 1000 * i, EV_KEY, KEY_CONNECT, (i + 1) % 2) + ev(1, 1000 * i, EV_SYN,
                                                                          SYN_REPORT, 0)
                   for i in range(6))
write('fuzz-button-input', 'presses', bytes([1, 1, 23]) + presses)
write('fuzz-button-input', 'debounced', bytes([1, 0, 20, 7]) + presses)
write('fuzz-button-input', 'dropped', bytes([1, 1, 47]) + presses[:96] +
      ev(2, 0, EV_SYN, SYN_DROPPED, 0) + presses[96:] + ev(3, 0, EV_KEY, KEY_CONNECT, 2))

# fuzz-keypad: max, chunk; then records: digits, a Backspace, Enter, Escape, a keypad digit.
KEY_1, KEY_0, KEY_BACKSPACE, KEY_ENTER, KEY_ESC, KEY_KP5, KEY_A = 2, 11, 14, 28, 1, 76, 30
def key(code, t=0):
    return ev(1, t, EV_KEY, code, 1) + ev(1, t, EV_SYN, SYN_REPORT, 0) + ev(1, t + 1, EV_KEY, code, 0)
typed = b''.join(key(c, i * 10) for i, c in enumerate(
    [KEY_1, KEY_1 + 1, KEY_1 + 2, KEY_BACKSPACE, KEY_KP5, KEY_0, KEY_A, KEY_ENTER, KEY_1, KEY_ESC]))
write('fuzz-keypad', 'typed', bytes([6, 24]) + typed)
write('fuzz-keypad', 'pin-full', bytes([4, 7]) + b''.join(key(KEY_1 + i % 9) for i in range(8)) +
      key(KEY_ENTER))
write('fuzz-keypad', 'dropped', bytes([16, 72]) + key(KEY_1) + ev(2, 0, EV_SYN, SYN_DROPPED, 0) +
      key(KEY_1 + 1) + ev(2, 0, EV_SYN, SYN_REPORT, 0) + key(KEY_1 + 2) + key(KEY_ENTER))

# fuzz-ctl: a string, raw bytes, options, a request dictionary, times.
CTL_STRINGS = ['42', '18446744073709551615', '18446744073709551616', '000123', '999999', '0',
               'AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:0f', 'AA-BB-CC-DD-EE-FF', '1234',
               'pin with space', 'now', '@1795766400', '1h 30min', '-1h', '2026-11-27 10:00',
               'yesterday', '86400', '86401'] + NAMES
for i, t in enumerate(CTL_STRINGS):
    raw = NAMES[i % len(NAMES)].encode()[:200]
    opts = bytes([4, 2, 1]) + s('--json') + s('--since=1h') + s('--') + s('-1')
    req = bytes([5]) + bytes([4, 0]) + s(NAMES[(i + 1) % len(NAMES)]) + bytes([0, 1]) + \
        struct.pack('<I', 7) + b'\x00' + bytes([5, 2]) + b'\x00' + struct.pack('<I', 123456) + \
        bytes([6, 0]) + s('0000110b-0000-1000-8000-00805f9b34fb') + bytes([1, 0]) + s('Request\x1b[2J') + \
        bytes([10, 1]) + b'\x00' + struct.pack('<I', 1795766) + b'\x14'
    write('fuzz-ctl', '%02d' % i, s(t) + bytes([len(raw)]) + raw + opts + req +
          struct.pack('<I', 1795766) + b'\x14\x01' + struct.pack('<I', 1795766) + b'\x14')

# fuzz-control: config; then Agent1 calls (0, method, args) and Control1 calls (1, method, ...).
for cfg in range(3):
    ops = bytes([cfg])
    ops += bytes([0, 2, 1]) + struct.pack('<I', 123456)        # RequestConfirmation held: id 1
    ops += bytes([1, 1, 1, 1, 1, 1])                            # Approve(1)
    ops += bytes([0, 1, 0])                                     # RequestPasskey: id 2
    ops += bytes([1, 3, 1, 1, 2, 0]) + struct.pack('<I', 654321) + b'\x01'  # EnterPasskey(2, ...)
    ops += bytes([0, 0, 1])                                     # RequestPinCode: id 3
    ops += bytes([1, 4, 1, 1, 3, 1]) + s('12 34\x01') + b'\x01'          # EnterPinCode, bad PIN
    ops += bytes([1, 2, 1, 1, 3, 1])                            # Deny(3)
    ops += bytes([1, 0, 1, 1]) + bytes([1, 5, 1, 1]) + bytes([1, 8, 1, 1])  # List*, GetStatus
    ops += bytes([1, 9, 1, 0, 0, 1]) + bytes([1, 10, 1, 1, 2]) + s('not an address') + b'\x01'
    ops += bytes([1, 6, 1, 1, 1]) + struct.pack('<I', 90000) + b'\x01'     # OpenWindow
    ops += bytes([1, 1, 0, 2, 5, 0])                            # Approve with a wrong signature
    write('fuzz-control', '%02d' % cfg, ops)
