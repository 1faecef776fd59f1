#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the whole test suite: unit, bus (private dbus-daemon + fake BlueZ), install/systemd checks,
# lint, and the real-stack e2e suite in a VM; everything under AddressSanitizer + UBSan.
# Usage: tools/run-tests.sh   (installs missing Debian packages with apt-get, via sudo if needed)
set -eu
cd "$(dirname "$0")/.."

start=$(date +%s)
tools/install-deps.sh build runtime test e2e
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DPAIRGATE_WERROR=ON -DPAIRGATE_SANITIZE=ON \
        -DPAIRGATE_TEST_POLICIES=ON -DBUILD_TESTING=ON
cmake --build build-test -j"$(nproc)"
cd build-test
status=0
ctest --output-on-failure -j2 --timeout 1200 || status=$?
echo "test suite took $(( $(date +%s) - start )) s"
exit $status
