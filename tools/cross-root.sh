#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A build root for the Raspberry Pi architectures when this machine's apt cannot add them: a
# Debian 12 root (debootstrap --variant=minbase bookworm, this machine's architecture) with the
# cross toolchain and the multiarch -dev packages of ARCH, in which tools/build-deb.sh builds the
# package for ARCH and tests/cross/cross-check.sh cross-builds and runs the unit tests under
# qemu-user. This machine itself only gets debootstrap and qemu-user-static.
#
# Why: `dpkg --add-architecture armhf` makes apt-get fetch armhf's lists from every source of the
# machine, and one broken list (a mirror in the middle of a sync, a proxy serving a stale index)
# makes every apt-get update fail, for everything else too. The root has its own sources, which
# this script controls: the mirror this machine uses, bookworm and bookworm-updates, and
# bookworm-security unless the mirror cannot serve it for ARCH (then it is left out for the whole
# root, so that the versions of both architectures stay equal, as multiarch needs; said so).
# The root is a build environment: the package's Depends come from the -dev packages' symbols
# files, and what runs on the Pi are the Pi's own libraries.
#
# Usage: sudo tools/cross-root.sh --arch arm64|armhf [--root DIR] [--mirror URL] [--cache DIR] COMMAND
#   prepare           makes the root (when missing) and installs ARCH's cross tools in it
#   deb [--out DIR] [--version-suffix S]
#                     prepare, then tools/build-deb.sh --arch ARCH in the root from this
#                     checkout; the .deb goes to DIR (default build-deb/), its path on the last line
#   check OUT [NATIVE_JSON]
#                     tests/cross/cross-check.sh ARCH in the root (the root must be prepared):
#                     OUT is its output directory, NATIVE_JSON the native pairgated's
#                     --explain --json output to compare with
#   ready             exit status 0 when the root is prepared for ARCH, 1 otherwise
#   remove            deletes the root
#   --root DIR        the root (default /var/tmp/pairgate-cross-root; one root serves both
#                     architectures)
#   --mirror URL      Debian mirror (default: the one apt uses on this machine, else deb.debian.org)
#   --cache DIR       keep the downloaded .debs in DIR (debootstrap's and the root's apt's)
#
# The checkout and OUT are bound into the root at their own paths (the checkout read-only), so
# that paths printed inside mean the same outside. Mounts are taken down on every exit path;
# commands on the same root wait for each other (flock on DIR.lock). Needs root and ~1.5 GB.
# shellcheck disable=SC2317  # the functions the EXIT trap runs are reachable
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=tools/lib/debian-root.sh
. "$top/tools/lib/debian-root.sh"

arch='' root=/var/tmp/pairgate-cross-root mirror='' cache='' cmd=''
args=()
usage() { sed -n '/^# Usage:/,/^# The checkout/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
    --arch) arch=${2:?--arch needs arm64 or armhf}; shift ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
    --cache) cache=${2:?--cache needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    prepare | deb | check | ready | remove) cmd=$1; shift; args=("$@"); break ;;
    *) echo "cross-root: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
