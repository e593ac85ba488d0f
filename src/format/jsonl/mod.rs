//! `jsonl`: one JSON object per line of output, framed by a start and an exit record, lossless
//! even for bytes that are not UTF-8 (the scheme is ripgrep's `--json`, adapted for log shippers:
//! `message` is always there, `bytes` holds base64 only when the line is not valid UTF-8).
//!
//! Lines are split before deciding on UTF-8. A line (or a UTF-8 sequence) cut by a read boundary is
//! held until its end arrives, or until the command pauses: then the held part is written as a
//! record with `"eol":false`, so that a prompt such as `Password: ` reaches the log at once. The
//! same happens to a line longer than [`MAX_LINE`], which keeps memory bounded. The first output
//! record after a pause carries `"after_pause":true` (the start record says `"marks_pauses":true`):
//! what `teelog replay` needs to rebuild a classic log, whose prompts follow the pauses.

mod escape;
pub mod wire;

use std::borrow::Cow;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::Context;
use super::line_records::{LineFormatter, LineRecords};
use super::lines::{Line, Seq};
use crate::dest::Out;
use crate::event::{Exit, Start, Stream};
use escape::{is_plain_ascii, push_json_value, push_lossy, push_str};
use wire::Record;

pub use super::lines::MAX_LINE;

/// The jsonl formatter: [`Lines`] and [`JsonlRecords`].
pub type JsonlFormatter = LineFormatter<JsonlRecords>;

/// What writes the jsonl records of one run.
#[derive(Debug)]
pub struct JsonlRecords {
    session: String,
    host: String,
    user: String,
    /// The command's pid; `None` before the start and when it could not be started.
    pid: Option<u32>,
    seq: Seq,
    /// The last timestamp formatted, which every line of a chunk shares.
    stamp: (SystemTime, String),
    /// An output record up to its `seq`, for `prefix_key`: the same for every line of a chunk.
    prefix: Vec<u8>,
    prefix_key: Option<(Stream, SystemTime)>,
    /// The command paused since the last output record: the next one says so (`after_pause`).
    paused: bool,
}

impl JsonlFormatter {
    pub fn new(_ctx: &Context) -> JsonlFormatter {
        LineFormatter::with(JsonlRecords {
            session: String::new(),
            host: String::new(),
            user: String::new(),
            pid: None,
            seq: Seq::after(0),
            stamp: (SystemTime::UNIX_EPOCH, String::new()),
            prefix: Vec::new(),
            prefix_key: None,
            paused: false,
        })
    }
}

