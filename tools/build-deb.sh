#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the Debian package pairgate_<version>_<arch>.deb from this checkout, with Debian's own
# tooling (debian/ + dpkg-buildpackage + debhelper), for this machine's architecture or, cross,
# for a Raspberry Pi (arm64: Pi 3/4/5 and Zero 2 W with a 64-bit OS; armhf: 32-bit images).
#
# Usage: tools/build-deb.sh [--arch amd64|arm64|armhf] [--out DIR] [--version-suffix SUFFIX]
#                           [--no-deps]
#   --arch ARCH            the package's architecture (default: this machine's, dpkg --print-architecture)
#   --out DIR              where the .deb goes (default: build-deb/ in the checkout)
#   --version-suffix S     appended to the version, e.g. "+local1": a rebuilt package with a higher
#                          version than an installed one (so that apt upgrades it)
#   --no-deps              do not install missing build dependencies (tools/install-deps.sh groups
#                          "build deb", or "cross" with CROSS_ARCHS=ARCH for another architecture)
#
# The version is the one of project(... VERSION ...) in CMakeLists.txt, the only place it is
# written; debian/changelog is generated here with it (the project's history is its git log). The
# package is built in a copy of the tree (build-deb/<arch>/pairgate-<version>/): the files git
# tracks plus the untracked ones it does not ignore, or, without git, everything but build*/.
# Prints the path of the .deb on its last line.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
umask 022

arch="" out="$top/build-deb" suffix="" deps=1
usage() { sed -n '/^# Usage:/,/^# The version/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
        case $1 in
        --arch) arch=${2:?--arch needs amd64, arm64 or armhf}; shift ;;
        --arch=*) arch=${1#--arch=} ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        --version-suffix) suffix=${2:?--version-suffix needs a suffix}; shift ;;
        --no-deps) deps=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "build-deb: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
        esac
        shift
done

build_arch=$(dpkg --print-architecture)
arch=${arch:-$build_arch}
case $arch in
amd64 | arm64 | armhf) ;;
*) echo "build-deb: unsupported architecture '$arch' (amd64, arm64, armhf)" >&2; exit 2 ;;
esac
case $suffix in
"" | [+~.]*) ;;
*) echo "build-deb: --version-suffix must start with +, ~ or . (got '$suffix')" >&2; exit 2 ;;
esac
case $suffix in
*[!A-Za-z0-9.+~]*) echo "build-deb: --version-suffix may only use A-Z a-z 0-9 . + ~" >&2; exit 2 ;;
esac

version=$(sed -n 's/^project(pairgate VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "build-deb: no 'project(pairgate VERSION x.y.z' in CMakeLists.txt" >&2; exit 1; }
version="$version$suffix"

if [ "$deps" -eq 1 ]; then
        if [ "$arch" = "$build_arch" ]; then
                tools/install-deps.sh build deb
        else
                CROSS_ARCHS=$arch tools/install-deps.sh deb cross
        fi
fi

# The tree to build: a copy, so that dpkg-buildpackage's files (debian/tmp, obj-*/, ...) stay out
# of the checkout and an earlier build's leftovers out of the package.
work="$out/$arch"
src="$work/pairgate-$version"
rm -rf "$work"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$top" ls-files -z --cached --others --exclude-standard |
                (cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
                (cd "$top" && tar --null -T - -cf -) | tar -C "$src" -xf -
        rev=$(git -C "$top" rev-parse --short=12 HEAD)
        subject=$(git -C "$top" log -1 --format=%s HEAD)
        epoch=$(git -C "$top" log -1 --format=%ct HEAD)
        dirty=""
        [ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] || dirty=" plus uncommitted changes"
        origin="commit $rev$dirty ($subject)"
else
        tar -C "$top" --exclude='./build*' --exclude=./.git --exclude=__pycache__ -cf - . | tar -C "$src" -xf -
        epoch=$(date +%s)
        origin="a source tree without git"
fi
[ -d "$src/debian" ] || { echo "build-deb: $top/debian is missing" >&2; exit 1; }

# debian/changelog, from the one version. Its date is the commit's (reproducible builds:
# dpkg-buildpackage derives SOURCE_DATE_EPOCH from it).
{
        printf 'pairgate (%s) bookworm; urgency=medium\n\n' "$version"
        # (wrapped at 78 columns: 4 of indentation, 74 of text, no trailing blanks)
        printf 'Package built by tools/build-deb.sh from %s. The changes are in the project'"'"'s git history.\n' \
                "$origin" | fold -s -w 74 | sed -e 's/[[:space:]]*$//' -e '1s/^/  * /' -e '2,$s/^/    /'
        printf '\n'
        printf ' -- The pairgate developers <pairgate@example.org>  %s\n' "$(LC_ALL=C date -R -u -d "@$epoch")"
} >"$src/debian/changelog"

jobs=$(nproc 2>/dev/null || echo 2)
opts="-b -us -uc"
if [ "$arch" != "$build_arch" ]; then
        opts="$opts -a$arch -Pcross,nocheck"
fi
echo "build-deb: building pairgate $version for $arch in $src"
t0=$(date +%s)
# noddebs: no -dbgsym package; nocheck: the tests run in the project's test suite instead.
# shellcheck disable=SC2086
(cd "$src" && DEB_BUILD_OPTIONS="noddebs nocheck parallel=$jobs" dpkg-buildpackage $opts) ||
        { echo "build-deb: dpkg-buildpackage failed (missing build dependencies? tools/install-deps.sh build deb, or cross for --arch)" >&2; exit 1; }
deb="pairgate_${version}_$arch.deb"
[ -f "$work/$deb" ] || { echo "build-deb: dpkg-buildpackage made no $work/$deb" >&2; exit 1; }
mv "$work/$deb" "$out/$deb"
echo "build-deb: $deb ($(du -k "$out/$deb" | cut -f1) KiB) in $(( $(date +%s) - t0 )) s"
echo "$out/$deb"
