# SPDX-License-Identifier: MIT
# bash completion for pairgatectl(1). Request ids come from `pairgatectl pending --json` (when
# the user may call pairgated), addresses from `pairgatectl devices --json`.

_pairgatectl_json_values() {
        # $1: subcommand, $2: JSON key; the values of "key": in its --json output, no jq needed.
        pairgatectl "$1" --json 2>/dev/null | grep -o "\"$2\":[^,}]*" | sed 's/^[^:]*://; s/"//g'
}

_pairgatectl() {
        local cur prev words cword
        _init_completion || return

        local commands="status pending approve deny passkey pin window devices forget watch log doctor"
        if [[ $cword -eq 1 ]]; then
                COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
                return
        fi
        case "${words[1]}" in
        status | pending | devices | watch)
                [[ $cword -eq 2 ]] && COMPREPLY=($(compgen -W "--json" -- "$cur"))
                ;;
        approve | deny | passkey | pin)
                [[ $cword -eq 2 ]] &&
                        COMPREPLY=($(compgen -W "$(_pairgatectl_json_values pending id)" -- "$cur"))
                ;;
        window)
                [[ $cword -eq 2 ]] && COMPREPLY=($(compgen -W "open close" -- "$cur"))
                ;;
        forget)
                [[ $cword -eq 2 ]] &&
                        COMPREPLY=($(compgen -W "$(_pairgatectl_json_values devices address)" -- "$cur"))
                ;;
        log)
                case "$prev" in
                --since)
                        COMPREPLY=($(compgen -W "today yesterday 1h 30min" -- "$cur"))
                        ;;
                --directory)
                        _filedir -d
                        ;;
                --file)
                        _filedir journal
                        ;;
                --unit)
                        COMPREPLY=($(compgen -W "pairgate.service" -- "$cur"))
                        ;;
                *)
                        COMPREPLY=($(compgen -W "--since --json --directory --file --unit" -- "$cur"))
                        ;;
                esac
                ;;
        esac
} && complete -F _pairgatectl pairgatectl