die() { printf 'cross-root: %s\n' "$*" >&2; exit 1; }
say() { printf 'cross-root: %s\n' "$*"; }
[ -n "$cmd" ] || { usage >&2; exit 2; }
case $arch in
arm64 | armhf) ;;
*) echo "cross-root: --arch must be arm64 or armhf" >&2; exit 2 ;;
esac
case $root in
/*) ;;
*) root=$(pwd -P)/$root ;;
esac
case $root in
/ | *[[:space:]]*) die "unusable root directory: '$root'" ;;
esac
[ -z "$cache" ] || { mkdir -p "$cache" && cache=$(cd "$cache" && pwd -P); }
marker="$root/etc/pairgate-cross-root/$arch"
# What the root gets (tools/install-deps.sh groups); the marker names them, so that a root made
# by an older version of this script is completed.
groups=(build deb cross-build cross-run)
ready() { [ -f "$marker" ] && [ "$(head -n 1 "$marker")" = "groups: ${groups[*]}" ]; }

if [ "$cmd" = ready ]; then
    ready && exit 0
    exit 1
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mounts): sudo $0"

# One command at a time on a root (a test waits for the preparation run-tests started).
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9

mounted=0
release() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [ "$mounted" -eq 1 ] && ! dr_release "$root" cross-root; then
        echo "cross-root: still mounted under $root:"; dr_mounts_under "$root"
    fi
    exit "$rc"
}
trap release EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$cmd" = remove ]; then
    dr_release "$root" cross-root || die "cannot unmount everything under $root"
    rm -rf --one-file-system "$root" "$root.lock" && say "removed $root"
    exit 0
fi

case $arch in
arm64) qemu="qemu-aarch64-static" ;;
armhf) qemu="qemu-arm-static" ;;
esac
# The emulator is this machine's (a static binary, bound into the root); apt here can install it
# whatever the foreign architectures' lists do.
host_qemu() {
    # (apt's messages to stderr: the caller reads the path from stdout)
    command -v "$qemu" >/dev/null || "$top/tools/install-deps.sh" qemu >&2
    command -v "$qemu" || die "no $qemu on this machine (qemu-user-static)"
}

# Runs a command in the root, with its system file systems, the checkout (read-only) and the
# given directories (read-write) bound at their own paths, and a clean environment.
in_root() { # [--bind DIR]... -- COMMAND...
    local binds=() d
    while [ "$1" = --bind ]; do binds+=("$2"); shift 2; done
    shift
    dr_mount_system "$root" "$cache"
    mounted=1
    mkdir -p "$root$top"
    mount --bind "$top" "$root$top"
    mount -o remount,bind,ro "$root$top"
    # (parents first; a directory inside one bound already is there with it)
    local done_binds=() sorted=() b skip
    [ ${#binds[@]} -eq 0 ] || mapfile -t sorted < <(printf '%s\n' "${binds[@]}" | awk '{ print length($0) " " $0 }' | sort -n | cut -d' ' -f2-)
    for d in "${sorted[@]}"; do
        skip=0
        for b in "${done_binds[@]}"; do
            case $d/ in "$b"/*) skip=1 ;; esac
        done
        [ "$skip" -eq 0 ] || continue
        mkdir -p "$d" "$root$d"
        mount --bind "$d" "$root$d"
        done_binds+=("$d")
    done
    local q
    q=$(host_qemu)
    touch "$root/usr/local/bin/$qemu"
    mount --bind "$q" "$root/usr/local/bin/$qemu"
    local env_args=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        "TERM=${TERM:-dumb}" LC_ALL=C.UTF-8 GIT_OPTIONAL_LOCKS=0
        GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="$top")
    for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
        [ -n "${!v:-}" ] && env_args+=("$v=${!v}")
    done
    local rc=0
    chroot "$root" /usr/bin/env -i "${env_args[@]}" "$@" || rc=$?
    dr_release "$root" cross-root || die "cannot unmount everything under $root"
    mounted=0
    return "$rc"
}

# The root's sources: this machine's mirror; security unless it fails for ARCH (see the top).
write_sources() { # with_security
    {
        printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror"
        [ "$1" -eq 0 ] || printf 'deb %s bookworm-security main\n' "$(dr_host_security_mirror)"
    } >"$root/etc/apt/sources.list"
}

prepare() {
    ready && { say "the root $root is ready for $arch"; return 0; }
    local t0 log
    t0=$(date +%s)
    if [ -z "$mirror" ]; then
        mirror=$(dr_host_mirror || true)
        mirror=${mirror:-http://deb.debian.org/debian}
    fi
    # debootstrap removes its working directory at its end: one left there is an interrupted
    # run (no network, a killed CI job), which is made again rather than used half-done
    if [ -d "$root/debootstrap" ]; then
        say "$root is an interrupted debootstrap: made again"
        dr_release "$root" cross-root || die "cannot unmount everything under $root"
        rm -rf --one-file-system "$root"
    fi
    if [ ! -x "$root/usr/bin/apt-get" ]; then
        dr_need_debootstrap || die "cannot install debootstrap"
        [ ! -e "$root" ] || [ -z "$(ls -A "$root")" ] || die "$root exists and is not a root made here (remove it)"
        mkdir -p "$root"
        chmod 755 "$root"
        log=$(mktemp)
        say "debootstrap --variant=minbase bookworm from $mirror into $root"
        dr_debootstrap "$root" "$mirror" "$log" "$cache" || { rm -f "$log"; die "debootstrap failed"; }
        rm -f "$log"
        # no services start in the root (package scripts)
        printf '#!/bin/sh\n# cross-root: no services in a build root\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
        chmod 755 "$root/usr/sbin/policy-rc.d"
        say "debootstrap: $(( $(date +%s) - t0 )) s"
    fi
    write_sources 1
    local t1
    t1=$(date +%s)
    say "installing the $arch cross tools in the root (tools/install-deps.sh ${groups[*]}, CROSS_ARCHS=$arch)"
    if ! in_root -- env CROSS_ARCHS="$arch" "$top/tools/install-deps.sh" "${groups[@]}"; then
        say "NOTE: apt in the root failed with bookworm-security for $arch; trying again without it (for the whole root: multiarch needs equal versions)"
        write_sources 0
        in_root -- env CROSS_ARCHS="$arch" "$top/tools/install-deps.sh" "${groups[@]}" ||
            die "the cross tools for $arch could not be installed in the root"
    fi
    mkdir -p "$(dirname "$marker")"
    {
        echo "groups: ${groups[*]}"
        echo "prepared $(date -u +%FT%TZ) by tools/cross-root.sh"
        cat "$root/etc/apt/sources.list"
    } >"$marker"
    say "the root $root is ready for $arch (install $(( $(date +%s) - t1 )) s, $(( $(date +%s) - t0 )) s in all)"
}

case $cmd in
prepare)
    [ ${#args[@]} -eq 0 ] || die "prepare takes no argument"
    prepare
    ;;
deb)
    out=$top/build-deb suffix=()
    while [ ${#args[@]} -gt 0 ]; do
        case ${args[0]} in
        --out) out=${args[1]:?--out needs a directory}; args=("${args[@]:2}") ;;
        --version-suffix) suffix=(--version-suffix "${args[1]:?--version-suffix needs a suffix}"); args=("${args[@]:2}") ;;
        *) die "deb: unknown argument '${args[0]}'" ;;
        esac
    done
    mkdir -p "$out"
    out=$(cd "$out" && pwd -P)
    prepare
    in_root --bind "$out" -- "$top/tools/build-deb.sh" --arch "$arch" --no-deps --out "$out" "${suffix[@]}"
    ;;
check)
    [ ${#args[@]} -ge 1 ] || die "check needs OUT [NATIVE_JSON]"
    ready || die "the root $root is not prepared for $arch (tools/cross-root.sh --arch $arch prepare)"
    out=${args[0]} native=${args[1]:-}
    mkdir -p "$out"
    out=$(cd "$out" && pwd -P)
    binds=(--bind "$out")
    if [ -n "$native" ]; then
        native=$(cd "$(dirname "$native")" && pwd -P)/$(basename "$native")
        binds+=(--bind "$(dirname "$native")")
    fi
    in_root "${binds[@]}" -- sh "$top/tests/cross/cross-check.sh" "$arch" "$top" "$out" ${native:+"$native"}
    ;;
esac
