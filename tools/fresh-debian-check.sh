#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Do the README's two commands work on a fresh, minimal Debian 12? This builds a throw-away root
# with `debootstrap --variant=minbase bookworm`, clones the committed tree of this checkout
# (HEAD; uncommitted changes are left out, and said so) into <root>/root/project, and runs there,
# as root inside the chroot, exactly what README.md tells a new user to run:
#
#     tools/install.sh
#     tools/run-tests.sh
#
# It prints each command's exit status and wall time (plus the CTest and e2e counts) and exits
# non-zero when either command failed (or the root could not be built).
#
# Usage: sudo tools/fresh-debian-check.sh [--keep] [--root DIR] [--mirror URL] [--cache DIR]
#                                         [--umask MASK] [--env NAME=VALUE]...
#   --root DIR        build the root in DIR (new or empty; default: a new /var/tmp/pairgate-fresh.*)
#   --keep            keep the root afterwards (default: removed on every exit path)
#   --mirror URL      Debian mirror (default: the one apt uses on this machine, read from
#                     /etc/apt/sources.list and /etc/apt/sources.list.d; else deb.debian.org)
#   --cache DIR       keep downloaded .debs in DIR (debootstrap's and the root's apt's) to save
#                     the downloads next time; what gets installed is the same
#   --umask MASK      umask of the clone and the two commands (default 022, a root login's on
#                     Debian; try 077)
#   --env NAME=VALUE  add a variable to the commands' environment (e.g. LANG=en_US.UTF-8, a
#                     locale the fresh root does not have); repeatable
#
# Needs root, network access to the mirror, git, ~3 GB in the root's file system, and installs
# debootstrap with apt-get when it is missing. Takes ~14 minutes on 2 cores when nothing else
# runs (measured: debootstrap 64 s, tools/install.sh 47 s, tools/run-tests.sh 702 s of which the
# e2e VMs 365 s, .debs cached; without the cache a minute or two more), 16-25 minutes with other VMs
# running on the same cores.
#
# How the root is set up:
# - debootstrap --variant=minbase bookworm (the host's architecture), then nothing else: every
#   package the commands need they must install themselves. The root directory is mode 0755 and
#   /root in it 0700, as on a real system.
# - /usr/sbin/policy-rc.d refuses to start services from package scripts (as in Debian's container
#   images): there is no init in a chroot, and daemons started there would outlive the check.
# - Mounted for the commands, and unmounted by a trap on every exit path (normal end, error,
#   SIGINT/SIGTERM/SIGHUP): a new /proc; /sys and /dev recursively bound from the host, as
#   slaves (so nothing unmounted in the root propagates back; /dev/pts, /dev/shm and /dev/kvm
#   come with /dev); a new tmpfs on /run (empty, mode 0755: no systemd runs as PID 1 there, so
#   tools/install.sh installs pairgate without starting the service, as in a container). /tmp
#   is the root's own. Before unmounting, processes still running in the root are stopped.
# - The commands run with a clean environment: HOME=/root, a standard PATH, TERM, no LANG/LC_*
#   (a minimal system has no locale configured), http(s)_proxy/no_proxy if set here, plus --env;
#   standard input is this script's.
# - The e2e suite runs inside too: tests/e2e/install-deps.sh installs Debian's kernel
#   (linux-image-amd64) and QEMU in the root, and run-e2e boots that kernel in a TCG VM whose
#   root file system is the chroot's root. On a host that cannot run it, it reports SKIP with
#   the reason.
# shellcheck disable=SC2317  # the functions the EXIT trap runs are reachable
set -euo pipefail
# shellcheck source=tools/lib/debian-root.sh
. "$(dirname "$0")/lib/debian-root.sh"

keep=0 root='' mirror='' cache='' cmd_umask=022 logdir=''
extra_env=()
usage() { sed -n '/^# Usage:/,/^# Needs root/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
    --keep) keep=1 ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
    --cache) cache=${2:?--cache needs a directory}; shift ;;
    --umask) cmd_umask=${2:?--umask needs a mask}; shift ;;
    --env) case ${2:-} in *=*) extra_env+=("$2") ;; *) echo "--env needs NAME=VALUE" >&2; exit 2 ;; esac; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "fresh-debian-check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case $cmd_umask in [0-7][0-7][0-7] | 0[0-7][0-7][0-7]) ;; *) echo "--umask: not an octal mask: $cmd_umask" >&2; exit 2 ;; esac

