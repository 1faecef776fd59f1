#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark: a flood of pairing requests against pairgated's limits (issue #14).

pairgated (a non-sanitizer build) runs on a private dbus-daemon against the fake BlueZ of the bus
tests with the shipped limits (lockout_after 3 within 600 s, lockout_time 900 s,
prompts_per_minute 6) and RequestConfirmation routed to ["speech", "button"] (a fake speech
command that records every start; a button nobody presses), so that every request that gets
through reaches a person. Each run has a fresh pairgated and state directory:

  spread   REQUESTS RequestConfirmation calls from DEVICES addresses (known to BlueZ), in turn
  rotating REQUESTS calls, each from a fresh random address (unknown to the device cache, as a
           device that rotates its private address is)
  single   REQUESTS calls from one address (it is locked out after its third timeout)

with CONCURRENCY calls in flight. Reported per run: requests that reached a person (speech
starts, and decision records of requests held by speech/button), answers (every call answered
exactly once: the fake BlueZ raises on a second reply), audit records written (by kind),
pairgated's peak RSS (VmHWM) and CPU time (utime + stime).

Targets (the run fails when one is missed; the figures are printed either way): requests
reaching a person <= prompts_per_minute per started minute of the run; every call answered, once;
audit records <= 2 per device per minute + 50; VmHWM <= 8 MiB.

Usage: bench/flood-bench.py --pairgated PATH [--requests N] [--devices N] [--concurrency N]
                            [--runs spread,rotating,single] [--request-timeout S]
