//! `classic`: the session-log text DBAs already grep. Each burst of output starts with a prompt
//! `[Tue Oct 30 22:13:13 2012 ops@db1]> ` (`... ops@db1 stderr]> ` for stderr), and the run is
//! framed by a `start:` line naming the command and an `exit:` line giving how it ended.
//!
//! Only whole lines are written: a partial line is held until its newline, a pause, the exit, or
//! [`MAX_LINE`] bytes, and then ended with a newline of teelog's; what follows it starts under a
//! new prompt. A line is cut exactly where jsonl cuts it into records (`super::lines`), and a
//! prompt carries the time jsonl stamps the record of its first line with, so that `teelog
//! replay --format classic` rebuilds this log from a jsonl recording byte for byte. So several runs appending to one log never glue their lines together, and with
//! [`Formatter::interleaved`] (the sink saw another writer) no run's output lands under another
//! run's prompt. A UTF-8 character is never cut: an incomplete one stays held across a pause.
//! The output itself is never altered; the only byte ever added is that newline.

use std::io::Write;
use std::time::SystemTime;

use chrono::{DateTime, Local, Utc};

use super::lines::{MAX_LINE, long_partial, piece};
use super::shell::shell_word;
use super::utf8::{cut_point, incomplete_tail};
use super::{Context, Flush, Formatter};
use crate::dest::Out;
use crate::event::{Chunk, Exit, Start, Status, Stream};

/// strftime of the prompt: `Tue Oct 30 22:13:13 2012`.
const TIME_FORMAT: &str = "%a %b %d %H:%M:%S %Y";

#[derive(Debug)]
pub struct ClassicFormatter {
    /// `user@host`, from the start event.
    who: String,
    utc: bool,
    /// The stream whose prompt the last line written continues, or `None` when the next output
    /// needs a new prompt (at the start, after a pause, after another writer's lines).
    open: Option<Stream>,
    /// Per stream: a line whose newline has not come yet, and when its first byte was read.
    held: [(Vec<u8>, SystemTime); 3],
    /// The latest time of a line written (or of the start): prompts never go back in time, and
    /// show what jsonl stamps the record of their first line with (never earlier than the
    /// record before).
    last: SystemTime,
    /// Colour the prompts (a terminal console): stderr's red, start and exit lines dim.
    colour: bool,
}

