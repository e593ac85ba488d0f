//! `teelog replay`: a jsonl recording as a second source of events. Its records become the same
//! `Start`, `Chunk`s, pauses and `Exit` the runner pushes live, fed to the same sinks: played
//! with the recorded timing on a plain console, or converted at once by any formatter, so that a
//! converted classic log is what a live one would have been.
//!
//! A file may hold several runs (every run of a preset appends to its log); records are grouped
//! by `session`, and the last run is the default. A last line cut short (teelog was killed while
//! writing it) is skipped with a warning; any other line that does not parse is an error naming
//! the file and line.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use crate::cli::ReplayArgs;
use crate::error::{Error, quote, report};
use crate::event::{Chunk, Exit, Size, Start, Status, Stream};
use crate::format::{Context, Format};
use crate::sink::{Fanout, Sink};

/// One jsonl record, as written by `format::jsonl` (unknown fields are ignored).
#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    session: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    user: String,
    pid: Option<u32>,
    // start
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    cwd: String,
    cols: Option<u16>,
    rows: Option<u16>,
    // output
    stream: Option<String>,
    message: Option<String>,
    bytes: Option<String>,
    eol: Option<bool>,
    // exit
    code: Option<i32>,
    signal: Option<String>,
    duration_s: Option<f64>,
    #[serde(default)]
    unread_bytes: u64,
    error: Option<String>,
}

/// A recording, read whole: every record with its line number.
struct Recording {
    name: String,
    records: Vec<(usize, Record)>,
}

impl Recording {
    fn read(path: &Path) -> Result<Recording, Error> {
        let name = if path == Path::new("-") {
            "standard input".to_owned()
        } else {
            quote(path)
        };
        let failed = |source: io::Error| Error::Replay(format!("cannot read {name}: {source}"));
        let reader: Box<dyn Read> = if path == Path::new("-") {
            Box::new(io::stdin().lock())
        } else {
            Box::new(File::open(path).map_err(failed)?)
        };
        let mut reader = BufReader::new(reader);
        let mut records = Vec::new();
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(failed)? == 0 {
                break;
            }
            number += 1;
            let complete = line.ends_with(b"\n");
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(&line) {
                Ok(record) => records.push((number, record)),
                Err(_) if !complete => {
                    report(format_args!(
                        "warning: {name}:{number}: skipped the last line, cut short (teelog was \
                         stopped while writing it)"
                    ));
                }
                Err(err) => {
                    return Err(Error::Replay(format!(
                        "{name}:{number}: not a teelog jsonl record: {err}"
                    )));
                }
            }
        }
        Ok(Recording { name, records })
    }

    /// The sessions in the order their first record appears.
    fn sessions(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for (_, r) in &self.records {
            if !seen.contains(&r.session.as_str()) {
                seen.push(r.session.as_str());
            }
        }
        seen
    }

    fn of<'a>(&'a self, session: &'a str) -> impl Iterator<Item = &'a (usize, Record)> + 'a {
        self.records
            .iter()
            .filter(move |(_, r)| r.session == session)
    }
}

/// Runs `teelog replay`.
pub fn replay(args: &ReplayArgs) -> Result<(), Error> {
    let recording = Recording::read(&args.file)?;
    let sessions = recording.sessions();
    if args.list {
        let listing = list(&recording, &sessions);
        let _ = io::Write::write_all(&mut io::stdout().lock(), listing.as_bytes());
        return Ok(());
    }
    let session = match &args.session {
        Some(id) => sessions
            .iter()
            .find(|s| **s == id.as_str())
            .copied()
            .ok_or_else(|| {
                Error::Replay(format!(
                    "{} holds no session {} (see teelog replay --list)",
                    recording.name,
                    quote(id)
                ))
            })?,
        None => *sessions
            .last()
            .ok_or_else(|| Error::Replay(format!("{} holds no records", recording.name)))?,
    };
    let ctx = Context { utc: args.utc };
    let format = args.format.unwrap_or(Format::Plain);
    let mut fanout = Fanout::new(vec![Sink::console(format, &ctx)], None);
    let timing = match (args.format, args.no_wait) {
        (None, false) => Some(Timing {
            speed: args.speed,
            idle_limit: args.idle_limit,
        }),
        _ => None,
    };
    play(&recording, session, &mut fanout, timing, args.pause)?;
    if fanout.failed() {
        return Err(Error::Replay("the output could not be written".into()));
    }
    Ok(())
}

/// How to wait between outputs when playing.
#[derive(Clone, Copy, Debug)]
struct Timing {
    speed: f64,
    idle_limit: Option<Duration>,
}

