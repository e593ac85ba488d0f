//! Formatters turn events into bytes; they never do I/O and cannot fail (see `crate::sink`).

#[cfg(test)]
mod agreement;
mod asciicast;
mod classic;
mod journal;
pub mod jsonl;
mod line_records;
mod lines;
mod plain;
mod shell;
mod sudo_iolog;
pub mod syslog;
mod utf8;

pub use asciicast::AsciicastFormatter;
pub use classic::ClassicFormatter;
pub use journal::JournalFormatter;
pub use jsonl::{JsonlFormatter, MAX_LINE};
pub use line_records::{LineFormatter, LineRecords};
pub use plain::PlainFormatter;
pub(crate) use shell::shell_word;
pub use sudo_iolog::SudoIologFormatter;

use std::time::SystemTime;

use crate::dest::Out;
use crate::event::{Chunk, Exit, Size, Start, Stream};

/// Turns the events of one run into the bytes of one log format.
///
/// The runner calls `start` once, then `chunk` for what each pipe had ready and `pause` whenever the command has
/// been quiet for a while ([`crate::runner::Spec::pause`]) after some output, then `exit` once. Each call appends
/// the bytes to write to `out` (which the caller has cleared) and the caller writes them with one
/// `write` (a `writev` when a piece of the chunk was lent), so a formatter emits whole records only. A formatter may hold back an unfinished line
/// between calls, but must hand it over on `pause` (bar an incomplete UTF-8 sequence) and entirely
/// on `exit`: nothing may wait in teelog while the command is quiet.
///
/// A sink whose destination takes one record at a time (a datagram socket) sends each record
/// the formatter marked with [`Out::end_record`] on its own; a file gets all of `out` in one
/// `write` or `writev`, so that concurrent appenders never interleave inside a record.
///
/// A sink that finds its destination written to by someone else since its last write (another
/// run appending to the same log) calls `interleaved` before handing the next event over: the
/// formatter must then not continue a record it began earlier (classic starts a new prompt).
///
/// With `--seal`, each seal line a sealed jsonl log writes (docs/sealing.md) is handed to the
/// other sinks' `seal`, between events: the logging services send it on as a message of its
/// own, with the `seq` of the record before it; the file and console formats leave it out.
pub trait Formatter {
    fn start(&mut self, _ev: &Start, _out: &mut Out) {}
    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out);
    fn pause(&mut self, _out: &mut Out) {}
    /// The command's pty took a new size (see `Events::resize`).
    fn resize(&mut self, _time: SystemTime, _size: Size, _out: &mut Out) {}
    fn exit(&mut self, _ev: &Exit, _out: &mut Out) {}
    fn interleaved(&mut self) {}
    fn seal(&mut self, _line: &[u8], _out: &mut Out) {}
    /// `len` bytes of `stream`, read at `time`, went to the destination around the formatter
    /// (`sink::splice`): what else it writes for such a chunk (a sudo I/O log's timing line).
    fn spliced(&mut self, _stream: Stream, _time: SystemTime, _len: usize, _out: &mut Out) {}
}

/// The name a logging service files a run under: the preset's, else the command's base name.
pub(crate) fn identifier(preset: Option<&str>, ev: &Start) -> String {
    preset.map(str::to_owned).unwrap_or_else(|| {
        ev.command
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
            .unwrap_or_else(|| "teelog".into())
    })
}

/// How a run ended, as one line of text for the logging services: `exit: status 3 after
/// 0.002s`, `exit: killed by SIGTERM (signal 15) after 1.000s`, with why it could not start and
/// what was left unread when that applies.
pub(crate) fn exit_summary(ev: &Exit) -> String {
    let secs = seconds(ev.duration);
    let mut text = match ev.status {
        crate::event::Status::Code(code) => format!("exit: status {code} after {secs}s"),
        crate::event::Status::Signal(n) => format!(
            "exit: killed by {} (signal {n}) after {secs}s",
            crate::signal::name(n)
        ),
    };
    if let Some(error) = &ev.error {
        text.push_str(&format!(" ({error})"));
    }
    if ev.unread > 0 {
        text.push_str(&format!(", {} bytes of output left unread", ev.unread));
    }
    text
}

/// A run's duration as the exit lines show it, in seconds to the millisecond (`1.235`): rounded
/// from whole microseconds, which is what jsonl's `duration_s` keeps, so that a log converted by
/// `teelog replay` says what the live one said (rounding the nanoseconds, or the float read back,
/// differs from it at every half millisecond).
pub(crate) fn seconds(duration: std::time::Duration) -> String {
    let millis = (duration.as_micros() + 500) / 1000;
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

/// The duration a jsonl record's `duration_s` holds: whole microseconds, as [`seconds`] counts.
pub(crate) fn duration_of(seconds: f64) -> std::time::Duration {
    let micros = (seconds * 1e6).round();
    if micros.is_finite() && micros >= 0.0 {
        std::time::Duration::from_micros(micros.min(u64::MAX as f64) as u64)
    } else {
        std::time::Duration::ZERO
    }
}

/// How much of a held partial line to write out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// Everything but an incomplete UTF-8 sequence at its end (on a pause: the rest of the
    /// character may be on its way).
    Characters,
    /// Everything (at exit: nothing more is coming).
    All,
}

