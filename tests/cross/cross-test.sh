#!/bin/sh
# SPDX-License-Identifier: MIT
# One Raspberry Pi architecture, built and tested (CTest cross/<arch>):
#   1. the cross-built pairgated and unit tests run under qemu-user (cross-check.sh);
#   2. the Debian package for the architecture builds (tools/build-deb.sh --arch), and lintian and
#      tests/package/package-check.sh find it sound (programs of the right machine, Depends, ...).
# Both run where the cross tools are: on this machine when its apt could install them
# (CROSS_ARCHS=<arch> tools/install-deps.sh cross), else in the build root of tools/cross-root.sh
# when it is prepared for the architecture (tools/run-tests.sh prepares it when this machine's apt
# cannot add the architecture). Neither: SKIP (77) with both reasons.
# Usage: cross-test.sh <arm64|armhf> <source dir> <output dir> <native pairgated>
set -eu
arch=$1 src=$2 out=$3 native=$4
mkdir -p "$out"
fail=0

rc=0
sh "$src/tests/cross/cross-check.sh" "$arch" "$src" "$out/check" "$native" >"$out/check-here.txt" 2>&1 || rc=$?
if [ "$rc" -ne 77 ]; then
    where="this machine"
    cat "$out/check-here.txt"
elif [ "$(id -u)" -eq 0 ] && "$src/tools/cross-root.sh" --arch "$arch" ready; then
    where="the build root of tools/cross-root.sh"
    echo "not on this machine: $(grep '^SKIP' "$out/check-here.txt")"
    echo "so in $where:"
    # the native binary (built here, with sanitizers) runs here; its output is compared in the root
    "$native" --explain --json -c "$src/conf/pairgate.conf" >"$out/explain-native.json" 2>/dev/null || true
    rc=0
    "$src/tools/cross-root.sh" --arch "$arch" check "$out/check" "$out/explain-native.json" || rc=$?
else
    cat "$out/check-here.txt"
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: $arch: and tools/cross-root.sh's build root needs root"
    else
        echo "SKIP: $arch: and tools/cross-root.sh's build root is not prepared for $arch (sudo tools/cross-root.sh --arch $arch prepare)"
    fi
    exit 77
fi
[ "$rc" -eq 0 ] || fail=1

echo "== the package for $arch, built on $where"
t0=$(date +%s)
if [ "$where" = "this machine" ]; then
    sh "$src/tests/package/package-check.sh" "$src" "$out/deb" --arch "$arch" || { [ $? -eq 77 ] || fail=1; }
else
    log="$out/deb.log"
    if "$src/tools/cross-root.sh" --arch "$arch" deb --out "$out/deb" >"$log" 2>&1; then
        deb=$(tail -n 1 "$log")
        echo "built $(basename "$deb") in $(( $(date +%s) - t0 )) s"
        sh "$src/tests/package/package-check.sh" "$src" "$out/deb" --arch "$arch" --deb "$deb" ||
            { [ $? -eq 77 ] || fail=1; }
    else
        tail -n 30 "$log"
        echo "FAIL: $arch: tools/cross-root.sh deb failed (log: $log)"
        fail=1
    fi
fi
exit $fail
