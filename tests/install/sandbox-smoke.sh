#!/bin/sh
# SPDX-License-Identifier: MIT
# The real pairgated under the sandbox the unit gives it, against a private bus with the
# installed D-Bus policy: run as an unprivileged user ("nobody" stands in for "pairgate") in a
# new network namespace (PrivateNetwork=yes) and, when the kernel allows it, a user namespace
# mapping only that user (PrivateUsers=yes). A stand-in bluetoothd owns org.bluez. pairgated
# must connect over the socket file, register as the agent through the policy, and stop with
# status 0 on SIGTERM. Root only (exit 77 = skipped otherwise).
# Usage: sandbox-smoke.sh <pairgated> <pairgate-dbus.conf> <pairgate.conf> <dbus-policy-peer>
set -eu
. "$(dirname "$0")/system-bus.sh"
bin=$1 policy=$2 conf=$3 peer=$4
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
for c in setpriv unshare timeout dbus-daemon; do
    command -v $c >/dev/null || { echo "SKIP: $c missing"; exit 77; }
done
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
    { echo "SKIP: user nobody or group nogroup missing (they come with Debian's base-passwd)"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
# Under /tmp rather than $TMPDIR, and opened to all: the user nobody runs copies of pairgated
# and the peer from here (the checkout may be where it cannot reach them).
tmp=$(mktemp -d /tmp/pairgate-sandbox.XXXXXX)
chmod 755 "$tmp"
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

cp "$bin" "$tmp/pairgated"; cp "$peer" "$tmp/peer"; cp "$conf" "$tmp/pairgate.conf"
chmod 755 "$tmp/pairgated" "$tmp/peer"; chmod 644 "$tmp/pairgate.conf"
sed 's/user="pairgate"/user="nobody"/g' "$policy" >"$tmp/policy.conf"
cd "$tmp"   # a working directory every user can reach
# root may own org.bluez, as with BlueZ's bluetooth.conf; nothing else is opened
cat >"$tmp/bluez.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><policy user="root"><allow own="org.bluez"/></policy></busconfig>
XML
write_config "$tmp/bus.conf" "$tmp/bluez.conf" "$tmp/policy.conf"
dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address >"$tmp/address" 2>/dev/null &
pids="$pids $!"
i=0
while [ ! -s "$tmp/address" ]; do i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: no bus"; exit 1; }; sleep 0.05; done
chmod 666 "$tmp/bus"
"$tmp/peer" serve "unix:path=$tmp/bus" org.bluez >"$tmp/bluez" 2>&1 &
pids="$pids $!"
i=0
while [ ! -s "$tmp/bluez" ]; do i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: no stand-in bluetoothd"; exit 1; }; sleep 0.05; done

as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
if $as_nobody unshare --user --map-user=65534 --map-group=65534 --net true 2>/dev/null; then
    sandbox="$as_nobody unshare --user --map-user=65534 --map-group=65534 --net"
    echo "sandbox: user nobody, new user namespace (only nobody mapped), new network namespace"
else
    sandbox="unshare --net $as_nobody"
    echo "sandbox: user nobody, new network namespace (no unprivileged user namespaces here)"
fi
rc=0
$sandbox env -i "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus" \
    timeout --preserve-status -s TERM 3 "$tmp/pairgated" -c "$tmp/pairgate.conf" -v >"$tmp/out" 2>&1 || rc=$?
grep -v '^audit event=config-warning' "$tmp/out" || true
fail=0
grep -q '^audit event=registered ' "$tmp/out" || { echo "FAIL: pairgated did not register through the policy"; fail=1; }
grep -q '^audit event=stopping' "$tmp/out" || { echo "FAIL: no stopping record after SIGTERM"; fail=1; }
if grep -q -e AccessDenied -e 'Rejected send message' -e 'Rejected receive message' "$tmp/out"; then echo "FAIL: the bus policy denied a call pairgated makes"; fail=1; fi
[ "$rc" -eq 0 ] || { echo "FAIL: pairgated exited with $rc after SIGTERM, want 0"; fail=1; }
[ "$fail" -eq 0 ] && echo "OK: pairgated runs sandboxed on a socket-file bus and registers through the D-Bus policy"
exit "$fail"
