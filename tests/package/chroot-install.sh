#!/bin/sh
# SPDX-License-Identifier: MIT
# The package in a plain chroot without systemd (no systemd as PID 1, no system bus, as in a
# container or a build chroot): `apt-get install ./pairgate_*.deb` succeeds, creates the user,
# enables the unit without starting anything, and `pairgated --check-config` works there; then
# `apt-get purge` removes the configuration and the user again.
# The chroot is this machine's own root seen through an overlay (lower: /, upper: a tmpfs), so
# the package's dependencies are those installed here and nothing is downloaded or changed on
# the machine; it gets a new /proc, an empty /run and /tmp, and /dev from the machine.
# Usage: chroot-install.sh <directory with pairgate_*_<arch>.deb>
# Exit status 77 (SKIP, reason printed) when not root or when the overlay cannot be mounted.
set -eu
dir=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (mount, chroot)"; exit 77; }
arch=$(dpkg --print-architecture)
deb=$(ls -t "$dir"/pairgate_*_"$arch".deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "FAIL: no $dir/pairgate_*_$arch.deb (test package/deb-lintian builds it)"; exit 1; }
for d in bluez dbus; do
    dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" ||
        { echo "SKIP: $d is not installed here, and the overlay chroot installs nothing from the network (tools/install-deps.sh runtime)"; exit 77; }
done

tmp=$(mktemp -d)
root=$tmp/root
cleanup() {
    for m in $(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    umount "$tmp" 2>/dev/null || umount -l "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount -t tmpfs -o mode=0755 tmpfs "$tmp"
mkdir -p "$tmp/upper" "$tmp/work" "$root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work" "$root" 2>"$tmp/err"; then
    echo "SKIP: cannot mount an overlay of / here: $(cat "$tmp/err")"
    exit 77
fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mkdir -m 1777 "$root/run/lock"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
cp "$deb" "$root/tmp/"
rm -f "$root/usr/sbin/policy-rc.d" # plain: nothing refuses services; there is no init to ask
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL: $*"; fail=1; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

if in_root dpkg-query -W -f='${Status}' pairgate 2>/dev/null | grep -q installed; then
    echo "note: pairgate is installed on this machine; purged first inside the chroot"
    in_root apt-get purge -y -q pairgate >"$tmp/purge0.log" 2>&1 || { cat "$tmp/purge0.log"; bad "first purge failed"; }
fi
[ -d "$root/run/systemd/system" ] && bad "the chroot has /run/systemd/system" || ok "no systemd running in the chroot"
rc=0
in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" >"$tmp/install.log" 2>&1 || rc=$?
sed 's/^/  apt: /' "$tmp/install.log" | grep -v -e '^  apt: (\{0,1\}\(Reading\|Building\)' || true
[ "$rc" -eq 0 ] && ok "apt-get install ./$(basename "$deb") exit 0" || bad "apt-get install exited $rc"
st=$(in_root dpkg-query -W -f='${Status} ${Version}' pairgate 2>&1 || true)
case $st in "install ok installed "*) ok "dpkg: $st" ;; *) bad "dpkg status: $st" ;; esac
u=$(in_root getent passwd pairgate || true)
[ -n "$u" ] && ok "user: $u" || bad "no user pairgate after install"
g=$(in_root getent group pairgate-admin || true)
[ -n "$g" ] && ok "group: $g" || bad "no group pairgate-admin after install"
rc=0
out=$(in_root /usr/bin/pairgatectl --help 2>&1) || rc=$?
[ "$rc" -eq 0 ] && ok "pairgatectl --help: $(printf '%s\n' "$out" | head -n 1)" || bad "pairgatectl --help exited $rc: $out"
if [ -L "$root/etc/systemd/system/multi-user.target.wants/pairgate.service" ]; then
    ok "pairgate.service enabled (deb-systemd-helper's symlink in multi-user.target.wants), not started"
else
    bad "pairgate.service not enabled"
fi
pgrep -f "^$root" >/dev/null 2>&1 && bad "a process runs from the chroot"
rc=0
out=$(in_root /usr/sbin/pairgated --check-config 2>&1) || rc=$?
[ "$rc" -eq 0 ] && ok "pairgated --check-config: exit 0: $(printf '%s\n' "$out" | tail -n 1)" ||
    bad "pairgated --check-config exited $rc: $out"
rc=0
in_root apt-get purge -y -q pairgate >"$tmp/purge.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && ok "apt-get purge pairgate exit 0" || { cat "$tmp/purge.log"; bad "apt-get purge exited $rc"; }
[ -e "$root/etc/pairgate" ] && bad "/etc/pairgate left after purge: $(ls -A "$root/etc/pairgate")" || ok "/etc/pairgate gone"
in_root getent passwd pairgate >/dev/null && bad "user pairgate left after purge" || ok "user pairgate gone"
in_root getent group pairgate >/dev/null && bad "group pairgate left after purge" || ok "group pairgate gone"
in_root getent group pairgate-admin >/dev/null && bad "group pairgate-admin left after purge" || ok "group pairgate-admin gone"
exit $fail
