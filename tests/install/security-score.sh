#!/bin/sh
# SPDX-License-Identifier: MIT
# Exposure score of the unit: `systemd-analyze security --offline=yes`, fails above the target.
# Usage: security-score.sh <unit file> <max exposure, e.g. 2.0>
set -eu
unit=$1 max=$2
command -v systemd-analyze >/dev/null ||
    { echo "SKIP: systemd-analyze is not installed (tools/install-deps.sh test installs systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$unit" "$tmp/pairgate.service"

rc=0
SYSTEMD_COLORS=0 systemd-analyze security --offline=yes --no-pager "$tmp/pairgate.service" \
    >"$tmp/out" 2>&1 || rc=$?
# The table (✗ lines are the settings that still cost exposure).
grep -E '^✗|Overall exposure' "$tmp/out" || true
line=$(grep 'Overall exposure level' "$tmp/out" || true)
if [ -z "$line" ]; then
    cat "$tmp/out"
    echo "FAIL: no 'Overall exposure level' line (systemd-analyze exited $rc)"
    exit 1
fi
score=$(printf '%s\n' "$line" | sed -n 's/.*: *\([0-9][0-9]*\.[0-9]*\).*/\1/p')
[ -n "$score" ] || { echo "FAIL: cannot parse: $line"; exit 1; }
echo "pairgate.service exposure: $score (target <= $max)"
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s > m) }'; then
    echo "FAIL: exposure $score is above $max"
    exit 1
fi
