//! `classic`: the session-log text DBAs already grep. Each burst of output starts with a prompt
//! `[Tue Oct 30 22:13:13 2012 ops@db1]> ` (`... ops@db1 stderr]> ` for stderr), and the run is
//! framed by a `start:` line naming the command and an `exit:` line giving how it ended.
//!
//! The output itself is never altered; the only byte ever added to it is a newline before a prompt
//! (or the exit line) when the output stopped mid-line, so that every prompt starts a line.

use std::io::Write;
use std::time::SystemTime;

use chrono::{DateTime, Local, Utc};

use super::{Context, Formatter};
use crate::event::{Chunk, Exit, Start, Status, Stream};

/// strftime of the prompt: `Tue Oct 30 22:13:13 2012`.
const TIME_FORMAT: &str = "%a %b %d %H:%M:%S %Y";

#[derive(Debug)]
pub struct ClassicFormatter {
    /// `user@host`
    who: String,
    utc: bool,
    /// The stream whose prompt is open, or `None` when the next output needs a new prompt
    /// (at the start, and after a pause).
    open: Option<Stream>,
    /// Whether everything written so far ends with a newline.
    at_line_start: bool,
}

impl ClassicFormatter {
    pub fn new(ctx: &Context) -> ClassicFormatter {
        ClassicFormatter {
            who: format!("{}@{}", ctx.user, ctx.host),
            utc: ctx.utc,
            open: None,
            at_line_start: true,
        }
    }

    /// Writes `[<time> <who><tag>]`, on a line of its own.
    fn header(&mut self, time: SystemTime, tag: &str, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.push(b'\n');
        }
        let stamp = if self.utc {
            DateTime::<Utc>::from(time).format(TIME_FORMAT)
        } else {
            DateTime::<Local>::from(time).format(TIME_FORMAT)
        };
        // Writing to a Vec cannot fail.
        let _ = write!(out, "[{stamp} {}{tag}]", self.who);
    }
}

impl Formatter for ClassicFormatter {
    fn start(&mut self, ev: &Start, out: &mut Vec<u8>) {
        self.header(ev.time, "", out);
        let command = shlex::try_join(ev.command.iter().map(String::as_str))
            .unwrap_or_else(|_| ev.command.join(" "));
        let _ = writeln!(out, " start: {command} (pid {}, cwd {})", ev.pid, ev.cwd);
        self.at_line_start = true;
    }

    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Vec<u8>) {
        if self.open != Some(ev.stream) {
            let tag = match ev.stream {
                Stream::Stdout => "",
                Stream::Stderr => " stderr",
            };
            self.header(ev.time, tag, out);
            out.extend_from_slice(b"> ");
            self.open = Some(ev.stream);
        }
        out.extend_from_slice(ev.bytes);
        self.at_line_start = ev.bytes.ends_with(b"\n");
    }

    fn pause(&mut self, _out: &mut Vec<u8>) {
        self.open = None;
    }

    fn exit(&mut self, ev: &Exit, out: &mut Vec<u8>) {
        self.header(ev.time, "", out);
        let secs = ev.duration.as_secs_f64();
        let _ = match ev.status {
            Status::Code(code) => writeln!(out, " exit: status {code} after {secs:.3}s"),
            Status::Signal(n) => writeln!(
                out,
                " exit: killed by {} (signal {n}) after {secs:.3}s",
                ev.status.signal_name().unwrap_or("SIG?")
            ),
        };
        self.at_line_start = true;
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
        assert_eq!(got, "[Tue Oct 30 22:13:13 2012 ops@db1]> a\nb\nc");
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
            Chunk(Stderr, 1, b"err"),
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
