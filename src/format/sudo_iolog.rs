//! The sudo I/O log format (`-o sudo-iolog=DIR`): what sudo 1.9 writes into a session
//! directory, as records tagged with the file each belongs to (`crate::dest::sudo_iolog`
//! writes them there). At the start, `log` and `log.json` (sudo's `iolog_loginfo.c`); for each
//! chunk, its bytes in the stream's file, then its line in `timing` (`EVENT DELAY NBYTES`,
//! sudo's `iolog_timing.c`: the delay since the previous event, to the nanosecond), so that
//! `sudoreplay -F` never reads a timing line before its bytes; at the exit, `log.json` again
//! with sudo_logsrvd's exit keys (`logsrvd_local.c`, `store_exit_info_json`): `run_time`,
//! `signal` and `dumped_core` for a command killed by a signal, `exit_value`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Context, Formatter};
use crate::dest::Out;
use crate::dest::sudo_iolog::IologFile;
use crate::event::{Chunk, Exit, Size, Start, Status, Stream};

/// The most bytes one timing record covers: sudoreplay (1.9.13, `sudoreplay.c`) reads a record
/// into a buffer of 64 KiB and loses the rest of a longer one (measured: a 65537-byte record
/// replays a byte short, and the records after it out of step); sudo itself never writes more
/// at once. `sudo_sendlog` sends each record as one message, well under sudo_logsrvd's 2 MiB.
pub const MAX_RECORD: usize = 64 * 1024;

/// sudo's timing events (`sudo_iolog.h`, `IO_EVENT_*`).
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const TTYOUT: u8 = 4;
const WINSIZE: u8 = 5;

#[derive(Debug)]
pub struct SudoIologFormatter {
    /// The command's stdout is a pty: its output is sudo's ttyout.
    pty: bool,
    /// When the previous event was (the start, at first).
    last: SystemTime,
    /// log.json's keys as written at the start, to write again with the exit keys after them.
    json: String,
}

impl SudoIologFormatter {
    pub fn new(ctx: &Context) -> SudoIologFormatter {
        SudoIologFormatter {
            pty: ctx.pty,
            last: UNIX_EPOCH,
            json: String::new(),
        }
    }

    /// A stream's timing event and file.
    fn event(&self, stream: Stream) -> (u8, IologFile) {
        match stream {
            Stream::Stdout if self.pty => (TTYOUT, IologFile::Ttyout),
            Stream::Stdout => (STDOUT, IologFile::Stdout),
            Stream::Stderr => (STDERR, IologFile::Stderr),
            Stream::Stdin => (STDIN, IologFile::Stdin),
        }
    }

    /// The delay since the previous event, as sudo writes it; never negative.
    fn delay(&mut self, time: SystemTime) -> String {
        let delay = time.duration_since(self.last).unwrap_or(Duration::ZERO);
        self.last = self.last.max(time);
        format!("{}.{:09}", delay.as_secs(), delay.subsec_nanos())
    }
}

/// Appends one record for `file` to `out`.
fn record(out: &mut Out, file: IologFile, bytes: &[u8]) {
    out.push(file.tag());
    out.extend_from_slice(bytes);
    out.end_record();
}

