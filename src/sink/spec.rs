//! The `-o` grammar: `[FORMAT=]PATH`, `journal`,
//! `syslog[=unix:PATH|udp:HOST:PORT|tcp:HOST:PORT|tls:HOST:PORT]`, `relp=[tls:]HOST:PORT`,
//! `sudo-iolog=DIR`, parsed into what a sink is built from (a formatter and a destination). Data only; the CLI and
//! the presets file both take it.

use std::path::PathBuf;

use crate::dest::spec::{RelpTarget, SyslogTarget};
use crate::format::Format;

/// The logging services `-o` takes by name: destinations with a formatter of their own, not
/// formats for a file or the console.
pub const SERVICES: [&str; 4] = ["journal", "syslog", "relp", "sudo-iolog"];

/// One `-o [FORMAT=]PATH`, `-o journal`, `-o syslog[=TARGET]` or `-o relp=[tls:]HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSpec {
    /// A log file (or FIFO, or device) in one of the formats.
    File { format: Format, path: PathBuf },
    /// The systemd journal, one entry per line.
    Journal,
    /// A syslog server, one message per line.
    Syslog(SyslogTarget),
    /// A RELP collector, one acknowledged message per line, shipped from a spool.
    Relp(RelpTarget),
    /// A sudo I/O log directory: a session directory in it, as sudo 1.9 writes one, for
    /// sudoreplay.
    SudoIolog(PathBuf),
}

impl LogSpec {
    /// `FORMAT=PATH` when the text before the first `=` is a bare word (a typo there is an error,
    /// not a file name); otherwise all of it is the path, in classic format (`./a=b.log` is a
    /// file named `a=b.log`).
    pub fn parse(spec: &str) -> Result<LogSpec, String> {
        match spec {
            "journal" => return Ok(LogSpec::Journal),
            "syslog" => return Ok(LogSpec::Syslog(SyslogTarget::Unix("/dev/log".into()))),
            _ => {}
        }
        let (word, path) = match spec.split_once('=') {
            Some((word, path))
                if !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                (word, path)
            }
            _ => ("classic", spec),
        };
        let format = match word {
            "syslog" => return SyslogTarget::parse(path).map(LogSpec::Syslog),
            "relp" => return RelpTarget::parse(path).map(LogSpec::Relp),
            "sudo-iolog" if path.is_empty() => {
                return Err("sudo-iolog=: the directory is empty".into());
            }
            "sudo-iolog" => return Ok(LogSpec::SudoIolog(path.into())),
            "journal" => {
                return Err(format!(
                    "'{spec}': the journal takes no path (write -o journal; for a file named \
                     journal, -o ./journal)"
                ));
            }
            _ => Format::from_name(word).ok_or_else(|| {
                format!(
                    "unknown log format '{word}' (known: {}, {}; for a file of that name write \
                     ./{spec})",
                    Format::names(),
                    SERVICES.join(", ")
                )
            })?,
        };
        if path.is_empty() {
            return Err("the log path is empty".into());
        }
        Ok(LogSpec::File {
            format,
            path: path.into(),
        })
    }

    /// The file's path, for a log file.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            LogSpec::File { path, .. } => Some(path),
            LogSpec::Journal | LogSpec::Syslog(_) | LogSpec::Relp(_) | LogSpec::SudoIolog(_) => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_spec_forms() {
        let spec = |format, p: &str| {
            Ok(LogSpec::File {
                format,
                path: p.into(),
            })
        };
        assert_eq!(LogSpec::parse("run.log"), spec(Format::Classic, "run.log"));
        assert_eq!(
            LogSpec::parse("jsonl=run.jsonl"),
            spec(Format::Jsonl, "run.jsonl")
        );
        assert_eq!(LogSpec::parse("plain=a=b"), spec(Format::Plain, "a=b"));
        assert_eq!(
            LogSpec::parse("./x=y.log"),
            spec(Format::Classic, "./x=y.log")
        );
        assert_eq!(
            LogSpec::parse("/tmp/a=b"),
            spec(Format::Classic, "/tmp/a=b")
        );
        assert_eq!(
            LogSpec::parse("josnl=x").unwrap_err(),
            "unknown log format 'josnl' (known: plain, classic, jsonl, asciicast, journal, \
             syslog, relp, sudo-iolog; for a file of that name write ./josnl=x)"
        );
        assert!(LogSpec::parse("jsonl=").unwrap_err().contains("empty"));
        assert_eq!(LogSpec::parse("journal"), Ok(LogSpec::Journal));
        assert_eq!(
            LogSpec::parse("./journal"),
            spec(Format::Classic, "./journal")
        );
        assert!(
            LogSpec::parse("journal=x")
                .unwrap_err()
                .contains("takes no path")
        );
        assert_eq!(
            LogSpec::parse("syslog"),
            Ok(LogSpec::Syslog(SyslogTarget::Unix("/dev/log".into())))
        );
        assert_eq!(
            LogSpec::parse("syslog=tcp:127.0.0.1:514"),
            Ok(LogSpec::Syslog(SyslogTarget::Tcp("127.0.0.1:514".into())))
        );
        assert!(LogSpec::parse("syslog=tcp:x").is_err());
        assert!(LogSpec::parse("").unwrap_err().contains("empty"));
        assert_eq!(
            LogSpec::parse("sudo-iolog=/var/log/io"),
            Ok(LogSpec::SudoIolog("/var/log/io".into()))
        );
        assert!(LogSpec::parse("sudo-iolog=").unwrap_err().contains("empty"));
    }
}
