//! The command line. Doc comments here are `--help`; the man page is generated from the same
//! definition (see `tests/man.rs`), so the two cannot drift.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::format::Format;
use crate::sink::spec::LogSpec;

mod values;
pub use values::{Color, Completions, MAX_KEEP, MAX_SECONDS, SPEEDS};
use values::{
    CompletionsParser, ConsoleFormat, Facility, PresetName, parse_keep, parse_message_size,
    parse_seconds, parse_size, parse_speed, program_path,
};

const EXAMPLES: &str = "\
Examples:
  teelog -o run.log -- make -j2                 console as usual, classic log in run.log
  teelog -o run.log -o jsonl=run.jsonl -- make  two logs, two formats, one run
  teelog --format jsonl -- psql -c 'select 1'   jsonl records on stdout
  teelog -q -o jsonl=nightly.jsonl -- ./job.sh  logs only, nothing on the console
  teelog -o load.log -- mysql --batch db < load.sql   stdin goes to the command
  teelog --preset mysql -- -u app -p shop < migration.sql   streaming mysql, classic log
  teelog --preset mysql --echo -o m.log -- shop < x.sql   statements with their results
  teelog --pty --strip-ansi -o build.log -- make  line by line, colours on screen only
  teelog replay run.jsonl                         play the last run again (see replay --help)

Exit status: the command's; 128+N when signal N killed it (teelog then dies of N too); 125
when teelog itself failed (bad usage, a log that cannot be opened or written, output left
unread) and the command succeeded; 126 when the command cannot be executed; 127 when it is not
found.";

