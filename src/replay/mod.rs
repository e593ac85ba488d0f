//! `teelog replay`: a jsonl recording as a second source of events. Its records become the same
//! `Start`, `Chunk`s, pauses and `Exit` the runner pushes live, fed to the same sinks: played
//! with the recorded timing on a plain console, or converted at once by any formatter, so that a
//! converted classic log is what a live one would have been (a recording says where the command
//! paused, `after_pause`, and the formatters cut lines where jsonl cut them into records).
//!
//! A file may hold several runs (every run of a preset appends to its log); records are grouped
//! by `session`, and the last run is the default. A last line cut short (teelog was killed while
//! writing it) is skipped with a warning, as is a line cut short that the next run's start
//! follows (teelog ends such a line before appending); any other line that does not parse is an
//! error naming the file and line.
//!
//! A directory is a sudo I/O log session (`sudo`'s own, or teelog's `-o sudo-iolog=`), read by
//! `sudo`: the same events, from its timing and stream files.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::cli::ReplayArgs;
use crate::error::{Error, quote, report};
use crate::event::{Chunk, Exit, Size, Start, Status, Stream};
use crate::filter::Chain;
use crate::format::{Context, Format};
use crate::sink::{Fanout, Sink};

mod recording;
mod sudo;
use recording::{Flow, Recording, Run};

/// A record as `teelog replay` reads it: owning its text.
type Record = crate::format::jsonl::wire::Record<'static>;

/// Runs `teelog replay`.
pub fn replay(args: &ReplayArgs) -> Result<(), Error> {
    if args.file.is_dir() {
        return replay_sudo(args);
    }
    let recording = Recording::open(&args.file)?;
    let runs = recording.runs()?;
    if args.list {
        let _ = io::Write::write_all(&mut io::stdout().lock(), list(&runs).as_bytes());
        return Ok(());
    }
    let session = match &args.session {
        Some(id) => runs.iter().find(|run| run.session == *id).ok_or_else(|| {
            Error::Replay(format!(
                "{} holds no session {} (see teelog replay --list)",
                recording.name,
                quote(id)
            ))
        })?,
        None => runs
            .last()
            .ok_or_else(|| Error::Replay(format!("{} holds no records", recording.name)))?,
    };
    let (format, mut fanout, timing) = console(args);
    play(
        &recording,
        &session.session,
        format,
        &mut fanout,
        timing,
        args.pause,
    )?;
    if fanout.failed() {
        return Err(Error::Replay("the output could not be written".into()));
    }
    Ok(())
}

/// `teelog replay` of a sudo I/O log session directory.
fn replay_sudo(args: &ReplayArgs) -> Result<(), Error> {
    let session = sudo::Session::open(&args.file)?;
    if args.list {
        let _ = io::Write::write_all(&mut io::stdout().lock(), session.list()?.as_bytes());
        return Ok(());
    }
    if let Some(id) = &args.session
        && *id != session.id
    {
        return Err(Error::Replay(format!(
            "{} is session {}, not {}",
            quote(&args.file),
            session.id,
            quote(id)
        )));
    }
    let (_, mut fanout, timing) = console(args);
    sudo::play(&session, &mut fanout, timing, args.pause)?;
    if fanout.failed() {
        return Err(Error::Replay("the output could not be written".into()));
    }
    Ok(())
}

/// The console replay writes to, and how it waits (not at all when converting).
fn console(args: &ReplayArgs) -> (Format, Fanout, Option<Timing>) {
    let ctx = Context {
        utc: args.utc,
        preset: None,
        facility: 1,
        colour: false,
        pty: false,
    };
    let format = args.format.unwrap_or(Format::Plain);
    let fanout = Fanout::new(vec![Sink::console(format, &ctx)], Chain::default());
    let timing = match (args.format, args.no_wait) {
        (None, false) => Some(Timing {
            speed: args.speed,
            idle_limit: args.idle_limit,
        }),
        _ => None,
    };
    (format, fanout, timing)
}

/// How to wait between outputs when playing.
#[derive(Clone, Copy, Debug)]
struct Timing {
    speed: f64,
    idle_limit: Option<Duration>,
}

