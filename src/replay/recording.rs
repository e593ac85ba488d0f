//! Reading a recording: a regular file read twice (to find its runs, then to play one), or
//! anything that can be read only once, kept; its records parsed back, a record cut short
//! skipped with a warning, any other bad line an error naming the file and line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, quote, report};
use crate::format::Format;

/// Just what `--list` and the choice of a run need from a record: the rest (the output itself)
/// is skipped by the parser without being kept.
#[derive(Debug, Deserialize)]
pub(super) struct Summary {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) timestamp: String,
    pub(super) session: String,
    #[serde(default)]
    pub(super) command: Vec<String>,
    pub(super) code: Option<i32>,
    pub(super) signal: Option<String>,
    pub(super) duration_s: Option<f64>,
}

/// What `--list` shows of one run.
#[derive(Debug, Default)]
pub(super) struct Run {
    pub(super) session: String,
    pub(super) start: String,
    pub(super) command: String,
    pub(super) exit: Option<String>,
    pub(super) duration: Option<f64>,
    pub(super) records: u64,
    /// Whether the run's start record is in the file (a later file of a rotation lacks it).
    pub(super) started: bool,
}

/// A recording: a regular file, read twice (once to find its runs, once to play one), so that
/// memory does not grow with it; or anything that can be read only once (standard input, a
/// pipe, a FIFO, `<(zcat run.jsonl.1.gz)`'s `/dev/fd/N`), which is read once and kept.
pub(super) struct Recording {
    pub(super) name: String,
    pub(super) source: Source,
}

pub(super) enum Source {
    File(std::path::PathBuf),
    Kept(Vec<u8>),
}

/// Whether to go on reading records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Go,
    Stop,
}

impl Recording {
    pub(super) fn open(path: &Path) -> Result<Recording, Error> {
        if path == Path::new("-") {
            let name = "standard input".to_owned();
            let kept = Self::keep(io::stdin().lock(), &name)?;
            return Ok(Recording {
                name,
                source: Source::Kept(kept),
            });
        }
        let name = quote(path);
        let cannot = |e: io::Error| Error::Replay(format!("cannot read {name}: {e}"));
        let file = File::open(path).map_err(cannot)?;
        // Only a regular file reads the same the second time; a pipe or a FIFO would be empty.
        let source = if file.metadata().map_err(cannot)?.is_file() {
            Source::File(path.to_owned())
        } else {
            Source::Kept(Self::keep(file, &name)?)
        };
        Ok(Recording { name, source })
    }

    /// All of `source`, for a recording that can be read only once.
    pub(super) fn keep(mut source: impl Read, name: &str) -> Result<Vec<u8>, Error> {
        let mut kept = Vec::new();
        source
            .read_to_end(&mut kept)
            .map_err(|e| Error::Replay(format!("cannot read {name}: {e}")))?;
        Ok(kept)
    }

    pub(super) fn reader(&self) -> Result<Box<dyn BufRead + '_>, Error> {
        Ok(match &self.source {
            Source::File(path) => {
                Box::new(BufReader::new(File::open(path).map_err(|e| {
                    Error::Replay(format!("cannot read {}: {e}", self.name))
                })?))
            }
            Source::Kept(bytes) => Box::new(&bytes[..]),
        })
    }

    /// Calls `each` with every record line, parsed as `T`, and its number, until it says stop. A
    /// last line cut short is skipped (with a warning when `warn`); any other line that does not
    /// parse is an error.
    pub(super) fn each<T: serde::de::DeserializeOwned>(
        &self,
        warn: bool,
        mut each: impl FnMut(usize, T) -> Result<Flow, Error>,
    ) -> Result<(), Error> {
        let mut reader = self.reader()?;
        let mut line = Vec::new();
        let mut number = 0;
        // A line of cut JSON: a record cut short if the next one starts a run (the next run
        // began it on a line of its own), else an error.
        let mut cut: Option<(usize, serde_json::Error)> = None;
        let bad = |(number, err): (usize, serde_json::Error)| {
            Error::Replay(format!(
                "{}:{number}: not a teelog jsonl record: {err}",
                self.name
            ))
        };
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::Replay(format!("cannot read {}: {e}", self.name)))?;
            if n == 0 {
                return cut.map_or(Ok(()), |cut| Err(bad(cut)));
            }
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<T>(&line) {
                Ok(record) => {
                    if let Some((at, err)) = cut.take() {
                        if !starts_run(&line) {
                            return Err(bad((at, err)));
                        }
                        if warn {
                            report(format_args!(
                                "warning: {}:{at}: skipped a record cut short (teelog was \
                                 stopped while writing it; the next run starts below it)",
                                self.name
                            ));
                        }
                    }
                    if each(number, record)? == Flow::Stop {
                        return Ok(());
                    }
                }
                Err(_) if !line.ends_with(b"\n") => {
                    if warn {
                        report(format_args!(
                            "warning: {}:{number}: skipped the last line, cut short (teelog was \
                             stopped while writing it)",
                            self.name
                        ));
                    }
                }
                // Cut JSON (not JSON that is no record) where a record begins.
                Err(err) if line.starts_with(b"{") && (err.is_syntax() || err.is_eof()) => {
                    if let Some(cut) = cut.replace((number, err)) {
                        return Err(bad(cut));
                    }
                }
                Err(err) => return Err(bad((number, err))),
            }
        }
    }

    /// Every run, in the order its first record appears.
    pub(super) fn runs(&self) -> Result<Vec<Run>, Error> {
        let mut runs: Vec<Run> = Vec::new();
        self.each(true, |_, r: Summary| {
            let i = match runs.iter().rposition(|run| run.session == r.session) {
                Some(i) => i,
                None => {
                    runs.push(Run {
                        session: r.session.clone(),
                        start: r.timestamp.clone(),
                        ..Run::default()
                    });
                    runs.len() - 1
                }
            };
            let run = &mut runs[i];
            // A seal is not a record of the run's (see `teelog verify`).
            if r.kind == "seal" {
                return Ok(Flow::Go);
            }
            run.records += 1;
            match r.kind.as_str() {
                "start" => {
                    run.start = r.timestamp;
                    run.command = Format::command_line(&r.command);
                    run.started = true;
                }
                "exit" => {
                    run.exit = Some(match (r.code, r.signal) {
                        (Some(code), _) => code.to_string(),
                        (None, Some(signal)) => signal,
                        (None, None) => "?".to_owned(),
                    });
                    run.duration = r.duration_s;
                }
                _ => {}
            }
            Ok(Flow::Go)
        })?;
        Ok(runs)
    }
}

/// Whether the record `line` is a run's `start`.
pub(super) fn starts_run(line: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_slice::<Kind>(line).is_ok_and(|k| k.kind == "start")
}
