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
    main,-f|main,--format|main,-o|main,--log|main,--max-size|main,--keep|main,--color|main,--syslog-facility|main,--tls-ca|main,--tls-cert|main,--tls-key|main,--tls-name|main,--ship-timeout|main,--spool-dir|main,--max-message|main,--seal|main,--seal-every|main,--seal-interval|main,--pause|main,--grace|main,--redact-env|main,--preset|main,--program|main,--presets-file|replay,-f|replay,--format|replay,--speed|replay,--idle-limit|replay,--session|replay,--pause|ship,--ship-timeout|verify,--key|verify,--seals|keygen,--name) return 0 ;;
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
        printf '%s\n' mariadb mysql psql python sqlite3
}

# COMPREPLY for the value $3 of option $2 in scope $1.
_teelog_value() {
    local value=$3
    case $1,$2 in
    main,-f|main,--format)
        _teelog_reply $'plain\nclassic\njsonl\nasciicast' "$value"
        ;;
    main,-o|main,--log)
        _teelog_files "$value"
        ;;
    main,--max-size)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--keep)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--color)
        _teelog_reply $'auto\nalways\nnever' "$value"
        ;;
    main,--syslog-facility)
        _teelog_reply $'kern\nuser\nmail\ndaemon\nauth\nsyslog\nlpr\nnews\nuucp\ncron\nauthpriv\nftp\nlocal0\nlocal1\nlocal2\nlocal3\nlocal4\nlocal5\nlocal6\nlocal7' "$value"
        ;;
    main,--tls-ca)
        _teelog_files "$value"
        ;;
    main,--tls-cert)
        _teelog_files "$value"
        ;;
    main,--tls-key)
        _teelog_files "$value"
        ;;
    main,--tls-name)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--ship-timeout)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--spool-dir)
        _teelog_files "$value"
        ;;
    main,--max-message)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--seal)
        _teelog_files "$value"
        ;;
    main,--seal-every)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--seal-interval)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--pause)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--grace)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--redact-env)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    main,--preset)
        _teelog_reply "$(_teelog_presets)" "$value"
        ;;
    main,--program)
        _teelog_files "$value"
        ;;
    main,--presets-file)
        _teelog_files "$value"
        ;;
    replay,-f|replay,--format)
        _teelog_reply $'plain\nclassic\njsonl\nasciicast' "$value"
        ;;
    replay,--speed)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    replay,--idle-limit)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    replay,--session)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    replay,--pause)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    ship,--ship-timeout)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
    verify,--key)
        _teelog_files "$value"
        ;;
    verify,--seals)
        _teelog_files "$value"
        ;;
    keygen,--name)
        compopt +o default +o bashdefault 2>/dev/null
        ;;
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
            if ((i == 1)) && [[ $word == @(replay|ship|verify|keygen|completions) ]]; then
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
        main) local opts=$'-f\n--format\n-o\n--log\n--max-size\n--keep\n-q\n--quiet\n--utc\n--color\n--syslog-facility\n--tls-ca\n--tls-cert\n--tls-key\n--tls-name\n--ship-timeout\n--spool-dir\n--max-message\n--seal\n--seal-every\n--seal-interval\n--merge\n--pty\n--echo\n--log-input\n--strip-ansi\n--pause\n--grace\n--redact-env\n--preset\n--program\n--presets-file\n--list-presets\n-V\n--version\n-h\n--help' ;;
        replay) local opts=$'-f\n--format\n--speed\n--no-wait\n--idle-limit\n--session\n--list\n--pause\n--utc\n-h\n--help' ;;
        ship) local opts=$'--ship-timeout\n--follow\n-h\n--help' ;;
        verify) local opts=$'--key\n--require-sealed\n--seals\n-h\n--help' ;;
        keygen) local opts=$'--name\n-h\n--help' ;;
        completions) local opts=$'-h\n--help' ;;
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
            _teelog_reply $'replay\nship\nverify\nkeygen\ncompletions' "$cur"
            COMPREPLY+=("${commands[@]}")
        fi
        return
        ;;
    replay)
        _teelog_files "$cur"
        ;;
    ship)
        _teelog_files "$cur"
        ;;
    verify)
        _teelog_files "$cur"
        ;;
    keygen)
        _teelog_files "$cur"
        ;;
    completions)
        _teelog_reply $'bash\nelvish\nfish\npowershell\nzsh' "$cur"
        ;;
    esac
    _teelog_trim "$cur"
}

complete -F _teelog -o bashdefault -o default teelog