impl JsonlRecords {
    /// Advances `seq` and returns a start or exit record with the fields every record has.
    fn head(&mut self, kind: &'static str, time: SystemTime) -> Record<'_> {
        let seq = self.seq.next();
        self.stamp(time);
        Record {
            kind: Cow::Borrowed(kind),
            timestamp: Cow::Borrowed(&self.stamp.1),
            session: Cow::Borrowed(&self.session),
            host: Cow::Borrowed(&self.host),
            user: Cow::Borrowed(&self.user),
            pid: self.pid,
            seq: Some(seq),
            ..Record::default()
        }
    }

    /// The timestamp of `time`, formatted once for all the records that share it; never earlier
    /// than the previous record's, so that timestamps do not decrease in `seq` order (a line held
    /// while the other stream went on, an exit seen before the last output was read, a clock
    /// stepped back).
    fn stamp(&mut self, time: SystemTime) -> &str {
        let time = time.max(self.stamp.0);
        if self.stamp.0 != time || self.stamp.1.is_empty() {
            self.stamp = (time, rfc3339(time));
        }
        &self.stamp.1
    }

    /// Writes one output record. This is the hot path, so rather than serializing a
    /// output [`Record`] it appends the same bytes directly (a unit test holds it to that):
    /// a prefix shared by every line of a chunk, then `seq`, `message` and, where needed, `bytes`
    /// and `eol`.
    fn record(&mut self, line: Line<'_>, out: &mut Vec<u8>) {
        let Line {
            stream,
            bytes: line,
            time,
            eol,
        } = line;
        let time = time.max(self.stamp.0);
        if self.prefix_key != Some((stream, time)) {
            let mut prefix = std::mem::take(&mut self.prefix);
            prefix.clear();
            prefix.extend_from_slice(br#"{"type":"output","timestamp":"#);
            push_str(&mut prefix, self.stamp(time));
            prefix.extend_from_slice(br#","session":"#);
            push_str(&mut prefix, &self.session);
            prefix.extend_from_slice(br#","host":"#);
            push_str(&mut prefix, &self.host);
            prefix.extend_from_slice(br#","user":"#);
            push_str(&mut prefix, &self.user);
            prefix.extend_from_slice(br#","pid":"#);
            // Output comes only from a command that started, which has a pid.
            let pid = self.pid.unwrap_or(0);
            prefix.extend_from_slice(itoa::Buffer::new().format(pid).as_bytes());
            prefix.extend_from_slice(br#","stream":"#);
            push_str(&mut prefix, stream.name());
            prefix.extend_from_slice(br#","seq":"#);
            self.prefix = prefix;
            self.prefix_key = Some((stream, time));
        }
        self.seq.next();
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(self.seq.digits());
        out.extend_from_slice(br#","message":"#);
        // Most log lines: copied as they are after one vectorised scan.
        if is_plain_ascii(line) {
            out.push(b'"');
            out.extend_from_slice(line);
            out.push(b'"');
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => push_str(out, text),
                Err(_) => {
                    push_lossy(out, line);
                    out.extend_from_slice(br#","bytes":""#);
                    // SIMD base64 (the encoder picks what the CPU has at run time): the same text
                    // as the base64 crate's STANDARD, which the differential test holds it to.
                    base64_simd::STANDARD.encode_append(line, out);
                    out.push(b'"');
                }
            }
        }
        if !eol {
            out.extend_from_slice(br#","eol":false"#);
        }
        if std::mem::take(&mut self.paused) {
            out.extend_from_slice(br#","after_pause":true"#);
        }
        out.extend_from_slice(b"}\n");
    }
}

impl LineRecords for JsonlRecords {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        self.pid = ev.pid;
        self.session.clone_from(&ev.session);
        self.host.clone_from(&ev.host);
        self.user.clone_from(&ev.user);
        let record = Record {
            command: Some(Cow::Borrowed(&ev.command)),
            cwd: Some(Cow::Borrowed(&ev.cwd)),
            cols: Some(ev.size.map(|s| s.cols)),
            rows: Some(ev.size.map(|s| s.rows)),
            marks_pauses: true,
            ..self.head("start", ev.time)
        };
        push_json(out, &record);
    }

    fn line(&mut self, line: Line<'_>, out: &mut Out) {
        self.record(line, out);
    }

    fn paused(&mut self, _out: &mut Out) {
        // What the pause wrote came before it; what comes next, after it.
        self.paused = true;
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        let record = Record {
            code: Some(match ev.status {
                crate::event::Status::Code(code) => Some(code),
                crate::event::Status::Signal(_) => None,
            }),
            signal: Some(ev.status.signal_name().map(Cow::Owned)),
            duration_s: Some(ev.duration.as_micros() as f64 / 1e6),
            unread_bytes: ev.unread,
            resent: ev.resent,
            error: ev.error.as_deref().map(Cow::Borrowed),
            ..self.head("exit", ev.time)
        };
        push_json(out, &record);
    }
}

/// Appends `record` and a newline.
fn push_json(out: &mut Vec<u8>, record: &impl Serialize) {
    push_json_value(out, record);
    out.push(b'\n');
}

/// `2012-10-30T22:13:13.000000Z`
fn rfc3339(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Step::*, ctx, run, xorshift};
    use super::*;
    use crate::event::{Status, Stream::*};
    use crate::format::Formatter;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde_json::Value;

    fn records(text: &str) -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("every line is a JSON object"))
            .collect()
    }

    /// The exact bytes of `stream`, rebuilt from the output records.
    fn rebuild(records: &[Value], stream: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        for r in records
            .iter()
            .filter(|r| r["type"] == "output" && r["stream"] == stream)
        {
            match r.get("bytes") {
                Some(b) => bytes.extend(BASE64.decode(b.as_str().unwrap()).unwrap()),
                None => bytes.extend(r["message"].as_str().unwrap().as_bytes()),
            }
            if r.get("eol") != Some(&Value::Bool(false)) {
                bytes.push(b'\n');
            }
        }
        bytes
    }

    fn jsonl(steps: &[super::super::testing::Step]) -> Vec<Value> {
        records(&run(&mut JsonlFormatter::new(&ctx()), steps))
    }

    #[test]
    fn start_output_exit_records_carry_every_field() {
        let r = jsonl(&[
            Start,
            Chunk(Stdout, 7, b"one\ntwo\n"),
            Exit(Status::Code(3)),
        ]);
        assert_eq!(r.len(), 4);
        assert_eq!(r[0]["type"], "start");
        assert_eq!(
            r[0]["command"],
            serde_json::json!(["mysql", "-e", "select 1"])
        );
        assert_eq!(r[0]["cwd"], "/srv");
        assert_eq!(r[0]["timestamp"], "2012-10-30T22:13:13.000000Z");
        assert_eq!(r[1]["type"], "output");
        assert_eq!(r[1]["stream"], "stdout");
        assert_eq!(r[1]["message"], "one");
        assert_eq!(r[1]["timestamp"], "2012-10-30T22:13:13.000007Z");
        assert_eq!(r[2]["message"], "two");
        assert!(r[1].get("bytes").is_none() && r[1].get("eol").is_none());
        assert_eq!(r[3]["type"], "exit");
        assert_eq!(r[3]["code"], 3);
        assert_eq!(r[3]["signal"], Value::Null);
        assert_eq!(r[3]["duration_s"], 1.234567);
        for (i, rec) in r.iter().enumerate() {
            assert_eq!(rec["seq"], i as u64 + 1);
            assert_eq!(rec["session"], "S");
            assert_eq!(rec["host"], "db1");
            assert_eq!(rec["user"], "ops");
            assert_eq!(rec["pid"], 42);
        }
    }

    #[test]
    fn exit_record_says_what_was_left_unread_and_why_a_command_did_not_start() {
        let mut f = JsonlFormatter::new(&ctx());
        let mut out = Out::default();
        let mut exit = super::super::testing::exit(Status::Code(0));
        exit.unread = 4096;
        f.exit(&exit, &mut out);
        let mut exit = super::super::testing::exit(Status::Code(127));
        exit.error = Some("not found: x".into());
        f.exit(&exit, &mut out);
        let r = records(std::str::from_utf8(&out).unwrap());
        assert_eq!(r[0]["unread_bytes"], 4096);
        assert!(r[0].get("error").is_none());
        assert_eq!(r[1]["error"], "not found: x");
        assert!(r[1].get("unread_bytes").is_none());
    }

    #[test]
    fn timestamps_never_go_back() {
        let r = jsonl(&[
            Chunk(Stdout, 5, b"held"),
            Chunk(Stderr, 9, b"later\n"),
            Chunk(Stdout, 10, b" line\n"),
            Exit(Status::Code(0)),
        ]);
        let stamps: Vec<&str> = r.iter().map(|r| r["timestamp"].as_str().unwrap()).collect();
        assert_eq!(
            stamps,
            [
                "2012-10-30T22:13:13.000009Z",
                "2012-10-30T22:13:13.000009Z",
                "2012-10-30T22:13:14.234567Z"
            ]
        );
    }

    #[test]
    fn exit_record_names_the_signal() {
        let r = jsonl(&[Start, Exit(Status::Signal(9))]);
        assert_eq!(r[1]["code"], Value::Null);
        assert_eq!(r[1]["signal"], "SIGKILL");
    }

    #[test]
    fn a_line_split_across_reads_is_one_record_stamped_when_it_began() {
        let r = jsonl(&[Chunk(Stdout, 1, b"hel"), Chunk(Stdout, 2, b"lo\nworld\n")]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["message"], "hello");
        assert_eq!(r[0]["timestamp"], "2012-10-30T22:13:13.000001Z");
        assert_eq!(r[1]["message"], "world");
        assert_eq!(r[1]["timestamp"], "2012-10-30T22:13:13.000002Z");
    }

    #[test]
    fn a_utf8_character_split_across_reads_stays_whole() {
        // "é" is C3 A9; the read boundary falls between them, and a pause comes in between.
        let r = jsonl(&[
            Chunk(Stdout, 0, b"caf\xc3"),
            Pause,
            Chunk(Stdout, 1, b"\xa9!\n"),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["message"], "caf");
        assert_eq!(r[0]["eol"], false);
        assert_eq!(r[1]["message"], "é!");
        assert!(r.iter().all(|r| r.get("bytes").is_none()));
    }

    #[test]
    fn a_pause_writes_a_partial_line_at_once() {
        let mut f = JsonlFormatter::new(&ctx());
        let mut out = Out::default();
        f.chunk(
            &super::super::testing::chunk(Stderr, 0, b"Password: "),
            &mut out,
        );
        assert!(
            out.is_empty(),
            "held until the line ends or the command pauses"
        );
        f.pause(&mut out);
        let r = records(std::str::from_utf8(&out).unwrap());
        assert_eq!(r[0]["message"], "Password: ");
        assert_eq!(r[0]["stream"], "stderr");
        assert_eq!(r[0]["eol"], false);
    }

    #[test]
    fn invalid_utf8_carries_base64_of_the_exact_bytes() {
        let r = jsonl(&[Chunk(Stdout, 0, b"a\xffb\r\n")]);
        assert_eq!(r[0]["message"], "a\u{fffd}b\r");
        assert_eq!(r[0]["bytes"], BASE64.encode(b"a\xffb\r"));
    }

    #[test]
    fn exit_writes_everything_held_even_an_incomplete_sequence() {
        let r = jsonl(&[
            Chunk(Stdout, 0, b"end\xe2\x82"),
            Pause,
            Exit(Status::Code(0)),
        ]);
        assert_eq!(rebuild(&r, "stdout"), b"end\xe2\x82");
        assert_eq!(r.last().unwrap()["type"], "exit");
    }

    #[test]
    fn a_long_line_is_split_into_bounded_records() {
        let mut f = JsonlFormatter::new(&ctx());
        let mut all = Vec::new();
        let line = "é".repeat(MAX_LINE); // 2 * MAX_LINE bytes
        for piece in line.as_bytes().chunks(1000).chain([&b"\n"[..]]) {
            let mut out = Out::default();
            f.chunk(&super::super::testing::chunk(Stdout, 0, piece), &mut out);
            all.extend_from_slice(&out);
        }
        let r = records(std::str::from_utf8(&all).unwrap());
        assert!(r.len() >= 2);
        for rec in &r {
            let message = rec["message"].as_str().unwrap();
            assert!(message.len() <= MAX_LINE);
            assert!(!message.contains('\u{fffd}'), "cut inside a character");
        }
        assert_eq!(rebuild(&r, "stdout"), format!("{line}\n").as_bytes());
    }

    #[test]
    fn random_chunks_and_pauses_rebuild_exactly() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet: &[u8] = b"ab\n\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\r";
        for _ in 0..200 {
            let mut f = JsonlFormatter::new(&ctx());
            let mut all = Vec::new();
            let mut expected: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..(next() % 20) {
                let stream = if next().is_multiple_of(3) {
                    Stderr
                } else {
                    Stdout
                };
                let bytes: Vec<u8> = (0..next() % 12)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if bytes.is_empty() {
                    continue;
                }
                expected[stream.index()].extend(&bytes);
                let mut out = Out::default();
                f.chunk(&super::super::testing::chunk(stream, 0, &bytes), &mut out);
                if next().is_multiple_of(4) {
                    f.pause(&mut out);
                }
                all.extend_from_slice(&out);
            }
            let mut out = Out::default();
            f.exit(&super::super::testing::exit(Status::Code(0)), &mut out);
            all.extend_from_slice(&out);
            let r = records(std::str::from_utf8(&all).unwrap());
            assert_eq!(rebuild(&r, "stdout"), expected[0]);
            assert_eq!(rebuild(&r, "stderr"), expected[1]);
            for rec in &r {
                if let (Some(b), Some(m)) = (rec.get("bytes"), rec["message"].as_str()) {
                    let raw = BASE64.decode(b.as_str().unwrap()).unwrap();
                    assert!(
                        std::str::from_utf8(&raw).is_err(),
                        "bytes only when needed: {m:?}"
                    );
                }
            }
        }
    }
}
