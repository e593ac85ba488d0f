//! Reading a sudo I/O log session directory (one `sudo` run, or one of teelog's
//! `-o sudo-iolog=`): `log.json` (or, from sudo before 1.9, the legacy `log`) says who ran
//! what, where; `timing` gives the events in order, each with its delay since the one before
//! (sudo's `iolog_timing.c`); the stream files hold the bytes, plain or gzip-compressed (sudo's
//! `compress_io`). They become the events a live run pushes: a start, a chunk per timing
//! record, and the exit when log.json holds one (sudo_logsrvd adds it; sudo's own plugin does
//! not, and no exit is then invented).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::recording::{Flow, Run};
use super::{Timing, list};
use crate::error::{Error, quote};
use crate::event::{Chunk, Exit, Size, Start, Status, Stream};
use crate::sink::Fanout;

/// A timespec as log.json writes one.
#[derive(Debug, Default, Deserialize)]
struct Timespec {
    #[serde(default)]
    seconds: u64,
    #[serde(default)]
    nanoseconds: u32,
}

impl Timespec {
    fn duration(&self) -> Duration {
        Duration::new(self.seconds, self.nanoseconds.min(999_999_999))
    }
}

/// What teelog takes of log.json (sudo's `iolog_json.c` keys).
#[derive(Debug, Default, Deserialize)]
struct Info {
    #[serde(default)]
    timestamp: Timespec,
    #[serde(default)]
    submituser: String,
    #[serde(default)]
    submithost: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    runargv: Vec<String>,
    runcwd: Option<String>,
    submitcwd: Option<String>,
    columns: Option<u16>,
    lines: Option<u16>,
    exit_value: Option<i32>,
    signal: Option<String>,
    run_time: Option<Timespec>,
}

/// One session directory.
pub(super) struct Session {
    dir: PathBuf,
    name: String,
    /// sudo's id for it (`000001` for `00/00/01`), or the directory's name.
    pub(super) id: String,
    info: Info,
}

