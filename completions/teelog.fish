# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_teelog_global_optspecs
    string join \n f/format= o/log= max-size= keep= q/quiet utc color= syslog-facility= merge pty echo log-input strip-ansi pause= grace= redact-env= preset= program= presets-file= list-presets V/version h/help
end

function __fish_teelog_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_teelog_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_teelog_using_subcommand
    set -l cmd (__fish_teelog_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c teelog -n "__fish_teelog_needs_command" -s f -l format -d 'How the console shows the output: plain (stdout to stdout, stderr to stderr, byte for byte), classic, jsonl or asciicast (every record, of both streams, to stdout); journal and syslog are destinations for -o only. Default: plain, or the preset\'s' -r -f -a "plain\t'the bytes exactly as the command wrote them'
classic\t'a `[date user@host]> ` prompt before each burst of output, with start and exit lines'
jsonl\t'one JSON object per line of output, plus start and exit records'
asciicast\t'asciinema\'s v2 recording (a log file of this format is overwritten, not appended to)'"
complete -c teelog -n "__fish_teelog_needs_command" -s o -l log -d 'Also append to PATH, in FORMAT (classic, jsonl, plain or asciicast; default classic), or send to the systemd journal with `-o journal`, or to syslog with `-o syslog[=TARGET]` (unix:PATH, default /dev/log; udp:HOST:PORT; tcp:HOST:PORT), one entry per line. Repeatable. Each log is created with mode 0600 and opened before the command starts; an asciicast file holds one recording and is overwritten, not appended to. Any -o replaces a preset\'s default log' -r
complete -c teelog -n "__fish_teelog_needs_command" -l max-size -d 'Rotate each file log before a write would take it past SIZE bytes (K, M, G: powers of 1024): PATH becomes PATH.1, PATH.1 becomes PATH.2 and so on, between records only. Not for asciicast' -r
complete -c teelog -n "__fish_teelog_needs_command" -l keep -d 'With --max-size: how many rotated files to keep (PATH.1 ... PATH.N, at most 1000); older ones are deleted' -r
complete -c teelog -n "__fish_teelog_needs_command" -l color -d 'Colour the classic console\'s prompts (stderr\'s red, the start and exit lines dim): auto (when standard output is a terminal and NO_COLOR is not set), always or never. Logs are never coloured' -r -f -a "auto\t''
always\t''
never\t''"
complete -c teelog -n "__fish_teelog_needs_command" -l syslog-facility -d 'The facility of -o syslog messages: kern, user (the default), mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0 to local7' -r
complete -c teelog -n "__fish_teelog_needs_command" -l pause -d 'Count SECS of silence after some output as a pause: classic starts a new prompt with the next output, jsonl writes a line it holds without its newline ("eol":false). At most 86400' -r
complete -c teelog -n "__fish_teelog_needs_command" -l grace -d 'After the command exits, wait at most SECS in all for output from processes it started in the background that still hold its output open (time spent writing output does not count, and what is already in the pipes is always read); then log the exit and return. At most 86400' -r
complete -c teelog -n "__fish_teelog_needs_command" -l redact-env -d 'Replace the value of environment variable NAME, and its base64 form, by *** in everything teelog writes: the console, every log, the logged command line. Repeatable. The output is then no longer byte-exact, even in plain: that is the point. A value split across reads or cut by a pause is still masked, and so is one with escape sequences inside it (coloured in part, as by grep --color), with the sequences inside. teelog\'s own messages are masked too. The mysql and psql presets add MYSQL_PWD and PGPASSWORD' -r
complete -c teelog -n "__fish_teelog_needs_command" -l preset -d 'Run PRESET\'s program with its flags, then ARG...: a profile that makes a program stream and stay non-interactive, with a console format and a default log in the log directory ($TEELOG_LOG_DIR, else $XDG_STATE_HOME/teelog, else ~/.local/state/teelog). See --list-presets' -r -f -a "mariadb\t''
mysql\t''
psql\t''
python\t''
sqlite3\t''"
complete -c teelog -n "__fish_teelog_needs_command" -l program -d 'Run PATH instead of the preset\'s program (a client outside PATH), with the preset\'s flags' -r
complete -c teelog -n "__fish_teelog_needs_command" -l presets-file -d 'Read user presets from PATH (TOML) instead of $XDG_CONFIG_HOME/teelog/presets.toml' -r -F
complete -c teelog -n "__fish_teelog_needs_command" -s q -l quiet -d 'Show nothing on the console; write the logs only'
complete -c teelog -n "__fish_teelog_needs_command" -l utc -d 'Write classic timestamps in UTC instead of local time (jsonl is always UTC)'
complete -c teelog -n "__fish_teelog_needs_command" -l merge -d 'Give the command one pipe for both stdout and stderr: their exact order is kept, and everything is logged as stdout'
complete -c teelog -n "__fish_teelog_needs_command" -l pty -d 'Give the command a pseudo-terminal as its stdout, so that programs that hold output back in a pipe (stdio, python, grep, awk, sqlite3) write each line at once. stderr stays a pipe of its own; the bytes are logged exactly as written (no \\r added, no echo). The pty is not the command\'s controlling terminal: Ctrl-C, job control and /dev/tty password prompts work as without it. Its size is teelog\'s terminal\'s, else 80x24'
complete -c teelog -n "__fish_teelog_needs_command" -l echo -d 'With a database preset: have the client echo each statement before its result, with its own flag (mysql/mariadb -vv, psql --echo-queries, sqlite3 -echo), on a pty, so that the log reads statement, result, statement, error, in order'
complete -c teelog -n "__fish_teelog_needs_command" -l log-input -d 'Pass teelog\'s stdin on to the command through a pipe and record it, as stream "stdin" (jsonl records, classic "stdin" prompts, asciicast "i" events; plain leaves it out). teelog reads at most a pipe page (4 KiB) ahead of what the command has taken. stdin must be a file or a pipe, not a terminal'
complete -c teelog -n "__fish_teelog_needs_command" -l strip-ansi -d 'Remove ANSI (ECMA-48) escape sequences (colours, cursor moves, titles, hyperlinks) from every log; the console still gets them. Every other byte is kept as it came, invalid UTF-8 and C1 characters included. A sequence that does not end is dropped up to the byte that cuts it off, and what follows is kept: a title, hyperlink or other string at a newline, CAN or SUB or after 64 KiB, any other sequence at a byte that cannot be part of it or after 512 bytes'
complete -c teelog -n "__fish_teelog_needs_command" -l list-presets -d 'List every preset with its command, console format and default log, and exit'
complete -c teelog -n "__fish_teelog_needs_command" -s V -l version -d 'Print version'
complete -c teelog -n "__fish_teelog_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c teelog -n "__fish_teelog_needs_command" -a "replay" -d 'Play a jsonl recording again with its timing (stdout records to stdout, stderr records to stderr, byte for byte), or convert it at once with --format. `teelog -- replay` runs a program called replay'
complete -c teelog -n "__fish_teelog_needs_command" -a "completions" -d 'Print a completion script for SHELL (bash, zsh, fish, elvish, powershell), generated from these flags; for bash: `source <(teelog completions bash)`, or install it in /usr/share/bash-completion/completions/teelog'
complete -c teelog -n "__fish_teelog_using_subcommand replay" -s f -l format -d 'Convert at once instead of playing: plain (stdout records to stdout, stderr records to stderr), classic, jsonl or asciicast (everything to stdout), made by the same formatters as a live log' -r -f -a "plain\t'the bytes exactly as the command wrote them'
classic\t'a `[date user@host]> ` prompt before each burst of output, with start and exit lines'
jsonl\t'one JSON object per line of output, plus start and exit records'
asciicast\t'asciinema\'s v2 recording (a log file of this format is overwritten, not appended to)'"
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l speed -d 'Play X times as fast (0.5: half as fast), X from 0.001 to 1000000' -r
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l idle-limit -d 'Wait at most SECS between two outputs' -r
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l session -d 'The run to replay, by its session (default: the last one in FILE; see --list)' -r
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l pause -d 'When converting a recording made before teelog marked its pauses (one whose start record lacks "marks_pauses"), count SECS between two outputs as a pause (as --pause does live). Newer recordings say where each pause was, and this is not used' -r
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l no-wait -d 'Play without waiting: all of the output at once'
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l list -d 'List the runs FILE holds (session, start, command, exit status, duration, records) and exit'
complete -c teelog -n "__fish_teelog_using_subcommand replay" -l utc -d 'Write classic timestamps in UTC instead of local time'
complete -c teelog -n "__fish_teelog_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c teelog -n "__fish_teelog_using_subcommand completions" -s h -l help -d 'Print help'
