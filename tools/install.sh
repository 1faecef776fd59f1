#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the dependencies, builds, installs pairgate and starts it as the default BlueZ agent.
# Usage: tools/install.sh   (as a user with sudo, or as root)
set -eu
cd "$(dirname "$0")/.."
# What is installed must be readable by the user pairgate and by everyone, whatever the caller's
# umask: `cmake --install` creates missing directories (/etc/pairgate, ...) with it.
umask 022

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
fi

tools/install-deps.sh build runtime
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
        -DBUILD_TESTING=OFF
cmake --build build -j"$(nproc)"
$SUDO cmake --install build

if [ -d /run/systemd/system ]; then
        $SUDO systemd-sysusers
        $SUDO systemctl daemon-reload
        $SUDO journalctl --update-catalog
        # dbus-daemon picks up the new policy file by itself; reload to be sure.
        $SUDO systemctl reload dbus 2>/dev/null || true
        $SUDO systemctl enable --now bluetooth 2>/dev/null || true
        $SUDO systemctl enable --now pairgate
        systemctl --no-pager status pairgate || true
        echo
        echo "pairgate is running. Edit /etc/pairgate/pairgate.conf (nothing may pair until you"
        echo "do), check it with 'pairgated --check-config', apply it with"
        echo "'sudo systemctl reload pairgate', and read decisions with 'journalctl -u pairgate'."
else
        echo "systemd is not running here (not PID 1), so the service was not enabled."
        echo "Run pairgate in the foreground instead:"
        echo "    sudo /usr/sbin/pairgated -c /etc/pairgate/pairgate.conf"
fi
