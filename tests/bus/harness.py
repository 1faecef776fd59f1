# SPDX-License-Identifier: MIT
"""Harness for pairgate's bus tests.

Each test gets a fresh world: a private dbus-daemon (system-bus-like config written by the test,
--print-address), a fake BlueZ (tests/fake-bluez/fake_bluez.py, in-process on the GLib main loop,
with its own connection) and pairgated started with DBUS_SYSTEM_BUS_ADDRESS pointing at the bus
and NOTIFY_SOCKET at a datagram socket read here. pairgated's stderr is collected and its audit
lines parsed.

Every test, on the way out, stops pairgated with SIGTERM and checks invariants that hold for all
cases: exit status 0; no AddressSanitizer/LeakSanitizer/UBSan report; every stderr line is either
an audit record that parses or a levelled log line (so no untrusted text ever broke a line); no
request id has two decisions; every call our fake BlueZ made has exactly one decision record; and
no method call on the bus was answered twice (a bus monitor watches every reply, including
the ones dbus-daemon refuses to deliver).

Usage: /usr/bin/python3 tests/bus/test_X.py --pairgated PATH [unittest args]
       (or PAIRGATED=PATH in the environment)
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import shutil
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'fake-bluez'))

SKIP = 77  # CTest's SKIP_RETURN_CODE of the bus tests


def skip_all(reason):
    print('SKIP: ' + reason)
    sys.exit(SKIP)


try:
    import dbus  # noqa: E402
    import dbus.bus  # noqa: E402
    import dbus.lowlevel  # noqa: E402
    from gi.repository import GLib  # noqa: E402
except ImportError as e:
    skip_all('%s: %s needs python3-dbus and python3-gi (tools/install-deps.sh test)'
             % (e, sys.executable))
if not shutil.which('dbus-daemon'):
    skip_all('dbus-daemon is not installed (tools/install-deps.sh test installs dbus)')

import fake_bluez  # noqa: E402
from fake_bluez import FakeBluez, iterate, wait_until, send_agent_call  # noqa: E402,F401 (re-exported)

AGENT_PATH = '/org/pairgate/agent'
REJECTED = 'org.bluez.Error.Rejected'
CANCELED = 'org.bluez.Error.Canceled'
DECISION_EVENTS = ('allow', 'deny', 'timeout', 'canceled', 'error')
LOG_LEVELS = ('error:', 'warning:', 'notice:', 'info:', 'debug:')
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer',
                     'ERROR: UndefinedBehaviorSanitizer')

PAIRGATED = os.environ.get('PAIRGATED')

# Addresses used across the tests.
ALLOWED = 'AA:BB:CC:DD:EE:FF'
STRANGER = '11:22:33:44:55:66'
OTHER = '22:33:44:55:66:77'


def dev_path(address, adapter='/org/bluez/hci0'):
    return fake_bluez.path_for_address(address, adapter)


# ---- audit lines -------------------------------------------------------------------------------

class AuditParseError(ValueError):
    pass


class AuditRecord(dict):
    """Decoded key -> value (str; bytes that are not UTF-8 kept with surrogateescape).
    .raw: key -> the value exactly as written (after unquoting, before unescaping);
    .bytes: key -> decoded bytes; .line: the whole line."""

    def __init__(self):
        super().__init__()
        self.raw = {}
        self.bytes = {}
        self.line = ''

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)


def _unescape(text):
    out = bytearray()
    i = 0
    simple = {'\\': b'\\', '"': b'"', 'n': b'\n', 't': b'\t', 'r': b'\r'}
    while i < len(text):
        c = text[i]
        if c == '\\':
            if i + 1 >= len(text):
                raise AuditParseError('dangling backslash')
            n = text[i + 1]
            if n == 'x':
                hx = text[i + 2:i + 4]
                if len(hx) != 2 or any(h not in '0123456789abcdefABCDEF' for h in hx):
                    raise AuditParseError('bad \\x escape %r' % text[i:i + 4])
                out.append(int(hx, 16))
                i += 4
                continue
            if n in simple:
                out += simple[n]
                i += 2
                continue
            raise AuditParseError('unknown escape \\%s' % n)
        out += c.encode('utf-8', 'surrogateescape')
        i += 1
    return bytes(out)


def parse_audit(line):
    """Parse 'audit k=v k="v v" ...'. Raises AuditParseError on anything malformed."""
    if not line.startswith('audit '):
        raise AuditParseError('not an audit line')
    rec = AuditRecord()
    rec.line = line
    s = line[len('audit '):]
    i, n = 0, len(s)
    while i < n:
        if s[i] == ' ':
            i += 1
            continue
        eq = s.find('=', i)
        if eq < 0:
            raise AuditParseError('token without "=" at %d: %r' % (i, s[i:]))
        key = s[i:eq]
        if not key or not all(c.isalnum() or c == '_' for c in key):
            raise AuditParseError('bad key %r' % key)
        i = eq + 1
        if i < n and s[i] == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == '\\' else 1
            if j >= n:
                raise AuditParseError('unterminated quote for %s' % key)
            raw = s[i + 1:j]
            i = j + 1
            if i < n and s[i] != ' ':
                raise AuditParseError('garbage after quoted %s' % key)
        else:
            j = s.find(' ', i)
            j = n if j < 0 else j
            raw = s[i:j]
            if '"' in raw:
                raise AuditParseError('stray quote in %s=%r' % (key, raw))
            i = j
        if key in rec:
            raise AuditParseError('duplicate key %s' % key)
        b = _unescape(raw)
        rec.raw[key] = raw
        rec.bytes[key] = b
        rec[key] = b.decode('utf-8', 'surrogateescape')
    if 'event' not in rec:
        raise AuditParseError('no event=')
    return rec


# ---- private bus -------------------------------------------------------------------------------

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <limit name="reply_timeout">300000</limit>
{includes}</busconfig>
"""


