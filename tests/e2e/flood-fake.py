#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A flood of Agent1 calls on the system bus, for the systemd VM of the e2e tests (issue #14).

Run as root while bluetoothd is stopped: the fake BlueZ of the bus tests (tests/fake-bluez) takes
org.bluez on the system bus, waits until pairgated registers with it, sends REQUESTS
RequestConfirmation calls from DEVICES addresses in turn (CONCURRENCY in flight), checks that
every call is answered exactly once, and prints one JSON object: sent, answered, rejected, other
errors, seconds, the realtime of the first call (µs) and the flood's own limit (it stops sending
after --max-seconds, so that a slow VM still finishes).

Usage: flood-fake.py [--requests N] [--devices N] [--concurrency N] [--max-seconds S] [--bus ADDR]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'fake-bluez'))

import dbus  # noqa: E402
import fake_bluez  # noqa: E402
from fake_bluez import FakeBluez, iterate, wait_until  # noqa: E402

SYSTEM_BUS = 'unix:path=/run/dbus/system_bus_socket'


def address(i):
    return '10:00:00:00:%02X:%02X' % (i // 256, i % 256)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--requests', type=int, default=10000)
    ap.add_argument('--devices', type=int, default=1000)
    ap.add_argument('--concurrency', type=int, default=32)
    ap.add_argument('--max-seconds', type=float, default=120)
    ap.add_argument('--bus', default=SYSTEM_BUS, help='bus address (default: the system bus)')
    a = ap.parse_args()
    fake_bluez.mainloop()
    fake = FakeBluez(a.bus)
    fake.start()
    out = {'registered': bool(wait_until(lambda: fake.default_agent is not None, 30))}
    if not out['registered']:
        print(json.dumps(out))
        return 1
    iterate(1.0)  # GetManagedObjects answered
    calls, pending = [], []
    out['first_realtime_usec'] = int(time.time() * 1e6)
    t0 = time.monotonic()
    while (len(calls) < a.requests and time.monotonic() - t0 < a.max_seconds) or pending:
        while (len(calls) < a.requests and len(pending) < a.concurrency
               and time.monotonic() - t0 < a.max_seconds):
            c = fake.call_agent('RequestConfirmation',
                                fake_bluez.path_for_address(address(len(calls) % a.devices)),
                                dbus.UInt32(123456))
            calls.append(c)
            pending.append(c)
        iterate(0)
        pending = [c for c in pending if not c.done]
        if time.monotonic() - t0 > a.max_seconds + 60:
            break
    out.update(seconds=round(time.monotonic() - t0, 2), sent=len(calls),
               answered=sum(1 for c in calls if c.done),
               rejected=sum(1 for c in calls if c.error_name == 'org.bluez.Error.Rejected'),
               other=sorted({c.error_name for c in calls if c.done and c.error_name
                             and c.error_name != 'org.bluez.Error.Rejected'}),
               allowed=sum(1 for c in calls if c.done and c.error_name is None),
               devices=min(a.devices, len(calls)))
    print(json.dumps(out))
    fake.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
