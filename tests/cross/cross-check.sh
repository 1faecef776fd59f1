#!/bin/sh
# SPDX-License-Identifier: MIT
# The cross-built binaries tested, not just built: cross-compiles pairgated and the unit tests for
# a Raspberry Pi architecture (arm64 or armhf) with Debian's cross toolchain and multiarch
# libraries, then runs them under qemu-user: the unit tests (ctest -L unit, qemu as CMake's
# CMAKE_CROSSCOMPILING_EMULATOR), `pairgated --explain --json` (must equal the native binary's
# output, when one is given) and `pairgated --check-config` (valid file: 0; broken: 3, file:line).
# It runs where the cross tools are: on this machine, or in tools/cross-root.sh's build root
# (tests/cross/cross-test.sh decides).
# Only what the check needs is built (pairgated and the unit test programs), without sanitizers.
# Usage: cross-check.sh <arm64|armhf> <source dir> <build dir> [native pairgated | its output]
#   (the native pairgated's `--explain --json -c <source dir>/conf/pairgate.conf` output, when the
#   native binary cannot run where this does)
# Exit status 77 (SKIP, reason printed) when the cross toolchain, the libraries or qemu-user are
# missing: CROSS_ARCHS=<arch> tools/install-deps.sh cross installs them.
set -eu
arch=$1 src=$2 out=$3 native=${4:-}
case $arch in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static proc=aarch64 machine=AArch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static proc=arm machine=ARM ;;
*) echo "cross-check: unknown architecture '$arch' (arm64, armhf)"; exit 2 ;;
esac
skip() { echo "SKIP: $arch: $* (CROSS_ARCHS=$arch tools/install-deps.sh cross)"; exit 77; }
command -v "$triplet-gcc" >/dev/null || skip "no cross compiler $triplet-gcc (crossbuild-essential-$arch)"
command -v "$triplet-pkg-config" >/dev/null || skip "no $triplet-pkg-config (pkgconf:$arch)"
qemu_bin=$(command -v "$qemu") || skip "no $qemu (qemu-user-static)"
for m in libsystemd glib-2.0 libconfig libevdev; do
    "$triplet-pkg-config" --exists "$m" || skip "no $m for $arch ($triplet-pkg-config; the -dev package :$arch)"
done
command -v cmake >/dev/null || skip "no cmake"

t0=$(date +%s)
# (emptied, not removed: in the build root it is a mount point)
mkdir -p "$out"
find "$out" -mindepth 1 -delete
log="$out/cross-build.log"
if ! cmake -S "$src" -B "$out" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="$proc" \
    -DCMAKE_C_COMPILER="$triplet-gcc" -DPKG_CONFIG_EXECUTABLE="$(command -v "$triplet-pkg-config")" \
    -DCMAKE_CROSSCOMPILING_EMULATOR="$qemu_bin" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBUILD_TESTING=ON -DPAIRGATE_SANITIZE=OFF -DPAIRGATE_TEST_POLICIES=OFF -DPAIRGATE_WERROR=ON \
    >"$log" 2>&1; then
    tail -n 30 "$log"
    echo "FAIL: $arch: cmake configure failed (log: $log)"
    exit 1
fi
# The unit tests' programs (a unit test can also be a script: no target to build).
all_targets=$(cmake --build "$out" --target help 2>/dev/null | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
targets=$(cd "$out" && ctest -N -L '^unit$' -LE '^fuzz$' | sed -n 's|^ *Test *#[0-9]*: unit/||p' |
    while read -r t; do printf '%s\n' "$all_targets" | grep -qx "$t" && echo "$t"; done || true)
[ -n "$targets" ] || { echo "FAIL: $arch: no unit test programs found (ctest -N -L unit)"; exit 1; }
# shellcheck disable=SC2086
if ! cmake --build "$out" -j"$(nproc)" --target pairgated $targets >>"$log" 2>&1; then
    grep -E 'error|warning' "$log" | head -n 30
    echo "FAIL: $arch: the cross build failed (log: $log)"
    exit 1
fi
t_build=$(( $(date +%s) - t0 ))
fail=0
m=$(readelf -h "$out/pairgated" | sed -n 's/^ *Machine: *//p')
case $m in
*"$machine"*) echo "ok   $arch: pairgated is an $m executable (built in ${t_build} s)" ;;
*) echo "FAIL: $arch: pairgated is a '$m' executable, expected $machine"; fail=1 ;;
esac