/// Run a command, show its output live, and keep an exact, timestamped log of it.
///
/// teelog runs COMMAND (no shell; argv as given) with its stdout and stderr on pipes, shows each
/// chunk on the console the moment it is read, and appends it to every log given with -o, each in
/// its own format. Standard input goes to the command untouched. teelog exits with the command's
/// status.
#[derive(Debug, Parser)]
#[command(
    name = "teelog",
    version,
    override_usage = "teelog [OPTIONS] -- COMMAND [ARG]...\n       teelog --preset PRESET [OPTIONS] [-- ARG...]\n       teelog --list-presets\n       teelog replay [OPTIONS] FILE\n       teelog ship [OPTIONS] SPOOL|DIR\n       teelog keygen [DIR] [--name NAME]\n       teelog verify [OPTIONS] FILE...\n       teelog completions SHELL",
    after_help = EXAMPLES,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// A subcommand; a program of the same name runs with `teelog -- replay`.
    #[command(subcommand)]
    pub action: Option<Action>,

    /// How the console shows the output: plain (stdout to stdout, stderr to stderr, byte for
    /// byte), classic, jsonl or asciicast (every record, of both streams, to stdout); journal and
    /// syslog are destinations for -o only. Default: plain, or the preset's
    #[arg(short, long, value_name = "FORMAT", value_parser = ConsoleFormat { replay: false }, conflicts_with = "quiet")]
    pub format: Option<Format>,

    /// Also append to PATH, in FORMAT (classic, jsonl, plain or asciicast; default classic), or
    /// send to the systemd journal with `-o journal`, to syslog with `-o syslog[=TARGET]`
    /// (unix:PATH, default /dev/log; udp:HOST:PORT and tcp:HOST:PORT, best effort;
    /// tls:HOST:PORT, RFC 5425), or to a RELP collector with `-o relp=[tls:]HOST:PORT`
    /// (acknowledged), one message per line, or to a sudo I/O log with `-o sudo-iolog=DIR` (a
    /// session directory for sudoreplay, made under DIR as sudo 1.9 makes one). relp= and
    /// syslog=tls: are shipped from a spool on
    /// disk by a thread of their own: the command never waits for the network. Repeatable.
    /// Each log is created with mode 0600 and opened before the command starts; an asciicast
    /// file holds one recording and is overwritten, not appended to. Any -o replaces a
    /// preset's default log
    #[arg(short = 'o', long = "log", value_name = "[FORMAT=]PATH|journal|syslog[=TARGET]|relp=TARGET|sudo-iolog=DIR", value_parser = LogSpec::parse, value_hint = clap::ValueHint::FilePath)]
    pub logs: Vec<LogSpec>,

    /// Rotate each file log before a write would take it past SIZE bytes (K, M, G: powers of
    /// 1024): PATH becomes PATH.1, PATH.1 becomes PATH.2 and so on, between records only. Not
    /// for asciicast
    #[arg(long, value_name = "SIZE", value_parser = parse_size, allow_hyphen_values = true)]
    pub max_size: Option<u64>,

    /// With --max-size: how many rotated files to keep (PATH.1 ... PATH.N, at most 1000); older
    /// ones are deleted
    #[arg(long, value_name = "N", default_value = "5", requires = "max_size", value_parser = parse_keep, allow_hyphen_values = true)]
    pub keep: u32,

    /// Show nothing on the console; write the logs only
    #[arg(short, long)]
    pub quiet: bool,

    /// Write classic timestamps in UTC instead of local time (jsonl is always UTC)
    #[arg(long)]
    pub utc: bool,

    /// Colour the classic console's prompts (stderr's red, the start and exit lines dim): auto
    /// (when standard output is a terminal and NO_COLOR is not set), always or never. Logs are
    /// never coloured
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: Color,

    /// The facility of -o syslog messages: kern, user (the default), mail, daemon, auth, syslog,
    /// lpr, news, uucp, cron, authpriv, ftp, local0 to local7
    #[arg(long, value_name = "NAME", default_value = "user", value_parser = Facility, hide_possible_values = true)]
    pub syslog_facility: u8,

    /// For relp=tls: and syslog=tls:, trust the CA certificates in FILE (PEM) instead of the
    /// system's
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub tls_ca: Option<PathBuf>,

    /// For relp=tls: and syslog=tls:, show the server the certificate chain in FILE (PEM), for
    /// servers that ask for one (mutual authentication); with --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key", value_hint = clap::ValueHint::FilePath)]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert", value_hint = clap::ValueHint::FilePath)]
    pub tls_key: Option<PathBuf>,

    /// The name the server's certificate must carry (a DNS name or an IP address), when it is
    /// not the HOST of the target
    #[arg(long, value_name = "NAME")]
    pub tls_name: Option<String>,

    /// After the command has ended, wait at most SECS for relp= and syslog=tls: collectors to
    /// take the last messages (all at once; a Ctrl-C or SIGTERM ends the wait); what they have
    /// not acknowledged then stays in the spool, and teelog says how to send it (teelog ship).
    /// At most 86400
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub ship_timeout: Duration,

    /// Where the spools of relp= and syslog=tls: are kept until their messages are
    /// acknowledged: /var/spool/teelog for root, else $XDG_STATE_HOME/teelog, else
    /// ~/.local/state/teelog
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub spool_dir: Option<PathBuf>,

    /// The longest message sent to relp= and syslog=tls: (K, M: powers of 1024; 2K to 64M):
    /// a longer line is sent in several. The collector must take as much (rsyslog:
    /// maxMessageSize, which is 8k unless raised; imtcp's maxFrameSize is 200000)
    #[arg(long, value_name = "SIZE", default_value = "128K", value_parser = parse_message_size, allow_hyphen_values = true)]
    pub max_message: usize,

    /// Seal every jsonl log with the signer key in KEYFILE (teelog keygen makes one): each
    /// record carries the SHA-256 of the line before it, and signed seals (every --seal-every
    /// records, --seal-interval seconds after a record, before each rotation and after the exit
    /// record) make any change, insertion, deletion or cut show in teelog verify. The journal,
    /// syslog and relp= destinations get every seal too, as a copy out of the recorded user's
    /// reach. The format: docs/sealing.md and teelog-jsonl(5)
    #[arg(long, value_name = "KEYFILE", value_hint = clap::ValueHint::FilePath)]
    pub seal: Option<PathBuf>,

    /// With --seal: a seal after N records not yet sealed (1 to 1000000; 1000 unless given)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000), allow_hyphen_values = true)]
    pub seal_every: Option<u64>,

    /// With --seal: a seal at most SECS after a record not yet sealed, even if the command is
    /// quiet (above 0, at most 86400; 10 unless given)
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub seal_interval: Option<Duration>,

    /// Give the command one pipe for both stdout and stderr: their exact order is kept, and
    /// everything is logged as stdout
    #[arg(long)]
    pub merge: bool,

    /// Give the command a pseudo-terminal as its stdout, so that programs that hold output back
    /// in a pipe (stdio, python, grep, awk, sqlite3) write each line at once. stderr stays a
    /// pipe of its own; the bytes are logged exactly as written (no \r added, no echo). The pty
    /// is not the command's controlling terminal: Ctrl-C, job control and /dev/tty password
    /// prompts work as without it. Its size is teelog's terminal's, else 80x24
    #[arg(long)]
    pub pty: bool,

    /// With a database preset: have the client echo each statement before its result, with its
    /// own flag (mysql/mariadb -vv, psql --echo-queries, sqlite3 -echo), on a pty, so that the
    /// log reads statement, result, statement, error, in order
    #[arg(long, requires = "preset")]
    pub echo: bool,

    /// Pass teelog's stdin on to the command through a pipe and record it, as stream "stdin"
    /// (jsonl records, classic "stdin" prompts, asciicast "i" events; plain leaves it out).
    /// teelog reads at most a pipe page (4 KiB) ahead of what the command has taken. stdin must
    /// be a file or a pipe, not a terminal
    #[arg(long)]
    pub log_input: bool,

    /// Remove ANSI (ECMA-48) escape sequences (colours, cursor moves, titles, hyperlinks) from
    /// every log; the console still gets them. Every other byte is kept as it came, invalid UTF-8
    /// and C1 characters included. A sequence that does not end is dropped up to the byte that
    /// cuts it off, and what follows is kept: a title, hyperlink or other string at a newline,
    /// CAN or SUB or after 64 KiB, any other sequence at a byte that cannot be part of it or
    /// after 512 bytes
    #[arg(long)]
    pub strip_ansi: bool,

    /// Count SECS of silence after some output as a pause: classic starts a new prompt with the
    /// next output, jsonl writes a line it holds without its newline ("eol":false). At most
    /// 86400
    #[arg(long, value_name = "SECS", default_value = "0.02", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub pause: Duration,

    /// After the command exits, wait at most SECS in all for output from processes it started
    /// in the background that still hold its output open (time spent writing output does not
    /// count, and what is already in the pipes is always read); then log the exit and return.
    /// At most 86400
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub grace: Duration,

    /// Replace the value of environment variable NAME, and its base64 form, by *** in everything
    /// teelog writes: the console, every log, the logged command line. Repeatable. The output is
    /// then no longer byte-exact, even in plain: that is the point. A value split across reads
    /// or cut by a pause is still masked, and so is one with escape sequences inside it (coloured
    /// in part, as by grep --color), with the sequences inside. teelog's own messages are masked
    /// too. The mysql and psql presets add MYSQL_PWD and PGPASSWORD
    #[arg(long = "redact-env", value_name = "NAME")]
    pub redact_env: Vec<String>,

    /// Run PRESET's program with its flags, then ARG...: a profile that makes a program stream
    /// and stay non-interactive, with a console format and a default log in the log directory
    /// ($TEELOG_LOG_DIR, else $XDG_STATE_HOME/teelog, else ~/.local/state/teelog). See
    /// --list-presets
    #[arg(long, value_name = "PRESET", value_parser = PresetName)]
    pub preset: Option<String>,

    /// Run PATH instead of the preset's program (a client outside PATH), with the preset's flags
    #[arg(long, value_name = "PATH", requires = "preset", value_hint = clap::ValueHint::ExecutablePath,
          value_parser = clap::builder::TypedValueParser::try_map(clap::builder::OsStringValueParser::new(), program_path))]
    pub program: Option<OsString>,

    /// Read user presets from PATH (TOML) instead of $XDG_CONFIG_HOME/teelog/presets.toml
    #[arg(long, value_name = "PATH")]
    pub presets_file: Option<PathBuf>,

    /// List every preset with its command, console format and default log, and exit
    #[arg(long)]
    pub list_presets: bool,

    /// Print version
    #[arg(short = 'V', long)]
    pub version: bool,

    /// The command to run and its arguments (with --preset: the arguments after the preset's)
    #[arg(value_name = "COMMAND", trailing_var_arg = true, value_hint = clap::ValueHint::CommandWithArguments)]
    pub command: Vec<OsString>,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Play a jsonl recording again with its timing (stdout records to stdout, stderr records to
    /// stderr, byte for byte), or convert it at once with --format. `teelog -- replay` runs a
    /// program called replay
    #[command(
        after_help = "Examples:\n  teelog replay run.jsonl                     play the last run again, as it happened\n  teelog replay --list run.jsonl              the runs the file holds\n  teelog replay --speed 4 --idle-limit 1 run.jsonl\n  teelog replay --format asciicast run.jsonl > run.cast   then: asciinema play run.cast\n  teelog replay --format classic --session ID run.jsonl   one run as a classic log"
    )]
    Replay(ReplayArgs),

    /// Send what a spool holds that its collector has not acknowledged (the spool a run named
    /// when it ended), then remove it; or every spool in a directory that no running teelog
    /// is shipping. Exit 0 when all is acknowledged, 1 when some is not
    #[command(
        after_help = "Examples:\n  teelog ship ~/.local/state/teelog/0193...relp-logs-2514.spool\n  teelog ship ~/.local/state/teelog          every spool left there\n  teelog ship --follow /var/spool/teelog     as a service: ship what runs leave, as they leave it"
    )]
    Ship(ShipArgs),

    /// Check a sealed jsonl log, or a rotated set (PATH.N ... PATH.1 PATH), against the trusted
    /// keys, and say one verdict with its exit code. 0 OK (also OK with K records after the last
    /// seal, a run that never ended; 7 then with --require-sealed), 1 BROKEN, 2 TRUNCATED, 3 GAP,
    /// 4 BAD SIGNATURE, 5 WRONG KEY, 6 UNSEALED; 125 a usage error (a key or a file that cannot
    /// be read, a file that is not a jsonl log)
    #[command(
        after_help = "Examples:\n  teelog verify run.jsonl                     run.jsonl with run.jsonl.1 ... beside it, oldest first\n  teelog verify --key db1.pub run.jsonl       trust that key only (not ~/.config/teelog/keys/*.pub)\n  teelog verify --require-sealed run.jsonl    a run that never ended is an error too\n  teelog verify --seals /var/log/collector.log run.jsonl   against the seals a collector got"
    )]
    Verify(VerifyArgs),

    /// Make an Ed25519 key pair for --seal, NAME.key (the signer, mode 0600, never overwritten)
    /// and NAME.pub (the verifier key, for teelog verify --key), in DIR
    #[command(
        after_help = "Examples:\n  teelog keygen                               HOST.key and HOST.pub in ~/.config/teelog/keys\n  teelog keygen --name ci /etc/teelog/keys    ci.key and ci.pub there"
    )]
    Keygen(KeygenArgs),

    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell), generated from
    /// these flags; for bash: `source <(teelog completions bash)`, or install it in
    /// /usr/share/bash-completion/completions/teelog
    Completions {
        #[arg(value_name = "SHELL", value_parser = CompletionsParser)]
        shell: Completions,

        /// For the scripts, with `preset-names`: the presets file the command line names
        #[arg(long, hide = true, value_name = "PATH")]
        presets_file: Option<PathBuf>,
    },
}

