#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 / Raspberry Pi OS packages pairgate needs, by group, only when missing.
# Usage: tools/install-deps.sh GROUP...   (build deb runtime test cross cross-build cross-run qemu cross-root e2e)
set -eu

build="gcc make cmake pkg-config libsystemd-dev libglib2.0-dev libconfig-dev libevdev-dev scdoc"
# The Debian package (tools/build-deb.sh): debhelper with dpkg-dev (dpkg-buildpackage, which
# also checks for build-essential).
deb="build-essential debhelper dpkg-dev"
# espeak-ng: the default text-to-speech command of the speech policy.
runtime="bluez dbus systemd espeak-ng"
# Bus tests run a private dbus-daemon with a fake BlueZ written in Python (Debian's python3);
# install tests use systemd-analyze, journalctl and dbus-daemon, and man-db: `systemd-analyze
# verify` checks the unit's Documentation= pages with `man`, groff (man-db's groff-base)
# renders the pages; lint uses clang-format and clang-tidy; speech tests use sox; the
# pairgatectl log test writes journal files with systemd-journal-remote; lintian checks the built
# package (ctest package/deb-lintian).
test="dbus python3 python3-dbus python3-gi python3-dbusmock systemd systemd-journal-remote man-db clang-format clang-tidy sox lintian"
# Cross-building the package for a Raspberry Pi (tools/build-deb.sh --arch arm64|armhf) and running
# the cross-built tests under qemu-user (tests/cross/cross-check.sh): "cross-build" is Debian's
# cross toolchains and the build dependencies of those architectures (multiarch: dpkg
# --add-architecture, below), "qemu" is qemu-user-static, "cross" both. CROSS_ARCHS (default
# "arm64 armhf") picks the architectures. (tools/cross-root.sh installs "cross-build" in a build
# root instead, when this machine's apt cannot add an architecture.)
cross_archs=${CROSS_ARCHS:-arm64 armhf}
cross_libs="libc6-dev libsystemd-dev libglib2.0-dev libconfig-dev libevdev-dev pkgconf"
qemu="qemu-user-static"
# What the cross-built unit tests run besides their programs (tests/cross/cross-check.sh): the fake
# text-to-speech of test-speech (python3 with python3-gi). The test group has them too.
cross_run="python3 python3-gi"
# tools/cross-root.sh's build root (debootstrap), when this machine's apt cannot add an architecture
cross_root="debootstrap"
# (git: tools/build-deb.sh packages the files the checkout tracks)
cross_build="git"
for a in $cross_archs; do
        cross_build="$cross_build crossbuild-essential-$a"
        for l in $cross_libs; do cross_build="$cross_build $l:$a"; done
done

# The fuzz targets (tools/fuzz.sh, part of the test suite) need clang with its libFuzzer and
# sanitizer runtimes (libclang-rt-dev), and llvm for llvm-symbolizer's readable reports.
test="$test clang libclang-rt-dev llvm"

pkgs=""
for group in "$@"; do
        case "$group" in
        build) pkgs="$pkgs $build" ;;
        deb) pkgs="$pkgs $deb" ;;
        cross) pkgs="$pkgs $cross_build $qemu $cross_run" ;;
        cross-run) pkgs="$pkgs $cross_run" ;;
        cross-build) pkgs="$pkgs $cross_build" ;;
        qemu) pkgs="$pkgs $qemu" ;;
        cross-root) pkgs="$pkgs $cross_root" ;;
        runtime) pkgs="$pkgs $runtime" ;;
        test) pkgs="$pkgs $test" ;;
        e2e) ;; # tests/e2e/install-deps.sh, below
        *) echo "install-deps: unknown group '$group' (build deb runtime test cross cross-build cross-run qemu cross-root e2e)" >&2; exit 2 ;;
        esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
fi

# A cross group needs its architectures known to dpkg before apt can find their packages.
for group in "$@"; do
        case $group in cross | cross-build) ;; *) continue ;; esac
        for a in $cross_archs; do
                if [ "$a" != "$(dpkg --print-architecture)" ] &&
                        ! dpkg --print-foreign-architectures | grep -qx "$a"; then
                        echo "install-deps: adding the architecture $a (dpkg --add-architecture)"
                        $SUDO dpkg --add-architecture "$a"
                fi
        done
done

missing=""
for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done
if [ -n "$missing" ]; then
        if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
                echo "install-deps: missing:$missing; run as root or install sudo" >&2
                exit 1
        fi
        echo "install-deps: installing:$missing"
        $SUDO apt-get update -q
        # (through env: sudo would drop DEBIAN_FRONTEND from the environment)
        # shellcheck disable=SC2086
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

for group in "$@"; do
        if [ "$group" = e2e ]; then
                "$(dirname "$0")/../tests/e2e/install-deps.sh"
        fi
done
