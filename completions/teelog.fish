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
                if test $i -eq 2; and contains -- $word replay ship verify keygen completions
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
    or printf '%s\n' mariadb mysql psql python sqlite3
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

set -g __teelog_takes_value main,-f main,--format main,-o main,--log main,--max-size main,--keep main,--color main,--syslog-facility main,--tls-ca main,--tls-cert main,--tls-key main,--tls-name main,--ship-timeout main,--spool-dir main,--max-message main,--seal main,--seal-every main,--seal-interval main,--pause main,--grace main,--redact-env main,--preset main,--program main,--presets-file replay,-f replay,--format replay,--speed replay,--idle-limit replay,--session replay,--pause ship,--ship-timeout verify,--key verify,--seals keygen,--name

complete -c teelog -n '__teelog_scope command' -f -a '(__teelog_command)'
complete -c teelog -n '__teelog_scope main-positional' -f -a '(__teelog_command)'
complete -c teelog -n '__teelog_scope main' -s f -l format -x -a 'plain classic jsonl asciicast' -d 'How the console shows the output'
complete -c teelog -n '__teelog_scope main' -s o -l log -r -F -d 'Also append to PATH, in FORMAT (classic, jsonl, plain or asciicast; default classic), or send to the systemd journal with `-o journal`, to syslog with `-o syslog[=TARGET]` (unix:PATH, default /dev/log; udp:HOST:PORT and tcp:HOST:PORT, best effort; tls:HOST:PORT, RFC 5425), or to a RELP collector with `-o relp=[tls:]HOST:PORT` (acknowledged), one message per line, or to a sudo I/O log with `-o sudo-iolog=DIR` (a session directory for sudoreplay, made under DIR as sudo 1.9 makes one)'
complete -c teelog -n '__teelog_scope main' -l max-size -x -d 'Rotate each file log before a write would take it past SIZE bytes (K, M, G'
complete -c teelog -n '__teelog_scope main' -l keep -x -d 'With --max-size'
complete -c teelog -n '__teelog_scope main' -s q -l quiet -d 'Show nothing on the console; write the logs only'
complete -c teelog -n '__teelog_scope main' -l utc -d 'Write classic timestamps in UTC instead of local time (jsonl is always UTC)'
complete -c teelog -n '__teelog_scope main' -l color -x -a 'auto always never' -d 'Colour the classic console\'s prompts (stderr\'s red, the start and exit lines dim)'
complete -c teelog -n '__teelog_scope main' -l syslog-facility -x -a 'kern user mail daemon auth syslog lpr news uucp cron authpriv ftp local0 local1 local2 local3 local4 local5 local6 local7' -d 'The facility of -o syslog messages'
complete -c teelog -n '__teelog_scope main' -l tls-ca -r -F -d 'For relp=tls'
complete -c teelog -n '__teelog_scope main' -l tls-cert -r -F -d 'For relp=tls'
complete -c teelog -n '__teelog_scope main' -l tls-key -r -F -d 'The private key (PEM) of --tls-cert'
complete -c teelog -n '__teelog_scope main' -l tls-name -x -d 'The name the server\'s certificate must carry (a DNS name or an IP address), when it is not the HOST of the target'
complete -c teelog -n '__teelog_scope main' -l ship-timeout -x -d 'After the command has ended, wait at most SECS for relp= and syslog=tls'
complete -c teelog -n '__teelog_scope main' -l spool-dir -r -F -d 'Where the spools of relp= and syslog=tls'
complete -c teelog -n '__teelog_scope main' -l max-message -x -d 'The longest message sent to relp= and syslog=tls'
complete -c teelog -n '__teelog_scope main' -l seal -r -F -d 'Seal every jsonl log with the signer key in KEYFILE (teelog keygen makes one)'
complete -c teelog -n '__teelog_scope main' -l seal-every -x -d 'With --seal'
complete -c teelog -n '__teelog_scope main' -l seal-interval -x -d 'With --seal'
complete -c teelog -n '__teelog_scope main' -l merge -d 'Give the command one pipe for both stdout and stderr'
complete -c teelog -n '__teelog_scope main' -l pty -d 'Give the command a pseudo-terminal as its stdout, so that programs that hold output back in a pipe (stdio, python, grep, awk, sqlite3) write each line at once'
complete -c teelog -n '__teelog_scope main' -l echo -d 'With a database preset'
complete -c teelog -n '__teelog_scope main' -l log-input -d 'Pass teelog\'s stdin on to the command through a pipe and record it, as stream "stdin" (jsonl records, classic "stdin" prompts, asciicast "i" events; plain leaves it out)'
complete -c teelog -n '__teelog_scope main' -l strip-ansi -d 'Remove ANSI (ECMA-48) escape sequences (colours, cursor moves, titles, hyperlinks) from every log; the console still gets them'
complete -c teelog -n '__teelog_scope main' -l pause -x -d 'Count SECS of silence after some output as a pause'
complete -c teelog -n '__teelog_scope main' -l grace -x -d 'After the command exits, wait at most SECS in all for output from processes it started in the background that still hold its output open (time spent writing output does not count, and what is already in the pipes is always read); then log the exit and return'
complete -c teelog -n '__teelog_scope main' -l redact-env -x -d 'Replace the value of environment variable NAME, and its base64 form, by *** in everything teelog writes'
complete -c teelog -n '__teelog_scope main' -l preset -x -a '(__teelog_presets)' -d 'Run PRESET\'s program with its flags, then ARG'
complete -c teelog -n '__teelog_scope main' -l program -r -F -d 'Run PATH instead of the preset\'s program (a client outside PATH), with the preset\'s flags'
complete -c teelog -n '__teelog_scope main' -l presets-file -r -F -d 'Read user presets from PATH (TOML) instead of $XDG_CONFIG_HOME/teelog/presets.toml'
complete -c teelog -n '__teelog_scope main' -l list-presets -d 'List every preset with its command, console format and default log, and exit'
complete -c teelog -n '__teelog_scope main' -s V -l version -d 'Print version'
complete -c teelog -n '__teelog_scope main' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c teelog -n '__teelog_scope replay' -s f -l format -x -a 'plain classic jsonl asciicast' -d 'Convert at once instead of playing'
complete -c teelog -n '__teelog_scope replay' -l speed -x -d 'Play X times as fast (0.5'
complete -c teelog -n '__teelog_scope replay' -l no-wait -d 'Play without waiting'
complete -c teelog -n '__teelog_scope replay' -l idle-limit -x -d 'Wait at most SECS between two outputs'
complete -c teelog -n '__teelog_scope replay' -l session -x -d 'The run to replay, by its session (default'
complete -c teelog -n '__teelog_scope replay' -l list -d 'List the runs FILE holds (session, start, command, exit status, duration, records) and exit'
complete -c teelog -n '__teelog_scope replay' -l pause -x -d 'When converting a recording made before teelog marked its pauses (one whose start record lacks "marks_pauses"), count SECS between two outputs as a pause (as --pause does live)'
complete -c teelog -n '__teelog_scope replay' -l utc -d 'Write classic timestamps in UTC instead of local time'
complete -c teelog -n '__teelog_scope replay' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c teelog -n '__teelog_scope replay-positional' -F
complete -c teelog -n '__teelog_scope ship' -l ship-timeout -x -d 'Give up when SECS pass without an acknowledgement'
complete -c teelog -n '__teelog_scope ship' -l follow -d 'Never give up'
complete -c teelog -n '__teelog_scope ship' -s h -l help -d 'Print help'
complete -c teelog -n '__teelog_scope ship-positional' -F
complete -c teelog -n '__teelog_scope verify' -l key -r -F -d 'Trust this verifier key (NAME+HASH+KEY, as NAME.pub holds), or the keys in this file (one a line)'
complete -c teelog -n '__teelog_scope verify' -l require-sealed -d 'Records after a run\'s last seal (a run that never ended) are an error (exit 7)'
complete -c teelog -n '__teelog_scope verify' -l seals -r -F -d 'Seal lines collected elsewhere (a collector\'s log, the JSON from the first \'{\' of each line)'
complete -c teelog -n '__teelog_scope verify' -s h -l help -d 'Print help'
complete -c teelog -n '__teelog_scope verify-positional' -F
complete -c teelog -n '__teelog_scope keygen' -l name -x -d 'The key\'s name (no space, no \'+\')'
complete -c teelog -n '__teelog_scope keygen' -s h -l help -d 'Print help'
complete -c teelog -n '__teelog_scope keygen-positional' -F
complete -c teelog -n '__teelog_scope completions' -s h -l help -d 'Print help'
complete -c teelog -n '__teelog_scope completions-positional' -f -a 'bash' -d ''
complete -c teelog -n '__teelog_scope completions-positional' -f -a 'elvish' -d ''
complete -c teelog -n '__teelog_scope completions-positional' -f -a 'fish' -d ''
complete -c teelog -n '__teelog_scope completions-positional' -f -a 'powershell' -d ''
complete -c teelog -n '__teelog_scope completions-positional' -f -a 'zsh' -d ''
complete -c teelog -n '__teelog_scope main-first' -f -a 'replay' -d 'Play a jsonl recording again with its timing (stdout records to stdout, stderr records to stderr, byte for byte), or convert it at once with --format'
complete -c teelog -n '__teelog_scope main-first' -f -a 'ship' -d 'Send what a spool holds that its collector has not acknowledged (the spool a run named when it ended), then remove it; or every spool in a directory that no running teelog is shipping'
complete -c teelog -n '__teelog_scope main-first' -f -a 'verify' -d 'Check a sealed jsonl log, or a rotated set (PATH.N'
complete -c teelog -n '__teelog_scope main-first' -f -a 'keygen' -d 'Make an Ed25519 key pair for --seal, NAME.key (the signer, mode 0600, never overwritten) and NAME.pub (the verifier key, for teelog verify --key), in DIR'
complete -c teelog -n '__teelog_scope main-first' -f -a 'completions' -d 'Print a completion script for SHELL (bash, zsh, fish, elvish, powershell), generated from these flags; for bash'
