#!/bin/sh
# SPDX-License-Identifier: MIT
# The D-Bus policy systemd/pairgate-dbus.conf, checked with a real dbus-daemon on a private
# socket in a temporary directory (the system bus is not touched).
#
#   dbus-policy.sh parse POLICY
#       dbus-daemon loads a system-bus configuration that includes POLICY (and refuses a
#       deliberately broken copy, so the check can fail).
#   dbus-policy.sh behaviour POLICY PEER_HELPER
#       Root only (exit 77 = skipped otherwise). The policy, with user "pairgate" replaced by
#       "nobody", on a bus with the system.conf defaults and an upstream-like bluetooth.conf
#       (root owns org.bluez; everybody may send to org.bluez). Checks that the pairgate user
#       may call exactly the allowed org.bluez methods, that only the owner of org.bluez
#       may call org.bluez.Agent1 on the agent, and that a stranger may not call org.pairgate.
set -eu
mode=$1
command -v dbus-daemon >/dev/null ||
    { echo "SKIP: dbus-daemon is not installed (tools/install-deps.sh test installs dbus)"; exit 77; }
policy=$(readlink -f "$2")
# Under /tmp rather than $TMPDIR, and opened to all: the users nobody and daemon run a copy of
# the peer from here (the checkout may be where they cannot reach it).
tmp=$(mktemp -d /tmp/pairgate-policy.XXXXXX)
chmod 755 "$tmp"
daemon_pid=
pids=
cleanup() {
    for p in $pids $daemon_pid; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/system-bus.sh"

start_bus() { # $1 = config file; returns 0 when the bus is up
    rm -f "$tmp/bus" "$tmp/address"
    dbus-daemon --config-file="$1" --nofork --print-address >"$tmp/address" 2>"$tmp/daemon.err" &
    daemon_pid=$!
    i=0
    while [ ! -s "$tmp/address" ]; do
        if ! kill -0 "$daemon_pid" 2>/dev/null; then
            wait "$daemon_pid" 2>/dev/null || true
            daemon_pid=
            return 1
        fi
        i=$((i + 1))
        [ "$i" -lt 100 ] || { echo "FAIL: dbus-daemon did not start"; return 1; }
        sleep 0.05
    done
    chmod 666 "$tmp/bus"
    return 0
}

stop_bus() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
}

case $mode in
parse)
    write_config "$tmp/bus.conf" "$policy"
    if ! start_bus "$tmp/bus.conf"; then
        cat "$tmp/daemon.err"
        echo "FAIL: dbus-daemon refused a configuration including $policy"
        exit 1
    fi
    # Messages about unknown users are expected when the pairgate user does not exist here.
    grep -v -e 'Failed to set fd limit' -e 'Unknown username' "$tmp/daemon.err" || true
    stop_bus
    echo "OK: dbus-daemon $(dbus-daemon --version | head -n1 | sed 's/.* //') loads $policy"

    # Self-check: a broken copy must be refused.
    sed 's|</policy>|</polisy>|' "$policy" >"$tmp/broken.conf"
    write_config "$tmp/broken.conf.bus" "$tmp/broken.conf"
    if start_bus "$tmp/broken.conf.bus"; then
        stop_bus
        echo "FAIL: dbus-daemon accepted a broken policy; this test cannot detect errors"
        exit 1
    fi
    echo "OK: a broken copy is refused"
    ;;
behaviour)
    peer=$3
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (switches to the users root, nobody and daemon)"
        exit 77
    fi
    command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
    getent passwd nobody >/dev/null && getent passwd daemon >/dev/null &&
        getent group nogroup >/dev/null && getent group daemon >/dev/null ||
        { echo "SKIP: users nobody/daemon or groups nogroup/daemon missing (Debian's base-passwd has them)"; exit 77; }
    cp "$peer" "$tmp/peer"
    chmod 755 "$tmp/peer"
    cd "$tmp"   # a working directory every user can reach
    sed 's/user="pairgate"/user="nobody"/g' "$policy" >"$tmp/pairgate.conf"
    cat >"$tmp/bluetooth.conf" <<'XML'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- like BlueZ 5.66 src/bluetooth.conf -->
  <policy user="root">
    <allow own="org.bluez"/>
    <allow send_destination="org.bluez"/>
    <allow send_interface="org.bluez.Agent1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.bluez"/>
  </policy>
