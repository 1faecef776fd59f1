# SPDX-License-Identifier: MIT
"""A fake BlueZ (bluetoothd) for pairgate's bus tests.

It owns ``org.bluez`` on a (private) bus and offers what an Agent1 implementation talks to:

* ``/org/bluez``: ``org.bluez.AgentManager1`` (RegisterAgent, UnregisterAgent, RequestDefaultAgent)
  with BlueZ 5.66's errors; every call is recorded with its sender, path and capability.
* ``/``: ``org.freedesktop.DBus.ObjectManager`` (GetManagedObjects, InterfacesAdded/Removed).
* ``/org/bluez/hci0``: ``org.bluez.Adapter1`` with Properties Get/GetAll/Set + PropertiesChanged.
* ``org.bluez.Device1`` objects the test adds, changes (PropertiesChanged) and removes at run time.
* Calls to the registered agent the way bluetoothd makes them: to the agent's *unique* name and
  registered path; reply-awaited calls with a 60 s timeout; Release, Cancel and DisplayPasskey sent
  with NO_REPLY_EXPECTED.

It is an importable module meant to run inside the test process on the GLib main loop
(``dbus.mainloop.glib``): each FakeBluez has its *own* private connection, so "bluetoothd exits"
is closing that connection and "bluetoothd restarts" is a new FakeBluez (a new unique name), exactly
what a daemon watching the owner of org.bluez sees. Run it as a script for manual use:

    /usr/bin/python3 fake_bluez.py --address unix:path=/tmp/bus [--device AA:BB:CC:DD:EE:FF=Name]
"""

import time

import dbus
import dbus.bus
import dbus.lowlevel
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BLUEZ = 'org.bluez'
AGENT_MANAGER_IFACE = 'org.bluez.AgentManager1'
AGENT_IFACE = 'org.bluez.Agent1'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'

# Exact match, case-sensitive, "" means KeyboardDisplay (agent.c:parse_io_capability, 5.66).
CAPABILITIES = ('DisplayOnly', 'DisplayYesNo', 'KeyboardOnly', 'NoInputNoOutput',
                'KeyboardDisplay', '')

# Agent1 methods: in-signature, and whether bluetoothd awaits a reply (agent.c, 5.66).
AGENT_METHODS = {
    'Release': ('', False),
    'RequestPinCode': ('o', True),
    'DisplayPinCode': ('os', True),
    'RequestPasskey': ('o', True),
    'DisplayPasskey': ('ouq', False),
    'RequestConfirmation': ('ou', True),
    'RequestAuthorization': ('o', True),
    'AuthorizeService': ('os', True),
    'Cancel': ('', False),
}
REQUEST_TIMEOUT_S = 60  # agent.c REQUEST_TIMEOUT

_mainloop = None


def mainloop():
    """The dbus-python GLib main loop integration (created once, also set as default)."""
    global _mainloop
    if _mainloop is None:
        _mainloop = dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    return _mainloop


def iterate(seconds=0.0):
    """Run the default GLib main context for about `seconds` (at least one non-blocking pass)."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while True:
        while ctx.pending():
            ctx.iteration(False)
        left = end - time.monotonic()
        if left <= 0:
            return
        src = GLib.timeout_source_new(max(1, min(int(left * 1000), 20)))
        src.set_callback(lambda *a: False)
        src.attach(ctx)
        ctx.iteration(True)
        src.destroy()


def wait_until(pred, timeout, step=0.01):
    """Iterate the main loop until pred() is truthy or `timeout` seconds pass; returns pred()."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return pred()
        iterate(min(step, max(0.0, end - time.monotonic())))


class BluezError(dbus.exceptions.DBusException):
    def __init__(self, name, message=''):
        super().__init__(message)
        self._dbus_error_name = name


def _err(kind, message=''):
    return BluezError('org.bluez.Error.' + kind, message)


def path_for_address(address, adapter='/org/bluez/hci0'):
    return '%s/dev_%s' % (adapter, address.upper().replace(':', '_'))


