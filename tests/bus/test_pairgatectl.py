#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pairgatectl against the real pairgated (its control interface, docs/control-interface.md):
every subcommand, refusals for a non-admin uid, unknown ids, a request that ended meanwhile,
malformed passkeys and PINs refused before any call, --json parsed, hostile device names printed
escaped, `watch` following the signals until SIGINT/SIGTERM, and `log` reading audit records
from a journal file.

Usage: /usr/bin/python3 tests/bus/test_pairgatectl.py --pairgated PATH --pairgatectl PATH
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import harness  # first: it SKIPs (exit 77) without python3-dbus, python3-gi, dbus-daemon
import dbus

from harness import ALLOWED, OTHER, STRANGER, BusTestCase, dev_path, iterate, wait_until

PAIRGATECTL = os.environ.get('PAIRGATECTL')
NOBODY = 65534
JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote'

HOSTILE = '33:44:55:66:77:88'
# Valid UTF-8 (D-Bus strings must be) with everything a terminal must not get raw: ESC and a
# CSI sequence, BEL, newline, carriage return, backspace, DEL, the C1 CSI (U+009B), a
# right-to-left override, a zero-width space; plus a quote, a backslash and an accent.
HOSTILE_NAME = ('Evil\x1b[2J\x07\nfake line\r\x08\x7f\u009b31m\u202eenoh\u200b"q"\\ é')

OPERATOR_ROUTES = {'RequestConfirmation': ['allowlist', 'operator'],
                   'RequestAuthorization': ['allowlist', 'operator'],
                   'AuthorizeService': ['allowlist', 'operator'],
                   'RequestPasskey': ['operator'],
                   'RequestPinCode': ['operator']}
WINDOW = harness.conf_section('window', {'duration': 60, 'pairings': 2,
                                         'adapter': '/org/bluez/hci0',
                                         'pairable_when_closed': True})
PERMISSION = 'pairgatectl: permission denied: run as root or as a member of pairgate-admin'
UTF8 = {'LC_ALL': 'C.UTF-8'}


