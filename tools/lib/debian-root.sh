# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Throw-away Debian 12 roots for the project's own checks, shared by tools/fresh-debian-check.sh
# (does README's set-up work on a fresh minimal Debian?) and tools/cross-root.sh (a build root
# for an architecture this machine's apt cannot add). Sourced by bash scripts that run as root.
#
#   dr_host_mirror            the Debian mirror apt uses here (first deb source of a Debian suite)
#   dr_host_security_mirror   the debian-security mirror apt uses here (else deb.debian.org's)
#   dr_need_debootstrap       installs debootstrap with apt-get when it is missing
#   dr_debootstrap ROOT MIRROR LOG [CACHE]
#                             debootstrap --variant=minbase bookworm (this machine's architecture)
#                             into ROOT; CACHE keeps the downloaded .debs (CACHE/debootstrap)
#   dr_mount_system ROOT [CACHE]
#                             mounts what a chroot needs: a new /proc; /sys and /dev bound
#                             recursively as slaves (nothing unmounted inside propagates back); a
#                             new tmpfs on /run; CACHE/apt on the root's apt archive directory
#   dr_mounts_under ROOT      mount points under ROOT, deepest first
#   dr_procs_in_root ROOT     processes whose root directory is ROOT
#   dr_release ROOT NAME      stops the processes left in ROOT (TERM, then KILL after 5 s) and
#                             unmounts everything under ROOT; non-zero when something stayed mounted
#                             (NAME prefixes the messages)

dr_host_mirror() {
    _dr_host_sources | awk '$2 ~ /^(bookworm|trixie|bullseye|forky|sid|stable|testing|unstable|oldstable)(-updates|-backports)?$/ { print $1; exit }'
}

dr_host_security_mirror() {
    local m
    m=$(_dr_host_sources | awk '$2 ~ /-security$/ { print $1; exit }')
    echo "${m:-http://deb.debian.org/debian-security}"
}

# "URI SUITE" of every enabled deb source of this machine, in both of apt's formats.
_dr_host_sources() {
    # one-line format: deb [options] URI SUITE COMPONENT...
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\2 \3/p'
    # deb822 format: stanzas with Types:, URIs:, Suites:
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
                                    for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
                                types = ""; nu = ns = 0; enabled = "" }
             /^[[:space:]]*$/ { flush(); next }
             /^#/ { next }
             tolower($1) == "types:" { types = " " substr($0, index($0, ":") + 1) " " }
             tolower($1) == "uris:" { for (i = 2; i <= NF; i++) u[++nu] = $i }
             tolower($1) == "suites:" { for (i = 2; i <= NF; i++) s[++ns] = $i }
             tolower($1) == "enabled:" { enabled = tolower($2) }
             END { flush() }' "$f"
    done
}

dr_need_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    command -v apt-get >/dev/null || { echo "debootstrap is missing and there is no apt-get to install it" >&2; return 1; }
    echo "== installing debootstrap"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
}

dr_debootstrap() {
    local root=$1 mirror=$2 log=$3 cache=${4:-} arch
    arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
    local opts=(--variant=minbase --arch="$arch")
    if [ -n "$cache" ]; then
        mkdir -p "$cache/debootstrap" "$cache/apt"
        opts+=(--cache-dir="$(cd "$cache" && pwd -P)/debootstrap")
    fi
    debootstrap "${opts[@]}" bookworm "$root" "$mirror" >"$log" 2>&1 || { tail -n 30 "$log"; return 1; }
    # what a system has and a bare root lacks: a resolver configuration (for apt)
    [ -s "$root/etc/resolv.conf" ] || cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

dr_mount_system() {
    local root=$1 cache=${2:-}
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --make-rslave "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
    mkdir -m 1777 "$root/run/lock"
    if [ -n "$cache" ]; then
        mkdir -p "$cache/apt"
        mount --bind "$cache/apt" "$root/var/cache/apt/archives"
    fi
}

dr_mounts_under() {
    awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

dr_procs_in_root() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
    done
    return 0
}

dr_release() {
    local root=$1 name=$2 pids m
    pids=$(dr_procs_in_root "$root" | tr '\n' ' ')
    if [ -n "$pids" ]; then
        echo "$name: stopping processes left in the root: $pids"
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            pids=$(dr_procs_in_root "$root" | tr '\n' ' ')
            [ -z "$pids" ] && break
            sleep 0.5
        done
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null && sleep 0.5
    fi
    for m in $(dr_mounts_under "$root"); do
        umount "$m" 2>/dev/null || umount -l "$m" || echo "$name: cannot unmount $m"
    done
    [ -z "$(dr_mounts_under "$root")" ]
}
