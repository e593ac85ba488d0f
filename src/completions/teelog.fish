# fish completion for teelog, written by `teelog completions fish`: the `complete` lines below come
# from teelog's own flags. Install it as teelog.fish in ~/.config/fish/completions (or a
# vendor_completions.d), or load it with `teelog completions fish | source`. The command after
# `--` (or after teelog's options) completes as it would on its own line.

# Succeeds when option word $argv[2] of scope $argv[1] leaves the next word as its value (`--log`,
# `-qo`; not `--log=x` nor `-ox`); __teelog_opt is then that option.
function __teelog_needs_value
    set -l scope $argv[1]
    set -l word $argv[2]
    if string match -q -- '--*=*' $word
        return 1
    end
    if string match -q -- '--*' $word
        set -g __teelog_opt $word
        contains -- "$scope,$word" $__teelog_takes_value
        return
    end
    set -l chars (string split '' -- (string sub -s 2 -- $word))
    for i in (seq (count $chars))
        if contains -- "$scope,-$chars[$i]" $__teelog_takes_value
            set -g __teelog_opt -$chars[$i]
            test $i -eq (count $chars)
            return
        end
    end
    return 1
end

# Where the cursor is, one word a line: the scope (main, replay, completions) whose options apply,
# `SCOPE-positional` where its positional word may go, `main-first` where a subcommand may, or
# `command`: inside the command that teelog runs, which starts at word __teelog_command_at.
function __teelog_where
    set -l words (commandline -opc)
    set -l n (count $words)
    set -l scope main
    set -l positional 1
    set -g __teelog_presets_file
    set -l i 2
    while test $i -le $n
        set -l word $words[$i]
        switch "$scope,$word"
            case 'main,--'
                set -g __teelog_command_at (math $i + 1)
                echo command
                return
            case '*,--presets-file=*'
                set -g __teelog_presets_file (string replace -r -- '^[^=]*=' '' $word)
            case '*,-?*'
                if __teelog_needs_value $scope $word
                    set i (math $i + 1)
                    if test $i -gt $n
                        # The cursor is on the option's value.
                        echo $scope
                        return
                    end
                    test "$__teelog_opt" = --presets-file
                    and set -g __teelog_presets_file $words[$i]
                end
            case 'main,*'
                if test $i -eq 2; and contains -- $word @SUBCOMMANDS@
                    set scope $word
                else
                    set -g __teelog_command_at $i
                    echo command
                    return
                end
            case '*'
                set positional 0
        end
        set i (math $i + 1)
    end
    echo $scope
    if test $positional -eq 1; and not string match -q -- '-*' (commandline -ct)
        set -g __teelog_command_at (math $n + 1)
        echo $scope-positional
        test $n -eq 1; and echo main-first
    end
end

function __teelog_scope
    contains -- $argv[1] (__teelog_where)
end

# The presets teelog knows: the built-in ones and those of the user's presets file (the one given
# with --presets-file, else teelog's default), as teelog itself reads them; the built-in ones when
# that teelog cannot be run.
function __teelog_presets
    __teelog_where >/dev/null
    set -l teelog (commandline -opc)[1]
    set -l file
    test -n "$__teelog_presets_file"; and set file --presets-file $__teelog_presets_file
    $teelog completions preset-names $file 2>/dev/null
    or printf '%s\n' @BUILTIN_PRESETS@
end

# The command and its arguments, completed as on a line of their own.
function __teelog_command
    __teelog_where >/dev/null
    set -l words (commandline -opc)
    set -l line
    if test $__teelog_command_at -le (count $words)
        set line (string escape -- $words[$__teelog_command_at..-1])
    end
    # `-C"..."`, so that a line that starts with `-` is not read as complete's option.
    set -l joined (string join ' ' -- $line (commandline -ct))
    # (fish has no completion for an empty line: `complete -C ''` is an error.)
    test -n "$joined"; and complete -C"$joined"
end

set -g __teelog_takes_value @TAKES_VALUE@

complete -c teelog -n '__teelog_scope command' -f -a '(__teelog_command)'
complete -c teelog -n '__teelog_scope main-positional' -f -a '(__teelog_command)'
@COMPLETE@