/// `teelog verify`'s arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The log, or the files of a rotated set, oldest first. One PATH alone brings PATH.N ...
    /// PATH.1 beside it
    #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
    pub files: Vec<PathBuf>,

    /// Trust this verifier key (NAME+HASH+KEY, as NAME.pub holds), or the keys in this file (one
    /// a line). Repeatable. Default: every *.pub in $XDG_CONFIG_HOME/teelog/keys
    /// (~/.config/teelog/keys)
    #[arg(long = "key", value_name = "PUBKEY|FILE", value_hint = clap::ValueHint::FilePath)]
    pub keys: Vec<String>,

    /// Records after a run's last seal (a run that never ended) are an error (exit 7)
    #[arg(long)]
    pub require_sealed: bool,

    /// Seal lines collected elsewhere (a collector's log, the JSON from the first '{' of each
    /// line). The log must agree with every seal of its runs, and must not end before them.
    /// Repeatable
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub seals: Vec<PathBuf>,
}

/// `teelog keygen`'s arguments.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the keys (made, mode 0700, if missing). Default:
    /// $XDG_CONFIG_HOME/teelog/keys, else ~/.config/teelog/keys
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,

    /// The key's name (no space, no '+'). Default: the short host name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `teelog ship`'s arguments.
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The spool, or a directory of spools
    #[arg(value_name = "SPOOL|DIR", value_hint = clap::ValueHint::AnyPath)]
    pub spool: PathBuf,

    /// Give up when SECS pass without an acknowledgement. At most 86400
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub ship_timeout: Duration,

    /// Never give up: keep a spool shipped as it grows, or look in the directory again every 2 s
    /// for spools that runs have left (for a service)
    #[arg(long)]
    pub follow: bool,
}