say() { printf '== %s\n' "$*"; }
die() { printf 'fresh-debian-check: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mounts): sudo $0"
src=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
sha=$(git -C "$src" rev-parse HEAD)
command -v chroot >/dev/null || die "chroot not found"

if [ -z "$mirror" ]; then
    mirror=$(dr_host_mirror || true)
    mirror=${mirror:-http://deb.debian.org/debian}
fi
dr_need_debootstrap || die "cannot install debootstrap"

# ---- the root, and the trap that takes it down again -------------------------------------------
created=0
if [ -z "$root" ]; then
    root=$(mktemp -d /var/tmp/pairgate-fresh.XXXXXX)
    created=1
elif [ -e "$root" ]; then
    if [ ! -d "$root" ] || [ -n "$(ls -A "$root")" ]; then
        die "--root $root exists and is not an empty directory"
    fi
else
    mkdir -p "$root"
    created=1
fi
root=$(cd "$root" && pwd -P)
case $root in
/ | *[[:space:]]*) die "unusable root directory: '$root'" ;;
esac
chmod 755 "$root"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if ! dr_release "$root" fresh-debian-check; then
        echo "fresh-debian-check: still mounted under $root, so it is kept:"; dr_mounts_under "$root"
    elif [ "$keep" -eq 1 ]; then
        echo "fresh-debian-check: root kept in $root (chroot $root /bin/bash; delete with rm -rf --one-file-system $root)"
    elif [ "$created" -eq 1 ]; then
        rm -rf --one-file-system "$root" && echo "fresh-debian-check: root $root removed"
    else
        find "$root" -xdev -mindepth 1 -delete && echo "fresh-debian-check: root $root emptied"
    fi
    [ -n "$logdir" ] && rm -rf "$logdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

t_start=$(date +%s)
logdir=$(mktemp -d)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
say "fresh Debian 12 check of $(git -C "$src" log -1 --format='%h %s' "$sha")"
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    echo "note: the checkout has uncommitted changes; they are not part of this check (HEAD is)"
fi
# The committed tree, cloned now (the checkout may move on while the root is built): HEAD,
# detached, whatever branch is checked out.
# (with the commands' umask, as their user would have cloned it)
(
    umask "$cmd_umask"
    git clone -q --no-checkout "$src" "$logdir/project"
    git -C "$logdir/project" fetch -q "$src" "$sha" 2>/dev/null || git -C "$logdir/project" fetch -q "$src" HEAD
    git -C "$logdir/project" -c advice.detachedHead=false checkout -q FETCH_HEAD
)
[ "$(git -C "$logdir/project" rev-parse HEAD)" = "$sha" ] || die "the clone is not at $sha (HEAD moved?)"
say "debootstrap --variant=minbase bookworm ($arch) from $mirror into $root"
t0=$(date +%s)
dr_debootstrap "$root" "$mirror" "$logdir/debootstrap.log" "$cache" || die "debootstrap failed"
[ -z "$cache" ] || cache=$(cd "$cache" && pwd -P)
t_debootstrap=$(( $(date +%s) - t0 ))
echo "debootstrap: ${t_debootstrap} s"

# Set-up that a real system has and a bare chroot lacks (see the top of this file).
printf '#!/bin/sh\n# fresh-debian-check: no services in a chroot\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
dr_mount_system "$root" "$cache"

# The clone made at the start (HEAD of the checkout then), as a user's clone in /root/project.
mv "$logdir/project" "$root/root/project"
chmod 700 "$root/root"

env_args=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "TERM=${TERM:-dumb}")
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done
env_args+=("${extra_env[@]}")

status=0
declare -A rcs secs
run_in_root() { # the README command
    local cmd=$1 t rc=0
    say "chroot: cd /root/project && $cmd   (umask $cmd_umask${extra_env[*]:+, ${extra_env[*]}})"
    t=$(date +%s)
    chroot "$root" /usr/bin/env -i "${env_args[@]}" /bin/sh -c \
        "umask $cmd_umask && cd /root/project && exec $cmd" 2>&1 | tee "$logdir/$(basename "$cmd").log" || rc=$?
    secs[$cmd]=$(( $(date +%s) - t ))
    rcs[$cmd]=$rc
    say "$cmd: exit status $rc, ${secs[$cmd]} s"
    [ "$rc" -eq 0 ] || status=1
}
run_in_root tools/install.sh
run_in_root tools/run-tests.sh

say "summary: fresh Debian 12 (debootstrap --variant=minbase bookworm), commit ${sha:0:12}"
printf '  %-20s exit %-3s %5s s\n' "debootstrap" 0 "$t_debootstrap"
for c in tools/install.sh tools/run-tests.sh; do
    printf '  %-20s exit %-3s %5s s\n' "$c" "${rcs[$c]}" "${secs[$c]}"
done
# The counts, from the output of tools/run-tests.sh.
summarize() {
    awk '/^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+/ { line[++n] = $0 }
         /^The following tests (FAILED|did not run):/ { inlist = 1; next }
         inlist && /^[[:space:]]+[0-9]+ - / { sub(/^[[:space:]]+/, ""); items = items "\n    " $0; next }
         { inlist = 0 }
         /^([0-9]+: )?[0-9]+ passed, [0-9]+ failed/ { sub(/^[0-9]+: /, ""); e2e = $0 }
         /^== bench\/request-bench.py/ { bench = 1; next }
         bench && /^(ok|FAIL) |^latency|^throughput/ { b = b "\n    " $0 }
         /^== skipped here/ { sk = 1; next }
         sk && /^  / { s = s "\n  " $0; next }
         { sk = 0 }
         END {
             if (n >= 1) print "  ctest, all but e2e: " line[1]
             if (n >= 2) print "  ctest, e2e:         " line[2]
             if (items != "") print "  ctest entries that failed or did not run:" items
             print "  e2e cases: " (e2e != "" ? e2e : "(no count in the output)")
             if (b != "") print "  benchmark:" b
             print "  skipped, with the reason:" (s != "" ? s : " nothing")
         }' "$1"
}
[ -f "$logdir/run-tests.sh.log" ] && summarize "$logdir/run-tests.sh.log"
printf '  %-20s %s s\n' "total" "$(( $(date +%s) - t_start ))"
echo "  machine: $(nproc) cores, load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
exit "$status"
