#!/bin/sh
# SPDX-License-Identifier: MIT
#
# PID 1 of the e2e VM (after the initramfs made by run-e2e has switch_root'ed into the host's
# root, read-only over 9p with a tmpfs overlay). Mounts the API filesystems, loads hci_vhci and
# hands over to guest-runner.py, which runs every case of the plan; then powers off.
# Parameters come from the kernel command line as environment variables:
#   E2E_DIR      the tests/e2e directory of the checkout (host path, visible read-only)
#   E2E_RESULTS  where the writable results share is mounted (set up by the initramfs)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
# /tmp and /var/tmp stay the overlay's (RAM-backed) view of the host's: the pairgated under
# test is often built under /tmp.
# The host's own bonds / caches must not leak into the VM.
mount -t tmpfs -o mode=0755 tmpfs /var/lib/bluetooth 2>/dev/null || true
mkdir -p /run/dbus /run/lock
hostname pairgate-e2e 2>/dev/null || true

echo "e2e-init: userspace up at $(cut -d' ' -f1 /proc/uptime)s"
modprobe hci_vhci || echo "e2e-init: modprobe hci_vhci FAILED"

rc=0
/usr/bin/python3 "$E2E_DIR/guest-runner.py" "$E2E_RESULTS" || rc=$?
echo "$rc" > "$E2E_RESULTS/guest-rc"
echo "e2e-init: runner exited $rc at $(cut -d' ' -f1 /proc/uptime)s"
sync
/bin/busybox poweroff -f
# not reached; a PID 1 exit would panic (panic=-1 reboots, and -no-reboot ends qemu)
sleep 5