class AgentCall:
    """One call from "bluetoothd" to an agent, with its outcome."""

    def __init__(self, method, args, dest, path, no_reply, sender_conn_name):
        self.method = method
        self.args = tuple(args)
        self.dest = dest
        self.path = path
        self.no_reply = no_reply
        self.caller = sender_conn_name
        self.sent_at = time.monotonic()
        self.done = False
        self.reply = None        # tuple of out values on success
        self.error_name = None   # D-Bus error name on error
        self.error_message = None
        self.answered_at = None
        self.serial = None

    @property
    def device(self):
        return str(self.args[0]) if self.args else None

    @property
    def latency(self):
        return None if self.answered_at is None else self.answered_at - self.sent_at

    @property
    def ok(self):
        return self.done and self.error_name is None

    def _on_reply(self, *values):
        if self.done:  # dbus-python never does this; be loud if it ever does
            raise AssertionError('second reply for %r' % self)
        self.done = True
        self.answered_at = time.monotonic()
        self.reply = tuple(values)

    def _on_error(self, e):
        if self.done:
            raise AssertionError('second reply for %r' % self)
        self.done = True
        self.answered_at = time.monotonic()
        self.error_name = e.get_dbus_name()
        self.error_message = e.get_dbus_message()

    def wait(self, timeout=10):
        wait_until(lambda: self.done, timeout)
        return self.done

    def __repr__(self):
        state = ('pending' if not self.done else
                 ('error %s' % self.error_name if self.error_name else 'reply %r' % (self.reply,)))
        return '<AgentCall %s%r to %s: %s>' % (self.method, self.args, self.dest, state)


def send_agent_call(conn, dest, path, method, args, no_reply=None, signature=None,
                    timeout=REQUEST_TIMEOUT_S):
    """Call an Agent1 method from `conn` (any connection: BlueZ or a foreign caller).

    no_reply None means "as bluetoothd does it". Returns an AgentCall (already done for no_reply).
    """
    sig, awaited = AGENT_METHODS.get(method, (signature or '', True))
    if signature is not None:
        sig = signature
    if no_reply is None:
        no_reply = not awaited
    call = AgentCall(method, args, dest, path, no_reply, conn.get_unique_name())
    if no_reply:
        msg = dbus.lowlevel.MethodCallMessage(dest, path, AGENT_IFACE, method)
        if sig:
            msg.append(signature=sig, *args)
        msg.set_no_reply(True)
        conn.send_message(msg)
        call.serial = msg.get_serial()
        call.done = True
        call.answered_at = call.sent_at
    else:
        conn.call_async(dest, path, AGENT_IFACE, method, sig, tuple(args),
                        call._on_reply, call._on_error, timeout=timeout)
    return call


class _PropsObject(dbus.service.Object):
    """An object with org.freedesktop.DBus.Properties over self.props[iface][name]."""

    writable = {}  # iface -> set of writable property names

    def __init__(self, fake, path):
        super().__init__()  # exported by export(), possibly later (devices added before start)
        self.fake = fake
        self.path = path
        self.props = {}
        self.fail_once = {}

    def export(self):
        self.add_to_connection(self.fake.conn, self.path)

    @dbus.service.method(PROPS_IFACE, in_signature='ss', out_signature='v')
    def Get(self, iface, name):
        try:
            return self.props[iface][name]
        except KeyError:
            raise BluezError('org.freedesktop.DBus.Error.InvalidArgs', 'No such property ' + name)

    @dbus.service.method(PROPS_IFACE, in_signature='s', out_signature='a{sv}')
    def GetAll(self, iface):
        return dbus.Dictionary(self.props.get(iface, {}), signature='sv')

    @dbus.service.method(PROPS_IFACE, in_signature='ssv', out_signature='', sender_keyword='sender')
    def Set(self, iface, name, value, sender=None):
        self.fake.record('Set', sender=sender, path=self.path, iface=iface, name=name,
                         value=value)
        # fail_once[name] = error name: the next Set of that property fails so (bluetoothd
        # answers org.bluez.Error.Busy while its own mgmt command is in flight).
        err = self.fail_once.pop(name, None)
        if err:
            raise BluezError(err, name + ': busy')
        if iface not in self.props or name not in self.props[iface]:
            raise BluezError('org.freedesktop.DBus.Error.InvalidArgs', 'No such property ' + name)
        if name not in self.writable.get(iface, ()):
            raise BluezError('org.freedesktop.DBus.Error.PropertyReadOnly', name + ' is read-only')
        old = self.props[iface][name]
        self.set_props(iface, {name: type(old)(value)})

    @dbus.service.signal(PROPS_IFACE, signature='sa{sv}as')
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def set_props(self, iface, changed, invalidated=()):
        d = self.props.setdefault(iface, {})
        for k, v in changed.items():
            d[k] = v
        for k in invalidated:
            d.pop(k, None)
        self.PropertiesChanged(iface, dbus.Dictionary(changed, signature='sv'),
                               dbus.Array(invalidated, signature='s'))