class PrivateBus:
    """includes: bus policy files read after the permissive default policy (their rules win),
    e.g. the real systemd/pairgate-dbus.conf."""

    def __init__(self, workdir, includes=()):
        self.workdir = workdir
        self.config = os.path.join(workdir, 'bus.conf')
        with open(self.config, 'w') as f:
            f.write(BUS_CONFIG.format(
                socket=os.path.join(workdir, 'bus'),
                includes=''.join('  <include>%s</include>\n' % p for p in includes)))
        self.log = open(os.path.join(workdir, 'dbus-daemon.log'), 'wb')
        self.proc = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + self.config, '--nofork', '--nosyslog',
             '--print-address=1'],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address:
            raise RuntimeError('dbus-daemon did not print an address (see %s)' % self.log.name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class ReplyMonitor:
    """A bus monitor counting method returns and errors per (sender, destination, reply_serial)."""

    def __init__(self, address):
        self.replies = {}
        self.calls = []
        self.conn = dbus.bus.BusConnection(address, mainloop=fake_bluez.mainloop())
        self.conn.add_message_filter(self._filter)
        self.conn.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                'org.freedesktop.DBus.Monitoring', 'BecomeMonitor', 'asu',
                                (["type='method_return'", "type='error'", "type='method_call'"],
                                 dbus.UInt32(0)))

    def _filter(self, conn, msg):
        t = msg.get_type()
        if t in (dbus.lowlevel.MESSAGE_TYPE_METHOD_RETURN, dbus.lowlevel.MESSAGE_TYPE_ERROR):
            key = (msg.get_sender(), msg.get_destination(), msg.get_reply_serial())
            self.replies.setdefault(key, []).append(
                msg.get_error_name() if t == dbus.lowlevel.MESSAGE_TYPE_ERROR else 'return')
        elif t == dbus.lowlevel.MESSAGE_TYPE_METHOD_CALL:
            self.calls.append((msg.get_sender(), msg.get_destination(), msg.get_interface(),
                               msg.get_member()))
        return dbus.lowlevel.HANDLER_RESULT_HANDLED

    def double_replies(self):
        return {k: v for k, v in self.replies.items() if len(v) > 1}

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


# ---- pairgated -------------------------------------------------------------------------------

