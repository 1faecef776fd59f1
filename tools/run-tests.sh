#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the whole test suite: unit, bus (private dbus-daemon + fake BlueZ), install/systemd checks,
# the Debian package (lintian, a chroot), the cross-built binaries under qemu-user, lint, the fuzz
# targets (10 s each), and the real-stack e2e suite in VMs; everything native under
# AddressSanitizer + UBSan.
# Usage: tools/run-tests.sh   (installs missing Debian packages with apt-get, via sudo if needed)
set -eu
cd "$(dirname "$0")/.."

start=$(date +%s)
tools/install-deps.sh build deb runtime test e2e
# The Raspberry Pi architectures (ctest -L cross: the cross-built unit tests under qemu-user, the
# architecture's .deb and lintian). Their cross tools come from a foreign architecture's package
# lists: when this machine's mirror cannot serve them, the architecture is taken out again (so
# that apt-get keeps working for everything else) and its tools go into a build root instead
# (tools/cross-root.sh, prepared in the background while the rest builds and runs: a debootstrap
# and an apt-get install, measured 190 s alone and 253 s beside the other tests on 2 cores).
# CROSS_ARCHS picks the architectures.
cross_archs=${CROSS_ARCHS:-arm64 armhf}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
root_archs=""
for a in $cross_archs; do
    CROSS_ARCHS=$a tools/install-deps.sh cross && continue
    echo "run-tests: this machine's apt could not install the cross tools for $a: they go into a build root (tools/cross-root.sh)"
    [ -n "$(dpkg-query -W -f='${binary:Package}\n' "*:$a" 2>/dev/null)" ] ||
        $sudo dpkg --remove-architecture "$a" 2>/dev/null || true
    root_archs="$root_archs $a"
done
mkdir -p build-test
prep_pid=""
if [ -n "$root_archs" ]; then
    # (apt here before the background starts: nothing else may hold dpkg's lock meanwhile)
    tools/install-deps.sh cross-root || echo "run-tests: debootstrap could not be installed (cross/* will say why)"
    echo "run-tests: preparing the build root for$root_archs in the background (log: build-test/cross-root.log)"
    (for a in $root_archs; do $sudo tools/cross-root.sh --arch "$a" prepare || echo "run-tests: no build root for $a"; done) \
        >build-test/cross-root.log 2>&1 &
    prep_pid=$!
fi
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DPAIRGATE_WERROR=ON -DPAIRGATE_SANITIZE=ON \
        -DPAIRGATE_TEST_POLICIES=ON -DBUILD_TESTING=ON
cmake --build build-test -j"$(nproc)"
status=0
# Every SKIP with its reason, from the output of the tests CTest just ran: whole tests (exit 77)
# and the cases inside a test that passed (unittest "skipped '...'", TAP "# SKIP", e2e cases).
skips=build-test/skipped.txt
: >"$skips"
collect_skips() {
    awk '/^[0-9]+\/[0-9]+ Test: / { sub(/^[0-9]+\/[0-9]+ Test: /, ""); name = $0; next }
         /^SKIP[: ]|\.\.\. skipped |# SKIP|^# .*skipped/ { print "  " name ": " $0 }' \
        build-test/Testing/Temporary/LastTest.log >>"$skips" 2>/dev/null || true
}
(cd build-test && ctest --output-on-failure -j2 --timeout 1200 -LE 'e2e|cross') || status=$?
collect_skips
if [ -n "$prep_pid" ]; then
    wait "$prep_pid" || true
    echo "== the build root (tools/cross-root.sh):"
    cat build-test/cross-root.log
fi
(cd build-test && ctest --output-on-failure --timeout 1200 -L cross) || status=$?
collect_skips
# Every libFuzzer target for a short, bounded time (clang build in build-fuzz; docs/fuzzing.md).
echo "== tools/fuzz.sh 10"
tools/fuzz.sh 10 || status=$?
# The real-stack suite on its own, verbose: its output carries the figures (cells matched, time).
(cd build-test && ctest -V -L e2e --timeout 1200) || status=$?
collect_skips

# Speed and memory targets: a benchmark on an optimised build without sanitizers.
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
cmake --build build-bench -j"$(nproc)"
echo "== bench/request-bench.py"
/usr/bin/python3 bench/request-bench.py --pairgated build-bench/pairgated || status=$?
# About 20 s: three floods of 10000 requests against the limits (issue #14).
echo "== bench/flood-bench.py"
/usr/bin/python3 bench/flood-bench.py --pairgated build-bench/pairgated || status=$?

if [ -s "$skips" ]; then
    echo "== skipped here, with the reason:"
    cat "$skips"
else
    echo "== nothing was skipped"
fi
echo "test suite took $(( $(date +%s) - start )) s"
exit $status
