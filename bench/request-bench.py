#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark: how fast pairgated answers Agent1 requests, and how much memory it holds.

pairgated (a non-sanitizer build) runs on a private dbus-daemon against the fake BlueZ of the bus
tests, with DEVICES devices in its cache and half of them allowlisted. The fake BlueZ sends
REQUESTS RequestAuthorization calls, keeping CONCURRENCY in flight, and measures each answer's
latency at the caller (so the figures include the bus and the Python client; pairgated's own
share is smaller). Memory: VmRSS/VmHWM of pairgated after start-up, after a warm-up, and after
the run; growth between warm-up and the end is what a leak would show.

Targets (the run fails when one is missed; the figures are printed either way):
  p99 latency <= 25 ms, throughput >= 1000 requests/s (2 cores, shared with the client),
  VmHWM <= 8 MiB, RSS growth over the run <= 1 MiB, and every request answered correctly.

With --watch PATH (pairgatectl), a `pairgatectl watch` client is connected to pairgated's control
interface for the whole run: the targets above must hold with it. Then --held N requests
(RequestConfirmation, routed to the `operator` policy) are held one at a time and approved
through the control interface (Control1.Approve from the benchmark, on the RequestStarted
signal); the watch client must print each as it starts and ends, and exit 0 on SIGINT. Their
latency (Agent1 call to answer, a control round trip included) is printed, without a target.

Usage: bench/request-bench.py --pairgated PATH [--requests N] [--devices N] [--concurrency N]
                              [--watch PAIRGATECTL [--held N]]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'bus'))

import harness  # noqa: E402
from proc_stats import mem_kib  # noqa: E402
from harness import Daemon, PrivateBus, make_config  # noqa: E402
from fake_bluez import FakeBluez, iterate, wait_until  # noqa: E402
import fake_bluez  # noqa: E402
import dbus  # noqa: E402
import dbus.bus  # noqa: E402

REJECTED = 'org.bluez.Error.Rejected'


def address(i):
    return '10:00:00:00:%02X:%02X' % (i // 256, i % 256)


def run_batch(fake, n, concurrency, devices, lat):
    """Send n RequestAuthorization calls, concurrency at a time; check each answer."""
    pending = []
    sent = wrong = 0
    while sent < n or pending:
        while sent < n and len(pending) < concurrency:
            i = sent % devices
            call = fake.call_agent('RequestAuthorization', fake_bluez.path_for_address(address(i)))
            pending.append((call, i % 2 == 0))
            sent += 1
        iterate(0)
        still = []
        for call, allowed in pending:
            if not call.done:
                still.append((call, allowed))
                continue
            lat.append(call.latency)
            if call.ok != allowed or (not allowed and call.error_name != REJECTED):
                wrong += 1
        pending = still
    return wrong


def start_watch(pairgatectl, bus_address, work):
    """`pairgatectl watch` on the bus, its output in a file."""
    out = open(os.path.join(work, 'watch.out'), 'w+b')
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus_address, LC_ALL='C')
    p = subprocess.Popen([pairgatectl, 'watch'], stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, env=env)
    p.out = out
    return p


def watch_lines(p):
    p.out.seek(0)
    return p.out.read().decode('utf-8', 'replace').splitlines()