class Daemon:
    """A pairgated process: stderr and sd_notify messages are read on the GLib main loop."""

    def __init__(self, binary, workdir, bus_address, config, args=(), env=None, name='pairgated',
                 user=None):
        self.workdir = workdir
        self.lines = []          # complete stderr lines (str, surrogateescape)
        self.raw_stderr = bytearray()
        self.audit_records = []  # parsed audit lines, in order
        self.bad_lines = []      # (line, reason)
        self.notify = []         # datagrams (str)
        self._partial = b''
        self.exit_status = None
        self.notify_path = os.path.join(workdir, name + '.notify')
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
        self.nsock.bind(self.notify_path)
        if user is not None:
            os.chmod(self.notify_path, 0o777)
        self.log = open(os.path.join(workdir, name + '.stderr'), 'ab')
        e = dict(os.environ)
        for k in ('JOURNAL_STREAM', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID',
                  'DBUS_SESSION_BUS_ADDRESS', 'DBUS_STARTER_ADDRESS'):
            e.pop(k, None)
        e['DBUS_SYSTEM_BUS_ADDRESS'] = bus_address
        e['NOTIFY_SOCKET'] = self.notify_path
        e.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
        e.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
        e.update(env or {})
        self.argv = [binary, '-c', config] + list(args)
        self.progname = os.path.basename(binary)
        ids = {} if user is None else dict(user=user, group=user, extra_groups=[])
        self.proc = subprocess.Popen(self.argv, env=e, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.PIPE, cwd=workdir, **ids)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self._w1 = GLib.io_add_watch(self.proc.stderr.fileno(), GLib.PRIORITY_DEFAULT,
                                     GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, self._on_stderr)
        self._w2 = GLib.io_add_watch(self.nsock.fileno(), GLib.PRIORITY_DEFAULT,
                                     GLib.IO_IN, self._on_notify)
        self._stderr_open = True

    # -- readers
    def _on_stderr(self, fd, cond):
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b''
        if not data:
            self._w1 = None
            self._finish_stderr()
            return False
        self._feed(data)
        return True

    def _feed(self, data):
        self.raw_stderr += data
        self.log.write(data)
        self.log.flush()
        buf = self._partial + data
        *complete, self._partial = buf.split(b'\n')
        for b in complete:
            self._add_line(b)

    def _finish_stderr(self):
        if not self._stderr_open:
            return
        self._stderr_open = False
        try:
            while True:
                data = os.read(self.proc.stderr.fileno(), 65536)
                if not data:
                    break
                self._feed(data)
        except OSError:
            pass
        if self._partial:
            self._add_line(self._partial)
            self._partial = b''

    def _add_line(self, b):
        line = b.decode('utf-8', 'surrogateescape')
        self.lines.append(line)
        if line.startswith('audit '):
            try:
                self.audit_records.append(parse_audit(line))
            except AuditParseError as ex:
                self.bad_lines.append((line, 'unparsable audit line: %s' % ex))
        elif not line.startswith(LOG_LEVELS + (self.progname + ': ',)):
            # ("pairgated: ..." is getopt's own message for a bad option)
            self.bad_lines.append((line, 'neither an audit record nor a levelled log line'))

    def _on_notify(self, fd, cond):
        while True:
            try:
                data = self.nsock.recv(65536)
            except BlockingIOError:
                return True
            except OSError:
                self._w2 = None
                return False
            self.notify.append(data.decode('utf-8', 'replace'))

    # -- queries
    @property
    def stderr_text(self):
        return bytes(self.raw_stderr).decode('utf-8', 'surrogateescape')

    def notify_values(self, key):
        out = []
        for d in self.notify:
            for ln in d.split('\n'):
                if ln.startswith(key + '='):
                    out.append(ln[len(key) + 1:])
        return out

    def audit(self, **match):
        """Audit records whose fields equal every given key (event=..., method=...)."""
        return [r for r in self.audit_records
                if all(r.get(k) == (str(v) if v is not None else None) for k, v in match.items())]

    def wait_audit(self, timeout=5, count=1, **match):
        wait_until(lambda: len(self.audit(**match)) >= count, timeout)
        return self.audit(**match)

    def last_status(self):
        v = self.notify_values('STATUS')
        return v[-1] if v else None

    def wait_notify(self, pred, timeout=5):
        return wait_until(lambda: any(pred(d) for d in self.notify), timeout)

    def poll_stderr(self, pred, timeout=5):
        """Wait for pred() reading pairgated's stderr directly, without running the main loop:
        meanwhile the fake BlueZ (in this process) handles nothing, like a busy bluetoothd."""
        end = time.monotonic() + timeout
        while not pred() and time.monotonic() < end and self._w1 is not None:
            time.sleep(0.02)
            self._on_stderr(self.proc.stderr.fileno(), GLib.IO_IN)
        return pred()

    def running(self):
        if self.exit_status is None:
            r = self.proc.poll()
            if r is not None:
                self.exit_status = r
        return self.exit_status is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=15):
        wait_until(lambda: not self.running(), timeout)
        if not self.running():
            wait_until(lambda: not self._stderr_open, 5)
            self._finish_stderr()
        return self.exit_status

    def kill(self):
        if self.running():
            self.proc.kill()
            self.wait_exit(5)

    def close(self):
        self.kill()
        for w in (self._w1, self._w2):
            if w is not None:
                GLib.source_remove(w)
        self._w1 = self._w2 = None
        self._finish_stderr()
        self.proc.stderr.close()
        self.nsock.close()
        self.log.close()


