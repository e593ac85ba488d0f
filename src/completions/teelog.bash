# bash completion for teelog                                   -*- shell-script -*-
# Written by `teelog completions bash`: the tables below come from teelog's own flags. Load it with
# `source <(teelog completions bash)`, or install it as /usr/share/bash-completion/completions/teelog.
# With bash-completion loaded, the command after `--` completes as it would on its own line.

# _teelog_w: the words up to the cursor, with what bash split at COMP_WORDBREAKS (`=`, `:`) joined
# again, so that `--format=jsonl` and `-o syslog=udp:host:514` are one word each as teelog sees them;
# _teelog_at[i]: where word i starts in COMP_WORDS.
_teelog_words() {
    _teelog_w=() _teelog_at=()
    local i word n=-1 glue=0
    for ((i = 0; i <= COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if ((n > 0)) && [[ $word && -z ${word//[=:]/} ]]; then
            _teelog_w[n]+=$word glue=1
        elif ((glue)); then
            _teelog_w[n]+=$word glue=0
        else
            _teelog_w[++n]=$word _teelog_at[n]=$i
        fi
    done
}

# Succeeds when option word $2 (`--long`, `-s`) of scope $1 takes a value.
_teelog_takes_value() {
    case $1,$2 in
    @TAKES_VALUE@) return 0 ;;
    esac
    return 1
}

# Succeeds when option word $2 leaves the next word as its value (`--log`, `-qo`, not `--log=x`
# nor `-ox`); then _teelog_opt is that option.
_teelog_needs_value() {
    local word=$2 i
    case $word in
    --*=*) return 1 ;;
    --*) _teelog_opt=$word; _teelog_takes_value "$1" "$word"; return ;;
    esac
    for ((i = 1; i < ${#word}; i++)); do
        if _teelog_takes_value "$1" "-${word:i:1}"; then
            _teelog_opt=-${word:i:1}
            ((i == ${#word} - 1))
            return
        fi
    done
    return 1
}

# COMPREPLY: the words in $1 (one a line) that begin with $2, quoted for the command line.
_teelog_reply() {
    local IFS=$'\n' word
    COMPREPLY=()
    for word in $1; do
        [[ $word == "$2"* ]] && COMPREPLY+=("$(printf '%q' "$word")")
    done
}

# The presets teelog knows: the built-in ones and those of the user's presets file (the one given
# with --presets-file, else teelog's default), as teelog itself reads them; the built-in ones when
# that teelog cannot be run.
_teelog_presets() {
    local file=${_teelog_presets_file/#\~/$HOME}
    "${COMP_WORDS[0]/#\~/$HOME}" completions preset-names ${file:+--presets-file "$file"} 2>/dev/null ||
        printf '%s\n' @BUILTIN_PRESETS@
}

# COMPREPLY for the value $3 of option $2 in scope $1.
_teelog_value() {
    local value=$3
    case $1,$2 in
    @VALUES@
    esac
    _teelog_trim "$value"
}

# Each reply in COMPREPLY completes all of word $1; bash replaces only what follows its last `=`
# or `:` (COMP_WORDBREAKS), so that part of each reply is what is kept.
_teelog_trim() {
    local raw=${COMP_WORDS[COMP_CWORD]}
    [[ $raw == *[=:] && -z ${raw//[=:]/} ]] && raw=
    local before=${1%"$raw"}
    [[ $before ]] && COMPREPLY=("${COMPREPLY[@]#"$before"}")
}

# COMPREPLY: the files and directories that $1, a path, may be (after a `FORMAT=` it may start
# with, as in `-o jsonl=run.jsonl`).
_teelog_files() {
    local IFS=$'\n' format=
    [[ $1 == +([[:alnum:]_-])=* ]] && format=${1%%=*}=
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "${1#"$format"}"))
    COMPREPLY=("${COMPREPLY[@]/#/$format}")
}

# The command starts at word $1: complete it (and its arguments, as its own completion does).
_teelog_command() {
    local at=${_teelog_at[$1]}
    if declare -F _command_offset >/dev/null; then
        _command_offset "$at"
    elif ((at == COMP_CWORD)); then
        COMPREPLY=($(compgen -c -- "${COMP_WORDS[COMP_CWORD]}"))
    fi
}

_teelog() {
    local _teelog_w _teelog_at _teelog_opt _teelog_presets_file=
    _teelog_words
    local cword=$((${#_teelog_w[@]} - 1)) scope=main i=1 word
    local cur=${_teelog_w[cword]}
    COMPREPLY=()
    while ((i < cword)); do
        word=${_teelog_w[i]}
        case $scope,$word in
        main,--)
            _teelog_command $((i + 1))
            return
            ;;
        *,--presets-file=*) _teelog_presets_file=${word#*=} ;;
        *,-?*)
            if _teelog_needs_value "$scope" "$word"; then
                ((i++))
                if ((i == cword)); then
                    _teelog_value "$scope" "$_teelog_opt" "$cur"
                    return
                fi
                [[ $_teelog_opt == --presets-file ]] && _teelog_presets_file=${_teelog_w[i]}
            fi
            ;;
        main,*)
            if ((i == 1)) && [[ $word == @(@SUBCOMMANDS@) ]]; then
                scope=$word
            else
                _teelog_command "$i"
                return
            fi
            ;;
        esac
        ((i++))
    done
    case $cur in
    --*=*)
        _teelog_takes_value "$scope" "${cur%%=*}" &&
            _teelog_value "$scope" "${cur%%=*}" "${cur#*=}"
        return
        ;;
    -*)
        case $scope in
        @OPTIONS@
        esac
        _teelog_reply "$opts" "$cur"
        return
        ;;
    esac
    case $scope in
    main)
        _teelog_command "$cword"
        if ((cword == 1)); then
            local commands=("${COMPREPLY[@]}")
            _teelog_reply $'@SUBCOMMANDS_LINES@' "$cur"
            COMPREPLY+=("${commands[@]}")
        fi
        return
        ;;
    @POSITIONALS@
    esac
    _teelog_trim "$cur"
}

complete -F _teelog -o bashdefault -o default teelog