def run_held(fake, bus_address, n):
    """n RequestConfirmation calls held by `operator`, each approved on its RequestStarted
    signal through Control1.Approve. Returns (latencies, wrong answers)."""
    conn = dbus.bus.BusConnection(bus_address, mainloop=fake_bluez.mainloop())
    ctl = dbus.Interface(conn.get_object('org.pairgate', '/org/pairgate/control'),
                         'org.pairgate.Control1')
    started = []
    conn.add_signal_receiver(lambda req: started.append(int(req['Id'])), 'RequestStarted',
                             'org.pairgate.Control1', 'org.pairgate', '/org/pairgate/control')
    lat, wrong = [], 0
    for k in range(n):
        before = len(started)
        call = fake.call_agent('RequestConfirmation', fake_bluez.path_for_address(address(1)),
                               dbus.UInt32(k))
        if not wait_until(lambda: len(started) > before, 5):
            wrong += 1
            call.wait(30)
            continue
        ctl.Approve(dbus.UInt64(started[-1]), reply_handler=lambda: None,
                    error_handler=lambda e: None)
        if not call.wait(5) or not call.ok:
            wrong += 1
        else:
            lat.append(call.latency)
    conn.close()
    return lat, wrong


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pairgated', required=True)
    ap.add_argument('--requests', type=int, default=5000)
    ap.add_argument('--devices', type=int, default=500)
    ap.add_argument('--concurrency', type=int, default=8)
    ap.add_argument('--watch', metavar='PAIRGATECTL',
                    help='keep `PAIRGATECTL watch` connected during the run')
    ap.add_argument('--held', type=int, default=200,
                    help='with --watch: requests held by `operator` and approved (default 200)')
    a = ap.parse_args()
    a.pairgated = os.path.abspath(a.pairgated)  # the daemon runs in its own work directory

    fake_bluez.mainloop()
    work = tempfile.mkdtemp(prefix='pg-bench-', dir='/tmp')
    bus = PrivateBus(work)
    fake = FakeBluez(bus.address)
    for i in range(a.devices):
        fake.add_device(address(i), 'Device %d' % i, emit=False)
    fake.start()
    allow = [address(i) for i in range(0, a.devices, 2)]
    cfg = os.path.join(work, 'pairgate.conf')
    with open(cfg, 'w') as f:
        f.write(make_config(max_pending=64, allowlist=allow,
                            routes={'RequestAuthorization': ['allowlist'],
                                    'RequestConfirmation': ['operator']}))
    d = Daemon(a.pairgated, work, bus.address, cfg)
    watch = None
    ok = True
    try:
        if not wait_until(lambda: fake.default_agent is not None, 10):
            print('pairgated did not register')
            return 1
        iterate(0.5)  # GetManagedObjects answered, cache filled
        if a.watch:
            watch = start_watch(os.path.abspath(a.watch), bus.address, work)
            iterate(0.5)  # connected, matches added
            if watch.poll() is not None:
                print('pairgatectl watch exited at once: %r' % watch_lines(watch))
                return 1
        m0 = mem_kib(d.proc.pid)
        lat = []
        wrong = run_batch(fake, 500, a.concurrency, a.devices, lat)
        m1 = mem_kib(d.proc.pid)
        lat = []
        t0 = time.monotonic()
        wrong += run_batch(fake, a.requests, a.concurrency, a.devices, lat)
        elapsed = time.monotonic() - t0
        iterate(0.2)
        m2 = mem_kib(d.proc.pid)
        lat.sort()

        def pct(p):
            return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000

        rate = a.requests / elapsed
        growth = m2['VmRSS'] - m1['VmRSS']
        print('requests: %d (%d devices in cache, %d in flight), wrong answers: %d'
              % (a.requests, a.devices, a.concurrency, wrong))
        print('latency at the caller: p50 %.2f ms, p99 %.2f ms, max %.2f ms'
              % (pct(0.50), pct(0.99), lat[-1] * 1000))
        print('throughput: %.0f requests/s' % rate)
        print('pairgated memory: RSS %d KiB after start, %d KiB after warm-up, %d KiB at the end '
              '(growth %d KiB); peak (VmHWM) %d KiB'
              % (m0['VmRSS'], m1['VmRSS'], m2['VmRSS'], growth, m2['VmHWM']))
        checks = [('every answer right', wrong == 0),
                  ('p99 <= 25 ms', pct(0.99) <= 25),
                  ('throughput >= 1000/s', rate >= 1000),
                  ('VmHWM <= 8 MiB', m2['VmHWM'] <= 8 * 1024),
                  ('RSS growth <= 1 MiB', growth <= 1024)]
        if watch:
            hlat, hwrong = run_held(fake, bus.address, a.held)
            wait_until(lambda: sum(ln.split()[2:3] == ['ended'] for ln in watch_lines(watch))
                       >= a.held, 5)
            lines = watch_lines(watch)
            waiting = sum(1 for ln in lines if ln.split()[2:3] == ['waiting'])
            ended = sum(1 for ln in lines if ln.split()[2:3] == ['ended'] and ' allow ' in ln)
            hlat.sort()
            if hlat:
                print('held by operator, approved through the control interface: %d requests, '
                      'wrong %d; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms'
                      % (a.held, hwrong, hlat[len(hlat) // 2] * 1000,
                         hlat[min(len(hlat) - 1, int(len(hlat) * 0.99))] * 1000, hlat[-1] * 1000))
            print('pairgatectl watch: %d "waiting" and %d "ended ... allow" lines for %d held '
                  'requests' % (waiting, ended, a.held))
            watch.send_signal(signal.SIGINT)
            try:
                rc = watch.wait(5)
            except subprocess.TimeoutExpired:
                rc = None
            m3 = mem_kib(d.proc.pid)
            print('pairgated memory after the held requests: RSS %d KiB, peak (VmHWM) %d KiB'
                  % (m3['VmRSS'], m3['VmHWM']))
            checks += [('watch connected during the run', True),
                       ('every held request approved', hwrong == 0 and len(hlat) == a.held),
                       ('watch printed every start and end', waiting == a.held == ended),
                       ('watch exits 0 on SIGINT', rc == 0),
                       ('VmHWM <= 8 MiB after the held requests', m3['VmHWM'] <= 8 * 1024)]
        for name, good in checks:
            print('%s %s' % ('ok  ' if good else 'FAIL', name))
            ok = ok and good
    finally:
        if watch is not None:
            if watch.poll() is None:
                watch.kill()
            watch.wait()
            watch.out.close()
        d.signal(15)
        d.wait_exit(10)
        d.close()
        fake.close()
        bus.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
