#!/bin/sh
# SPDX-License-Identifier: MIT
#
# PID 1 of the systemd VM of the e2e suite, for a moment: prepares the overlay root (the host's /
# read-only over 9p with a tmpfs overlay, as for guest-init.sh) and execs Debian's systemd as
# PID 1, told to reach e2e.target. That target pulls in e2e-systemd.service, which runs
# guest-runner.py in its systemd mode (plan.json "mode": "systemd") and powers the VM off when it
# ends (SuccessAction/FailureAction=poweroff-force).
# `systemd.unit=` on the kernel command line was ignored in this set-up (it booted
# graphical.target with the host's units); `--unit=` plus default.target pointing at the test
# target works.
# Parameters from the kernel command line (environment): E2E_DIR, E2E_RESULTS, and E2E_RUNNER: the
# runner script in E2E_DIR (default guest-runner.py; guest-package.py for the package case).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022

mount -t proc proc /proc 2>/dev/null
echo "e2e-init: systemd VM userspace up at $(cut -d' ' -f1 /proc/uptime)s"

mkdir -p /etc/systemd/system /etc/systemd/journald.conf.d
# Nothing of the host's own machine state: no fstab mounts, a volatile journal.
echo "# e2e VM: no mounts" > /etc/fstab
printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\n' > /etc/systemd/journald.conf.d/e2e.conf
# tmpfiles.d/tmp.conf would empty /tmp at boot (in the overlay; 20 s of walking 9p), and the
# build directory under test usually lives in /tmp.
mkdir -p /etc/tmpfiles.d
: > /etc/tmpfiles.d/tmp.conf

cat > /etc/systemd/system/e2e.target <<EOF
[Unit]
Description=pairgate e2e: systemd case
Requires=e2e-systemd.service
AllowIsolate=yes
EOF

cat > /etc/systemd/system/e2e-systemd.service <<EOF
[Unit]
Description=pairgate e2e: systemd case runner (${E2E_RUNNER:-guest-runner.py})
Wants=dbus.service
After=dbus.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=exec
Environment=LANG=C.UTF-8 E2E_DIR=$E2E_DIR
ExecStart=/usr/bin/python3 $E2E_DIR/${E2E_RUNNER:-guest-runner.py} $E2E_RESULTS
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
EOF

ln -sf /etc/systemd/system/e2e.target /etc/systemd/system/default.target
echo "e2e-init: exec systemd at $(cut -d' ' -f1 /proc/uptime)s"
umount /proc 2>/dev/null
exec /lib/systemd/systemd --unit=e2e.target
