#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the dependencies, builds the Debian package of this checkout for this machine's
# architecture (tools/build-deb.sh) and installs it with apt, which creates the user pairgate and
# enables and starts the service (the package's maintainer scripts) when systemd runs.
# `sudo apt remove pairgate` undoes it (`apt purge pairgate` removes the configuration too).
# Usage: tools/install.sh   (as a user with sudo, or as root)
set -eu
cd "$(dirname "$0")/.."
umask 022

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
fi

tools/install-deps.sh build deb runtime
deb=$(tools/build-deb.sh --no-deps | tail -n 1)
case $deb in
/*.deb) ;;
*) echo "install: tools/build-deb.sh did not name a package ($deb)" >&2; exit 1 ;;
esac
# --reinstall: a rebuilt checkout of the same version replaces the installed files;
# --allow-downgrades: what is installed is what this checkout is.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        --reinstall --allow-downgrades "$deb"

if [ -d /run/systemd/system ]; then
        $SUDO systemctl enable --now bluetooth 2>/dev/null || true
        systemctl --no-pager status pairgate || true
        echo
        echo "pairgate is installed ($(dpkg-query -W -f='${Version}' pairgate)) and running. Edit"
        echo "/etc/pairgate/pairgate.conf (nothing may pair until you do), check it with"
        echo "'pairgated --check-config', apply it with 'sudo systemctl reload pairgate', and read"
        echo "decisions with 'journalctl -u pairgate'. 'sudo apt remove pairgate' uninstalls it."
else
        echo "pairgate is installed ($(dpkg-query -W -f='${Version}' pairgate)), but systemd is not"
        echo "running here (not PID 1), so the service was not started. Run pairgate in the"
        echo "foreground instead:"
        echo "    sudo setpriv --reuid=pairgate --regid=pairgate --clear-groups /usr/sbin/pairgated -v"
fi
