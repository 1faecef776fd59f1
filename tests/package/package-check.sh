#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the Debian package of the source tree (tools/build-deb.sh, this machine's architecture
# or --arch) and checks it: lintian reports no error and no warning (tags that are justified are
# overridden in debian/pairgate.lintian-overrides, each with its reason), and the package holds
# what a service package must (the files `cmake --install` installs, the conffile, compressed man
# pages, copyright, changelog, Depends on bluez and dbus, the maintainer scripts' helpers, the
# programs built for the package's architecture).
# Usage: package-check.sh <source dir> <output dir> [--arch ARCH] [--deb FILE]
#   --arch ARCH   the architecture to build for (a cross build: tools/build-deb.sh --arch)
#   --deb FILE    check FILE, built already by tools/build-deb.sh --out <output dir> (e.g. in
#                 tools/cross-root.sh's build root), instead of building it here
# Exit status 77 (SKIP, reason printed) without dpkg-buildpackage, debhelper or lintian
# (tools/install-deps.sh deb test).
set -eu
src=$1 out=$2
shift 2
arch=$(dpkg --print-architecture) deb=""
while [ $# -gt 0 ]; do
    case $1 in
    --arch) arch=$2; shift ;;
    --deb) deb=$2; shift ;;
    *) echo "package-check: unknown argument '$1'"; exit 2 ;;
    esac
    shift
done
tools="lintian:lintian"
[ -n "$deb" ] || tools="dpkg-buildpackage:dpkg-dev dh:debhelper cmake:cmake scdoc:scdoc $tools"
for t in $tools; do
    command -v "${t%%:*}" >/dev/null ||
        { echo "SKIP: ${t%%:*} is not installed (package ${t#*:}: tools/install-deps.sh deb test)"; exit 77; }
done
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL: $*"; fail=1; }

mkdir -p "$out"
if [ -z "$deb" ]; then
    log="$out/build-deb.log"
    t0=$(date +%s)
    if ! "$src/tools/build-deb.sh" --no-deps --arch "$arch" --out "$out" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "FAIL: tools/build-deb.sh --arch $arch failed (log: $log)"
        exit 1
    fi
    deb=$(tail -n 1 "$log")
    echo "built $deb in $(( $(date +%s) - t0 )) s, $(du -k "$deb" | cut -f1) KiB"
else
    echo "checking $deb, $(du -k "$deb" | cut -f1) KiB"
fi
a=$(dpkg-deb -f "$deb" Architecture)
[ "$a" = "$arch" ] && ok "Architecture: $a" || bad "Architecture: '$a', expected $arch"

# lintian: everything it says is shown; errors and warnings fail the test.
t0=$(date +%s)
lrc=0
lintian --info --display-experimental --fail-on error,warning "$deb" >"$out/lintian.txt" 2>&1 || lrc=$?
sed 's/^/lintian: /' "$out/lintian.txt"
if [ "$lrc" -ne 0 ]; then
    bad "lintian exit status $lrc (errors or warnings above)"
else
    ok "lintian: no error, no warning ($(( $(date +%s) - t0 )) s)"
fi

# What is in the package.
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
for f in /usr/sbin/pairgated /lib/systemd/system/pairgate.service /usr/lib/sysusers.d/pairgate.conf \
    /usr/lib/systemd/catalog/pairgate.catalog /usr/share/dbus-1/system.d/pairgate.conf \
    /etc/pairgate/pairgate.conf /usr/share/doc/pairgate/pairgate.conf.example \
    /usr/share/doc/pairgate/copyright /usr/share/doc/pairgate/changelog.gz \
    /usr/share/man/man8/pairgated.8.gz /usr/share/man/man5/pairgate.conf.5.gz \
    /usr/bin/pairgatectl /usr/share/man/man1/pairgatectl.1.gz \
    /usr/share/bash-completion/completions/pairgatectl; do
    if printf '%s\n' "$contents" | grep -qx "$f"; then ok "contains $f"; else bad "missing $f"; fi
done
if printf '%s\n' "$contents" | grep -q '^/usr/share/man/.*[0-9]$'; then
    bad "uncompressed man pages: $(printf '%s\n' "$contents" | grep '^/usr/share/man/.*[0-9]$' | tr '\n' ' ')"
fi
# Every file `cmake --install` puts in the package's tree is in the package (pairgatectl, its man
# page and completion included once they exist): the staged tree against the .deb.
staged=$(dirname "$deb")/$arch
tree=$(find "$staged"/pairgate-*/debian/pairgate -path '*/DEBIAN' -prune -o -type f -print 2>/dev/null |
    sed "s|^$staged/pairgate-[^/]*/debian/pairgate||" | sort)
missing=$(printf '%s\n' "$tree" | while read -r f; do
    [ -n "$f" ] && ! printf '%s\n' "$contents" | grep -qxF "$f" && echo "$f"; done || true)
[ -z "$missing" ] && ok "every staged file is in the package" || bad "staged but not packaged: $missing"
bins=$(printf '%s\n' "$contents" | grep -E '^/usr/s?bin/.' || true)
for b in $bins; do
    n=$(basename "$b")
    if printf '%s\n' "$contents" | grep -qE "^/usr/share/man/man[18]/$n\.[18]\.gz$"; then
        ok "$b has its man page"
    else
        bad "$b has no man page"
    fi
done

conff=$(dpkg-deb -f "$deb" Package >/dev/null && dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles 2>/dev/null || true)
[ "$conff" = /etc/pairgate/pairgate.conf ] && ok "conffiles: $conff" || bad "conffiles: '$conff', expected /etc/pairgate/pairgate.conf"
dep=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $dep"
for d in bluez dbus libsystemd0 libglib2.0-0 libconfig9 libevdev2 libc6; do
    printf '%s\n' "$dep" | tr ',' '\n' | grep -q "^ *$d\( \|$\)" && ok "Depends on $d" || bad "Depends lacks $d"
done
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$deb" "$ctl/DEBIAN"
# The programs are built for the package's architecture.
case $arch in
amd64) machine="X86-64" ;;
arm64) machine="AArch64" ;;
armhf) machine="ARM" ;;
*) machine="" ;;
esac
dpkg-deb -x "$deb" "$ctl"
for b in $bins; do
    m=$(readelf -h "$ctl$b" 2>/dev/null | sed -n 's/^ *Machine: *//p')
    case $m in
    *"$machine"*) ok "$b is an $m executable" ;;
    *) bad "$b is a '$m' executable, expected $machine for $arch" ;;
    esac
done
ctl=$ctl/DEBIAN
grep -q 'systemd-sysusers.*pairgate.conf' "$ctl/postinst" && ok "postinst: systemd-sysusers" || bad "postinst lacks systemd-sysusers"
grep -q "deb-systemd-helper enable 'pairgate.service'" "$ctl/postinst" && ok "postinst: enables" || bad "postinst does not enable the service"
grep -q '_dh_action=restart' "$ctl/postinst" && ok "postinst: restart on upgrade" || bad "postinst does not restart on upgrade"
grep -q "deb-systemd-invoke stop 'pairgate.service'" "$ctl/prerm" && ok "prerm: stops on remove" || bad "prerm does not stop"
grep -q 'rm -rf /var/lib/pairgate' "$ctl/postrm" && ok "postrm: purge removes the state" || bad "postrm keeps the state on purge"
for s in postinst prerm postrm; do sh -n "$ctl/$s" || bad "$s: syntax error"; done
exit $fail
