# SPDX-License-Identifier: MIT
# bash completion for pairgatectl(1). Request ids come from `pairgatectl pending --json` (when
# the user may call pairgated), addresses from `pairgatectl devices --json`. Needs nothing but
# bash (bash-completion's helpers are not required).

_pairgatectl_json_values() {
        # $1: subcommand, $2: key; the values of "key": in its --json output (no jq needed)
        pairgatectl "$1" --json 2>/dev/null | grep -o "\"$2\":[^,}]*" | sed 's/^[^:]*://; s/"//g'
}

_pairgatectl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cword=$COMP_CWORD
        local commands="status pending approve deny passkey pin window devices forget lift watch log doctor"
        local IFS=$'\n'

        COMPREPLY=()
        if [[ $cword -eq 1 ]]; then
                IFS=$' \t\n' COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
                return
        fi
        IFS=$' \t\n'
        case "${COMP_WORDS[1]}" in
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
        forget | lift)
                # bash splits words at ':' (COMP_WORDBREAKS): take the address typed so far from
                # the line, and offer what follows its last ':'.
                local line=${COMP_LINE:0:COMP_POINT} word
                local -a typed
                read -ra typed <<<"$line"
                [[ $line == *[[:space:]] ]] && typed+=("")
                word=${typed[${#typed[@]} - 1]}
                if [[ ${#typed[@]} -eq 3 ]]; then
                        COMPREPLY=($(compgen -W "$(_pairgatectl_json_values devices address)" -- "$word"))
                        [[ $word == *:* ]] && COMPREPLY=("${COMPREPLY[@]#"${word%"${word##*:}"}"}")
                fi
                ;;
        log)
                case "$prev" in
                --since)
                        COMPREPLY=($(compgen -W "today yesterday 1h 30min" -- "$cur"))
                        ;;
                --directory)
                        COMPREPLY=($(compgen -d -- "$cur"))
                        ;;
                --file)
                        COMPREPLY=($(compgen -f -- "$cur"))
                        ;;
                --unit)
                        COMPREPLY=($(compgen -W "pairgate.service" -- "$cur"))
                        ;;
                *)
                        COMPREPLY=($(compgen -W "--since --json --directory --file --unit" -- "$cur"))
                        ;;
                esac
                ;;
        doctor)
                case "$prev" in
                --bluetooth-config | --config)
                        COMPREPLY=($(compgen -f -- "$cur"))
                        ;;
                --root)
                        COMPREPLY=($(compgen -d -- "$cur"))
                        ;;
                *)
                        COMPREPLY=($(compgen -W "--json --bluetooth-config --config --root --no-bus" -- "$cur"))
                        ;;
                esac
                ;;
        esac
} && complete -F _pairgatectl pairgatectl