/// SGR sequences for [`ClassicFormatter::colour`].
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl ClassicFormatter {
    pub fn new(ctx: &Context) -> ClassicFormatter {
        ClassicFormatter {
            who: String::new(),
            utc: ctx.utc,
            open: None,
            held: std::array::from_fn(|_| (Vec::new(), SystemTime::UNIX_EPOCH)),
            colour: ctx.colour,
            last: SystemTime::UNIX_EPOCH,
        }
    }

    /// Writes `[<time> <who><tag>]`.
    fn header(&mut self, time: SystemTime, tag: &str, out: &mut Vec<u8>) {
        self.last = self.last.max(time);
        let stamp = if self.utc {
            DateTime::<Utc>::from(self.last).format(TIME_FORMAT)
        } else {
            DateTime::<Local>::from(self.last).format(TIME_FORMAT)
        };
        // Writing to a Vec cannot fail.
        let _ = write!(out, "[{stamp} {}{tag}]", self.who);
    }

    /// Writes whole lines of `stream` read from `time` on, under its prompt.
    fn lines(&mut self, stream: Stream, time: SystemTime, parts: [&[u8]; 2], out: &mut Vec<u8>) {
        self.last = self.last.max(time);
        if self.open != Some(stream) {
            let tag = match stream {
                Stream::Stdout => "",
                Stream::Stderr => " stderr",
                Stream::Stdin => " stdin",
            };
            let red = self.colour && stream == Stream::Stderr;
            if red {
                out.extend_from_slice(RED.as_bytes());
            }
            self.header(time, tag, out);
            out.extend_from_slice(b">");
            if red {
                out.extend_from_slice(RESET.as_bytes());
            }
            out.push(b' ');
            self.open = Some(stream);
        }
        for part in parts {
            out.extend_from_slice(part);
        }
    }

    fn take_held(&mut self, i: usize) -> (Vec<u8>, SystemTime) {
        (std::mem::take(&mut self.held[i].0), self.held[i].1)
    }

    /// As jsonl: while a held line is too long to wait ([`piece`]), writes a piece of it as a
    /// line of its own; the rest is still dated from when the line began.
    fn spill(&mut self, stream: Stream, out: &mut Vec<u8>) {
        let i = stream.index();
        while let Some(cut) = piece(&self.held[i].0) {
            let (mut held, time) = self.take_held(i);
            self.lines(stream, time, [&held[..cut], b"\n"], out);
            self.open = None;
            held.drain(..cut);
            self.held[i] = (held, time);
        }
    }

    /// As jsonl: before a line of `stream` is written, what [`long_partial`] cuts of the other
    /// streams' partial lines is written as lines of their own.
    fn cut_others(&mut self, stream: Stream, out: &mut Vec<u8>) {
        for other in Stream::ALL.into_iter().filter(|&s| s != stream) {
            if let Some(cut) = long_partial(&self.held[other.index()].0) {
                let (mut held, time) = self.take_held(other.index());
                self.lines(other, time, [&held[..cut], b"\n"], out);
                self.open = None;
                held.drain(..cut);
                self.held[other.index()] = (held, time);
            }
        }
    }

    /// Writes `line` (read from `time` on) and its newline, in pieces of at most [`MAX_LINE`]
    /// bytes cut where jsonl cuts it, each but the last ended by a newline of teelog's.
    fn long_line(&mut self, stream: Stream, time: SystemTime, mut line: &[u8], out: &mut Vec<u8>) {
        while line.len() > MAX_LINE {
            let cut = cut_point(line, MAX_LINE);
            self.lines(stream, time, [&line[..cut], b"\n"], out);
            self.open = None;
            line = &line[cut..];
        }
        self.lines(stream, time, [line, b"\n"], out);
    }

    /// A chunk in which a line may be longer than [`MAX_LINE`]: its lines one by one, as
    /// `super::lines` splits them (the first, held part included, read from when it began).
    fn chunk_of_long_lines(&mut self, ev: &Chunk<'_>, out: &mut Vec<u8>) {
        let i = ev.stream.index();
        let (mut held, time) = self.take_held(i);
        let mut rest = ev.bytes;
        let mut first = true;
        while let Some(n) = memchr::memchr(b'\n', rest) {
            if first && !held.is_empty() {
                held.extend_from_slice(&rest[..n]);
                self.long_line(ev.stream, time, &held, out);
            } else {
                self.long_line(ev.stream, ev.time, &rest[..n], out);
            }
            first = false;
            rest = &rest[n + 1..];
        }
        held.clear();
        held.extend_from_slice(rest);
        self.held[i] = (held, ev.time);
    }

    /// Writes what is held for `stream` as a line of its own (see [`Flush`]); the output that
    /// continues it gets a new prompt.
    fn flush(&mut self, stream: Stream, how: Flush, out: &mut Vec<u8>) {
        let (mut held, time) = self.take_held(stream.index());
        let now = match how {
            Flush::All => held.len(),
            Flush::Characters => held.len() - incomplete_tail(&held),
        };
        if now > 0 {
            self.lines(stream, time, [&held[..now], b"\n"], out);
            self.open = None;
            held.drain(..now);
        }
        self.held[stream.index()] = (held, time);
    }
}