/// The format of a log file or of the console. The logging services (`-o journal`, `-o
/// syslog`) are destinations with a formatter of their own ([`crate::sink::spec::LogSpec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// the bytes exactly as the command wrote them
    Plain,
    /// a `[date user@host]> ` prompt before each burst of output, with start and exit lines
    Classic,
    /// one JSON object per line of output, plus start and exit records
    Jsonl,
    /// asciinema's v2 recording (a log file of this format is overwritten, not appended to)
    Asciicast,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 4] = [
        Format::Plain,
        Format::Classic,
        Format::Jsonl,
        Format::Asciicast,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Classic => "classic",
            Format::Jsonl => "jsonl",
            Format::Asciicast => "asciicast",
        }
    }

    /// A command line as one line a POSIX shell reads back (what classic's start line shows).
    pub fn command_line(words: &[String]) -> String {
        words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `plain, classic, jsonl, asciicast`, for messages.
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }

    /// Whether a log file of this format holds one recording only: created or truncated, never
    /// appended to.
    pub fn one_recording_per_file(self) -> bool {
        self == Format::Asciicast
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn formatter(self, ctx: &Context) -> Box<dyn Formatter> {
        match self {
            Format::Plain => Box::new(PlainFormatter),
            Format::Classic => Box::new(ClassicFormatter::new(ctx)),
            Format::Jsonl => Box::new(JsonlFormatter::new(ctx)),
            Format::Asciicast => Box::new(AsciicastFormatter::new()),
        }
    }
}

/// How the formatters of one run are set up (what a run is, who ran it where, comes with its
/// [`Start`]).
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Classic timestamps in UTC rather than local time.
    pub utc: bool,
    /// The preset's name, with `--preset`: the journal's `SYSLOG_IDENTIFIER`, syslog's app-name.
    pub preset: Option<String>,
    /// The syslog facility (`--syslog-facility`; 1, user, by default).
    pub facility: u8,
    /// Colour classic's prompts: only for a terminal console (see `--color`).
    pub colour: bool,
    /// The command's stdout is a pty (`--pty`): a sudo I/O log files it as the terminal's
    /// output (`ttyout`), as sudo does.
    pub pty: bool,
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fixed events for the formatters' unit tests.
    use super::*;
    use crate::event::{Status, Stream};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Deterministic pseudo-random numbers (xorshift), without an extra crate: the one copy for
    /// every unit test that draws random inputs.
    pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// 2012-10-30T22:13:13Z plus `micros`.
    pub fn at(micros: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_351_635_193) + Duration::from_micros(micros)
    }

    pub fn ctx() -> Context {
        Context {
            utc: true,
            preset: None,
            facility: 1,
            colour: false,
            pty: false,
        }
    }

    pub fn start() -> Start {
        Start {
            time: at(0),
            session: "S".into(),
            user: "ops".into(),
            host: "db1".into(),
            size: None,
            command: vec!["mysql".into(), "-e".into(), "select 1".into()],
            cwd: "/srv".into(),
            pid: Some(42),
        }
    }

    pub fn chunk(stream: Stream, micros: u64, bytes: &[u8]) -> Chunk<'_> {
        Chunk {
            stream,
            time: at(micros),
            bytes,
        }
    }

    pub fn exit(status: Status) -> Exit {
        Exit {
            time: at(1_234_567),
            status,
            duration: Duration::from_micros(1_234_567),
            unread: 0,
            resent: 0,
            error: None,
        }
    }

    /// Feeds `f` and returns all it wrote, as text, as a file log gets it: a piece of a chunk
    /// lent (see [`Out::lending`]) written from the chunk. Steps that leave out `Start` get it
    /// still (a formatter always does), without its output.
    pub fn run(f: &mut dyn Formatter, steps: &[Step]) -> String {
        let mut all = Vec::new();
        if !matches!(steps.first(), Some(Step::Start)) {
            f.start(&start(), &mut Out::default());
        }
        for step in steps {
            let mut out = Out::lending();
            let mut bytes: &[u8] = &[];
            match step {
                Step::Start => f.start(&start(), &mut out),
                Step::Chunk(s, t, b) => {
                    bytes = b;
                    f.chunk(&chunk(*s, *t, b), &mut out);
                }
                Step::Pause => f.pause(&mut out),
                Step::Resize(t, cols, rows) => f.resize(
                    at(*t),
                    Size {
                        cols: *cols,
                        rows: *rows,
                    },
                    &mut out,
                ),
                Step::Exit(st) => f.exit(&exit(*st), &mut out),
            }
            let written = out.slices(bytes).concat();
            assert_eq!(written.len(), out.total());
            all.extend(written);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    pub enum Step {
        Start,
        Chunk(Stream, u64, &'static [u8]),
        Pause,
        /// At a time in µs, to columns and rows.
        Resize(u64, u16, u16),
        Exit(Status),
    }
}