impl Timing {
    /// Waits out `gap` at this speed; returns [`Flow::Stop`] early when standard output is a
    /// pipe whose reader has gone (poll's POLLERR), as `teelog replay x | head` needs.
    fn wait(&self, gap: Duration) -> Flow {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        // Checked all the way: a recording may hold any two timestamps (years apart), and
        // neither a gap over a slow speed nor the instant it ends may panic on overflow.
        let mut gap =
            Duration::try_from_secs_f64(gap.as_secs_f64() / self.speed).unwrap_or(Duration::MAX);
        if let Some(limit) = self.idle_limit {
            gap = gap.min(limit);
        }
        let now = std::time::Instant::now();
        let until = now.checked_add(gap);
        loop {
            let left = match until {
                Some(until) => until.saturating_duration_since(std::time::Instant::now()),
                None => gap.saturating_sub(now.elapsed()),
            };
            if left.is_zero() {
                return Flow::Go;
            }
            let stdout = io::stdout();
            let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::empty())];
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            match poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(_)
                    if fds[0]
                        .revents()
                        .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP)) =>
                {
                    return Flow::Stop;
                }
                // No standard output at all: nothing to watch, just wait.
                Ok(_)
                    if fds[0]
                        .revents()
                        .is_some_and(|r| r.contains(PollFlags::POLLNVAL)) =>
                {
                    std::thread::sleep(left);
                }
                // Something else woke it (a signal): wait for the rest.
                Ok(_) | Err(_) => {}
            }
        }
    }
}

/// Feeds the events of `session` to `fanout`, which writes `format`.
///
/// A recording whose start says `marks_pauses` gets a pause before each record marked
/// `after_pause`, exactly where the live formatters got theirs; an older one, wherever two outputs
/// are `pause` apart or a line was written without its newline for a pause.
///
/// A run whose start record is not in the file (a later file of a rotation) is played as plain
/// with a warning: its command and directory are unknown, and are not invented. Converting it to
/// a format that writes the start (classic's start line, jsonl's start record, asciicast's
/// header) is refused: a log that begins with a made-up start would lie about the run.
fn play(
    recording: &Recording,
    session: &str,
    format: Format,
    fanout: &mut Fanout,
    timing: Option<Timing>,
    pause: Duration,
) -> Result<(), Error> {
    let mut player = Player {
        recording,
        session,
        format,
        fanout,
        timing,
        pause,
        started: false,
        marks_pauses: false,
        last: None,
        owed_pause: false,
        bytes: Vec::new(),
        ended: false,
    };
    recording.each(false, |line, r: Record| {
        if r.session != session {
            return Ok(Flow::Go);
        }
        player.record(line, r)
    })?;
    if !player.ended {
        // A run cut short (teelog was killed): what the views hold goes out as at a pause.
        player.fanout.pause();
    }
    Ok(())
}

/// What [`play`] keeps while it feeds one session's records to the sinks.
struct Player<'a> {
    recording: &'a Recording,
    session: &'a str,
    format: Format,
    fanout: &'a mut Fanout,
    timing: Option<Timing>,
    pause: Duration,
    started: bool,
    marks_pauses: bool,
    /// The previous output's time.
    last: Option<SystemTime>,
    /// Whether a pause is owed before the next output.
    owed_pause: bool,
    /// The bytes of the output being fed.
    bytes: Vec<u8>,
    ended: bool,
}