def forbidden_terminal_bytes(data):
    """Raw bytes/characters that must never reach a terminal: C0 controls but newline, DEL, C1
    controls, bidi overrides/isolates, zero-width characters."""
    bad = [b for b in data if (b < 0x20 and b != 0x0a) or b == 0x7f]
    text = data.decode('utf-8', 'replace')
    bad += [c for c in text
            if 0x80 <= ord(c) <= 0x9f or 0x200b <= ord(c) <= 0x200f or
            0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
    return bad


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        self.text = out.decode('utf-8', 'replace')
        self.errtext = err.decode('utf-8', 'replace')

    def __repr__(self):
        return '<pairgatectl rc=%r stdout=%r stderr=%r>' % (self.rc, self.out, self.err)


class CtlBase(BusTestCase):
    """Running pairgatectl from a test; the world of the tests."""
    initial_devices = BusTestCase.initial_devices + ((HOSTILE, HOSTILE_NAME),)

    # -- running pairgatectl
    def ctl_binary(self, user):
        if user is None:
            return PAIRGATECTL
        # Another uid may not reach the build tree: a copy in this test's directory (opened).
        os.chmod(self.workdir, 0o755)
        path = os.path.join(self.workdir, 'ctl-bin', 'pairgatectl')
        if not os.path.exists(path):
            os.mkdir(os.path.dirname(path), 0o755)
            os.chmod(os.path.dirname(path), 0o755)
            shutil.copy(PAIRGATECTL, path)
            os.chmod(path, 0o755)
        return path

    def ctl_env(self, env=None):
        e = dict(os.environ)
        e['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus.address
        e.setdefault('LC_ALL', 'C')
        e.update(env or {})
        return e

    def ctl_argv(self, args, user):
        argv = [self.ctl_binary(user)] + list(args)
        if user is not None:
            argv = ['setpriv', '--reuid=%d' % user, '--regid=%d' % user, '--clear-groups'] + argv
        return argv

    def ctl(self, *args, user=None, env=None, timeout=15):
        """Runs pairgatectl to its end while the main loop (the fake BlueZ) keeps running."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(self.ctl_argv(args, user), stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=err, env=self.ctl_env(env))
            end = time.monotonic() + timeout
            while p.poll() is None and time.monotonic() < end:
                iterate(0.01)
            if p.poll() is None:
                p.kill()
                p.wait()
                self.fail('pairgatectl %r did not finish within %ss' % (args, timeout))
            out.seek(0)
            err.seek(0)
            res = Result(p.returncode, out.read(), err.read())
        for m in harness.SANITIZER_MARKERS:
            self.assertNotIn(m, res.errtext, res)
        return res

    def assertOk(self, res):
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(res.err, b'', res)

    def assertFails(self, res, line, rc=1):
        """Exit status rc and exactly this one line on stderr, nothing on stdout."""
        self.assertEqual(res.rc, rc, res)
        self.assertEqual(res.errtext, line + '\n', res)
        self.assertEqual(res.out, b'', res)

    def ctl_json(self, *args, **kw):
        res = self.ctl(*args, **kw)
        self.assertOk(res)
        return json.loads(res.text)

    # -- the world
    def start(self, routes=OPERATOR_ROUTES, extra=WINDOW, **kw):
        return self.start_daemon(routes=routes, extra=extra, **kw)

    def hold(self, method='RequestConfirmation', address=STRANGER, *args):
        if method == 'RequestConfirmation' and not args:
            args = (dbus.UInt32(123456),)
        call = self.call(method, dev_path(address), *args)
        self.assertHeld(call, 0.3)
        pending = [r for r in self.ctl_json('pending', '--json')
                   if r['address'] == address and r['method'] == method]
        self.assertEqual(len(pending), 1, pending)
        return call, pending[0]['id']

    def control_calls(self, member):
        return [c for c in self.monitor.calls
                if c[2] == 'org.pairgate.Control1' and c[3] == member]

    def need_root(self):
        if os.geteuid() != 0 or not shutil.which('setpriv'):
            self.skipTest('needs root and setpriv: runs pairgatectl as uid %d' % NOBODY)



class Ctl(CtlBase):
    def test_help_version_usage(self):
        res = self.ctl('--version')
        self.assertOk(res)
        self.assertRegex(res.text, r'^pairgatectl \d+\.\d+\.\d+\n$')
        res = self.ctl('--help')
        self.assertOk(res)
        for word in ('status', 'pending', 'approve', 'deny', 'passkey', 'pin', 'window',
                     'devices', 'forget', 'watch', 'log', 'doctor'):
            self.assertIn(word, res.text)
        self.assertFails(self.ctl(), 'pairgatectl: missing command (see pairgatectl --help)', 2)
        self.assertFails(self.ctl('frobnicate'),
                         "pairgatectl: unknown command 'frobnicate' (see pairgatectl --help)", 2)
        self.assertFails(self.ctl('pending', '--yaml'),
                         "pairgatectl: pending: unknown option '--yaml' (see pairgatectl --help)",
                         2)

    def test_not_running(self):
        self.assertFails(self.ctl('status'), 'pairgatectl: pairgated is not running (nothing '
                         'owns org.pairgate on the system bus)')
        res = self.ctl('status', env={'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/bus'})
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertIn('cannot connect to the system bus', res.errtext)

    def test_status(self):
        self.start()
        st = self.ctl_json('status', '--json')
        self.assertIs(st['registered'], True, st)
        self.assertEqual(st['capability'], 'DisplayYesNo', st)
        self.assertIn('/org/bluez/hci0', st['adapters'], st)
        self.assertIs(st['window_configured'], True, st)
        self.assertIs(st['window_open'], False, st)
        self.assertEqual(st['pending'], 0, st)
        self.assertEqual(st['config_path'], self.config_path, st)
        res = self.ctl('status')
        self.assertOk(res)
        self.assertIn('registered, default agent (capability DisplayYesNo)', res.text)
        self.assertIn('window:        closed', res.text)
        # one allowed, one denied: the counts follow
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
        call, rid = self.hold()
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))
        st = self.ctl_json('status', '--json')
        self.assertEqual((st['allowed'], st['denied'], st['pending']), (1, 1, 0), st)

    def test_pending_approve_deny(self):
        self.start()
        res = self.ctl('pending')
        self.assertOk(res)
        self.assertEqual(res.text, 'No pending requests.\n')
        self.assertEqual(self.ctl_json('pending', '--json'), [])
        a, aid = self.hold('RequestConfirmation', STRANGER, dbus.UInt32(4321))
        b, bid = self.hold('RequestAuthorization', OTHER)
        reqs = self.ctl_json('pending', '--json')
        self.assertEqual([r['id'] for r in reqs], [aid, bid], reqs)
        ra = reqs[0]
        self.assertEqual((ra['method'], ra['address'], ra['name'], ra['passkey']),
                         ('RequestConfirmation', STRANGER, 'Stranger', '004321'), ra)
        self.assertEqual(ra['held_by'], 'operator', ra)
        self.assertEqual(ra['needs'], '', ra)
        self.assertNotIn('passkey', reqs[1])
        res = self.ctl('pending')
        self.assertOk(res)
        lines = res.text.splitlines()
        self.assertEqual(len(lines), 2, res)
        self.assertTrue(lines[0].startswith('%d RequestConfirmation %s "Stranger" passkey 004321'
                                            % (aid, STRANGER)), lines[0])
        self.assertIn('held by operator', lines[0])

        res = self.ctl('approve', str(aid))
        self.assertOk(res)
        self.assertEqual(res.text, 'request %d approved\n' % aid)
        self.assertTrue(a.wait(3))
        self.assertAllowed(a)
        rec = self.decision(a)
        self.assertEqual((rec['event'], rec.get('request'), rec.get('control_uid')),
                         ('allow', str(aid), str(os.getuid())), rec.line)
        res = self.ctl('deny', str(bid))
        self.assertOk(res)
        self.assertEqual(res.text, 'request %d denied\n' % bid)
        self.assertTrue(b.wait(3))
        self.assertRejected(b)
        self.assertEqual(self.decision(b)['event'], 'deny')
        # both ended: a second decision finds nothing
        for verb, rid in (('approve', aid), ('deny', bid)):
            self.assertFails(self.ctl(verb, str(rid)), 'pairgatectl: no pending request %d (it '
                             'ended or never existed)' % rid)

    def test_unknown_ids_and_bad_ids(self):
        self.start()
        for args in (('approve', '999'), ('deny', '999'), ('passkey', '999', '123456'),
                     ('pin', '999', '0000')):
            self.assertFails(self.ctl(*args), 'pairgatectl: no pending request 999 (it ended or'
                             ' never existed)')
        for bad in ('0', '-1', 'abc', '1.5', '', '18446744073709551616', ' 7'):
            res = self.ctl('approve', bad)
            self.assertEqual(res.rc, 2, res)
            self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertEqual(len(self.control_calls('Approve')), 1)  # (999's only)

    def test_request_ended_meanwhile(self):
        self.start(request_timeout=1)
        call, rid = self.hold()
        self.assertTrue(call.wait(4))
        self.assertEqual(self.decision(call)['event'], 'timeout')
        self.assertFails(self.ctl('approve', str(rid)), 'pairgatectl: no pending request %d (it '
                         'ended or never existed)' % rid)

    def test_passkey(self):
        self.start()
        call, rid = self.hold('RequestPasskey')
        req = self.ctl_json('pending', '--json')[0]
        self.assertEqual(req['needs'], 'passkey', req)
        # refused by the client, before any call: nothing reaches pairgated
        for bad in ('12345', '1234567', 'abcdef', '1000000', '12 456', '-12345', '+12345',
                    '12345a', '', '١٢٣٤٥٦'):
            res = self.ctl('passkey', str(rid), bad)
            self.assertEqual(res.rc, 2, (bad, res))
            self.assertEqual(res.errtext.count('\n'), 1, res)
            self.assertIn('type exactly six digits', res.errtext)
        iterate(0.2)
        self.assertEqual(self.control_calls('EnterPasskey'), [])
        self.assertFalse(call.done, call)
        # approve cannot answer a RequestPasskey
        res = self.ctl('approve', str(rid))
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertTrue(res.errtext.startswith('pairgatectl: not applicable'), res)
        self.assertFalse(call.done, call)
        # leading zeros are digits like any other
        res = self.ctl('passkey', str(rid), '012345')
        self.assertOk(res)
        self.assertEqual(res.text, 'request %d: passkey 012345 entered\n' % rid)
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, (dbus.UInt32(12345),))

    def test_passkey_on_a_confirmation(self):
        self.start()
        call, rid = self.hold()
        res = self.ctl('passkey', str(rid), '123456')
        self.assertEqual(res.rc, 1, res)
        self.assertTrue(res.errtext.startswith('pairgatectl: not applicable'), res)
        self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertFalse(call.done)
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))

    def test_pin(self):
        self.start()
        call, rid = self.hold('RequestPinCode')
        for bad in ('', '12345678901234567', '12 34', 'pé'):
            res = self.ctl('pin', str(rid), bad)
            self.assertEqual(res.rc, 2, (bad, res))
            self.assertEqual(res.errtext.count('\n'), 1, res)
            self.assertNotIn(bad or 'x', res.errtext)  # (a PIN is not echoed)
        self.assertEqual(self.control_calls('EnterPinCode'), [])
        res = self.ctl('pin', str(rid), '0042')
        self.assertOk(res)
        self.assertTrue(call.wait(3))
        self.assertAllowed(call, ('0042',))

    def test_non_admin_refused(self):
        """The bus lets the call through here (no policy file): pairgated refuses it."""
        self.need_root()
        self.start()
        call, rid = self.hold()
        for args in (('status',), ('pending',), ('pending', '--json'), ('approve', str(rid)),
                     ('deny', str(rid)), ('window', 'open'), ('window', 'close'),
                     ('devices',), ('forget', STRANGER)):
            self.assertFails(self.ctl(*args, user=NOBODY), PERMISSION)
        # client-side checks come first, and need no rights
        self.assertEqual(self.ctl('passkey', str(rid), '12345', user=NOBODY).rc, 2)
        iterate(0.2)
        self.assertFalse(call.done, 'a refused caller decided the request')
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))
        self.assertRejected(call)
        self.assertNotEqual(self.decision(call).get('control_uid'), str(NOBODY))

    def test_window(self):
        self.start()
        res = self.ctl('window', 'open', '30')
        self.assertOk(res)
        self.assertTrue(res.text.startswith('pairing window: open, closes at '), res)
        st = self.ctl_json('status', '--json')
        self.assertIs(st['window_open'], True, st)
        left = st['window_closes_usec'] / 1e6 - time.time()
        self.assertTrue(25 < left <= 31, st)
        res = self.ctl('window', 'close')
        self.assertOk(res)
        self.assertEqual(res.text, 'pairing window: closed\n')
        self.assertIs(self.ctl_json('status', '--json')['window_open'], False)
        # its configured duration
        self.assertOk(self.ctl('window', 'open'))
        st = self.ctl_json('status', '--json')
        self.assertTrue(55 < st['window_closes_usec'] / 1e6 - time.time() <= 61, st)
        for bad in (('window',), ('window', 'opne'), ('window', 'open', '0'),
                    ('window', 'open', '86401'), ('window', 'open', '1m'),
                    ('window', 'close', '5')):
            res = self.ctl(*bad)
            self.assertEqual(res.rc, 2, (bad, res))
            self.assertEqual(res.errtext.count('\n'), 1, res)

    def test_window_not_configured(self):
        self.start(extra='')
        res = self.ctl('window', 'open')
        self.assertEqual(res.rc, 1, res)
        self.assertTrue(res.errtext.startswith('pairgatectl: not applicable'), res)
        self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertIs(self.ctl_json('status', '--json')['window_configured'], False)

    def test_lockout_shown_and_lifted(self):
        # limits (issue #14): a stranger refused twice is locked out; devices says until when,
        # lift ends it
        self.start(routes={'RequestConfirmation': ['allowlist']}, extra=WINDOW +
                   'limits = { lockout_after = 2; prompts_per_minute = 0; };\n',
                   env={'STATE_DIRECTORY': self.workdir})
        for _ in range(2):
            c = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
            self.assertTrue(c.wait(3))
        rec = self.daemon.wait_audit(3, event='lockout-started', address=STRANGER)[0]
        devs = {d['address']: d for d in self.ctl_json('devices', '--json')}
        self.assertEqual(devs[STRANGER]['locked_until_usec'], int(rec['until']), devs)
        self.assertRegex(self.ctl('devices').text, r'%s "Stranger".*; locked out until ' % STRANGER)
        res = self.ctl('lift', STRANGER.lower())
        self.assertOk(res)
        self.assertEqual(res.text, '%s is no longer locked out\n' % STRANGER)
        self.daemon.wait_audit(3, event='lockout-ended', address=STRANGER)
        self.assertFails(self.ctl('lift', STRANGER),
                         'pairgatectl: not found: %s is not locked out' % STRANGER)

    def test_devices_and_forget(self):
        self.start()
        call, rid = self.hold()
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))
        devs = {d['address']: d for d in self.ctl_json('devices', '--json')}
        self.assertIs(devs[ALLOWED]['allowlisted'], True, devs)
        self.assertEqual(devs[ALLOWED]['name'], 'Owner phone')
        self.assertEqual(devs[STRANGER]['last_decision'], 'deny', devs)
        self.assertEqual(devs[STRANGER]['refusals'], 1, devs)
        self.assertIs(devs[STRANGER]['allowlisted'], False, devs)
        self.assertEqual(devs[HOSTILE]['name'], HOSTILE_NAME)
        res = self.ctl('devices')
        self.assertOk(res)
        self.assertIn('%s "Owner phone" allowlisted' % ALLOWED, res.text)
        self.assertRegex(res.text, r'%s "Stranger".*; last decision: deny on RequestConfirmation'
                         r' at .*; 1 refusal\n' % STRANGER)
        # forget: the bond removed through BlueZ, the history dropped
        res = self.ctl('forget', STRANGER.lower())
        self.assertOk(res)
        self.assertTrue(res.text.startswith('%s forgotten' % STRANGER), res)
        self.assertTrue(wait_until(lambda: self.fake.calls_of('RemoveDevice'), 3))
        self.assertEqual(self.fake.calls_of('RemoveDevice')[0]['device'], dev_path(STRANGER))
        iterate(0.3)
        devs = {d['address']: d for d in self.ctl_json('devices', '--json')}
        self.assertNotIn(STRANGER, devs)
        self.assertFails(self.ctl('forget', '12:34:56:78:9A:BC'),
                         'pairgatectl: no device 12:34:56:78:9A:BC known to pairgate or BlueZ')
        for bad in ('zz', '12:34:56:78:9A', '12:34:56:78:9A:BC:DE', '12-34-56-78-9A-BC',
                    '12:34:56:78:9A:BG', '"; rm -rf /'):
            res = self.ctl('forget', bad)
            self.assertEqual(res.rc, 2, (bad, res))
            self.assertEqual(res.errtext.count('\n'), 1, res)
        self.assertEqual(len(self.control_calls('ForgetDevice')), 2)

    def test_hostile_names_escaped(self):
        self.start()
        call, rid = self.hold('RequestConfirmation', HOSTILE, dbus.UInt32(1))
        for env in ({}, UTF8):
            for args in (('pending',), ('devices',)):
                res = self.ctl(*args, env=env)
                self.assertOk(res)
                self.assertEqual(forbidden_terminal_bytes(res.out), [], (env, res))
                line = [ln for ln in res.text.splitlines() if HOSTILE in ln]
                self.assertEqual(len(line), 1, res)
                self.assertIn(r'"Evil\x1b[2J\x07\x0afake line\x0d\x08\x7f', line[0])
                self.assertIn(r'\x22q\x22\x5c', line[0])
                if env:  # UTF-8 locale: the accent kept, the override and C1 escaped
                    self.assertIn(r'\xc2\x9b31m\xe2\x80\xaeenoh\xe2\x80\x8b', line[0])
                    self.assertIn(' é"', line[0])
                else:
                    self.assertIn(r' \xc3\xa9"', line[0])
        # --json keeps the exact name, escaped the JSON way
        res = self.ctl('pending', '--json')
        self.assertEqual(forbidden_terminal_bytes(res.out), [], res)
        self.assertEqual(json.loads(res.text)[0]['name'], HOSTILE_NAME)
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))

    # -- watch
    def start_watch(self, *args, env=None):
        out = tempfile.TemporaryFile()
        err = tempfile.TemporaryFile()
        p = subprocess.Popen(self.ctl_argv(('watch',) + args, None), stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, env=self.ctl_env(env))
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(), out.close(),
                                 err.close()))
        p.out, p.err = out, err
        return p

    @staticmethod
    def watch_output(p):
        p.out.seek(0)
        return p.out.read()

    def wait_watch(self, p, pred, timeout=5):
        ok = wait_until(lambda: pred(self.watch_output(p).decode('utf-8', 'replace')), timeout)
        self.assertTrue(ok, 'watch output: %r' % self.watch_output(p))

    def stop_watch(self, p, sig):
        t = time.monotonic()
        p.send_signal(sig)
        while p.poll() is None and time.monotonic() - t < 3:
            iterate(0.01)
        self.assertEqual(p.poll(), 0, 'watch did not exit 0 on %s' % sig)
        p.err.seek(0)
        self.assertEqual(p.err.read(), b'')

    def test_watch(self):
        self.start()
        early, eid = self.hold()
        w = self.start_watch(env=UTF8)
        self.wait_watch(w, lambda t: 'pending %d RequestConfirmation %s' % (eid, STRANGER) in t)
        late = self.call('RequestPasskey', dev_path(HOSTILE))
        self.wait_watch(w, lambda t: 'waiting ' in t and HOSTILE in t)
        lid = self.ctl_json('pending', '--json')[1]['id']
        self.assertIn('-> pairgatectl passkey %d NNNNNN' % lid, self.watch_output(w).decode())
        self.assertOk(self.ctl('approve', str(eid)))
        self.wait_watch(w, lambda t: 'ended   %d allow by operator' % eid in t)
        self.assertOk(self.ctl('passkey', str(lid), '000000'))
        self.wait_watch(w, lambda t: 'ended   %d allow by operator' % lid in t)
        self.assertOk(self.ctl('window', 'open', '20'))
        self.wait_watch(w, lambda t: 'window  open until' in t)
        self.assertTrue(early.wait(2) and late.wait(2))
        out = self.watch_output(w)
        self.assertEqual(forbidden_terminal_bytes(out), [], out)
        lines = out.decode().splitlines()
        self.assertEqual(len([ln for ln in lines if HOSTILE in ln]), 1, lines)
        self.stop_watch(w, signal.SIGINT)

    def test_watch_json_and_sigterm(self):
        self.start()
        w = self.start_watch('--json')
        iterate(0.3)
        call, rid = self.hold('RequestConfirmation', HOSTILE, dbus.UInt32(7))
        self.wait_watch(w, lambda t: '"started"' in t or '"waiting"' in t)
        self.assertOk(self.ctl('deny', str(rid)))
        self.wait_watch(w, lambda t: '"ended"' in t)
        events = [json.loads(ln) for ln in self.watch_output(w).decode().splitlines()]
        self.assertEqual([e['event'] for e in events], ['waiting', 'ended'], events)
        self.assertEqual(events[0]['request']['name'], HOSTILE_NAME)
        self.assertEqual(events[0]['request']['passkey'], '000007')
        self.assertEqual((events[1]['id'], events[1]['result'], events[1]['policy']),
                         (rid, 'deny', 'operator'), events)
        self.assertTrue(call.wait(2))
        self.stop_watch(w, signal.SIGTERM)

    def test_watch_moved(self):
        """A request passing from one policy to the next is a `moved` line (and event)."""
        self.start(routes={'RequestConfirmation': ['test', 'operator']},
                   test={'verdict': 'pass', 'delay_ms': 500})
        w = self.start_watch()
        j = self.start_watch('--json')
        iterate(0.3)
        call = self.call('RequestConfirmation', dev_path(STRANGER), dbus.UInt32(123456))
        self.wait_watch(w, lambda t: 'waiting ' in t)
        self.wait_watch(w, lambda t: 'moved ' in t, timeout=5)
        rid = self.ctl_json('pending', '--json')[0]['id']
        moved = [ln for ln in self.watch_output(w).decode().splitlines() if 'moved ' in ln]
        self.assertEqual(len(moved), 1, moved)
        self.assertIn('%d RequestConfirmation %s' % (rid, STRANGER), moved[0])
        self.assertIn('operator', moved[0])
        self.assertIn('-> pairgatectl approve|deny %d' % rid, moved[0])
        self.assertOk(self.ctl('approve', str(rid)))
        self.wait_watch(j, lambda t: '"ended"' in t)
        events = [json.loads(ln) for ln in self.watch_output(j).decode().splitlines()]
        self.assertEqual([e['event'] for e in events], ['waiting', 'moved', 'ended'], events)
        self.assertEqual((events[0]['request']['held_by'], events[1]['request']['held_by']),
                         ('test', 'operator'))
        self.assertTrue(call.wait(2))
        self.stop_watch(w, signal.SIGINT)
        self.stop_watch(j, signal.SIGTERM)

    def test_watch_follows_a_restart(self):
        """pairgated stops and starts again: watch says so, keeps running, and follows the new
        daemon's requests."""
        w = self.start_watch()
        self.wait_watch(w, lambda t: 'pairgated is not running; waiting for it' in t)
        self.start()
        self.wait_watch(w, lambda t: 'daemon  pairgated started' in t)
        self.assertEqual(self.stop_daemon(), 0)
        self.wait_watch(w, lambda t: 'daemon  pairgated stopped' in t)
        n = len(self.fake.calls)
        self.start(register=False)
        self.wait_registered(self.fake, after=n)
        self.wait_watch(w, lambda t: t.count('daemon  pairgated started') == 2)
        call, rid = self.hold()
        self.wait_watch(w, lambda t: 'waiting %d RequestConfirmation %s' % (rid, STRANGER) in t)
        self.assertOk(self.ctl('approve', str(rid)))
        self.wait_watch(w, lambda t: 'ended   %d allow by operator' % rid in t)
        self.assertTrue(call.wait(3))
        self.stop_watch(w, signal.SIGINT)

    def test_watch_refused_for_non_admin(self):
        self.need_root()
        self.start()
        self.assertFails(self.ctl('watch', user=NOBODY), PERMISSION)

    # -- log
    def journal_from_audit(self, times):
        """A journal file holding this run's audit records as journald would: PAIRGATE_*
        fields (core/audit.c), SYSLOG_IDENTIFIER, _SYSTEMD_UNIT; the i-th record at times[i]
        (µs), plus a plain log line and a foreign program's look-alike."""
        if not os.access(JOURNAL_REMOTE, os.X_OK):
            self.skipTest('%s is missing (tools/install-deps.sh test installs '
                          'systemd-journal-remote)' % JOURNAL_REMOTE)
        recs = self.daemon.audit_records
        entries = []

        def entry(usec, fields):
            out = [('__REALTIME_TIMESTAMP', str(usec)), ('__MONOTONIC_TIMESTAMP', str(usec)),
                   ('_BOOT_ID', '0123456789abcdef0123456789abcdef')] + fields
            data = b''
            for k, v in out:
                v = v.encode('utf-8', 'surrogateescape') if isinstance(v, str) else v
                if b'\n' in v:
                    data += k.encode() + b'\n' + struct.pack('<Q', len(v)) + v + b'\n'
                else:
                    data += k.encode() + b'=' + v + b'\n'
            return data + b'\n'

        for i, r in enumerate(recs):
            fields = [('MESSAGE', 'audit %s' % r['event']), ('SYSLOG_IDENTIFIER', 'pairgated'),
                      ('_SYSTEMD_UNIT', 'pairgate.service')]
            for k in r:
                jk = 'PAIRGATE_' + ('REQUEST_ID' if k == 'request' else k.upper())
                fields.append((jk, r.raw[k]))  # as journald gets it: audit-escaped
            entries.append(entry(times[min(i, len(times) - 1)], fields))
        entries.append(entry(times[-1], [('MESSAGE', 'info: a plain log line'),
                                         ('SYSLOG_IDENTIFIER', 'pairgated'),
                                         ('_SYSTEMD_UNIT', 'pairgate.service')]))
        entries.append(entry(times[-1], [('MESSAGE', 'forged'), ('SYSLOG_IDENTIFIER', 'pairgated'),
                                         ('_SYSTEMD_UNIT', 'evil.service'),
                                         ('PAIRGATE_EVENT', 'allow'),
                                         ('PAIRGATE_DECISION', 'allow'),
                                         ('PAIRGATE_ADDRESS', '66:66:66:66:66:66')]))
        path = os.path.join(self.workdir, 'pairgate.journal')
        p = subprocess.run([JOURNAL_REMOTE, '-o', path, '-'], input=b''.join(entries),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(p.returncode, 0, p.stdout)
        return path

    def test_log(self):
        self.start()
        self.assertAllowed(self.call_wait('RequestAuthorization', dev_path(ALLOWED)))
        call, rid = self.hold('RequestConfirmation', HOSTILE, dbus.UInt32(99))
        self.assertOk(self.ctl('deny', str(rid)))
        self.assertTrue(call.wait(3))
        self.daemon.wait_audit(event='deny')
        # decisions at 09:00 and 11:00 UTC, everything else before
        recs = self.daemon.audit_records
        base = 1795737600 * 10**6  # 2026-11-27 00:00:00 UTC
        times = []
        for r in recs:
            if r['event'] == 'allow':
                times.append(base + 9 * 3600 * 10**6)
            elif r['event'] == 'deny':
                times.append(base + 11 * 3600 * 10**6)
            else:
                times.append(base + 3600 * 10**6)
        times.append(base + 11 * 3600 * 10**6)
        path = self.journal_from_audit(times)
        tz = {'TZ': 'UTC'}

        res = self.ctl('log', '--file', path, env=tz)
        self.assertOk(res)
        self.assertEqual(forbidden_terminal_bytes(res.out), [], res)
        lines = res.text.splitlines()
        self.assertEqual(len(lines), len(recs), res.text)  # no plain line, no forgery
        self.assertNotIn('66:66:66:66:66:66', res.text)
        allow = [ln for ln in lines if ALLOWED in ln]
        self.assertTrue(allow and allow[0].startswith('2026-11-27 09:00:00 %s "Owner phone" '
                                                      'RequestAuthorization ' % ALLOWED), allow)
        self.assertIn(' allow', allow[0])
        self.assertIn('by allowlist', allow[0])
        deny = [ln for ln in lines if HOSTILE in ln]
        self.assertEqual(len(deny), 1, lines)
        self.assertTrue(deny[0].startswith('2026-11-27 11:00:00 %s "Evil\\x1b[2J\\x07\\x0afake'
                                           % HOSTILE), deny)
        self.assertIn(' deny', deny[0])
        self.assertIn('by operator', deny[0])
        self.assertIn('[uid %d] [request %d]' % (os.getuid(), rid), deny[0])

        # --since, as a person types it
        for since, n in (('2026-11-27 10:00', 1), ('2026-11-27T08:59:59', 2),
                         ('2026-11-27', None), ('2026-11-28', 0)):
            res = self.ctl('log', '--file', path, '--since', since, '--json', env=tz)
            self.assertOk(res)
            got = [e for e in json.loads(res.text) if 'decision' in e]
            if n is not None:
                self.assertEqual(len(got), n, (since, got))
        res = self.ctl('log', '--file', path, '--since', '1h', env=tz)
        self.assertOk(res)
        self.assertEqual(res.text, 'No pairgate records in that time.\n')
        self.assertFails(self.ctl('log', '--file', path, '--since', 'last tuesday-ish'),
                         "pairgatectl: log: cannot understand --since 'last tuesday-ish' (try "
                         "'2026-11-27 10:00', '1h', '30min' or 'today')", 2)

        # --json: every field, the name as the device sent it
        entries = json.loads(self.ctl('log', '--file', path, '--json', env=tz).text)
        self.assertEqual(len(entries), len(recs))
        d = [e for e in entries if e.get('address') == HOSTILE][0]
        self.assertEqual(d['name'], HOSTILE_NAME)
        self.assertEqual((d['decision'], d['method'], d['policy'], d['request_id'],
                          d['control_uid'], d['time']),
                         ('deny', 'RequestConfirmation', 'operator', str(rid), str(os.getuid()),
                          '2026-11-27T11:00:00+00:00'), d)
        # a journal directory (another machine's, a copy) reads the same
        res = self.ctl('log', '--directory', self.workdir, env=tz)
        self.assertOk(res)
        self.assertEqual(len(res.text.splitlines()), len(recs), res.text)
        # --unit '*': the look-alike of another unit too
        res = self.ctl('log', '--file', path, '--unit', '*', env=tz)
        self.assertIn('66:66:66:66:66:66', res.text)
        self.assertFails(self.ctl('log', '--file', os.path.join(self.workdir, 'none.journal')),
                         'pairgatectl: cannot open the journal file %s: No such file or directory'
                         % os.path.join(self.workdir, 'none.journal'))


class CtlBusPolicy(CtlBase):
    """With the real D-Bus policy file (systemd/pairgate-dbus.conf), the bus itself refuses
    another uid: pairgatectl says the same sentence."""

    bus_policy_files = (os.path.join(os.path.dirname(os.path.dirname(harness.HERE)), 'systemd',
                                     'pairgate-dbus.conf'),)

    def setUp(self):
        self.need_root()
        super().setUp()
        os.chmod(self.workdir, 0o755)

    def test_refused_by_the_bus(self):
        self.start()
        call, rid = self.hold()
        for args in (('status',), ('pending', '--json'), ('approve', str(rid)),
                     ('deny', str(rid)), ('window', 'open', '10'), ('devices',),
                     ('forget', STRANGER), ('watch',)):
            self.assertFails(self.ctl(*args, user=NOBODY), PERMISSION)
        iterate(0.2)
        self.assertFalse(call.done)
        self.assertOk(self.ctl('approve', str(rid)))  # root may
        self.assertTrue(call.wait(3))
        self.assertAllowed(call)


def main():
    global PAIRGATECTL
    if '--pairgatectl' in sys.argv:
        i = sys.argv.index('--pairgatectl')
        PAIRGATECTL = os.path.abspath(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    if not PAIRGATECTL:
        sys.stderr.write('usage: %s --pairgated PATH --pairgatectl PATH [unittest args]\n'
                         % sys.argv[0])
        sys.exit(2)
    harness.main()


if __name__ == '__main__':
    main()
