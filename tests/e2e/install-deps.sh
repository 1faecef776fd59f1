#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Installs what the real-stack e2e suite (tests/e2e/run-e2e) needs on a Debian 12 host:
# QEMU (TCG is enough), Debian's own kernel (its modules provide bluetooth + hci_vhci inside
# the VM), BlueZ with its emulator btvirt, a static busybox for the initramfs, and D-Bus with
# the Python bindings the test's own agents use; espeak-ng for the speech case and systemd for
# the systemd VM (the guest's root is the host's). Installs only what is missing.
#
# Usage: tests/e2e/install-deps.sh [--check]
#   --check   only report what is missing (exit 1 if anything is), install nothing.
set -eu

# The VM runs Debian's x86-64 kernel on the host's own root filesystem (shared read-only), so it
# needs an x86-64 host; elsewhere (a Raspberry Pi) run-e2e reports SKIP with that reason.
arch=$(dpkg --print-architecture)
if [ "$arch" != amd64 ]; then
    echo "install-deps: e2e needs an amd64 host (this is $arch): nothing installed, the suite will SKIP"
    exit 0
fi

# kmod: modprobe (initramfs modules, hci_vhci); procps: ps (the systemd VM checks the service's
# user). A minimal system has neither unless something else pulls them in.
PKGS="qemu-system-x86 linux-image-amd64 kmod bluez bluez-test-tools busybox-static dbus python3 python3-dbus python3-gi espeak-ng systemd procps"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all present ($PKGS)"
    exit 0
fi

if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: missing:$missing and not root (no sudo)" >&2
        exit 1
    fi
else
    SUDO=""
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086  # (env: sudo would drop DEBIAN_FRONTEND from the environment)
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
