#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""limits = { ... } in the real pairgated on the fake BlueZ (issue #14):

- a device refused lockout_after times (timeouts) is locked out: its next request is refused in
  milliseconds, no policy runs, nothing is spoken (the fake TTS records every start); another
  device is unaffected; allowlisted (even re-pairing) and trusted devices are never locked out;
- the lockout ends after lockout_time (a record of its own) and requests go through again;
- lockouts survive a restart (the state file in $STATE_DIRECTORY); a corrupt state file is
  ignored with a warning;
- the prompt budget with a fresh random address per request: at most prompts_per_minute reach
  speech, the rest are refused at once and summarised; a trusted device still gets through;
- a flood from a locked-out device writes one summary record, not one per request;
- limits.block: lockouts in a row set Blocked in BlueZ, audited;
- out-of-range keys are file:line errors.

Every test also gets the harness's invariants: each call answered exactly once, and each call
either has its decision record or is counted in a summary record.
"""

import os
import random
import re
import time

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus
from gi.repository import GLib

from harness import (ALLOWED, CANCELED, OTHER, STRANGER, BusTestCase, dev_path, iterate,
                     make_config, wait_until)
from test_speech import FAKE_TTS, group

ROUTE = ['allowlist', 'speech', 'test']
TRUSTED = '33:44:55:66:77:88'


def random_address():
    # a static or private random address: the two top bits say which; any will do here
    return ':'.join('%02X' % random.randrange(256) for _ in range(6))


class LimitsTestCase(BusTestCase):

    initial_devices = BusTestCase.initial_devices + ((TRUSTED, 'Trusted speaker'),)

    def setUp(self):
        super().setUp()
        self.tts_log = os.path.join(self.workdir, 'tts.log')
        self.state = os.path.join(self.workdir, 'lockouts')
        self.fake.set_device(dev_path(TRUSTED), Trusted=True)

    def config(self, limits, routes=None, request_timeout=1, speech=True):
        extra = group('limits', limits)
        if speech:
            extra += group('speech', {'command': [FAKE_TTS, '--log', self.tts_log, '--',
                                                  '{text}']})
        return make_config(routes=routes or {'RequestConfirmation': ROUTE},
                           request_timeout=request_timeout, test={'verdict': 'hold'},
                           extra=extra)

    def start(self, limits, register=True, **kw):
        return self.start_daemon(self.config(limits, **kw), register=register,
                                 env={'STATE_DIRECTORY': self.workdir})

    def spoken(self):
        try:
            with open(self.tts_log) as f:
                return sum(1 for ln in f if "'start'" in ln)
        except FileNotFoundError:
            return 0

    def confirm(self, address, **kw):
        return self.call('RequestConfirmation', dev_path(address), dbus.UInt32(123456), **kw)

    def refuse_times(self, address, n, timeout=5):
        """n requests of address, at once; wait until all are answered (refused)."""
        calls = [self.confirm(address) for _ in range(n)]
        for c in calls:
            self.assertTrue(c.wait(timeout), '%r not answered\n%s' % (c, self.stderr_tail()))
            self.assertIsNotNone(c.error_name, c)
        return calls

    def assertRefusedAtOnce(self, call, within=0.25):
        self.assertTrue(call.wait(2), 'no answer\n' + self.stderr_tail())
        self.assertRejected(call)
        self.assertLess(call.latency, within, 'refused in %.3f s' % call.latency)


class Lockout(LimitsTestCase):

    LIMITS = {'lockout_after': 3, 'lockout_window': 600, 'lockout_time': 900,
              'prompts_per_minute': 0}

    def test_lockout_after_timeouts(self):
        d = self.start(self.LIMITS)
        t0 = time.time()
        for c in self.refuse_times(STRANGER, 3):
            self.assertError(c, CANCELED)  # timeouts
        rec = d.wait_audit(3, event='lockout-started', address=STRANGER)[0]
        self.assertEqual(rec['count'], '3', rec.line)
        until = int(rec['until']) / 1e6
        self.assertAlmostEqual(until, t0 + 900, delta=5)
        self.assertNotIn('request', rec)
        iterate(0.3)
        spoken = self.spoken()
        self.assertGreaterEqual(spoken, 1)
        n_records = len(d.audit_records)

        call = self.confirm(STRANGER)
        self.assertRefusedAtOnce(call)
        iterate(1.0)  # a speech command started now would have said so by now
        self.assertEqual(self.spoken(), spoken, 'a locked-out device made the speaker talk')
        self.assertEqual(d.audit_records[n_records:], [], 'the refusal has no record of its own')

        # another device is not affected: its request goes through the route (speech, then the
        # test policy holds it until request_timeout)
        other = self.confirm(OTHER)
        self.assertHeld(other, 0.3)
        self.assertTrue(other.wait(3))
        self.assertError(other, CANCELED)
        self.assertEqual(self.decision(other)['event'], 'timeout')

        # the summary at exit: one record for the device, with the count
        self.stop_daemon()
        summary = d.audit(event='lockout-refusals')
        self.assertEqual(len(summary), 1, [r.line for r in summary])
        self.assertEqual((summary[0]['address'], summary[0]['count']), (STRANGER, '1'))
        self.assertEqual(summary[0]['until'], rec['until'])
        self.assertIn('first', summary[0])
        self.assertTrue(os.path.exists(self.state))

    def test_allowlisted_and_trusted_are_never_locked_out(self):
        # ALLOWED is paired: re-pairing it passes the allowlist to a person (and times out)
        self.fake.set_device(dev_path(ALLOWED), Paired=True)
        d = self.start(self.LIMITS)
        self.refuse_times(ALLOWED, 3)
        self.refuse_times(TRUSTED, 3)
        iterate(0.3)
        self.assertEqual(d.audit(event='lockout-started'), [])
        for address in (ALLOWED, TRUSTED):
            c = self.confirm(address)
            self.assertHeld(c, 0.3)
            self.assertTrue(c.wait(3))
            self.assertError(c, CANCELED)

    def test_lockout_ends_after_its_time(self):
        d = self.start({'lockout_after': 2, 'lockout_time': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.refuse_times(STRANGER, 2)
        d.wait_audit(3, event='lockout-started', address=STRANGER)
        self.assertRefusedAtOnce(self.confirm(STRANGER))
        ended = d.wait_audit(5, event='lockout-ended', address=STRANGER)[0]
        self.assertEqual(ended['reason'], 'lockout_time elapsed', ended.line)
        c = self.confirm(STRANGER)
        self.assertTrue(c.wait(2))
        rec = self.decision(c)
        self.assertEqual((rec['event'], rec['reason']), ('deny', 'no policy decided'), rec.line)

    def test_state_kept_across_restart(self):
        d = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.refuse_times(STRANGER, 2)
        rec = d.wait_audit(3, event='lockout-started', address=STRANGER)[0]
        self.stop_daemon()
        with open(self.state) as f:
            text = f.read()
        self.assertRegex(text, r'(?m)^%s %s 1 \d+$' % (STRANGER, rec['until']))
        self.assertEqual(os.stat(self.state).st_mode & 0o777, 0o600)

        n = len(self.fake.calls)
        d2 = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                        routes={'RequestConfirmation': ['allowlist']}, speech=False,
                        register=False)
        self.wait_registered(self.fake, after=n)
        self.assertRefusedAtOnce(self.confirm(STRANGER))
        other = self.confirm(OTHER)
        self.assertTrue(other.wait(2))
        self.assertEqual(self.decision(other)['event'], 'deny')
        self.stop_daemon(d2)
        self.assertEqual([(r['address'], r['count']) for r in d2.audit(event='lockout-refusals')],
                         [(STRANGER, '1')])

    def test_corrupt_state_file_is_ignored_with_a_warning(self):
        with open(self.state, 'w') as f:
            f.write('pairgate-lockouts 1\n' + STRANGER + ' 99999999999999999999 1 x\n\x01garbage')
        d = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.assertTrue(wait_until(lambda: any(ln.startswith('warning:') and 'corrupt' in ln
                                               for ln in d.lines), 3), self.stderr_tail())
        # nothing of it was taken: the stranger is refused by the route, not locked out
        c = self.confirm(STRANGER)
        self.assertTrue(c.wait(2))
        self.assertEqual(self.decision(c)['event'], 'deny')
        self.confirm(STRANGER).wait(2)
        rec = d.wait_audit(3, event='lockout-started', address=STRANGER)[0]

        # written anew (within a second: writes are coalesced), with this lockout only
        def written():
            with open(self.state) as f:
                return re.search(r'(?m)^pairgate-lockouts 1\n%s %s 1 \d+\n\Z' % (STRANGER, rec['until']),
                                 f.read())
        self.assertTrue(wait_until(written, 3), open(self.state).read())

    def test_missing_state_directory_is_a_warning_not_a_crash(self):
        self.state = os.path.join(self.workdir, 'absent', 'lockouts')
        d = self.start_daemon(self.config({'lockout_after': 1, 'prompts_per_minute': 0},
                                          routes={'RequestConfirmation': ['allowlist']},
                                          speech=False),
                              env={'STATE_DIRECTORY': os.path.dirname(self.state)})
        self.refuse_times(STRANGER, 1)
        d.wait_audit(3, event='lockout-started', address=STRANGER)
        self.assertTrue(wait_until(lambda: any(ln.startswith('warning:') and
                                               'Cannot write the lockout state' in ln
                                               for ln in d.lines), 3), self.stderr_tail())
        self.assertRefusedAtOnce(self.confirm(STRANGER))

    def test_flood_from_a_locked_out_device_writes_one_summary(self):
        d = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.refuse_times(STRANGER, 2)
        d.wait_audit(3, event='lockout-started', address=STRANGER)
        before = len(d.audit_records)
        calls = []
        for _ in range(6):  # in batches: dbus-daemon limits the replies a caller awaits
            batch = [self.confirm(STRANGER) for _ in range(50)]
            self.assertTrue(wait_until(lambda: all(c.done for c in batch), 10))
            calls += batch
        self.assertTrue(all(c.error_name == harness.REJECTED for c in calls))
        iterate(0.2)
        self.assertEqual(len(d.audit_records), before)
        self.stop_daemon()
        summary = d.audit(event='lockout-refusals')
        self.assertEqual([(r['address'], r['count']) for r in summary], [(STRANGER, '300')])
        self.assertLessEqual(len(d.audit_records) - before, 3)  # summary, stopping

    def test_block_after_lockouts_in_a_row(self):
        d = self.start({'lockout_after': 2, 'lockout_time': 1, 'prompts_per_minute': 0,
                        'block': True},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.refuse_times(STRANGER, 2)
        d.wait_audit(3, event='lockout-started', address=STRANGER)
        d.wait_audit(4, event='lockout-ended', address=STRANGER)
        self.assertEqual(d.audit(event='blocked'), [])
        self.refuse_times(STRANGER, 2)
        rec = d.wait_audit(3, event='blocked', address=STRANGER)[0]
        self.assertEqual(rec['count'], '2', rec.line)
        self.assertIn('bluetoothctl unblock %s' % STRANGER, rec.line)
        self.assertTrue(wait_until(lambda: self.fake.devices[dev_path(STRANGER)]
                                   .props['org.bluez.Device1']['Blocked'], 3))
        sets = [c for c in self.fake.calls_of('Set') if c['name'] == 'Blocked']
        self.assertEqual(len(sets), 1, sets)


class Control(LimitsTestCase):
    """The lockouts through the control interface (docs/control-interface.md): ListDevices shows
    LockedUntilRealtime (also for a device known only by its lockout), LiftLockout ends one
    (audited), ForgetDevice forgets it."""

    def ctl(self, method, *args, signature=None, error=False):
        out = []
        self.client.call_async('org.pairgate', '/org/pairgate/control', 'org.pairgate.Control1',
                               method, signature, args,
                               lambda *r: out.append(('ok', r[0] if len(r) == 1 else r)),
                               lambda e: out.append(('error', e.get_dbus_name())), timeout=10)
        self.assertTrue(wait_until(lambda: out, 10), '%s: no reply\n%s' % (method, self.stderr_tail()))
        self.assertEqual(out[0][0], 'error' if error else 'ok', '%s%r: %r' % (method, args, out))
        return out[0][1]

    def devices(self):
        return {str(d['Address']): d for d in self.ctl('ListDevices')}

    def lock_out(self, address):
        self.refuse_times(address, 2)
        return self.daemon.wait_audit(3, event='lockout-started', address=address)[0]

    def test_list_and_lift(self):
        self.client = self.foreign_connection()
        d = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.assertTrue(wait_until(lambda: self.client.name_has_owner('org.pairgate'), 5))
        rec = self.lock_out(STRANGER)
        devs = self.devices()
        self.assertEqual(int(devs[STRANGER]['LockedUntilRealtime']), int(rec['until']))
        self.assertEqual(int(devs[OTHER]['LockedUntilRealtime']), 0)
        self.ctl('LiftLockout', STRANGER.lower())
        ended = d.wait_audit(3, event='lockout-ended', address=STRANGER)[0]
        self.assertRegex(ended['reason'], r'^lifted by uid \d+ \(control interface\)$')
        self.assertEqual(int(self.devices()[STRANGER]['LockedUntilRealtime']), 0)
        self.assertEqual(self.ctl('LiftLockout', STRANGER, error=True),
                         'org.pairgate.Error.NotFound')
        # lifted means forgiven: its requests reach the route again
        c = self.confirm(STRANGER)
        self.assertTrue(c.wait(2))
        self.assertEqual(self.decision(c)['event'], 'deny')

    def test_known_only_by_its_lockout_and_forgotten(self):
        # a lockout kept in the state file of a device BlueZ does not know
        unknown = '66:55:44:33:22:11'
        until = int((time.time() + 600) * 1e6)
        with open(self.state, 'w') as f:
            f.write('pairgate-lockouts 1\n%s %d 1 %d\n' % (unknown, until, until))
        self.client = self.foreign_connection()
        d = self.start({'lockout_after': 2, 'prompts_per_minute': 0},
                       routes={'RequestConfirmation': ['allowlist']}, speech=False)
        self.assertTrue(wait_until(lambda: self.client.name_has_owner('org.pairgate'), 5))
        devs = self.devices()
        self.assertIn(unknown, devs)
        self.assertEqual(int(devs[unknown]['LockedUntilRealtime']), until)
        self.assertNotIn('Device', devs[unknown])
        self.ctl('ForgetDevice', unknown)
        ended = d.wait_audit(3, event='lockout-ended', address=unknown)[0]
        self.assertRegex(ended['reason'], r'^device forgotten by uid \d+')
        self.assertNotIn(unknown, self.devices())


class Budget(LimitsTestCase):

    def test_prompt_budget_with_rotating_addresses(self):
        d = self.start({'prompts_per_minute': 3, 'lockout_after': 3}, request_timeout=2)
        addresses = [random_address() for _ in range(10)]
        for a in addresses:
            self.fake.add_device(a, None, address_type='random')
        iterate(0.3)
        calls = [self.confirm(a) for a in addresses]
        self.assertTrue(wait_until(lambda: sum(c.done for c in calls) >= 7, 2),
                        self.stderr_tail())
        refused = [c for c in calls if c.done]
        self.assertEqual(len(refused), 7)
        for c in refused:
            self.assertRejected(c)
            self.assertLess(c.latency, 0.5)
        # a trusted device does not use the budget: it still reaches a person
        trusted = self.confirm(TRUSTED)
        self.assertHeld(trusted, 0.3)
        self.assertTrue(wait_until(lambda: all(c.done for c in calls) and trusted.done, 5))
        self.assertLessEqual(self.spoken(), 4)
        self.stop_daemon()
        recs = d.audit(event='budget-refusals')
        self.assertEqual(len(recs), 1, [r.line for r in recs])
        self.assertEqual(recs[0]['count'], '7')
        listed = dict(item.split('*') for item in recs[0]['addresses'].split())
        self.assertEqual(sorted(listed), sorted(c.device.rsplit('dev_', 1)[1].replace('_', ':')
                                                for c in refused))
        self.assertEqual(set(listed.values()), {'1'})
        # the budget's refusals do not count towards a lockout
        self.assertEqual(d.audit(event='lockout-started'), [])

    def test_config_errors_name_file_and_line(self):
        for limits, msg in (({'lockout_after': 0}, 'limits.lockout_after = 0 is out of range'),
                            ({'prompts_per_minute': 601}, 'is out of range (0..600)'),
                            ({'lockout_window': 'x'}, 'must be an integer'),
                            ({'lockout_time': 0, 'block': True}, 'needs lockouts'),
                            ({'lockouts': 1}, "unknown key 'lockouts'")):
            text = self.config(limits)
            rc, d = self.run_daemon_to_exit(['--check-config'], text)
            self.assertNotEqual(rc, 0, text)
            self.assertTrue(re.search(r'pairgate-\d+\.conf:\d+: .*' + re.escape(msg),
                                      d.stderr_text), d.stderr_text)


if __name__ == '__main__':
    harness.main()
