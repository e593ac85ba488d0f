//! The `-o` grammar: `[FORMAT=]PATH`, `journal`, `syslog[=unix:PATH|udp:HOST:PORT|tcp:HOST:PORT]`,
//! parsed into what a sink is built from (a formatter and a destination). Data only; the CLI and
//! the presets file both take it.

use std::path::PathBuf;

use crate::dest::spec::SyslogTarget;
use crate::format::Format;

/// One `-o [FORMAT=]PATH`, `-o journal` or `-o syslog[=TARGET]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSpec {
    pub format: Format,
    /// Empty for the logging services.
    pub path: PathBuf,
    /// Where `syslog` sends.
    pub syslog: Option<SyslogTarget>,
}

impl LogSpec {
    /// `FORMAT=PATH` when the text before the first `=` is a bare word (a typo there is an error,
    /// not a file name); otherwise all of it is the path, in classic format (`./a=b.log` is a
    /// file named `a=b.log`).
    pub fn parse(spec: &str) -> Result<LogSpec, String> {
        match spec {
            "journal" => {
                return Ok(LogSpec {
                    format: Format::Journal,
                    path: PathBuf::new(),
                    syslog: None,
                });
            }
            "syslog" => {
                return Ok(LogSpec {
                    format: Format::Syslog,
                    path: PathBuf::new(),
                    syslog: Some(SyslogTarget::Unix("/dev/log".into())),
                });
            }
            _ => {}
        }
        let (format, path) = match spec.split_once('=') {
            Some((word, path))
                if !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                let format = Format::from_name(word).ok_or_else(|| {
                    format!(
                        "unknown log format '{word}' (known: {}; for a file of that name write ./{spec})",
                        Format::names()
                    )
                })?;
                (format, path)
            }
            _ => (Format::Classic, spec),
        };
        if format == Format::Syslog {
            return Ok(LogSpec {
                format,
                path: PathBuf::new(),
                syslog: Some(SyslogTarget::parse(path)?),
            });
        }
        if format == Format::Journal {
            return Err(format!(
                "'{spec}': the journal takes no path (write -o journal; for a file named \
                 journal, -o ./journal)"
            ));
        }
        if path.is_empty() {
            return Err("the log path is empty".into());
        }
        Ok(LogSpec {
            format,
            path: path.into(),
            syslog: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_spec_forms() {
        let spec = |f, p: &str| {
            Ok(LogSpec {
                format: f,
                path: p.into(),
                syslog: None,
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
        assert!(
            LogSpec::parse("josnl=x")
                .unwrap_err()
                .contains("unknown log format 'josnl'")
        );
        assert!(LogSpec::parse("jsonl=").unwrap_err().contains("empty"));
        assert_eq!(LogSpec::parse("journal"), spec(Format::Journal, ""));
        assert_eq!(
            LogSpec::parse("./journal"),
            spec(Format::Classic, "./journal")
        );
        assert!(
            LogSpec::parse("journal=x")
                .unwrap_err()
                .contains("takes no path")
        );
        assert!(LogSpec::parse("").unwrap_err().contains("empty"));
    }
}