class Adapter(_PropsObject):
    writable = {ADAPTER_IFACE: {'Alias', 'Powered', 'Discoverable', 'Pairable',
                                'DiscoverableTimeout', 'PairableTimeout'}}

    def __init__(self, fake, path, address):
        super().__init__(fake, path)
        self.props[ADAPTER_IFACE] = {
            'Address': dbus.String(address),
            'AddressType': dbus.String('public'),
            'Name': dbus.String('pairgate-test'),
            'Alias': dbus.String('pairgate-test'),
            'Class': dbus.UInt32(0),
            'Powered': dbus.Boolean(True),
            'Discoverable': dbus.Boolean(False),
            'DiscoverableTimeout': dbus.UInt32(180),
            'Pairable': dbus.Boolean(True),
            'PairableTimeout': dbus.UInt32(0),
            'Discovering': dbus.Boolean(False),
            'UUIDs': dbus.Array([], signature='s'),
        }

    @dbus.service.method(ADAPTER_IFACE, in_signature='o', out_signature='',
                         sender_keyword='sender')
    def RemoveDevice(self, device, sender=None):
        """Like bluetoothd: the device (and its bond) goes, InterfacesRemoved is sent."""
        self.fake.record('RemoveDevice', sender=sender, path=self.path, device=str(device))
        if str(device) not in self.fake.devices:
            raise BluezError('org.bluez.Error.DoesNotExist', 'Does Not Exist')
        self.fake.remove_device(str(device))


class Device(_PropsObject):
    writable = {DEVICE_IFACE: {'Alias', 'Trusted', 'Blocked', 'WakeAllowed'}}

    def __init__(self, fake, path, props):
        super().__init__(fake, path)
        self.props[DEVICE_IFACE] = props


class AgentManager(dbus.service.Object):
    def __init__(self, fake):
        super().__init__(fake.conn, '/org/bluez')
        self.fake = fake

    @dbus.service.method(AGENT_MANAGER_IFACE, in_signature='os', out_signature='',
                         sender_keyword='sender')
    def RegisterAgent(self, path, capability, sender=None):
        return self.fake._register_agent(sender, str(path), str(capability))

    @dbus.service.method(AGENT_MANAGER_IFACE, in_signature='o', out_signature='',
                         sender_keyword='sender')
    def UnregisterAgent(self, path, sender=None):
        return self.fake._unregister_agent(sender, str(path))

    @dbus.service.method(AGENT_MANAGER_IFACE, in_signature='o', out_signature='',
                         sender_keyword='sender')
    def RequestDefaultAgent(self, path, sender=None):
        return self.fake._request_default_agent(sender, str(path))