</busconfig>
XML
    write_config "$tmp/bus.conf" "$tmp/bluetooth.conf" "$tmp/pairgate.conf"
    start_bus "$tmp/bus.conf" || { cat "$tmp/daemon.err"; echo "FAIL: bus did not start"; exit 1; }
    addr=$(head -n1 "$tmp/address")
    as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
    as_daemon="setpriv --reuid=daemon --regid=daemon --clear-groups"

    serve() { # $1 = output file, then the command prefix and name
        out=$1; shift
        "$@" >"$out" 2>"$out.err" &
        pids="$pids $!"
        i=0
        while [ ! -s "$out" ]; do
            i=$((i + 1))
            [ "$i" -lt 100 ] || { cat "$out.err"; echo "FAIL: peer did not start: $*"; exit 1; }
            sleep 0.05
        done
    }
    fail=0
    expect() { # $1 = OK or error name, $2 = description, then the command
        want=$1 what=$2; shift 2
        got=$("$@" 2>"$tmp/call.err" || true)
        if [ "$got" = "$want" ]; then
            echo "ok   $what: $got"
        else
            echo "FAIL $what: got '$got', want '$want'"; cat "$tmp/call.err"; fail=1
        fi
    }
    denied=org.freedesktop.DBus.Error.AccessDenied

    # bluetoothd stand-in: root, owns org.bluez. The agent: user "pairgate" (nobody here).
    serve "$tmp/bluez.name" "$tmp/peer" serve "$addr" org.bluez
    bluez_pid=${pids##* }
    bluez=$(head -n1 "$tmp/bluez.name")
    serve "$tmp/agent.name" $as_nobody "$tmp/peer" serve "$addr" -
    agent=$(head -n1 "$tmp/agent.name")

    # (1) pairgate -> org.bluez
    for m in RegisterAgent RequestDefaultAgent UnregisterAgent; do
        expect OK "pairgate: AgentManager1.$m" $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez org.bluez.AgentManager1 $m
    done
    expect OK "pairgate: AgentManager1.RegisterAgent via unique name" \
        $as_nobody "$tmp/peer" call "$addr" - "$bluez" /org/bluez org.bluez.AgentManager1 RegisterAgent
    expect OK "pairgate: ObjectManager.GetManagedObjects" \
        $as_nobody "$tmp/peer" call "$addr" - "$bluez" / org.freedesktop.DBus.ObjectManager GetManagedObjects
    for m in Get GetAll Set; do
        expect OK "pairgate: Properties.$m" \
            $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF org.freedesktop.DBus.Properties $m
    done
    expect OK "pairgate: Adapter1.RemoveDevice (ForgetDevice)" \
        $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez/hci0 org.bluez.Adapter1 RemoveDevice
    expect $denied "pairgate: Adapter1.StartDiscovery (not needed)" \
        $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez/hci0 org.bluez.Adapter1 StartDiscovery
    expect $denied "pairgate: Device1.Pair (not needed)" \
        $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF org.bluez.Device1 Pair
    expect $denied "pairgate: AgentManager1 other member" \
        $as_nobody "$tmp/peer" call "$addr" - org.bluez /org/bluez org.bluez.AgentManager1 Frobnicate
    expect $denied "pairgate: own another name" $as_nobody "$tmp/peer" call "$addr" org.pairgate.other org.freedesktop.DBus / org.freedesktop.DBus GetId

    # (3) the control interface: the pairgate user owns org.pairgate; root may call it, a
    # stranger may not (members of pairgate-admin: tests/bus/test_control.py)
    serve "$tmp/control.name" $as_nobody "$tmp/peer" serve "$addr" org.pairgate
    expect OK "root -> org.pairgate Control1.GetStatus" \
        "$tmp/peer" call "$addr" - org.pairgate /org/pairgate/control org.pairgate.Control1 GetStatus
    expect OK "root -> org.pairgate Introspect" \
        "$tmp/peer" call "$addr" - org.pairgate /org/pairgate/control org.freedesktop.DBus.Introspectable Introspect
    expect $denied "stranger (daemon) -> org.pairgate Control1.GetStatus" \
        $as_daemon "$tmp/peer" call "$addr" - org.pairgate /org/pairgate/control org.pairgate.Control1 GetStatus
    expect $denied "stranger (daemon) -> org.pairgate Introspect" \
        $as_daemon "$tmp/peer" call "$addr" - org.pairgate /org/pairgate/control org.freedesktop.DBus.Introspectable Introspect

    # (2) who may call the agent
    expect $denied "stranger (daemon) -> agent Agent1.RequestConfirmation" \
        $as_daemon "$tmp/peer" call "$addr" - "$agent" /org/pairgate/agent org.bluez.Agent1 RequestConfirmation
    expect $denied "root without org.bluez -> agent Agent1.RequestConfirmation" \
        "$tmp/peer" call "$addr" - "$agent" /org/pairgate/agent org.bluez.Agent1 RequestConfirmation
    expect $denied "root without org.bluez -> agent Introspect" \
        "$tmp/peer" call "$addr" - "$agent" /org/pairgate/agent org.freedesktop.DBus.Introspectable Introspect
    expect $denied "stranger (daemon) -> agent Peer.Ping" \
        $as_daemon "$tmp/peer" call "$addr" - "$agent" /org/pairgate/agent org.freedesktop.DBus.Peer Ping
    # bluetoothd itself (root, owner of org.bluez): stop the stand-in and call as the new owner.
    kill "$bluez_pid"; wait "$bluez_pid" 2>/dev/null || true
    for m in RequestConfirmation RequestAuthorization AuthorizeService Release Cancel; do
        expect OK "bluetoothd (root, org.bluez) -> agent Agent1.$m" \
            "$tmp/peer" call "$addr" org.bluez "$agent" /org/pairgate/agent org.bluez.Agent1 $m
    done
    expect $denied "pairgate user cannot take the name org.bluez" \
        $as_nobody "$tmp/peer" call "$addr" org.bluez org.freedesktop.DBus / org.freedesktop.DBus GetId
    expect $denied "pairgate user (another connection) -> agent Agent1.RequestConfirmation" \
        $as_nobody "$tmp/peer" call "$addr" - "$agent" /org/pairgate/agent org.bluez.Agent1 RequestConfirmation

    [ "$fail" -eq 0 ] && echo "OK: the D-Bus policy behaves as documented"
    exit "$fail"
    ;;
*)
    echo "usage: $0 parse|behaviour POLICY [PEER_HELPER]"; exit 2 ;;
esac