impl Timing {
    fn wait(&self, gap: Duration) {
        let mut gap = gap.div_f64(self.speed);
        if let Some(limit) = self.idle_limit {
            gap = gap.min(limit);
        }
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
}

/// Feeds the events of `session` to `fanout`.
fn play(
    recording: &Recording,
    session: &str,
    fanout: &mut Fanout,
    timing: Option<Timing>,
    pause: Duration,
) -> Result<(), Error> {
    let bad = |line: usize, what: &str| Error::Replay(format!("{}:{line}: {what}", recording.name));
    let mut started = false;
    // The previous output's time, and whether a pause is owed before the next one.
    let mut last: Option<SystemTime> = None;
    let mut owed_pause = false;
    let mut bytes = Vec::new();
    for (line, r) in recording.of(session) {
        let time = time(&r.timestamp).ok_or_else(|| bad(*line, "bad timestamp"))?;
        if !started {
            fanout.start(&Start {
                time,
                session: r.session.clone(),
                user: r.user.clone(),
                host: r.host.clone(),
                size: r.cols.zip(r.rows).map(|(cols, rows)| Size { cols, rows }),
                command: r.command.clone(),
                cwd: r.cwd.clone(),
                pid: r.pid,
            });
            started = true;
            last = Some(time);
            if r.kind == "start" {
                continue;
            }
        }
        match r.kind.as_str() {
            "output" => {
                let stream = r
                    .stream
                    .as_deref()
                    .and_then(Stream::from_name)
                    .ok_or_else(|| bad(*line, "output record without a known stream"))?;
                bytes.clear();
                match (&r.bytes, &r.message) {
                    (Some(b64), _) => bytes.extend(
                        BASE64
                            .decode(b64)
                            .map_err(|_| bad(*line, "`bytes` is not base64"))?,
                    ),
                    (None, Some(message)) => bytes.extend_from_slice(message.as_bytes()),
                    (None, None) => return Err(bad(*line, "output record without a message")),
                }
                let eol = r.eol != Some(false);
                if eol {
                    bytes.push(b'\n');
                }
                let gap = last.and_then(|l| time.duration_since(l).ok());
                if owed_pause || gap.is_some_and(|g| g >= pause) {
                    fanout.pause();
                }
                if let (Some(timing), Some(gap)) = (timing, gap) {
                    timing.wait(gap);
                }
                last = Some(time);
                fanout.chunk(&Chunk {
                    stream,
                    time,
                    bytes: &bytes,
                });
                // A line written without its newline, and short of the split length, was
                // written because the command paused (or ended): so was its view.
                owed_pause = !eol && bytes.len() < crate::format::MAX_LINE;
            }
            "exit" => {
                let status = match (r.code, &r.signal) {
                    (Some(code), _) => Status::Code(code),
                    (None, Some(name)) => Status::Signal(
                        crate::runner::signals::number(name)
                            .ok_or_else(|| bad(*line, "unknown signal"))?,
                    ),
                    (None, None) => return Err(bad(*line, "exit record without code or signal")),
                };
                fanout.exit(&Exit {
                    time,
                    status,
                    duration: Duration::try_from_secs_f64(r.duration_s.unwrap_or(0.0))
                        .unwrap_or_default(),
                    unread: r.unread_bytes,
                    error: r.error.clone(),
                });
                return Ok(());
            }
            "start" => return Err(bad(*line, "a second start record for the session")),
            other => return Err(bad(*line, &format!("unknown record type {}", quote(other)))),
        }
    }
    // A run cut short (teelog was killed): what the views hold goes out as at a pause.
    fanout.pause();
    Ok(())
}

fn time(stamp: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(stamp)
        .ok()
        .map(SystemTime::from)
}

/// The `--list` table.
fn list(recording: &Recording, sessions: &[&str]) -> String {
    let mut rows: Vec<[String; 6]> = Vec::new();
    for session in sessions {
        let mut start = String::new();
        let mut command = String::new();
        let mut exit = "-".to_owned();
        let mut duration = "-".to_owned();
        let mut count = 0;
        for (_, r) in recording.of(session) {
            count += 1;
            match r.kind.as_str() {
                "start" => {
                    start = r.timestamp.clone();
                    command = Format::command_line(&r.command);
                }
                "exit" => {
                    exit = match (&r.code, &r.signal) {
                        (Some(code), _) => code.to_string(),
                        (None, Some(signal)) => signal.clone(),
                        (None, None) => "?".to_owned(),
                    };
                    duration = format!("{:.3}s", r.duration_s.unwrap_or(0.0));
                }
                _ => {}
            }
        }
        if start.is_empty()
            && let Some((_, first)) = recording.of(session).next()
        {
            start = first.timestamp.clone();
        }
        rows.push([
            session.to_string(),
            start,
            exit,
            duration,
            count.to_string(),
            command,
        ]);
    }
    let header = ["SESSION", "START", "EXIT", "DURATION", "RECORDS", "COMMAND"].map(String::from);
    let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (i, cell) in row.iter().enumerate() {
            let w = widths.entry(i).or_default();
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                out.push_str(&format!("{cell:<w$}  ", w = widths[&i]));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}
