#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd-analyze verify of the generated pairgate.service.
# Usage: unit-verify.sh <generated unit> <pairgated binary> <man build dir>
# ExecStart= is pointed at the built binary (verify requires an executable); the Documentation=
# man pages are looked up in the build tree (MANPATH). Any diagnostic fails the test: verify
# exits 0 on unknown keys and only prints them.
# SKIP (exit 77) when systemd-analyze is missing, or when `man` is (a minimal system without
# man-db: verify runs `man` for each Documentation= page); in the latter case everything but the
# pages is still verified first, and a problem there fails the test.
set -eu
unit=$1 bin=$2 mandir=$3
command -v systemd-analyze >/dev/null ||
    { echo "SKIP: systemd-analyze is not installed (tools/install-deps.sh test installs systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -x "$bin" ]; then
    exe=$bin
else
    echo "NOTE: $bin is not built; verifying with ExecStart=/bin/true"
    exe=/bin/true
fi
grep -q '^ExecStart=' "$unit" || { echo "FAIL: no ExecStart= in $unit"; exit 1; }
sed "s|^ExecStart=[^ ]*|ExecStart=$exe|" "$unit" >"$tmp/pairgate.service"

for page in man8/pairgated.8 man5/pairgate.conf.5; do
    [ -f "$mandir/$page" ] || { echo "FAIL: $mandir/$page not built (build the 'pairgate-man' target)"; exit 1; }
done

man=yes
command -v man >/dev/null || man=no
rc=0
MANPATH="$mandir" SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=$man "$tmp/pairgate.service" \
    >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: systemd-analyze verify --man=$man exited with $rc"
    exit 1
fi
if [ -s "$tmp/out" ]; then
    echo "FAIL: systemd-analyze verify --man=$man printed diagnostics"
    exit 1
fi
if [ "$man" = no ]; then
    echo "OK: systemd-analyze verify --man=no pairgate.service (ExecStart=$exe)"
    echo "SKIP: 'man' is not installed, so the Documentation= pages were not checked (tools/install-deps.sh test installs man-db)"
    exit 77
fi
echo "OK: systemd-analyze verify pairgate.service (ExecStart=$exe, Documentation= pages found)"
