//! `asciicast`: asciinema's v2 recording format, for its player, `asciinema play` and `cat`, and
//! sharing. A header line (version, terminal size, start time, the masked command, SHELL and
//! TERM), then one `[seconds, code, text]` event per chunk: `"o"` for the command's output
//! (both streams, as a terminal shows them), `"i"` for input recorded with `--log-input`, and at
//! the end an `"x"` event holding the exit status (asciinema 3's exit event; players that do not
//! know it skip it); under `--pty`, an `"r"` event (`"COLSxROWS"`) when the terminal was resized.
//!
//! Terminals need `\r\n`: a `\n` not preceded by `\r` becomes `\r\n` (a `\r\n` the program wrote
//! itself stays as it is, also when a read cut it in two). Event text is UTF-8: invalid bytes
//! become U+FFFD, and a character cut by a read is held until its end arrives, so it stays whole.
//! Times are seconds since the start, from the run's monotonic clock, and never decrease.

use std::time::SystemTime;

use serde::Serialize;

use super::Formatter;
use super::utf8::incomplete_tail;
use crate::dest::Out;
use crate::event::{Chunk, Exit, Size, Start, Status, Stream};

#[derive(Debug, Default)]
pub struct AsciicastFormatter {
    start: Option<SystemTime>,
    /// The last event's time, in seconds since the start.
    last: f64,
    /// Per stream: the start of a UTF-8 character cut by a read.
    held: [Vec<u8>; 3],
    /// Per stream: the last byte written was `\r`.
    after_cr: [bool; 3],
    text: String,
}

#[derive(Serialize)]
struct Header<'a> {
    version: u8,
    width: u16,
    height: u16,
    timestamp: u64,
    command: &'a str,
    env: Env,
}

#[derive(Serialize)]
struct Env {
    #[serde(rename = "SHELL", skip_serializing_if = "Option::is_none")]
    shell: Option<String>,
    #[serde(rename = "TERM", skip_serializing_if = "Option::is_none")]
    term: Option<String>,
}

impl AsciicastFormatter {
    pub fn new() -> AsciicastFormatter {
        AsciicastFormatter::default()
    }

    /// Seconds from the start to `time`, never less than the last event's.
    fn seconds(&mut self, time: SystemTime) -> f64 {
        let since = self
            .start
            .and_then(|start| time.duration_since(start).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        self.last = self.last.max(since);
        self.last
    }

    fn event(&mut self, time: SystemTime, code: &str, text: &str, out: &mut Vec<u8>) {
        let t = self.seconds(time);
        out.extend_from_slice(format!("[{t:.6}, ").as_bytes());
        push_json(out, &code);
        out.extend_from_slice(b", ");
        push_json(out, &text);
        out.extend_from_slice(b"]\n");
    }

    /// Appends `bytes` of `stream` to `self.text` as terminal text: lossy UTF-8, `\n` as
    /// `\r\n`. With `whole`, an incomplete character at the end is held for the next chunk.
    fn decode(&mut self, stream: Stream, bytes: &[u8], whole: bool) {
        let i = stream.index();
        let mut data = std::mem::take(&mut self.held[i]);
        data.extend_from_slice(bytes);
        let keep = if whole { incomplete_tail(&data) } else { 0 };
        let now = data.len() - keep;
        self.text.clear();
        for piece in data[..now].utf8_chunks() {
            for c in piece.valid().chars() {
                if c == '\n' && !self.after_cr[i] {
                    self.text.push('\r');
                }
                self.after_cr[i] = c == '\r';
                self.text.push(c);
            }
            if !piece.invalid().is_empty() {
                self.text.push(char::REPLACEMENT_CHARACTER);
                self.after_cr[i] = false;
            }
        }
        data.drain(..now);
        self.held[i] = data;
    }

    fn code(stream: Stream) -> &'static str {
        match stream {
            Stream::Stdin => "i",
            Stream::Stdout | Stream::Stderr => "o",
        }
    }
}