impl Player<'_> {
    fn bad(&self, line: usize, what: &str) -> Error {
        Error::Replay(format!("{}:{line}: {what}", self.recording.name))
    }

    /// Feeds one record of the session, on line `line` of the recording.
    fn record(&mut self, line: usize, r: Record) -> Result<Flow, Error> {
        let time = time(&r.timestamp).ok_or_else(|| self.bad(line, "bad timestamp"))?;
        if !self.started {
            self.start(line, &r, time)?;
            if r.kind == "start" {
                return Ok(Flow::Go);
            }
        }
        match r.kind.as_ref() {
            "output" => {
                if self.output(line, &r, time)? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            "exit" => {
                self.exit(line, &r, time)?;
                return Ok(Flow::Stop);
            }
            "start" => return Err(self.bad(line, "a second start record for the session")),
            // A sealed log's seals (`teelog verify` reads them) are not part of the run's output.
            "seal" => return Ok(Flow::Go),
            other => {
                return Err(self.bad(line, &format!("unknown record type {}", quote(other))));
            }
        }
        // Nobody reads any more (`teelog replay x | head`): stop, as a pipeline ends.
        Ok(if self.fanout.closed() {
            Flow::Stop
        } else {
            Flow::Go
        })
    }

    /// Starts the run with the session's first record: its start, or (a later file of a
    /// rotation) whatever comes first, which only plain may play.
    fn start(&mut self, line: usize, r: &Record, time: SystemTime) -> Result<(), Error> {
        let (recording, session, format) = (self.recording, self.session, self.format);
        if r.kind != "start" {
            let seq = r.seq.map_or_else(|| "?".to_owned(), |n| n.to_string());
            if format != Format::Plain {
                return Err(Error::Replay(format!(
                    "{}:{line}: session {session} has no start record (it is in an earlier file \
                     of the rotation): cannot convert it to {} without inventing one; replay \
                     the files together (cat run.jsonl.1 run.jsonl | teelog replay --format {} -)",
                    recording.name,
                    format.name(),
                    format.name()
                )));
            }
            report(format_args!(
                "warning: {}:{line}: session {session} has no start record (it is in an earlier \
                 file of the rotation): playing its output from seq {seq}",
                recording.name
            ));
        }
        self.marks_pauses = r.marks_pauses;
        self.fanout.start(&Start {
            time,
            session: r.session.to_string(),
            user: r.user.to_string(),
            host: r.host.to_string(),
            size: (r.cols.flatten())
                .zip(r.rows.flatten())
                .map(|(cols, rows)| Size { cols, rows }),
            command: r
                .command
                .as_deref()
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            cwd: r.cwd.as_deref().unwrap_or_default().to_owned(),
            pid: r.pid,
        });
        self.started = true;
        self.last = Some(time);
        Ok(())
    }

    /// Feeds an output record, after the pause it follows and the wait its time asks for.
    fn output(&mut self, line: usize, r: &Record, time: SystemTime) -> Result<Flow, Error> {
        let stream = r
            .stream
            .as_deref()
            .and_then(Stream::from_name)
            .ok_or_else(|| self.bad(line, "output record without a known stream"))?;
        self.bytes.clear();
        match (&r.bytes, &r.message) {
            (Some(b64), _) => self.bytes.extend(
                BASE64
                    .decode(b64.as_bytes())
                    .map_err(|_| self.bad(line, "`bytes` is not base64"))?,
            ),
            (None, Some(message)) => self.bytes.extend_from_slice(message.as_bytes()),
            (None, None) => return Err(self.bad(line, "output record without a message")),
        }
        let eol = r.eol != Some(false);
        if eol {
            self.bytes.push(b'\n');
        }
        let gap = self.last.and_then(|l| time.duration_since(l).ok());
        let paused = if self.marks_pauses {
            r.after_pause
        } else {
            self.owed_pause || gap.is_some_and(|g| g >= self.pause)
        };
        if paused {
            self.fanout.pause();
        }
        if let (Some(timing), Some(gap)) = (self.timing, gap)
            && timing.wait(gap) == Flow::Stop
        {
            return Ok(Flow::Stop);
        }
        self.last = Some(time);
        self.fanout.chunk(&Chunk {
            stream,
            time,
            bytes: &self.bytes,
        });
        // A line written without its newline, and short of the split length, was
        // written because the command paused (or ended): so was its view.
        // (A split piece ends at a character boundary, up to 3 bytes short.)
        self.owed_pause = !eol && self.bytes.len() + 3 < crate::format::MAX_LINE;
        Ok(Flow::Go)
    }

    /// Ends the run with its exit record.
    fn exit(&mut self, line: usize, r: &Record, time: SystemTime) -> Result<(), Error> {
        let status = match (
            r.code.flatten(),
            r.signal.as_ref().and_then(|s| s.as_deref()),
        ) {
            (Some(code), _) => Status::Code(code),
            (None, Some(name)) => Status::Signal(
                crate::signal::number(name).ok_or_else(|| self.bad(line, "unknown signal"))?,
            ),
            (None, None) => return Err(self.bad(line, "exit record without code or signal")),
        };
        self.fanout.exit(&Exit {
            time,
            status,
            duration: crate::format::duration_of(r.duration_s.unwrap_or(0.0)),
            unread: r.unread_bytes,
            resent: r.resent,
            error: r.error.as_deref().map(str::to_owned),
        });
        self.ended = true;
        Ok(())
    }
}

fn time(stamp: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(stamp)
        .ok()
        .map(SystemTime::from)
}

/// The `--list` table.
fn list(runs: &[Run]) -> String {
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|run| {
            [
                run.session.clone(),
                run.start.clone(),
                run.exit.clone().unwrap_or_else(|| "-".into()),
                run.duration
                    .map_or_else(|| "-".into(), |d| format!("{d:.3}s")),
                run.records.to_string(),
                if run.started {
                    run.command.clone()
                } else {
                    "? (no start record: its start is in an earlier file)".to_owned()
                },
            ]
        })
        .collect();
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