# ---- config ---------------------------------------------------------------------------------

def conf_value(v):
    """A Python value as a libconfig value: str quoted and escaped, bool, number."""
    if isinstance(v, str):
        return '"%s"' % v.replace('\\', '\\\\').replace('"', '\\"')
    if isinstance(v, bool):
        return 'true' if v else 'false'
    return str(v)


def conf_section(name, keys):
    """'name = {\n  key = value;\n ...};\n' for a policy section."""
    return '%s = {\n%s};\n' % (name, ''.join('  %s = %s;\n' % (k, conf_value(v))
                                             for k, v in keys.items()))


def make_config(capability='DisplayYesNo', request_timeout=25, max_pending=8, routes=None,
                allowlist=(ALLOWED,), test=None, extra=''):
    """A pairgate.conf text. routes: {method: [policies]} (default: the three allowlist
    methods); test: {key: value} for the test policy section or None."""
    if routes is None:
        routes = {'RequestConfirmation': ['allowlist'],
                  'RequestAuthorization': ['allowlist'],
                  'AuthorizeService': ['allowlist']}
    val = conf_value

    out = ['# written by %s' % os.path.basename(__file__),
           'capability = %s;' % val(capability),
           'request_timeout = %d;' % request_timeout,
           'max_pending = %d;' % max_pending,
           'routes = {']
    for m, pols in routes.items():
        out.append('  %s = [ %s ];' % (m, ', '.join(val(p) for p in pols)))
    out.append('};')
    if allowlist is not None:
        out.append('allowlist = { devices = [ %s ]; };' % ', '.join(val(a) for a in allowlist))
    if test is not None:
        out.append('test = { %s };' % ' '.join('%s = %s;' % (k, val(v)) for k, v in test.items()))
    if extra:
        out.append(textwrap.dedent(extra))
    return '\n'.join(out) + '\n'


# ---- the test case ------------------------------------------------------------------------------