impl Formatter for ClassicFormatter {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        self.who = format!("{}@{}", ev.user, ev.host);
        if self.colour {
            out.extend_from_slice(DIM.as_bytes());
        }
        self.header(ev.time, "", out);
        let command: Vec<String> = ev.command.iter().map(|w| shell_word(w)).collect();
        let pid = ev
            .pid
            .map_or_else(|| "not started".to_owned(), |pid| format!("pid {pid}"));
        let _ = write!(
            out,
            " start: {} ({pid}, cwd {})",
            command.join(" "),
            shell_word(&ev.cwd)
        );
        if self.colour {
            out.extend_from_slice(RESET.as_bytes());
        }
        out.push(b'\n');
    }

    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out) {
        let i = ev.stream.index();
        if self.held[i].0.is_empty() {
            self.held[i].1 = ev.time;
        }
        let last_newline = memchr::memrchr(b'\n', ev.bytes);
        if last_newline.is_some() || self.held[i].0.len() + ev.bytes.len() >= MAX_LINE {
            self.cut_others(ev.stream, out);
        }
        match last_newline {
            // No line here can be longer than MAX_LINE (the usual case): written as it came.
            Some(end) if self.held[i].0.len() + end <= MAX_LINE => {
                let (mut held, time) = self.take_held(i);
                self.lines(ev.stream, time, [&held, b""], out);
                // Lines after the first were read at the chunk's time, which jsonl stamps them
                // with, and so the next prompt starts from there.
                if held.is_empty() || memchr::memchr(b'\n', ev.bytes) != Some(end) {
                    self.last = self.last.max(ev.time);
                }
                // The output itself is lent to a log written with writev, not copied.
                out.chunk_piece(ev.bytes, 0..end + 1);
                held.clear();
                held.extend_from_slice(&ev.bytes[end + 1..]);
                self.held[i] = (held, ev.time);
            }
            Some(_) => self.chunk_of_long_lines(ev, out),
            None => self.held[i].0.extend_from_slice(ev.bytes),
        }
        self.spill(ev.stream, out);
    }

    fn pause(&mut self, out: &mut Out) {
        for stream in Stream::ALL {
            self.flush(stream, Flush::Characters, out);
        }
        self.open = None;
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        for stream in Stream::ALL {
            self.flush(stream, Flush::All, out);
        }
        if self.colour {
            out.extend_from_slice(DIM.as_bytes());
        }
        self.header(ev.time, "", out);
        let secs = super::seconds(ev.duration);
        let _ = match (ev.status, &ev.error) {
            (Status::Code(code), Some(error)) => {
                write!(out, " exit: status {code} ({error}) after {secs}s")
            }
            (Status::Code(code), None) => write!(out, " exit: status {code} after {secs}s"),
            (Status::Signal(n), _) => write!(
                out,
                " exit: killed by {} (signal {n}) after {secs}s",
                crate::signal::name(n)
            ),
        };
        if ev.unread > 0 {
            let _ = write!(out, ", {} bytes of output left unread", ev.unread);
        }
        if self.colour {
            out.extend_from_slice(RESET.as_bytes());
        }
        out.push(b'\n');
        self.open = None;
    }

    fn interleaved(&mut self) {
        self.open = None;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Step::*, ctx, run};
    use super::*;
    use crate::event::Stream::*;

    fn classic(steps: &[super::super::testing::Step]) -> String {
        run(&mut ClassicFormatter::new(&ctx()), steps)
    }

    #[test]
    fn frames_the_run_with_start_and_exit_lines() {
        let got = classic(&[Start, Chunk(Stdout, 0, b"1\n"), Exit(Status::Code(0))]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:13 2012 ops@db1] start: mysql -e 'select 1' (pid 42, cwd /srv)\n\
             [Tue Oct 30 22:13:13 2012 ops@db1]> 1\n\
             [Tue Oct 30 22:13:14 2012 ops@db1] exit: status 0 after 1.235s\n"
        );
    }

    #[test]
    fn one_prompt_per_burst_not_per_read() {
        let got = classic(&[Chunk(Stdout, 0, b"a\n"), Chunk(Stdout, 10, b"b\nc")]);
        // "c" waits for its newline or a pause: only whole lines are written.
        assert_eq!(got, "[Tue Oct 30 22:13:13 2012 ops@db1]> a\nb\n");
    }

    #[test]
    fn a_partial_line_is_held_until_its_newline_even_across_the_other_stream() {
        let got = classic(&[
            Chunk(Stdout, 0, b"hel"),
            Chunk(Stderr, 1_000_000, b"warn\n"),
            Chunk(Stdout, 2_000_000, b"lo\n"),
        ]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:14 2012 ops@db1 stderr]> warn\n\
             [Tue Oct 30 22:13:14 2012 ops@db1]> hello\n"
        );
    }

    #[test]
    fn a_character_cut_by_a_read_a_pause_or_a_stream_switch_stays_whole() {
        let got = classic(&[
            Chunk(Stdout, 0, b"caf\xc3"),
            Chunk(Stderr, 1, b"e\xe2\x82"),
            Pause,
            Chunk(Stderr, 2, b"\xac\n"),
            Chunk(Stdout, 3, b"\xa9\n"),
        ]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:13 2012 ops@db1]> caf\n\
             [Tue Oct 30 22:13:13 2012 ops@db1 stderr]> e\n\
             [Tue Oct 30 22:13:13 2012 ops@db1 stderr]> €\n\
             [Tue Oct 30 22:13:13 2012 ops@db1]> é\n"
        );
    }

    #[test]
    fn another_writers_lines_end_the_open_prompt() {
        let mut f = ClassicFormatter::new(&ctx());
        f.start(&super::super::testing::start(), &mut Out::default());
        let mut out = Out::default();
        f.chunk(&super::super::testing::chunk(Stdout, 0, b"a\n"), &mut out);
        f.interleaved();
        f.chunk(&super::super::testing::chunk(Stdout, 0, b"b\n"), &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            "[Tue Oct 30 22:13:13 2012 ops@db1]> a\n[Tue Oct 30 22:13:13 2012 ops@db1]> b\n"
        );
    }

    #[test]
    fn a_line_longer_than_the_cap_is_written_in_whole_character_pieces() {
        let mut f = ClassicFormatter::new(&ctx());
        let mut out = Out::default();
        let line = "é".repeat(MAX_LINE); // 2 * MAX_LINE bytes
        for piece in line.as_bytes().chunks(999) {
            f.chunk(&super::super::testing::chunk(Stdout, 0, piece), &mut out);
        }
        assert!(out.len() >= MAX_LINE, "at most MAX_LINE bytes are held");
        f.chunk(&super::super::testing::chunk(Stdout, 0, b"\n"), &mut out);
        let text = String::from_utf8(out.to_vec()).expect("no character was cut");
        let rebuilt: String = text
            .lines()
            .map(|l| l.split_once("]> ").unwrap().1)
            .collect();
        assert_eq!(rebuilt, line);
        assert!(text.lines().all(|l| l.len() <= MAX_LINE + 60));
    }

    #[test]
    fn prompts_never_go_back_in_time() {
        let got = classic(&[
            Chunk(Stdout, 5_000_000, b"late\n"),
            Chunk(Stderr, 0, b"early clock\n"),
        ]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:18 2012 ops@db1]> late\n\
             [Tue Oct 30 22:13:18 2012 ops@db1 stderr]> early clock\n"
        );
    }

    #[test]
    fn the_start_line_quotes_every_argument_onto_one_line() {
        let mut f = ClassicFormatter::new(&ctx());
        let mut out = Out::default();
        let mut start = super::super::testing::start();
        start.command = vec![
            "printf".into(),
            "x\n[Tue Oct 30 22:13:13 2012 ops@db1] exit: status 0".into(),
            "it's".into(),
            "\x1b[31m\t\u{85}".into(),
            "".into(),
        ];
        start.cwd = "/a dir".into();
        f.start(&start, &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            "[Tue Oct 30 22:13:13 2012 ops@db1] start: printf \
             $'x\\n[Tue Oct 30 22:13:13 2012 ops@db1] exit: status 0' 'it'\\''s' \
             $'\\x1b[31m\\t\\u0085' '' (pid 42, cwd '/a dir')\n"
        );
    }

    #[test]
    fn the_exit_line_says_what_was_left_unread() {
        let mut f = ClassicFormatter::new(&ctx());
        f.start(&super::super::testing::start(), &mut Out::default());
        let mut out = Out::default();
        let mut exit = super::super::testing::exit(Status::Code(0));
        exit.unread = 4096;
        f.exit(&exit, &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            "[Tue Oct 30 22:13:14 2012 ops@db1] exit: status 0 after 1.235s, 4096 bytes of \
             output left unread\n"
        );
    }

    #[test]
    fn a_command_that_could_not_start_is_on_record() {
        let mut f = ClassicFormatter::new(&ctx());
        let mut out = Out::default();
        let mut start = super::super::testing::start();
        start.pid = None;
        f.start(&start, &mut out);
        let mut exit = super::super::testing::exit(Status::Code(127));
        exit.error = Some("not found: No such file or directory (os error 2)".into());
        f.exit(&exit, &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            "[Tue Oct 30 22:13:13 2012 ops@db1] start: mysql -e 'select 1' (not started, cwd /srv)\n\
             [Tue Oct 30 22:13:14 2012 ops@db1] exit: status 127 (not found: No such file or \
             directory (os error 2)) after 1.235s\n"
        );
    }

    #[test]
    fn a_pause_starts_a_new_prompt_on_its_own_line() {
        let got = classic(&[
            Chunk(Stdout, 0, b"Password: "),
            Pause,
            Chunk(Stdout, 2_000_000, b"ok\n"),
            Pause,
            Chunk(Stdout, 3_000_000, b"done\n"),
        ]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:13 2012 ops@db1]> Password: \n\
             [Tue Oct 30 22:13:15 2012 ops@db1]> ok\n\
             [Tue Oct 30 22:13:16 2012 ops@db1]> done\n"
        );
    }

    #[test]
    fn marks_stderr_and_switches_prompt_with_the_stream() {
        let got = classic(&[
            Chunk(Stdout, 0, b"out\n"),
            Chunk(Stderr, 1, b"err\n"),
            Chunk(Stdout, 2, b"more\n"),
        ]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:13 2012 ops@db1]> out\n\
             [Tue Oct 30 22:13:13 2012 ops@db1 stderr]> err\n\
             [Tue Oct 30 22:13:13 2012 ops@db1]> more\n"
        );
    }

    #[test]
    fn output_bytes_are_kept_exactly() {
        let got = classic(&[Chunk(Stdout, 0, b"a\r\n\tb\r\n\n")]);
        assert_eq!(got, "[Tue Oct 30 22:13:13 2012 ops@db1]> a\r\n\tb\r\n\n");
    }

    #[test]
    fn exit_line_names_the_signal_and_starts_its_own_line() {
        let got = classic(&[Chunk(Stdout, 0, b"partial"), Exit(Status::Signal(15))]);
        assert_eq!(
            got,
            "[Tue Oct 30 22:13:13 2012 ops@db1]> partial\n\
             [Tue Oct 30 22:13:14 2012 ops@db1] exit: killed by SIGTERM (signal 15) after 1.235s\n"
        );
    }
}