# Two unit test programs run with a choice of cases under qemu-user (the others run whole):
# - test-button without its FIFO cases (input/*, reload/takeover): qemu-user answers the evdev
#   ioctls it does not translate (EVIOCSCLOCKID, EVIOCGBIT) with ENOSYS where the kernel says
#   ENOTTY for a FIFO, so the FIFO is taken for an evdev node;
# - test-speech only with its cases that neither time spawned processes nor make a spawn fail:
#   the others bound times (1-5 s: utterance timeout, SIGTERM to SIGKILL, pauses, the player)
#   that the emulated event loop missed on this loaded machine (five different cases in four
#   runs), or test a command that cannot be run, whose error glibc's posix_spawn (clone with
#   CLONE_VFORK, emulated as a fork) reports as exit status 127 under qemu-user.
# Natively (ctest -L unit) every case runs.
qemu_cases="test-button|-s /button/input/fifo -s /button/input/appears-later -s /button/reload/takeover
test-speech|-p /speech/config-errors -p /speech/texts -p /speech/custom-texts-and-names -p /speech/no-shell -p /speech/hostile-text-one-argument -p /speech/pin-never-in-argv -p /speech/no-option-in-argv"
t0=$(date +%s)
exclude=$(printf '%s\n' "$qemu_cases" | cut -d'|' -f1 | paste -sd'|' -)
if (cd "$out" && ctest -L '^unit$' -LE '^fuzz$' -E "^unit/($exclude)\$" --output-on-failure -j"$(nproc)" --timeout 300); then
    echo "ok   $arch: unit tests pass under $qemu ($(( $(date +%s) - t0 )) s)"
else
    echo "FAIL: $arch: unit tests under $qemu"
    fail=1
fi
printf '%s\n' "$qemu_cases" | while IFS='|' read -r p gargs; do
    # the environment of pairgate_unit_test() in tests/unit/CMakeLists.txt
    # shellcheck disable=SC2086
    if (cd "$out/tests/unit" && G_DEBUG=fatal-criticals G_SLICE=always-malloc \
        timeout 300 "$qemu_bin" "./$p" --tap $gargs >"$out/$p.tap" 2>&1); then
        echo "ok   $arch: unit/$p passes under $qemu ($(grep '^ok ' "$out/$p.tap" | grep -vc '# SKIP') cases run; $gargs)"
        # the cases it skipped, with the reason (tools/run-tests.sh lists them)
        grep '# SKIP' "$out/$p.tap" | sed "s|^|     $arch: unit/$p: |" || true
    else
        tail -n 20 "$out/$p.tap"
        echo "FAIL: $arch: unit/$p under $qemu"
        exit 1
    fi
done || fail=1

conf="$src/conf/pairgate.conf"
if "$qemu_bin" "$out/pairgated" --explain --json -c "$conf" >"$out/explain.json" 2>"$out/explain.err"; then
    if [ -n "$native" ]; then
        if [ -x "$native" ]; then
            "$native" --explain --json -c "$conf" >"$out/explain-native.json" 2>/dev/null || true
        else
            cp "$native" "$out/explain-native.json"
        fi
        if cmp -s "$out/explain.json" "$out/explain-native.json"; then
            echo "ok   $arch: pairgated --explain --json equals the native binary's ($(wc -c <"$out/explain.json") bytes)"
        else
            echo "FAIL: $arch: pairgated --explain --json differs from the native binary's:"
            diff "$out/explain-native.json" "$out/explain.json" | head -n 20
            fail=1
        fi
    elif python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/explain.json" 2>/dev/null; then
        echo "ok   $arch: pairgated --explain --json is valid JSON (no native binary to compare with)"
    else
        echo "FAIL: $arch: pairgated --explain --json is not JSON"; fail=1
    fi
else
    echo "FAIL: $arch: pairgated --explain --json failed: $(cat "$out/explain.err")"; fail=1
fi
rc=0
res=$("$qemu_bin" "$out/pairgated" --check-config -c "$conf" 2>&1) || rc=$?
if [ "$rc" -eq 0 ]; then
    echo "ok   $arch: pairgated --check-config: $(printf '%s\n' "$res" | head -n 1)"
else
    echo "FAIL: $arch: pairgated --check-config of the shipped file exited $rc: $res"; fail=1
fi
bad="$out/broken.conf"
printf 'capability = "DisplayYesNo";\nrequest_timeout = 99;\n' >"$bad"
rc=0
res=$("$qemu_bin" "$out/pairgated" --check-config -c "$bad" 2>&1) || rc=$?
case "$rc:$res" in
3:*"$bad":2:*) echo "ok   $arch: pairgated --check-config of a broken file: exit 3, $(printf '%s\n' "$res" | head -n 1)" ;;
*) echo "FAIL: $arch: pairgated --check-config of a broken file: exit $rc, '$res' (expected 3 and $bad:2:)"; fail=1 ;;
esac
exit $fail