/// `teelog replay`'s arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The jsonl recording (`-` for standard input), or a sudo I/O log session directory
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub file: PathBuf,

    /// Convert at once instead of playing: plain (stdout records to stdout, stderr records to
    /// stderr), classic, jsonl or asciicast (everything to stdout), made by the same formatters
    /// as a live log
    #[arg(short, long, value_name = "FORMAT", value_parser = ConsoleFormat { replay: true })]
    pub format: Option<Format>,

    /// Play X times as fast (0.5: half as fast), X from 0.001 to 1000000
    #[arg(long, value_name = "X", default_value = "1", value_parser = parse_speed, allow_hyphen_values = true)]
    pub speed: f64,

    /// Play without waiting: all of the output at once
    #[arg(long)]
    pub no_wait: bool,

    /// Wait at most SECS between two outputs
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub idle_limit: Option<Duration>,

    /// The run to replay, by its session (default: the last one in FILE; see --list)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,

    /// List the runs FILE holds (session, start, command, exit status, duration, records) and
    /// exit
    #[arg(long)]
    pub list: bool,

    /// When converting a recording made before teelog marked its pauses (one whose start record
    /// lacks "marks_pauses"), count SECS between two outputs as a pause (as --pause does live).
    /// Newer recordings say where each pause was, and this is not used
    #[arg(long, value_name = "SECS", default_value = "0.02", value_parser = parse_seconds, allow_hyphen_values = true)]
    pub pause: Duration,

    /// Write classic timestamps in UTC instead of local time
    #[arg(long)]
    pub utc: bool,
}

