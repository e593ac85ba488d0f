//! teelog's own failures: one enum, one-line messages, and exit codes that cannot be mistaken for
//! the command's (the coreutils `env`/`timeout` convention).

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

/// teelog itself failed: bad usage, a log that cannot be opened or written.
pub const EXIT_FAILED: u8 = 125;
/// The command was found but could not be executed.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments; the text names what was wrong.
    #[error("{0}")]
    Usage(String),
    /// `teelog replay`: a recording that cannot be read or played.
    #[error("{0}")]
    Replay(String),
    #[error("no command given: put it after '--', as in: teelog -o run.log -- make")]
    NoCommand,
    #[error("cannot open log {}: {source}", quote(path))]
    OpenLog { path: PathBuf, source: io::Error },
    #[error("refusing log {}: {reason}", quote(path))]
    UnsafeLog { path: PathBuf, reason: String },
    #[error("{first} and {second} are the same file, where their records would mix")]
    SameLog { first: String, second: String },
    #[error("cannot run {}: {source}", quote(program))]
    Spawn {
        program: std::ffi::OsString,
        source: io::Error,
    },
    #[error("bad presets file {}: {detail}", quote(path))]
    PresetsFile { path: PathBuf, detail: String },
    #[error("cannot create log directory {}: {source}", quote(path))]
    LogDir { path: PathBuf, source: io::Error },
    #[error("cannot reach syslog at {target}: {source}")]
    Syslog { target: String, source: io::Error },
    #[error(
        "cannot reach the systemd journal at {} (-o journal): {source}",
        quote(path)
    )]
    Journal { path: PathBuf, source: io::Error },
    #[error("cannot create a pipe for the command's output: {0}")]
    Pipe(io::Error),
    #[error("--pty: cannot create a pseudo-terminal for the command's stdout: {0}")]
    Pty(io::Error),
    #[error("--log-input: cannot use standard input: {0}")]
    Input(io::Error),
    #[error("cannot set up signal handling: {0}")]
    Signals(io::Error),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                EXIT_NOT_FOUND
            }
            Error::Spawn { .. } => EXIT_CANNOT_EXECUTE,
            _ => EXIT_FAILED,
        }
    }

    /// For a command that could not be started: why, as the logs' exit records give it
    /// (`not found: No such file or directory (os error 2)`).
    pub fn reason(&self) -> String {
        match self {
            Error::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                format!("not found: {source}")
            }
            Error::Spawn { source, .. } => format!("cannot execute: {source}"),
            other => other.to_string(),
        }
    }

    /// Turns clap's multi-line usage error into one line (its help and version "errors" are not
    /// errors: callers print those as they are).
    pub fn from_clap(err: &clap::Error) -> Error {
        let text = err.render().to_string();
        let parts: Vec<&str> = text
            .lines()
            .map(str::trim)
            .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
            .filter(|l| !l.is_empty())
            .map(|l| l.strip_prefix("error: ").unwrap_or(l))
            .collect();
        Error::Usage(format!("{} (see 'teelog --help')", parts.join(" ")))
    }
}

/// What masks the secrets in teelog's own messages: a message with `***` where each secret
/// stood.
pub type Redaction = Box<dyn Fn(&str) -> String + Send + Sync>;

/// The redaction [`report`] applies, installed by the plan (`app`), which knows the secrets;
/// none, and messages go out as they are, until it does.
static REDACTION: RwLock<Option<Redaction>> = RwLock::new(None);

/// From now on, `redaction` masks the secrets in every message [`report`] writes (in place of
/// the one before it: the plan installs one from the command line before the flags are read,
/// and the run's redactor once they are checked).
pub fn redact_messages(redaction: Redaction) {
    *REDACTION.write().unwrap_or_else(PoisonError::into_inner) = Some(redaction);
}

/// Writes `teelog: <message>` as one line on stderr, with the secrets of `--redact-env` masked
/// (a message can quote the command, a path or a flag's value). If stderr itself is gone there
/// is nowhere left to say it, so a failure here is ignored.
pub fn report(message: impl Display) {
    let mut message = message.to_string();
    if let Some(redaction) = &*REDACTION.read().unwrap_or_else(PoisonError::into_inner) {
        message = redaction(&message);
    }
    let _ = writeln!(io::stderr().lock(), "teelog: {message}");
}

/// `'name'`, with control characters escaped so that a hostile file name cannot forge output.
pub fn quote(name: impl AsRef<OsStr>) -> String {
    let mut quoted = String::from("'");
    for c in name.as_ref().to_string_lossy().chars() {
        if c.is_control() {
            quoted.extend(c.escape_default());
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_control_characters() {
        assert_eq!(quote("a\nb\x1b[31m"), "'a\\nb\\u{1b}[31m'");
        assert_eq!(quote("plain é"), "'plain é'");
    }

    #[test]
    fn spawn_errors_map_to_126_and_127() {
        let not_found = Error::Spawn {
            program: "x".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        let denied = Error::Spawn {
            program: "x".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(not_found.exit_code(), 127);
        assert_eq!(denied.exit_code(), 126);
        assert_eq!(Error::Usage("x".into()).exit_code(), 125);
    }
}