class BusTestCase(unittest.TestCase):
    """setUp: bus + fake BlueZ (with the devices of `initial_devices`) + monitor.
    start_daemon(config_text) starts pairgated and waits for its registration.
    tearDown: SIGTERM, exit 0, and the global invariants (see module docstring)."""

    initial_devices = (
        (ALLOWED, 'Owner phone'),
        (STRANGER, 'Stranger'),
        (OTHER, 'Other'),
    )
    # Bus policy files the private bus applies after its permissive default (see PrivateBus).
    bus_policy_files = ()

    def setUp(self):
        if not PAIRGATED:
            self.skipTest('no --pairgated PATH / PAIRGATED given')
        fake_bluez.mainloop()
        self.workdir = tempfile.mkdtemp(prefix='pg-bus-', dir='/tmp')
        self.bus = PrivateBus(self.workdir, self.bus_policy_files)
        self.monitor = ReplyMonitor(self.bus.address)
        self.fakes = []
        self.daemons = []
        self.foreign_conns = []
        self.uncounted = set()   # id() of AgentCalls that need not have a decision record
        self.expect_exit_status = 0
        self.fake = self.new_fake()
        self._config_n = 0

    # -- world
    def new_fake(self, start=True, devices=None):
        f = FakeBluez(self.bus.address)
        for addr, name in (self.initial_devices if devices is None else devices):
            f.add_device(addr, name, emit=False)
        self.fakes.append(f)
        if start:
            f.start()
        return f

    def write_config(self, text, name=None):
        self._config_n += 1
        path = os.path.join(self.workdir, name or 'pairgate-%d.conf' % self._config_n)
        with open(path, 'w') as fh:
            fh.write(text)
        return path

    def start_daemon(self, config_text=None, register=True, args=(), config_path=None, user=None,
                     env=None, **kw):
        """Start pairgated with the given config text (default make_config(**kw)); user: run
        it as this uid (and gid) instead of ours, like the unit's User=pairgate."""
        if config_path is None:
            config_path = self.write_config(config_text if config_text is not None
                                            else make_config(**kw), 'pairgate.conf')
        self.config_path = config_path
        binary = PAIRGATED
        if user is not None:
            binary = self.reachable_copies(config_path)
        d = Daemon(binary, self.workdir, self.bus.address, config_path, args,
                   name='pairgated-%d' % len(self.daemons), user=user, env=env)
        self.daemons.append(d)
        self.daemon = d
        if register:
            self.wait_registered(self.fake)
        return d

    def reachable_copies(self, config_path):
        """For a pairgated run as another uid: that uid must reach the binary, its configuration
        and its working directory. The checkout may live where it cannot (under /root, mode
        0700; a build made with umask 077), so the binary is copied into this test's directory
        (under /tmp), which is opened to all, like the configuration. Returns the copy's path."""
        os.chmod(self.workdir, 0o755)
        if os.path.dirname(os.path.abspath(config_path)) != self.workdir:
            raise AssertionError('a pairgated run as another user needs its configuration in %s'
                                 % self.workdir)
        os.chmod(config_path, 0o644)
        binary = os.path.join(self.workdir, 'bin', os.path.basename(PAIRGATED))
        if not os.path.exists(binary):
            os.mkdir(os.path.dirname(binary), 0o755)
            os.chmod(os.path.dirname(binary), 0o755)
            shutil.copy(PAIRGATED, binary)
        os.chmod(binary, 0o755)
        return binary

    def rewrite_config(self, text):
        with open(self.config_path + '.new', 'w') as fh:
            fh.write(text)
        # keep the mode (0644 for a pairgated of another uid), whatever the umask
        if os.path.exists(self.config_path):
            os.chmod(self.config_path + '.new', os.stat(self.config_path).st_mode & 0o7777)
        os.rename(self.config_path + '.new', self.config_path)

    def run_daemon_to_exit(self, args, config_text, timeout=15):
        """Run pairgated (e.g. --check-config) and return (exit status, Daemon)."""
        path = self.write_config(config_text)
        d = Daemon(PAIRGATED, self.workdir, self.bus.address, path, args,
                   name='pairgated-%d' % len(self.daemons))
        self.daemons.append(d)
        rc = d.wait_exit(timeout)
        return rc, d

    def wait_registered(self, fake, timeout=10, capability=None, after=0):
        """Wait for RegisterAgent then RequestDefaultAgent (both successful, same sender, path
        AGENT_PATH) recorded by `fake` from the index `after` on. Returns the sender."""
        def done():
            regs = [c for c in fake.calls[after:]
                    if c['method'] == 'RegisterAgent' and 'error' not in c
                    and (capability is None or c['capability'] == capability)]
            for r in regs:
                i = fake.calls.index(r)
                if any(c['method'] == 'RequestDefaultAgent' and c['sender'] == r['sender']
                       and 'error' not in c for c in fake.calls[i + 1:]):
                    return r['sender']
            return None
        sender = wait_until(done, timeout)
        if not sender:
            self.fail('pairgated did not RegisterAgent + RequestDefaultAgent on %s within %ss;'
                      ' calls: %r\n%s' % (fake.unique_name, timeout, fake.calls,
                                          self.stderr_tail()))
        return sender

    def foreign_connection(self):
        c = dbus.bus.BusConnection(self.bus.address, mainloop=fake_bluez.mainloop())
        self.foreign_conns.append(c)
        return c

    # -- calls
    def call(self, method, *args, fake=None, counted=True, **kw):
        call = (fake or self.fake).call_agent(method, *args, **kw)
        if not counted:
            self.uncounted.add(id(call))
        return call

    def call_wait(self, method, *args, timeout=10, **kw):
        c = self.call(method, *args, **kw)
        if not c.wait(timeout):
            self.fail('%s%r: no reply within %ss\n%s' % (method, args, timeout,
                                                         self.stderr_tail()))
        return c

    def assertAllowed(self, call, reply=()):
        self.assertTrue(call.done, '%r not answered' % call)
        self.assertIsNone(call.error_name, '%r: expected a successful reply\n%s'
                          % (call, self.stderr_tail()))
        self.assertEqual(tuple(call.reply), tuple(reply))

    def assertError(self, call, name):
        self.assertTrue(call.done, '%r not answered' % call)
        self.assertEqual(call.error_name, name, '%r: expected %s\n%s'
                         % (call, name, self.stderr_tail()))

    def assertRejected(self, call):
        self.assertError(call, REJECTED)

    def assertHeld(self, call, for_s=0.4):
        iterate(for_s)
        self.assertFalse(call.done, '%r answered, expected it to be held' % call)

    def decision(self, call, timeout=5):
        """The single decision audit record for `call` (method + device), waiting for it."""
        recs = wait_until(lambda: [r for r in self.daemon.audit(method=call.method,
                                                                device=call.device)
                                   if r['event'] in DECISION_EVENTS], timeout)
        self.assertTrue(recs, 'no decision audit record for %r\n%s' % (call, self.stderr_tail()))
        return recs[-1]

    def stderr_tail(self, n=40):
        out = []
        for d in self.daemons:
            out.append('--- %s stderr (last %d lines) ---' % (' '.join(d.argv), n))
            out.extend(d.lines[-n:])
        return '\n'.join(out)

    # -- teardown and global invariants
    def stop_daemon(self, d=None):
        d = d or self.daemon
        if d.running():
            d.signal(signal.SIGTERM)
        rc = d.wait_exit(20)
        if rc is None:
            d.kill()
            self.fail('pairgated did not exit within 20 s of SIGTERM\n' + self.stderr_tail())
        return rc

    def tearDown(self):
        problems = []
        try:
            for d in self.daemons:
                if d.running():
                    rc = self.stop_daemon(d)
                    if rc != self.expect_exit_status:
                        problems.append('%s exited with %r after SIGTERM, expected %d'
                                        % (d.argv[0], rc, self.expect_exit_status))
            iterate(0.1)  # let the monitor see the last messages
            for d in self.daemons:
                problems.extend(self.check_daemon_output(d))
            problems.extend(self.check_exactly_once())
        finally:
            for d in self.daemons:
                d.close()
            for c in self.foreign_conns:
                try:
                    c.close()
                except Exception:
                    pass
            for f in self.fakes:
                f.close()
            self.monitor.close()
            iterate(0.05)
            self.bus.stop()
        failed = bool(problems) or self._test_failed()
        if failed or os.environ.get('PAIRGATE_TEST_KEEP'):
            sys.stderr.write('\n[%s] logs kept in %s\n' % (self.id(), self.workdir))
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if problems:
            self.fail('\n'.join(problems) + '\n' + self.stderr_tail(60))

    def _test_failed(self):
        res = getattr(getattr(self, '_outcome', None), 'result', None)
        if res is None:
            return False
        return any(t is self for t, _ in list(res.errors) + list(res.failures))

    def check_daemon_output(self, d):
        problems = []
        text = d.stderr_text
        for m in SANITIZER_MARKERS:
            if m in text:
                problems.append('sanitizer report in pairgated stderr (%r)' % m)
        for line, why in d.bad_lines:
            problems.append('stderr line %r: %s' % (line, why))
        # no request id decided twice
        seen = {}
        for r in d.audit_records:
            if r['event'] in DECISION_EVENTS and 'request' in r:
                seen.setdefault(r['request'], []).append(r['event'])
        for rid, evs in seen.items():
            if len(evs) != 1:
                problems.append('request %s has %d decision records: %r' % (rid, len(evs), evs))
        for r in d.audit_records:
            if r['event'] in DECISION_EVENTS and 'request' not in r:
                problems.append('decision record without request id: %s' % r.line)
        return problems

    def check_exactly_once(self):
        problems = []
        for k, v in self.monitor.double_replies().items():
            problems.append('call serial %s from %s answered %d times by %s: %r'
                            % (k[2], k[1], len(v), k[0], v))
        # Every Agent1 call a fake BlueZ made has exactly one decision record (method + device).
        # Calls marked uncounted (malformed calls, calls made while not the owner of org.bluez)
        # may have at most one.
        lo, hi = {}, {}
        for f in self.fakes:
            for c in f.agent_calls:
                if c.method in ('Cancel', 'Release'):
                    continue
                k = (c.method, c.device)
                hi[k] = hi.get(k, 0) + 1
                if id(c) not in self.uncounted:
                    lo[k] = lo.get(k, 0) + 1
        got = {}
        for d in self.daemons:
            for r in d.audit_records:
                if r['event'] in DECISION_EVENTS:
                    k = (r.get('method'), r.get('device'))
                    got[k] = got.get(k, 0) + 1
        # Calls refused at once by a limit have no record of their own: they are counted in the
        # summaries (lockout-refusals: per device; budget-refusals: "ADDRESS*COUNT ...").
        summarised = self.summarised_counts()
        short_lo, short_hi = {}, {}
        for k in sorted(set(hi) | set(got), key=str):
            n = got.get(k, 0)
            dev = k[1]
            if summarised.get(dev) and n < hi.get(k, 0):
                short_lo[dev] = short_lo.get(dev, 0) + max(0, lo.get(k, 0) - n)
                short_hi[dev] = short_hi.get(dev, 0) + hi.get(k, 0) - n
                continue
            if not lo.get(k, 0) <= n <= hi.get(k, 0):
                want = (str(lo.get(k, 0)) if lo.get(k, 0) == hi.get(k, 0)
                        else '%d..%d' % (lo.get(k, 0), hi.get(k, 0)))
                problems.append('%s on %s: expected %s decision record(s) for the calls BlueZ'
                                ' made, found %d' % (k[0], k[1], want, n))
        for dev, n in sorted(summarised.items()):
            if not short_lo.get(dev, 0) <= n <= short_hi.get(dev, 0):
                problems.append('%s: %d request(s) counted in summaries, but %d..%d calls have '
                                'no decision record' % (dev, n, short_lo.get(dev, 0),
                                                        short_hi.get(dev, 0)))
        return problems

    def summarised_counts(self):
        """Device path -> requests counted in the limits' summary records of every daemon."""
        out = {}
        for d in self.daemons:
            for r in d.audit_records:
                if r['event'] == 'lockout-refusals':
                    dev = r.get('device') or dev_path(r['address'])
                    out[dev] = out.get(dev, 0) + int(r['count'])
                elif r['event'] == 'budget-refusals':
                    for item in r.get('addresses', '').split():
                        addr, _, n = item.partition('*')
                        out[dev_path(addr)] = out.get(dev_path(addr), 0) + int(n)
        return out


def main():
    global PAIRGATED
    argv = list(sys.argv)
    if '--pairgated' in argv:
        i = argv.index('--pairgated')
        PAIRGATED = argv[i + 1]
        del argv[i:i + 2]
    if not PAIRGATED:
        sys.stderr.write('usage: %s --pairgated PATH [unittest args]\n' % argv[0])
        sys.exit(2)
    PAIRGATED = os.path.abspath(PAIRGATED)
    unittest.main(module='__main__', argv=argv, verbosity=2)