/// A JSON string as sudo's parser reads it back: serde_json escapes control characters as
/// `\n` or `\u00XX`, the only `\u` form sudo takes, and writes the rest as it is.
fn json(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// A word of the legacy `log` file, which is read line by line: a newline would end it.
fn legacy(text: &str) -> String {
    text.replace('\n', "\\n")
}

impl Formatter for SudoIologFormatter {
    /// `ttyname` is `unknown`, as sudo's legacy `log` says when there is no terminal:
    /// `sudo_sendlog` sends the key whatever log.json holds, and sudo_logsrvd refuses it
    /// empty ("wrong type for ttyname").
    fn start(&mut self, ev: &Start, out: &mut Out) {
        self.last = ev.time;
        let since = ev.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let size = ev.size.unwrap_or(Size::DEFAULT);
        let program = ev.command.first().map_or("unknown", String::as_str);
        let mut line = legacy(program);
        for word in ev.command.iter().skip(1) {
            line.push(' ');
            line.push_str(&legacy(word));
        }
        let log = format!(
            "{}:{}:{}::unknown:{}:{}\n{}\n{line}\n",
            since.as_secs(),
            legacy(&ev.user),
            legacy(&ev.user),
            size.rows,
            size.cols,
            legacy(&ev.cwd),
        );
        record(out, IologFile::Log, log.as_bytes());
        let argv: Vec<String> = ev
            .command
            .iter()
            .map(|w| format!("\n        {}", json(w)))
            .collect();
        self.json = format!(
            "{{\n    \"timestamp\": {{\n        \"seconds\": {},\n        \"nanoseconds\": {}\n    \
             }},\n    \"submituser\": {user},\n    \"command\": {},\n    \"runuser\": {user},\n    \
             \"runcwd\": {cwd},\n    \"ttyname\": \"unknown\",\n    \"submithost\": {},\n    \"submitcwd\": {cwd},\n    \
             \"columns\": {},\n    \"lines\": {},\n    \"runargv\": [{}\n    ]",
            since.as_secs(),
            since.subsec_nanos(),
            json(program),
            json(&ev.host),
            size.cols,
            size.rows,
            argv.join(","),
            user = json(&ev.user),
            cwd = json(&ev.cwd),
        );
        record(
            out,
            IologFile::LogJson,
            format!("{}\n}}\n", self.json).as_bytes(),
        );
    }

    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out) {
        let (event, file) = self.event(ev.stream);
        let mut delay = self.delay(ev.time);
        for piece in ev.bytes.chunks(MAX_RECORD) {
            record(out, file, piece);
            let timing = format!("{event} {delay} {}\n", piece.len());
            record(out, IologFile::Timing, timing.as_bytes());
            delay = "0.000000000".into();
        }
    }

    /// The bytes are in their stream's file already: their timing lines, one per
    /// [`MAX_RECORD`] bytes, the first with the delay.
    fn spliced(&mut self, stream: Stream, time: SystemTime, len: usize, out: &mut Out) {
        let (event, _) = self.event(stream);
        let mut delay = self.delay(time);
        let mut left = len;
        let mut lines = String::new();
        while left > 0 {
            let piece = left.min(MAX_RECORD);
            lines.push_str(&format!("{event} {delay} {piece}\n"));
            delay = "0.000000000".into();
            left -= piece;
        }
        record(out, IologFile::Timing, lines.as_bytes());
    }

    /// sudo's window size event: `5 DELAY LINES COLUMNS` (`iolog_timing.c`).
    fn resize(&mut self, time: SystemTime, size: Size, out: &mut Out) {
        let delay = self.delay(time);
        let line = format!("{WINSIZE} {delay} {} {}\n", size.rows, size.cols);
        record(out, IologFile::Timing, line.as_bytes());
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        let exit_value = match ev.status {
            Status::Code(code) => code,
            Status::Signal(n) => n | 128,
        };
        let mut json = format!(
            "{},\n    \"run_time\": {{\n        \"seconds\": {},\n        \"nanoseconds\": {}\n    }}",
            self.json,
            ev.duration.as_secs(),
            ev.duration.subsec_nanos()
        );
        if let Some(name) = ev.status.signal_name() {
            let name = name.strip_prefix("SIG").unwrap_or(&name);
            json.push_str(&format!(
                ",\n    \"signal\": {},\n    \"dumped_core\": false",
                self::json(name)
            ));
        }
        json.push_str(&format!(",\n    \"exit_value\": {exit_value}\n}}\n"));
        record(out, IologFile::LogJson, json.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::testing::{at, ctx, start};

    /// Each record of `out` as (file, bytes).
    fn records(out: &Out) -> Vec<(IologFile, Vec<u8>)> {
        out.records()
            .map(|r| {
                let file = [
                    IologFile::Log,
                    IologFile::LogJson,
                    IologFile::Timing,
                    IologFile::Stdin,
                    IologFile::Stdout,
                    IologFile::Stderr,
                    IologFile::Ttyout,
                ]
                .into_iter()
                .find(|f| f.tag() == r[0])
                .unwrap();
                (file, r[1..].to_vec())
            })
            .collect()
    }

    #[test]
    fn start_writes_log_and_log_json_as_sudo_reads_them() {
        let mut f = SudoIologFormatter::new(&ctx());
        let mut out = Out::default();
        let mut ev = start();
        ev.command[2] = "select\n1".into();
        f.start(&ev, &mut out);
        let got = records(&out);
        assert_eq!(got[0].0, IologFile::Log);
        assert_eq!(
            String::from_utf8_lossy(&got[0].1),
            "1351635193:ops:ops::unknown:24:80\n/srv\nmysql -e select\\n1\n"
        );
        let json: serde_json::Value = serde_json::from_slice(&got[1].1).unwrap();
        assert_eq!(json["runargv"][2], "select\n1");
        assert_eq!(json["submituser"], "ops");
        assert_eq!(json["submithost"], "db1");
        assert_eq!(json["runcwd"], "/srv");
        assert_eq!(json["timestamp"]["seconds"], 1_351_635_193);
        assert!(
            got[1].1.ends_with(b"\n}\n"),
            "sudo_logsrvd backs up over it"
        );
    }

    #[test]
    fn chunks_are_timed_from_the_previous_event_and_cut_at_64_kib() {
        let mut f = SudoIologFormatter::new(&ctx());
        let mut out = Out::default();
        f.start(&start(), &mut out);
        out.clear();
        let big = vec![b'x'; MAX_RECORD + 5];
        for (stream, time, bytes) in [
            (Stream::Stdout, at(1_500_000), &b"a\0"[..]),
            (Stream::Stderr, at(1_500_250), &big[..]),
            // A clock that went back is no negative delay.
            (Stream::Stdin, at(1_000_000), &b"q"[..]),
        ] {
            f.chunk(
                &Chunk {
                    stream,
                    time,
                    bytes,
                },
                &mut out,
            );
        }
        let got = records(&out);
        let timing: Vec<String> = got
            .iter()
            .filter(|(file, _)| *file == IologFile::Timing)
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
            .collect();
        assert_eq!(
            timing,
            [
                "1 1.500000000 2\n",
                "2 0.000250000 65536\n",
                "2 0.000000000 5\n",
                "0 0.000000000 1\n"
            ]
        );
        assert_eq!(got[0], (IologFile::Stdout, b"a\0".to_vec()));
        assert_eq!(got[2].1.len() + got[4].1.len(), big.len());
    }

    #[test]
    fn a_resize_is_a_window_size_event_timed_as_the_others() {
        let mut f = SudoIologFormatter::new(&ctx());
        let mut out = Out::default();
        f.start(&start(), &mut out);
        out.clear();
        f.resize(
            at(250_000),
            Size {
                cols: 100,
                rows: 40,
            },
            &mut out,
        );
        let chunk = Chunk {
            stream: Stream::Stdout,
            time: at(300_000),
            bytes: b"b",
        };
        f.chunk(&chunk, &mut out);
        let got = records(&out);
        assert_eq!(
            got[0],
            (IologFile::Timing, b"5 0.250000000 40 100\n".to_vec())
        );
        assert_eq!(got[2], (IologFile::Timing, b"1 0.050000000 1\n".to_vec()));
    }

    #[test]
    fn a_spliced_chunk_gets_the_timing_lines_a_chunk_would() {
        let len = 2 * MAX_RECORD + 7;
        let lines = |splice: bool| {
            let mut f = SudoIologFormatter::new(&ctx());
            let mut out = Out::default();
            f.start(&start(), &mut out);
            out.clear();
            let bytes = vec![b'y'; len];
            for (stream, time) in [
                (Stream::Stdout, at(2_000_000)),
                (Stream::Stderr, at(2_000_001)),
            ] {
                if splice {
                    f.spliced(stream, time, len, &mut out);
                } else {
                    let chunk = Chunk {
                        stream,
                        time,
                        bytes: &bytes,
                    };
                    f.chunk(&chunk, &mut out);
                }
            }
            records(&out)
                .into_iter()
                .filter(|(file, _)| *file == IologFile::Timing)
                .map(|(_, b)| String::from_utf8(b).unwrap())
                .collect::<String>()
        };
        assert_eq!(lines(true), lines(false));
        assert!(lines(true).starts_with(
            "1 2.000000000 65536\n1 0.000000000 65536\n1 0.000000000 7\n2 0.000001000 65536\n"
        ));
    }

    #[test]
    fn exit_adds_sudo_logsrvds_keys_to_log_json() {
        let mut f = SudoIologFormatter::new(&ctx());
        let mut out = Out::default();
        f.start(&start(), &mut out);
        out.clear();
        let exit = Exit {
            time: at(2_000_000),
            status: Status::Signal(15),
            duration: Duration::new(2, 5),
            unread: 0,
            resent: 0,
            error: None,
        };
        f.exit(&exit, &mut out);
        let got = records(&out);
        let json: serde_json::Value = serde_json::from_slice(&got[0].1).unwrap();
        assert_eq!(json["exit_value"], 143);
        assert_eq!(json["signal"], "TERM");
        assert_eq!(json["dumped_core"], false);
        assert_eq!(json["run_time"]["seconds"], 2);
        assert_eq!(json["run_time"]["nanoseconds"], 5);
        assert_eq!(json["command"], "mysql");
    }
}