impl Cli {
    /// Parses `args` as clap does, then refuses what clap would accept and ignore: `--version`
    /// with anything else, `--list-presets` with anything but `--presets-file`.
    pub fn parse_checked<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let matches = cmd.try_get_matches_from_mut(args)?;
        alone(&mut cmd, &matches, "version", &[])?;
        alone(&mut cmd, &matches, "list_presets", &["presets_file"])?;
        Cli::from_arg_matches(&matches)
    }
}

/// An error when flag `id` was given with an argument other than `allowed` ones.
fn alone(
    cmd: &mut clap::Command,
    matches: &clap::ArgMatches,
    id: &str,
    allowed: &[&str],
) -> Result<(), clap::Error> {
    if !matches.get_flag(id) {
        return Ok(());
    }
    let given = |arg: &&clap::Arg| {
        let other = arg.get_id().as_str();
        other != id
            && !allowed.contains(&other)
            && matches.value_source(other) == Some(clap::parser::ValueSource::CommandLine)
    };
    let Some(other) = cmd.get_arguments().find(given) else {
        return Ok(());
    };
    let other = if other.is_positional() {
        let word = matches
            .get_raw(other.get_id().as_str())
            .and_then(|mut words| words.next())
            .unwrap_or_default();
        crate::error::quote(word)
    } else {
        flag_name(other)
    };
    let find = |id: &str| {
        cmd.get_arguments()
            .find(|a| a.get_id() == id)
            .map(flag_name)
    };
    let name = find(id).unwrap_or_else(|| id.to_owned());
    let but = match allowed {
        [] => String::new(),
        _ => {
            let names: Vec<String> = allowed.iter().filter_map(|a| find(a)).collect();
            format!(" but {}", names.join(", "))
        }
    };
    Err(cmd.error(
        clap::error::ErrorKind::ArgumentConflict,
        format!("{name} takes no other argument{but}, and {other} was given"),
    ))
}

/// `-o/--log`, `--utc`, `-q/--quiet`.
fn flag_name(arg: &clap::Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(short), Some(long)) => format!("-{short}/--{long}"),
        (None, Some(long)) => format!("--{long}"),
        (Some(short), None) => format!("-{short}"),
        (None, None) => arg.get_id().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn everything_after_the_command_is_the_commands() {
        let cli = Cli::try_parse_from(["teelog", "-o", "x", "--", "ls", "-q", "--log"]).unwrap();
        assert_eq!(cli.command, ["ls", "-q", "--log"]);
        let cli = Cli::try_parse_from(["teelog", "-q", "make", "-j2"]).unwrap();
        assert!(cli.quiet);
        assert_eq!(cli.command, ["make", "-j2"]);
        assert!(Cli::try_parse_from(["teelog", "--bogus", "--", "true"]).is_err());
    }

    #[test]
    fn replay_is_a_subcommand_and_a_program_after_the_separator() {
        let cli = Cli::try_parse_from(["teelog", "replay", "--speed", "2", "x.jsonl"]).unwrap();
        match cli.action {
            Some(Action::Replay(args)) => {
                assert_eq!(args.file, PathBuf::from("x.jsonl"));
                assert_eq!(args.speed, 2.0);
            }
            other => panic!("not the replay subcommand: {other:?}"),
        }
        let cli = Cli::try_parse_from(["teelog", "--", "replay", "x"]).unwrap();
        assert!(cli.action.is_none());
        assert_eq!(cli.command, ["replay", "x"]);
        assert!(Cli::try_parse_from(["teelog", "replay", "--speed", "0", "x"]).is_err());
        assert!(Cli::try_parse_from(["teelog", "replay", "--speed", "NaN", "x"]).is_err());
    }
}