"""
import argparse
import math
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'bus'))

import harness  # noqa: E402
from proc_stats import mem_kib, cpu_seconds  # noqa: E402
from harness import Daemon, PrivateBus, make_config  # noqa: E402
from fake_bluez import FakeBluez, iterate, wait_until  # noqa: E402
import fake_bluez  # noqa: E402
from test_button import Button  # noqa: E402
from test_speech import FAKE_TTS, group  # noqa: E402

PROMPTS_PER_MINUTE = 6
PERSON_POLICIES = ('speech', 'button')


def address(i):
    return '10:00:00:00:%02X:%02X' % (i // 256, i % 256)


def random_address():
    # a resolvable private address: the two top bits are 01
    b = [random.randrange(256) for _ in range(6)]
    b[0] = (b[0] & 0x3f) | 0x40
    return ':'.join('%02X' % x for x in b)


def run(args, kind):
    work = tempfile.mkdtemp(prefix='pg-flood-', dir='/tmp')
    bus = PrivateBus(work)
    fake = FakeBluez(bus.address)
    devices = {'spread': args.devices, 'rotating': 0, 'single': 1}[kind]
    for i in range(devices):
        fake.add_device(address(i), 'Device %d' % i, emit=False)
    fake.start()
    fifo = os.path.join(work, 'button')
    os.mkfifo(fifo, 0o600)
    button = Button(fifo)
    tts_log = os.path.join(work, 'tts.log')
    extra = group('limits', {'lockout_after': 3, 'lockout_window': 600, 'lockout_time': 900,
                             'prompts_per_minute': PROMPTS_PER_MINUTE})
    extra += group('speech', {'command': [FAKE_TTS, '--log', tts_log, '--', '{text}']})
    extra += group('button', {'device': fifo, 'key': 'KEY_CONNECT'})
    cfg = os.path.join(work, 'pairgate.conf')
    with open(cfg, 'w') as f:
        f.write(make_config(max_pending=8, allowlist=(), request_timeout=args.request_timeout,
                            routes={'RequestConfirmation': list(PERSON_POLICIES)}, extra=extra))
    d = Daemon(args.pairgated, work, bus.address, cfg, env={'STATE_DIRECTORY': work})
    result = {'run': kind}
    try:
        if not wait_until(lambda: fake.default_agent is not None, 10):
            raise RuntimeError('pairgated did not register:\n' + '\n'.join(d.lines[-20:]))
        d.wait_audit(5, event='policy', policy='button')
        button.connect()
        iterate(0.5)
        records0 = len(d.audit_records)
        cpu0 = cpu_seconds(d.proc.pid)
        calls, pending = [], []
        sent = 0
        t0 = time.monotonic()
        while sent < args.requests or pending:
            while sent < args.requests and len(pending) < args.concurrency:
                if kind == 'spread':
                    a = address(sent % devices)
                elif kind == 'single':
                    a = address(0)
                else:
                    a = random_address()
                c = fake.call_agent('RequestConfirmation', fake_bluez.path_for_address(a),
                                    harness.dbus.UInt32(123456))
                calls.append(c)
                pending.append(c)
                sent += 1
            iterate(0)
            pending = [c for c in pending if not c.done]
        elapsed = time.monotonic() - t0
        iterate(0.3)
        mem = mem_kib(d.proc.pid)
        cpu = cpu_seconds(d.proc.pid) - cpu0
        d.signal(15)
        d.wait_exit(15)
        recs = d.audit_records[records0:]
        by_event = {}
        for r in recs:
            by_event[r['event']] = by_event.get(r['event'], 0) + 1
        spoken = 0
        if os.path.exists(tts_log):
            with open(tts_log) as f:
                spoken = sum(1 for ln in f if "'start'" in ln)
        decisions = [r for r in recs if r['event'] in harness.DECISION_EVENTS]
        summarised = sum(int(r['count']) for r in recs
                         if r['event'] in ('lockout-refusals', 'budget-refusals'))
        reached = sum(1 for r in decisions if r.get('event') == 'timeout' or
                      r.get('policy') in PERSON_POLICIES)
        answered = sum(1 for c in calls if c.done)
        distinct = devices if kind != 'rotating' else args.requests
        minutes = max(1, math.ceil(elapsed / 60))
        result.update(requests=args.requests, devices=distinct, seconds=elapsed,
                      reached=reached, spoken=spoken, answered=answered,
                      rejected=sum(1 for c in calls if c.error_name == harness.REJECTED),
                      decisions=len(decisions), summarised=summarised, records=len(recs),
                      by_event=by_event, hwm=mem['VmHWM'], rss=mem['VmRSS'], cpu=cpu,
                      minutes=minutes)
    finally:
        button.close()
        d.close()
        fake.close()
        bus.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(r):
    print('== %(run)s: %(requests)d requests from %(devices)d address(es) in %(seconds).1f s'
          % r)
    print('   reached a person: %(reached)d (speech started %(spoken)d times; budget %(budget)d'
          ' per minute)' % dict(r, budget=PROMPTS_PER_MINUTE))
    print('   answered: %(answered)d of %(requests)d (%(rejected)d refused at once); decision'
          ' records %(decisions)d + summarised %(summarised)d = %(total)d'
          % dict(r, total=r['decisions'] + r['summarised']))
    print('   audit records: %d (%s)' % (r['records'], ', '.join(
        '%s %d' % kv for kv in sorted(r['by_event'].items()))))
    print('   pairgated: peak RSS (VmHWM) %(hwm)d KiB, RSS at the end %(rss)d KiB, CPU %(cpu).2f s'
          % r)
    checks = [
        ('reached a person <= budget', r['reached'] <= PROMPTS_PER_MINUTE * r['minutes']
         and r['spoken'] <= PROMPTS_PER_MINUTE * r['minutes']),
        ('every call answered', r['answered'] == r['requests']),
        ('every call audited once (record or summary)',
         r['decisions'] + r['summarised'] == r['requests']),
        ('audit records <= 2 per device per minute + 50',
         r['records'] <= 2 * r['devices'] * r['minutes'] + 50),
        ('VmHWM <= 8 MiB', r['hwm'] <= 8 * 1024),
    ]
    ok = True
    for name, good in checks:
        print('   %s %s' % ('ok  ' if good else 'FAIL', name))
        ok = ok and good
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pairgated', required=True)
    ap.add_argument('--requests', type=int, default=10000)
    ap.add_argument('--devices', type=int, default=1000)
    ap.add_argument('--concurrency', type=int, default=32)
    ap.add_argument('--request-timeout', type=int, default=3)
    ap.add_argument('--runs', default='spread,rotating,single')
    a = ap.parse_args()
    a.pairgated = os.path.abspath(a.pairgated)
    fake_bluez.mainloop()
    ok = True
    for kind in a.runs.split(','):
        ok = report(run(a, kind)) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