impl Formatter for AsciicastFormatter {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        self.start = Some(ev.time);
        let size = ev.size.unwrap_or(Size::DEFAULT);
        let command = super::Format::command_line(&ev.command);
        let header = Header {
            version: 2,
            width: size.cols,
            height: size.rows,
            timestamp: ev
                .time
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            command: &command,
            env: Env {
                shell: std::env::var("SHELL").ok(),
                term: std::env::var("TERM").ok(),
            },
        };
        push_json(out, &header);
        out.push(b'\n');
    }

    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out) {
        self.decode(ev.stream, ev.bytes, true);
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.event(ev.time, Self::code(ev.stream), &text, out);
            self.text = text;
        }
    }

    /// asciicast v2's resize event: `[t, "r", "COLSxROWS"]`.
    fn resize(&mut self, time: SystemTime, size: Size, out: &mut Out) {
        self.event(time, "r", &format!("{}x{}", size.cols, size.rows), out);
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        for stream in Stream::ALL {
            self.decode(stream, &[], false);
            if !self.text.is_empty() {
                let text = std::mem::take(&mut self.text);
                self.event(ev.time, Self::code(stream), &text, out);
                self.text = text;
            }
        }
        let status = match ev.status {
            Status::Code(code) => code,
            Status::Signal(signal) => 128 + signal,
        };
        self.event(ev.time, "x", &status.to_string(), out);
    }
}

fn push_json(out: &mut Vec<u8>, value: &impl Serialize) {
    // Serializing these plain structs and strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Step::*, ctx, run};
    use super::*;
    use crate::event::Stream::*;
    use serde_json::Value;

    fn cast(steps: &[super::super::testing::Step]) -> Vec<Value> {
        let _ = ctx();
        run(&mut AsciicastFormatter::new(), steps)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_header_then_events_then_the_exit() {
        let c = cast(&[
            Start,
            Chunk(Stdout, 500_000, b"one\ntwo\r\n"),
            Chunk(Stderr, 750_000, b"oops\n"),
            Chunk(Stdin, 800_000, b"typed\n"),
            Exit(Status::Code(3)),
        ]);
        assert_eq!(c[0]["version"], 2);
        assert_eq!(c[0]["width"], 80);
        assert_eq!(c[0]["height"], 24);
        assert_eq!(c[0]["timestamp"], 1_351_635_193);
        assert_eq!(c[0]["command"], "mysql -e 'select 1'");
        assert_eq!(c[1], serde_json::json!([0.5, "o", "one\r\ntwo\r\n"]));
        assert_eq!(c[2], serde_json::json!([0.75, "o", "oops\r\n"]));
        assert_eq!(c[3], serde_json::json!([0.8, "i", "typed\r\n"]));
        assert_eq!(c[4], serde_json::json!([1.234567, "x", "3"]));
    }

    #[test]
    fn a_character_or_a_crlf_cut_by_a_read_stays_whole() {
        let c = cast(&[
            Start,
            Chunk(Stdout, 1, b"caf\xc3"),
            Chunk(Stdout, 2, b"\xa9 a\r"),
            Chunk(Stdout, 3, b"\nb\xff\n"),
            Exit(Status::Signal(15)),
        ]);
        assert_eq!(c[1][2], "caf");
        assert_eq!(c[2][2], "é a\r");
        assert_eq!(c[3][2], "\nb\u{FFFD}\r\n");
        assert_eq!(c[4][2], "143");
    }

    #[test]
    fn a_resize_is_an_r_event_between_the_output_before_and_after_it() {
        let c = cast(&[
            Start,
            Chunk(Stdout, 100_000, b"a"),
            Resize(250_000, 100, 40),
            Chunk(Stdout, 300_000, b"b"),
            Exit(Status::Code(0)),
        ]);
        assert_eq!(c[2], serde_json::json!([0.25, "r", "100x40"]));
        assert_eq!(c[3][2], "b");
    }

    #[test]
    fn times_never_go_back() {
        let c = cast(&[
            Start,
            Chunk(Stdout, 900, b"a"),
            Chunk(Stderr, 100, b"b"),
            Exit(Status::Code(0)),
        ]);
        assert_eq!(c[1][0], c[2][0]);
    }
}