impl Session {
    pub(super) fn open(dir: &Path) -> Result<Session, Error> {
        let name = quote(dir);
        let cannot = |what: &str, e: io::Error| {
            Error::Replay(format!(
                "cannot read {}: {e}",
                quote(dir.join(what).as_path())
            ))
        };
        let info = match std::fs::read(dir.join("log.json")) {
            Ok(json) => serde_json::from_slice(&json).map_err(|e| {
                Error::Replay(format!(
                    "{}: not a sudo log.json: {e}",
                    quote(dir.join("log.json").as_path())
                ))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let log = std::fs::read(dir.join("log")).map_err(|e| cannot("log", e))?;
                legacy(&String::from_utf8_lossy(&log))
            }
            Err(e) => return Err(cannot("log.json", e)),
        };
        let parts: Vec<String> = dir
            .components()
            .rev()
            .take(3)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let id = if parts.len() == 3 && parts.iter().all(|p| p.len() == 2) {
            parts.iter().rev().map(String::as_str).collect()
        } else {
            parts.first().cloned().unwrap_or_else(|| name.clone())
        };
        Ok(Session {
            dir: dir.to_owned(),
            name,
            id,
            info,
        })
    }

    fn start_time(&self) -> SystemTime {
        UNIX_EPOCH + self.info.timestamp.duration()
    }

    /// The command line, as the start gives it.
    fn command(&self) -> Vec<String> {
        match self.info.runargv.as_slice() {
            [] if self.info.command.is_empty() => Vec::new(),
            [] => vec![self.info.command.clone()],
            argv => argv.to_vec(),
        }
    }

    /// How the command ended, when log.json says.
    fn status(&self) -> Result<Option<Status>, Error> {
        Ok(match (&self.info.signal, self.info.exit_value) {
            (Some(name), _) => Some(Status::Signal(
                crate::signal::number(&format!("SIG{name}"))
                    .or_else(|| name.parse().ok())
                    .ok_or_else(|| {
                        Error::Replay(format!("{}: unknown signal {}", self.name, quote(name)))
                    })?,
            )),
            (None, Some(code)) => Some(Status::Code(code)),
            (None, None) => None,
        })
    }

    /// The one row of `--list`.
    pub(super) fn list(&self) -> Result<String, Error> {
        let mut records = 0;
        self.each_timing(|_| {
            records += 1;
            Ok(Flow::Go)
        })?;
        let start = chrono::DateTime::<chrono::Utc>::from(self.start_time());
        let run = Run {
            session: self.id.clone(),
            start: start.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            command: crate::format::Format::command_line(&self.command()),
            exit: self.status()?.map(|status| match status {
                Status::Code(code) => code.to_string(),
                Status::Signal(n) => crate::signal::name(n),
            }),
            duration: self
                .info
                .run_time
                .as_ref()
                .map(|t| t.duration().as_secs_f64()),
            records,
            started: true,
        };
        Ok(list(&[run]))
    }

    /// Calls `each` with every timing record, in order.
    fn each_timing(
        &self,
        mut each: impl FnMut(Record) -> Result<Flow, Error>,
    ) -> Result<(), Error> {
        let path = self.dir.join("timing");
        let mut timing = open(&path)?;
        let mut line = String::new();
        let mut number = 0;
        loop {
            line.clear();
            let n = timing
                .read_line(&mut line)
                .map_err(|e| Error::Replay(format!("cannot read {}: {e}", quote(&path))))?;
            if n == 0 {
                return Ok(());
            }
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let record = Record::parse(line.trim_end()).ok_or_else(|| {
                Error::Replay(format!(
                    "{}:{number}: not a sudo timing record: {}",
                    quote(&path),
                    quote(line.trim_end())
                ))
            })?;
            if each(record)? == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// The legacy `log`: `TIME:USER:RUNUSER:RUNGROUP:TTY:LINES:COLS`, the directory, the command
/// line (sudo's `iolog_legacy.c`; older ones stop after the tty).
fn legacy(text: &str) -> Info {
    let mut lines = text.lines();
    let fields: Vec<&str> = lines.next().unwrap_or_default().split(':').collect();
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    let cwd = lines.next().map(str::to_owned);
    let command = lines.next().unwrap_or_default();
    Info {
        timestamp: Timespec {
            seconds: field(0).parse().unwrap_or(0),
            nanoseconds: 0,
        },
        submituser: field(1).to_owned(),
        command: command.split(' ').next().unwrap_or_default().to_owned(),
        runargv: command.split(' ').map(str::to_owned).collect(),
        runcwd: cwd.clone(),
        submitcwd: cwd,
        lines: field(5).parse().ok(),
        columns: field(6).parse().ok(),
        ..Info::default()
    }
}

/// One line of `timing`.
#[derive(Debug, PartialEq)]
struct Record {
    event: u8,
    delay: Duration,
    /// The bytes of a stream event; 0 for a window size or a suspend.
    bytes: u64,
    /// A window size event's size.
    size: Option<Size>,
}

impl Record {
    /// `EVENT DELAY NBYTES` (or `5 DELAY LINES COLS`, `7 DELAY SIGNAL`); the delay in seconds,
    /// with up to nine decimals read (more are cut, as sudo does).
    fn parse(line: &str) -> Option<Record> {
        let mut words = line.split_ascii_whitespace();
        let event: u8 = words.next()?.parse().ok()?;
        let (secs, frac) = match words.next()?.split_once('.') {
            Some((secs, frac)) => (secs, frac),
            None => (line.split_ascii_whitespace().nth(1)?, ""),
        };
        let frac: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        let delay = Duration::new(secs.parse().ok()?, frac.parse().ok()?);
        let mut size = None;
        let bytes = match event {
            0..=4 | 6 => words.next()?.parse().ok()?,
            5 => {
                let rows = words.next()?.parse().ok()?;
                let cols = words.next()?.parse().ok()?;
                size = Some(Size { cols, rows });
                0
            }
            7 => 0,
            _ => return None,
        };
        Some(Record {
            event,
            delay,
            bytes,
            size,
        })
    }

    /// The stream and file of a stream event (sudo's ttyin is stdin, ttyout stdout; event 6 is
    /// ttyout as sudo 1.8.7 wrote it).
    fn stream(&self) -> Option<(Stream, &'static str)> {
        match self.event {
            0 => Some((Stream::Stdin, "stdin")),
            1 => Some((Stream::Stdout, "stdout")),
            2 => Some((Stream::Stderr, "stderr")),
            3 => Some((Stream::Stdin, "ttyin")),
            4 | 6 => Some((Stream::Stdout, "ttyout")),
            _ => None,
        }
    }
}

/// A file of the session, read through a gzip decoder when it is compressed.
fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let cannot = |e: io::Error| Error::Replay(format!("cannot read {}: {e}", quote(path)));
    let mut file = File::open(path).map_err(cannot)?;
    let mut magic = [0u8; 2];
    let gzip = matches!(file.read_exact(&mut magic), Ok(()) if magic == [0x1f, 0x8b]);
    file.rewind().map_err(cannot)?;
    Ok(if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(
            BufReader::new(file),
        )))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Feeds the session's events to `fanout`: with `timing`, waiting out each delay; a delay of at
/// least `pause` is a pause (as `--pause` is live).
pub(super) fn play(
    session: &Session,
    fanout: &mut Fanout,
    timing: Option<Timing>,
    pause: Duration,
) -> Result<(), Error> {
    let info = &session.info;
    let start = session.start_time();
    fanout.start(&Start {
        time: start,
        session: session.id.clone(),
        user: info.submituser.clone(),
        host: info.submithost.clone(),
        size: info
            .columns
            .zip(info.lines)
            .map(|(cols, rows)| Size { cols, rows }),
        command: session.command(),
        cwd: info
            .runcwd
            .clone()
            .or_else(|| info.submitcwd.clone())
            .unwrap_or_default(),
        // sudo keeps no pid; the command did start (its timing is there): 0, nobody's.
        pid: Some(0),
    });
    let mut streams: [Option<Box<dyn BufRead>>; 5] = Default::default();
    let mut time = start;
    let mut bytes = Vec::new();
    let mut stopped = false;
    let mut shown = false;
    session.each_timing(|record| {
        time += record.delay;
        if let Some(size) = record.size {
            fanout.resize(time, size);
        }
        let Some((stream, name)) = record.stream() else {
            return Ok(Flow::Go);
        };
        let path = session.dir.join(name);
        let reader = match &mut streams[usize::from(record.event.min(4))] {
            Some(reader) => reader,
            slot => slot.insert(open(&path)?),
        };
        bytes.clear();
        let got = reader
            .take(record.bytes)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Replay(format!("cannot read {}: {e}", quote(&path))))?;
        if (got as u64) < record.bytes {
            return Err(Error::Replay(format!(
                "{} ends {} bytes before the timing file says it does",
                quote(&path),
                record.bytes - got as u64
            )));
        }
        if bytes.is_empty() {
            return Ok(Flow::Go);
        }
        if shown && record.delay >= pause {
            fanout.pause();
        }
        shown = true;
        if let Some(timing) = timing
            && timing.wait(record.delay) == Flow::Stop
        {
            stopped = true;
            return Ok(Flow::Stop);
        }
        fanout.chunk(&Chunk {
            stream,
            time,
            bytes: &bytes,
        });
        Ok(Flow::Go)
    })?;
    match session.status()? {
        Some(status) if !stopped => {
            let duration = info.run_time.as_ref().map(Timespec::duration);
            fanout.exit(&Exit {
                time: duration.map_or(time, |d| (start + d).max(time)),
                status,
                duration: duration
                    .unwrap_or_else(|| time.duration_since(start).unwrap_or_default()),
                unread: 0,
                resent: 0,
                error: None,
            });
        }
        // Still running, or recorded by sudo itself, which keeps no exit in the log.
        _ => fanout.pause(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_records_parse_as_sudo_reads_them() {
        let rec = |event, secs, nanos, bytes| Record {
            event,
            delay: Duration::new(secs, nanos),
            bytes,
            size: None,
        };
        assert_eq!(
            Record::parse("1 0.006596329 3"),
            Some(rec(1, 0, 6_596_329, 3))
        );
        assert_eq!(Record::parse("4 2.5 10"), Some(rec(4, 2, 500_000_000, 10)));
        assert_eq!(
            Record::parse("2 1.1234567891 7"),
            Some(rec(2, 1, 123_456_789, 7))
        );
        assert_eq!(
            Record::parse("5 0.1 24 80"),
            Some(Record {
                size: Some(Size { cols: 80, rows: 24 }),
                ..rec(5, 0, 100_000_000, 0)
            })
        );
        assert_eq!(Record::parse("0 3 1"), Some(rec(0, 3, 0, 1)));
        assert_eq!(Record::parse("9 0.1 1"), None);
        assert_eq!(Record::parse("1 x 1"), None);
    }

    #[test]
    fn the_legacy_log_gives_user_directory_and_command() {
        let info = legacy("1351635193:ops:root::/dev/pts/1:24:80\n/srv\n/bin/ls -l /tmp\n");
        assert_eq!(info.submituser, "ops");
        assert_eq!(info.runcwd.as_deref(), Some("/srv"));
        assert_eq!(info.command, "/bin/ls");
        assert_eq!(info.runargv, ["/bin/ls", "-l", "/tmp"]);
        assert_eq!((info.lines, info.columns), (Some(24), Some(80)));
        assert_eq!(info.timestamp.seconds, 1_351_635_193);
    }
}
