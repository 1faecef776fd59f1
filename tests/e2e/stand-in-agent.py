#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A tiny stand-in for pairgated, for debugging the e2e plumbing only (run-e2e --stand-in).

It reads the same configuration file (a crude reader of the subset the e2e suite writes:
capability, request_timeout, routes with the "allowlist" policy, allowlist.devices), registers
/org/pairgate/agent as the default agent on the system bus, and prints audit lines on stderr in
pairgated's format ("audit key=value ..."). It is NOT pairgated: the real cases run the binary
built from this checkout.
"""
import argparse
import re
import sys
import time

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

AGENT_PATH = "/org/pairgate/agent"
AGENT_IFACE = "org.bluez.Agent1"


def parse_conf(text):
    text = re.sub(r"(#|//).*", "", text)
    conf = {"capability": "KeyboardDisplay", "request_timeout": 25, "routes": {}, "devices": []}
    m = re.search(r'\bcapability\s*=\s*"([^"]*)"', text)
    if m:
        conf["capability"] = m.group(1)
    m = re.search(r"\brequest_timeout\s*=\s*(\d+)", text)
    if m:
        conf["request_timeout"] = int(m.group(1))
    m = re.search(r"\broutes\s*=\s*\{(.*?)\}\s*;", text, re.S)
    if m:
        for name, body in re.findall(r"(\w+)\s*=\s*\[(.*?)\]", m.group(1), re.S):
            conf["routes"][name] = re.findall(r'"([^"]*)"', body)
    m = re.search(r"\ballowlist\s*=\s*\{(.*?)\}\s*;", text, re.S)
    if m:
        d = re.search(r"devices\s*=\s*\[(.*?)\]", m.group(1), re.S)
        if d:
            conf["devices"] = [a.upper() for a in re.findall(r'"([^"]*)"', d.group(1))]
    return conf


def q(v):
    v = str(v)
    return '"%s"' % v.replace('"', "'") if (" " in v or v == "") else v


def audit(**kv):
    sys.stderr.write("audit " + " ".join("%s=%s" % (k, q(v)) for k, v in kv.items()) + "\n")
    sys.stderr.flush()


class Rejected(dbus.DBusException):
    _dbus_error_name = "org.bluez.Error.Rejected"


class Agent(dbus.service.Object):
    def __init__(self, bus, conf):
        super().__init__(bus, AGENT_PATH)
        self.bus = bus
        self.conf = conf
        self.n = 0

    def _addr(self, dev):
        try:
            props = dbus.Interface(self.bus.get_object("org.bluez", dev), "org.freedesktop.DBus.Properties")
            return str(props.Get("org.bluez.Device1", "Address")), str(props.Get("org.bluez.Device1", "AddressType"))
        except dbus.DBusException:
            m = re.search(r"dev_(\w\w_\w\w_\w\w_\w\w_\w\w_\w\w)", dev)
            return (m.group(1).replace("_", ":") if m else "?"), "?"

    def _decide(self, method, dev, extra=None):
        self.n += 1
        t0 = time.monotonic()
        addr, atype = self._addr(dev)
        route = self.conf["routes"].get(method)
        kv = dict(request=self.n, method=method, device=dev, address=addr, address_type=atype)
        kv.update(extra or {})
        if route is None:
            audit(event="deny", **kv, policy="none", decision="deny", reason="method not routed",
                  latency_ms=int((time.monotonic() - t0) * 1000))
            raise Rejected("not routed")
        for pol in route:
            if pol == "allowlist":
                if addr.upper() in self.conf["devices"]:
                    audit(event="allow", **kv, policy="allowlist", decision="allow", reason="listed",
                          latency_ms=int((time.monotonic() - t0) * 1000))
                    return
                audit(event="deny", **kv, policy="allowlist", decision="deny", reason="not listed",
                      latency_ms=int((time.monotonic() - t0) * 1000))
                raise Rejected("not listed")
        audit(event="deny", **kv, policy="none", decision="deny", reason="no decision",
              latency_ms=int((time.monotonic() - t0) * 1000))
        raise Rejected("no decision")

    @dbus.service.method(AGENT_IFACE, in_signature="", out_signature="")
    def Release(self):
        audit(event="released")

    @dbus.service.method(AGENT_IFACE, in_signature="", out_signature="")
    def Cancel(self):
        audit(event="cancel")

    @dbus.service.method(AGENT_IFACE, in_signature="o", out_signature="s")
    def RequestPinCode(self, dev):
        self._decide("RequestPinCode", dev)
        raise Rejected("stand-in has no PIN")

    @dbus.service.method(AGENT_IFACE, in_signature="o", out_signature="u")
    def RequestPasskey(self, dev):
        self._decide("RequestPasskey", dev)
        raise Rejected("stand-in has no passkey")

    @dbus.service.method(AGENT_IFACE, in_signature="ouq", out_signature="")
    def DisplayPasskey(self, dev, passkey, entered):
        self.n += 1
        addr, atype = self._addr(dev)
        audit(event="display", request=self.n, method="DisplayPasskey", device=dev, address=addr,
              address_type=atype, passkey="%06d" % passkey, entered=int(entered))

    @dbus.service.method(AGENT_IFACE, in_signature="os", out_signature="")
    def DisplayPinCode(self, dev, pin):
        self._decide("DisplayPinCode", dev, {"pincode": pin})

    @dbus.service.method(AGENT_IFACE, in_signature="ou", out_signature="")
    def RequestConfirmation(self, dev, passkey):
        self._decide("RequestConfirmation", dev, {"passkey": "%06d" % passkey})

    @dbus.service.method(AGENT_IFACE, in_signature="o", out_signature="")
    def RequestAuthorization(self, dev):
        self._decide("RequestAuthorization", dev)

    @dbus.service.method(AGENT_IFACE, in_signature="os", out_signature="")
    def AuthorizeService(self, dev, uuid):
        self._decide("AuthorizeService", dev, {"uuid": uuid})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", required=True)
    args = ap.parse_args()
    conf = parse_conf(open(args.c).read())
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    agent = Agent(bus, conf)
    loop = GLib.MainLoop()
    state = {"registered": False}

    def register():
        try:
            mgr = dbus.Interface(bus.get_object("org.bluez", "/org/bluez"), "org.bluez.AgentManager1")
            mgr.RegisterAgent(AGENT_PATH, conf["capability"])
            mgr.RequestDefaultAgent(AGENT_PATH)
            state["registered"] = True
            audit(event="registered", capability=conf["capability"], path=AGENT_PATH)
        except dbus.DBusException as e:
            sys.stderr.write("warning: register failed: %s\n" % e)

    def owner_changed(new):
        if new:
            audit(event="bluez-appeared")
            register()
        else:
            audit(event="bluez-vanished")
            state["registered"] = False

    bus.watch_name_owner("org.bluez", owner_changed)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)
    sys.stderr.write("info: stand-in agent running, capability=%s\n" % conf["capability"])
    loop.run()
    _ = agent


if __name__ == "__main__":
    main()
