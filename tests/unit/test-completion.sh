#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion of pairgatectl: commands, options and values (pairgatectl itself is a stub
# on PATH printing what `pending --json` / `devices --json` would).
# Usage: test-completion.sh COMPLETION-FILE
set -u
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat >"$stub/pairgatectl" <<'STUB'
#!/bin/sh
case "$1" in
pending) echo '[{"id":7,"method":"RequestConfirmation"},{"id":12,"method":"RequestPasskey"}]' ;;
devices) echo '[{"address":"AA:BB:CC:DD:EE:FF","name":"x"},{"address":"11:22:33:44:55:66"}]' ;;
esac
STUB
chmod +x "$stub/pairgatectl"
PATH=$stub:$PATH
# shellcheck source=/dev/null
source "$1"
fail=0 n=0
t() { # expected words... (the last word is the one being completed)
        local want=$1
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=${LINE:-"$*"}
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _pairgatectl
        local got="${COMPREPLY[*]}"
        n=$((n + 1))
        if [[ "$got" == "$want" ]]; then
                echo "ok $n - ${COMP_WORDS[*]}"
        else
                echo "not ok $n - ${COMP_WORDS[*]}: got '$got', want '$want'"
                fail=1
        fi
}
echo "1..14"
t "status pending approve deny passkey pin window devices forget lift watch log doctor --help --version" pairgatectl ""
t "pending passkey pin" pairgatectl p
t "open close" pairgatectl window ""
t "--json" pairgatectl pending --
t "7 12" pairgatectl approve ""
t "12" pairgatectl passkey 1
t "AA:BB:CC:DD:EE:FF" pairgatectl forget A
t "AA:BB:CC:DD:EE:FF 11:22:33:44:55:66" pairgatectl forget ""
# as bash splits "forget AA:BB:C" at the colons: what follows the last one is offered
LINE="pairgatectl forget AA:BB:C" t "CC:DD:EE:FF" pairgatectl forget AA : BB : C
t "AA:BB:CC:DD:EE:FF" pairgatectl lift A
t "--since --json --directory --file --unit" pairgatectl log --
t "today" pairgatectl log --since to
t "--json --bluetooth-config --config --root --no-bus" pairgatectl doctor --
t "--bluetooth-config" pairgatectl doctor --b
exit $fail
