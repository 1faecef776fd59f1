#!/bin/sh
# SPDX-License-Identifier: MIT
# The journal catalog has one well-formed entry per MESSAGE_ID of include/core/audit.h, no entry for
# an unknown id, and journalctl compiles it (in a temporary root, not the system's database).
# Usage: catalog-check.sh <pairgate.catalog> <audit.h>
set -eu
catalog=$1 header=$2
command -v journalctl >/dev/null ||
    { echo "SKIP: journalctl is not installed (tools/install-deps.sh test installs systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# MESSAGE_IDs defined by the code.
sed -n 's/^#define PAIRGATE_MESSAGE_\([A-Z_]*\) *"\([0-9a-f]*\)".*/\2 \1/p' "$header" | sort >"$tmp/code"
n=$(wc -l <"$tmp/code")
[ "$n" -gt 0 ] || { echo "FAIL: no PAIRGATE_MESSAGE_* in $header"; exit 1; }
if awk 'length($1) != 32 { exit 1 }' "$tmp/code"; then :; else
    echo "FAIL: a MESSAGE_ID in $header is not 32 lowercase hex digits"; fail=1
fi
if [ "$(cut -d' ' -f1 "$tmp/code" | sort -u | wc -l)" -ne "$n" ]; then
    echo "FAIL: duplicate MESSAGE_ID values in $header"; fail=1
fi

# Entries of the catalog, each checked for Subject/Defined-By/Support and a body.
awk -v out="$tmp/cat" '
    function finish() {
        if (id == "") return
        if (!subject) { printf "FAIL: entry %s has no Subject:\n", id; bad = 1 }
        if (definedby != "pairgate") { printf "FAIL: entry %s: Defined-By: is not pairgate\n", id; bad = 1 }
        if (!support) { printf "FAIL: entry %s has no Support:\n", id; bad = 1 }
        if (body < 1) { printf "FAIL: entry %s has no explanation\n", id; bad = 1 }
        print id > out
    }
    /^-- / {
        finish()
        id = $2; subject = 0; definedby = ""; support = 0; body = 0; inhdr = 1
        if (length(id) != 32 || id ~ /[^0-9a-f]/) { printf "FAIL: bad catalog id line: %s\n", $0; bad = 1 }
        next
    }
    id == "" { next }
    inhdr && /^Subject: ./ { subject = 1; next }
    inhdr && /^Defined-By: / { definedby = $2; next }
    inhdr && /^Support: ./ { support = 1; next }
    inhdr && /^[A-Za-z-]+: / { next }
    inhdr && /^$/ { inhdr = 0; next }
    !inhdr && /[^ ]/ { body++ }
    END { finish(); exit bad }
' "$catalog" || fail=1
sort "$tmp/cat" >"$tmp/cat.sorted"
if [ "$(uniq -d "$tmp/cat.sorted" | wc -l)" -ne 0 ]; then
    echo "FAIL: duplicate catalog entries: $(uniq -d "$tmp/cat.sorted" | tr '\n' ' ')"; fail=1
fi

while read -r id name; do
    if grep -qx "$id" "$tmp/cat.sorted"; then
        echo "ok   $id PAIRGATE_MESSAGE_$name"
    else
        echo "FAIL: PAIRGATE_MESSAGE_$name ($id) has no catalog entry"; fail=1
    fi
done <"$tmp/code"
cut -d' ' -f1 "$tmp/code" >"$tmp/code.ids"
for id in $(cat "$tmp/cat.sorted"); do
    grep -qx "$id" "$tmp/code.ids" || { echo "FAIL: catalog entry $id matches no PAIRGATE_MESSAGE_* in $header"; fail=1; }
done

# Field substitutions must name journal fields (upper case, digits, underscore).
if grep -n '@' "$catalog" | grep -v '^[0-9]*:#' | grep -Ev '@[A-Z0-9_]+@' >"$tmp/at"; then
    echo "FAIL: stray '@' (not an @FIELD@ substitution):"; cat "$tmp/at"; fail=1
fi

# journalctl itself: compile into a temporary root and list the ids back.
mkdir -p "$tmp/root/usr/lib/systemd/catalog"
cp "$catalog" "$tmp/root/usr/lib/systemd/catalog/pairgate.catalog"
if journalctl --root="$tmp/root" --update-catalog >"$tmp/update.out" 2>&1 && [ ! -s "$tmp/update.out" ]; then
    journalctl --root="$tmp/root" --list-catalog >"$tmp/list" 2>&1 || true
    for id in $(cat "$tmp/code.ids"); do
        grep -q "^$id pairgate: " "$tmp/list" || { echo "FAIL: journalctl --list-catalog lacks $id"; fail=1; }
    done
    echo "journalctl --update-catalog: $(grep -c ' pairgate: ' "$tmp/list") pairgate entries compiled"
else
    cat "$tmp/update.out"
    echo "FAIL: journalctl --update-catalog reported problems with the catalog"; fail=1
fi

[ "$fail" -eq 0 ] && echo "OK: $n MESSAGE_IDs, all in the catalog"
exit "$fail"