class ObjectManager(dbus.service.Object):
    def __init__(self, fake):
        super().__init__(fake.conn, '/')
        self.fake = fake

    @dbus.service.method(OM_IFACE, in_signature='', out_signature='a{oa{sa{sv}}}',
                         sender_keyword='sender')
    def GetManagedObjects(self, sender=None):
        self.fake.record('GetManagedObjects', sender=sender)
        return self.fake.managed_objects()

    @dbus.service.signal(OM_IFACE, signature='oa{sa{sv}}')
    def InterfacesAdded(self, path, interfaces):
        pass

    @dbus.service.signal(OM_IFACE, signature='oas')
    def InterfacesRemoved(self, path, interfaces):
        pass


class Registration:
    def __init__(self, sender, path, capability):
        self.sender = sender
        self.path = path
        self.capability = capability

    def __repr__(self):
        return '<Agent %s%s %r>' % (self.sender, self.path, self.capability)


class FakeBluez:
    """One run of "bluetoothd": a private connection that owns org.bluez."""

    def __init__(self, address, adapter_address='00:AA:01:00:00:01', adapter='/org/bluez/hci0'):
        self.bus_address = address
        self.adapter_path = adapter
        self.adapter_address = adapter_address
        self.conn = None
        self.calls = []          # recorded incoming calls: dicts with 'method', 'sender', ...
        self.agent_calls = []    # AgentCall objects we sent
        self.agents = {}         # unique name -> Registration (agent.c agent_list)
        self.default_agents = []  # unique names, head is the default (agent.c default_agents)
        self.devices = {}        # path -> Device
        self.owns_name = False
        self.closed = False
        self.fail_next = {}      # method -> error name: the next such call fails with it
        self.fail_always = {}    # method -> error name: every such call fails with it
        self.listeners = []      # callables(record dict)
        self._objects = []
        self._signal_matches = []

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self, request_name=True):
        self.conn = dbus.bus.BusConnection(self.bus_address, mainloop=mainloop())
        self._objects.append(ObjectManager(self))
        self.object_manager = self._objects[-1]
        self._objects.append(AgentManager(self))
        self.adapter = Adapter(self, self.adapter_path, self.adapter_address)
        self.adapter.export()
        self._objects.append(self.adapter)
        for dev in self.devices.values():
            dev.export()
        # Like agent.c's g_dbus_add_disconnect_watch on each agent's owner.
        self._signal_matches.append(self.conn.add_signal_receiver(
            self._name_owner_changed, 'NameOwnerChanged', 'org.freedesktop.DBus',
            'org.freedesktop.DBus', '/org/freedesktop/DBus'))
        if request_name:
            self.acquire_name()
        return self

    @property
    def unique_name(self):
        return self.conn.get_unique_name()

    def acquire_name(self):
        r = self.conn.request_name(BLUEZ, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
        if r not in (dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER,
                     dbus.bus.REQUEST_NAME_REPLY_ALREADY_OWNER):
            raise RuntimeError('could not own %s (reply %d)' % (BLUEZ, r))
        self.owns_name = True

    def release_name(self, forget_agents=True):
        """org.bluez disappears but this connection (and its pending calls) stays. By default
        the agent table is forgotten too, as a restarted bluetoothd would have it."""
        self.conn.release_name(BLUEZ)
        self.owns_name = False
        if forget_agents:
            self.agents.clear()
            del self.default_agents[:]

    def stop(self, release=True, cancel=True):
        """bluetoothd exits: Cancel() an outstanding request and Release() each agent (as
        btd_agent_cleanup does) when asked, then the connection closes."""
        if self.closed:
            return
        if self.conn is not None and self.owns_name:
            for sender, reg in list(self.agents.items()):
                if cancel and any(not c.done and c.dest == sender for c in self.agent_calls):
                    self.send_to(sender, 'Cancel')
                if release:
                    self.send_to(sender, 'Release')
            self.conn.flush()
        self.close()

    def close(self):
        """The connection drops without any goodbye (crash)."""
        if self.closed:
            return
        self.closed = True
        for m in self._signal_matches:
            m.remove()
        for obj in self._objects + list(self.devices.values()):
            try:
                obj.remove_from_connection()
            except (LookupError, KeyError):
                pass
        if self.conn is not None:
            self.conn.flush()
            self.conn.close()
        self.owns_name = False

    # ---- recording -------------------------------------------------------------------------
    def record(self, method, **kw):
        rec = dict(method=method, time=time.monotonic(), **kw)
        self.calls.append(rec)
        for cb in list(self.listeners):
            cb(rec)
        err = self.fail_next.pop(method, None) or self.fail_always.get(method)
        if err:
            rec['error'] = err
            raise BluezError(err, 'injected failure')
        return rec

    def calls_of(self, method, sender=None):
        return [c for c in self.calls if c['method'] == method
                and (sender is None or c.get('sender') == sender)]

    # ---- AgentManager1 ---------------------------------------------------------------------
    def _register_agent(self, sender, path, capability):
        rec = self.record('RegisterAgent', sender=sender, path=path, capability=capability)
        if sender in self.agents:
            rec['error'] = 'org.bluez.Error.AlreadyExists'
            raise _err('AlreadyExists', 'Already Exists')
        if capability not in CAPABILITIES:
            rec['error'] = 'org.bluez.Error.InvalidArguments'
            raise _err('InvalidArguments', 'Invalid arguments in method call')
        self.agents[sender] = Registration(sender, path, capability)
        # The first agent becomes default; later ones queue behind it (agent_create).
        self.default_agents.append(sender)

    def _unregister_agent(self, sender, path):
        rec = self.record('UnregisterAgent', sender=sender, path=path)
        reg = self.agents.get(sender)
        if reg is None or reg.path != path:
            rec['error'] = 'org.bluez.Error.DoesNotExist'
            raise _err('DoesNotExist', 'Does Not Exist')
        self._drop_agent(sender)

    def _request_default_agent(self, sender, path):
        rec = self.record('RequestDefaultAgent', sender=sender, path=path)
        reg = self.agents.get(sender)
        if reg is None or reg.path != path:
            rec['error'] = 'org.bluez.Error.DoesNotExist'
            raise _err('DoesNotExist', 'Does Not Exist')
        self.default_agents.remove(sender)
        self.default_agents.insert(0, sender)

    def _drop_agent(self, sender):
        self.agents.pop(sender, None)
        if sender in self.default_agents:
            self.default_agents.remove(sender)

    def _name_owner_changed(self, name, old, new):
        if name in self.agents and not new:
            self.record('AgentDisconnected', sender=name)
            self._drop_agent(name)

    @property
    def default_agent(self):
        """Registration of the default agent, or None."""
        return self.agents[self.default_agents[0]] if self.default_agents else None

    # ---- calling the agent -----------------------------------------------------------------
    def send_to(self, dest, method, *args, **kw):
        reg = self.agents.get(dest)
        path = kw.pop('path', None) or (reg.path if reg else '/org/pairgate/agent')
        call = send_agent_call(self.conn, dest, path, method, args, **kw)
        self.agent_calls.append(call)
        return call

    def call_agent(self, method, *args, **kw):
        """Call `method` on the default agent, like bluetoothd's agent_get(NULL). Keyword args:
        no_reply (override), signature (override), timeout, path (override)."""
        reg = self.default_agent
        if reg is None:
            raise AssertionError('no default agent registered; calls: %r' % self.calls)
        return self.send_to(reg.sender, method, *args, **kw)

    def release_agent(self, sender=None, cancel=False):
        """Send Release() (optionally Cancel() first) and forget the agent, as at bluetoothd exit."""
        sender = sender or (self.default_agents[0] if self.default_agents else None)
        if sender is None:
            raise AssertionError('no agent to release')
        if cancel:
            self.send_to(sender, 'Cancel')
        call = self.send_to(sender, 'Release')
        self._drop_agent(sender)
        return call

    # ---- objects ---------------------------------------------------------------------------
    def managed_objects(self):
        objs = {
            dbus.ObjectPath('/org/bluez'): {
                AGENT_MANAGER_IFACE: {},
                'org.bluez.ProfileManager1': {},
            },
            dbus.ObjectPath(self.adapter_path): dict(self.adapter.props),
        }
        for path, dev in self.devices.items():
            objs[dbus.ObjectPath(path)] = dict(dev.props)
        return dbus.Dictionary(objs, signature='oa{sa{sv}}')

    def add_device(self, address, name=None, address_type='public', path=None, cls=None,
                   paired=False, trusted=False, connected=False, alias=None, extra=None,
                   emit=True):
        """Add a Device1 object (InterfacesAdded). name=None leaves Name out, as for a device
        that never sent one (Alias is then the address with dashes, like bluetoothd)."""
        path = path or path_for_address(address, self.adapter_path)
        props = {
            'Address': dbus.String(address),
            'AddressType': dbus.String(address_type),
            'Alias': dbus.String(alias if alias is not None else
                                 (name if name is not None else address.replace(':', '-'))),
            'Paired': dbus.Boolean(paired),
            'Bonded': dbus.Boolean(paired),
            'Trusted': dbus.Boolean(trusted),
            'Blocked': dbus.Boolean(False),
            'LegacyPairing': dbus.Boolean(False),
            'Connected': dbus.Boolean(connected),
            'Adapter': dbus.ObjectPath(self.adapter_path),
            'ServicesResolved': dbus.Boolean(False),
            'UUIDs': dbus.Array([], signature='s'),
        }
        if name is not None:
            props['Name'] = dbus.String(name)
        if cls is not None:
            props['Class'] = dbus.UInt32(cls)
        for k, v in (extra or {}).items():
            props[k] = v
        props = dbus.Dictionary(props, signature='sv')
        if path in self.devices:
            raise ValueError('device %s exists' % path)
        dev = Device(self, path, props)
        self.devices[path] = dev
        if self.conn is not None:
            dev.export()
        if emit and self.conn is not None:
            self.object_manager.InterfacesAdded(
                dbus.ObjectPath(path),
                dbus.Dictionary({DEVICE_IFACE: props}, signature='sa{sv}'))
        return path

    def set_device(self, path, invalidated=(), **changed):
        """Change Device1 properties of `path` (PropertiesChanged). Values must be dbus-typed
        or plain str/bool/int (str -> s, bool -> b, int -> u)."""
        conv = {}
        for k, v in changed.items():
            if isinstance(v, (dbus.String, dbus.Boolean, dbus.UInt32, dbus.Int16, dbus.ObjectPath,
                              dbus.Array, dbus.Dictionary)):
                conv[k] = v
            elif isinstance(v, bool):
                conv[k] = dbus.Boolean(v)
            elif isinstance(v, int):
                conv[k] = dbus.UInt32(v)
            else:
                conv[k] = dbus.String(v)
        self.devices[path].set_props(DEVICE_IFACE, conv, invalidated)

    def remove_device(self, path, emit=True):
        dev = self.devices.pop(path)
        if self.conn is not None:
            dev.remove_from_connection()
            if emit:
                self.object_manager.InterfacesRemoved(
                    dbus.ObjectPath(path),
                    dbus.Array([DEVICE_IFACE, PROPS_IFACE], signature='s'))

    def clear_devices(self, emit=True):
        for path in list(self.devices):
            self.remove_device(path, emit)

    def set_adapter(self, **changed):
        self.adapter.set_props(ADAPTER_IFACE, changed)


def _main():
    import argparse
    ap = argparse.ArgumentParser(description='fake org.bluez on a bus')
    ap.add_argument('--address', required=True)
    ap.add_argument('--device', action='append', default=[], help='ADDR[=NAME]')
    a = ap.parse_args()
    mainloop()
    fake = FakeBluez(a.address)
    for d in a.device:
        addr, _, name = d.partition('=')
        fake.add_device(addr, name or None, emit=False)
    fake.listeners.append(lambda rec: print('call', rec, flush=True))
    fake.start()
    print('owning org.bluez as', fake.unique_name, flush=True)
    GLib.MainLoop().run()


if __name__ == '__main__':
    _main()
