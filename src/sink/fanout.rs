//! The fan-out: every sink of a run, fed the same events in the same order, through the filters
//! (line masker, redactor, ANSI stripper), holding recorded input where a password prompt may be
//! answered. It is what the runner pushes into (`impl Events`).

use std::fs::File;

use super::Sink;
use crate::dest::Out;
use crate::event::{Chunk, Exit, Start, Stream};
use crate::format::Formatter;
use crate::mask::LineMasker;
use crate::mask::prompt::Prompts;
use crate::redact::Redactor;
use crate::strip::AnsiStripper;

/// Every sink of a run, fed the same events in the same order; output goes through the
/// redactor first, when there is one (`--redact-env`).
#[derive(Debug, Default)]
pub struct Fanout {
    pub(super) sinks: Vec<Sink>,
    pub(super) failed: bool,
    pub(super) redactor: Option<Redactor>,
    pub(super) redacted: Vec<u8>,
    /// Masks secrets line by line in the streams marked (input with `--log-input`, output with
    /// `--echo`), before the redactor.
    pub(super) masker: Option<(LineMasker, [bool; 3])>,
    pub(super) masked: Vec<u8>,
    /// With `--strip-ansi`: what takes escape sequences out of the logs' output.
    pub(super) stripper: Option<AnsiStripper>,
    pub(super) stripped: Vec<u8>,
    /// With `--strip-ansi` and `--redact-env` both: the redactor again, on what the logs get
    /// once stripped. A value the first pass let out in two parts, with an escape string
    /// longer than it looks back between them, is whole again once the string is taken out.
    log_redactor: Option<Redactor>,
    /// Pipes of teelog's own that tee(2) duplicates output into, one per destination beyond
    /// the first (see `splice`).
    pub(super) spares: Vec<(File, File)>,
    /// With recorded input: which input lines were typed at a password prompt (see
    /// [`Prompts`]), and what waits for the round's end.
    prompts: Option<Box<PromptRound>>,
}

/// Recorded input waiting for the end of its round (see [`Fanout::output_read`]), and the
/// output read after it, which stays behind it.
#[derive(Debug, Default)]
struct PromptRound {
    prompts: Prompts,
    /// When the round's input was taken.
    time: Option<std::time::SystemTime>,
    /// Output read in the round after its input: the stream, when, and where in `bytes`.
    queued: Vec<(Stream, std::time::SystemTime, std::ops::Range<usize>)>,
    bytes: Vec<u8>,
    decided: Vec<u8>,
}

/// Which sinks an event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Audience {
    All,
    Consoles,
    Logs,
}

impl Fanout {
    pub fn new(sinks: Vec<Sink>, redactor: Option<Redactor>) -> Fanout {
        Fanout {
            sinks,
            failed: false,
            redactor: redactor.filter(|r| !r.is_empty()),
            redacted: Vec::new(),
            masker: None,
            masked: Vec::new(),
            stripper: None,
            stripped: Vec::new(),
            log_redactor: None,
            spares: Vec::new(),
            prompts: None,
        }
    }

    /// From now on, mask secrets line by line in `streams` (see [`LineMasker`]).
    pub fn mask_lines(&mut self, streams: &[Stream]) {
        let mut on = [false; 3];
        for stream in streams {
            on[stream.index()] = true;
        }
        self.masker = Some((LineMasker::default(), on));
        // Recorded input may hold a password typed at a prompt.
        if on[Stream::Stdin.index()] {
            self.prompts = Some(Box::default());
        }
    }

    /// Whether input the command read waits for the end of the round: the runner then reads
    /// every output stream before saying [`Fanout::output_read`], not only those poll found
    /// ready, so that the round holds all the output written before the input was taken.
    pub fn holding_input(&self) -> bool {
        self.prompts
            .as_ref()
            .is_some_and(|round| round.prompts.holding())
    }

    /// The runner has read the command's output after looking at how much input it took (the
    /// end of a round of its loop): the input held is recorded, each line typed at a password
    /// prompt as `***`, then the output read after it.
    pub fn output_read(&mut self) {
        let Some(mut round) = self.prompts.take() else {
            return;
        };
        round.decided.clear();
        let PromptRound {
            prompts, decided, ..
        } = &mut *round;
        prompts.decide(decided);
        self.release(&mut round);
        self.prompts = Some(round);
    }

    /// Records what `round` decided, then the output queued behind it.
    fn release(&mut self, round: &mut PromptRound) {
        if !round.decided.is_empty() {
            self.filter(&Chunk {
                stream: Stream::Stdin,
                time: round.time.unwrap_or_else(std::time::SystemTime::now),
                bytes: &round.decided,
            });
        }
        for (stream, time, range) in round.queued.drain(..) {
            self.filter(&Chunk {
                stream,
                time,
                bytes: &round.bytes[range],
            });
        }
        round.bytes.clear();
    }

    /// From now on, take ANSI escape sequences out of the output the logs get (not the
    /// console's).
    pub fn strip_ansi(&mut self) {
        self.stripper = Some(AnsiStripper::default());
        self.log_redactor = self.redactor.clone();
    }

    pub fn start(&mut self, ev: &Start) {
        // The command line comes masked and redacted; the working directory can hold a
        // secret too (a directory named after a token).
        let redacted;
        let ev = match &self.redactor {
            Some(redactor) => {
                redacted = Start {
                    cwd: redactor.text(&ev.cwd),
                    ..ev.clone()
                };
                &redacted
            }
            None => ev,
        };
        self.each(None, Audience::All, |f, out| f.start(ev, out), None);
    }

    pub fn chunk(&mut self, ev: &Chunk<'_>) {
        if let Some(round) = &mut self.prompts {
            if ev.stream == Stream::Stdin {
                round.prompts.input(ev.bytes);
                round.time = Some(ev.time);
                return;
            }
            round.prompts.output(ev.stream, ev.bytes);
            if round.prompts.holding() {
                let at = round.bytes.len();
                round.bytes.extend_from_slice(ev.bytes);
                round
                    .queued
                    .push((ev.stream, ev.time, at..round.bytes.len()));
                return;
            }
        }
        self.filter(ev);
    }

    /// Masks, redacts and delivers a chunk.
    fn filter(&mut self, ev: &Chunk<'_>) {
        match &mut self.masker {
            Some((masker, on)) if on[ev.stream.index()] => {
                let mut masked = std::mem::take(&mut self.masked);
                masked.clear();
                masker.chunk(ev.stream, ev.bytes, &mut masked);
                if !masked.is_empty() {
                    self.redact(&Chunk {
                        bytes: &masked,
                        ..*ev
                    });
                }
                self.masked = masked;
            }
            _ => self.redact(ev),
        }
    }

    fn redact(&mut self, ev: &Chunk<'_>) {
        let Some(redactor) = &mut self.redactor else {
            self.deliver(ev);
            return;
        };
        let mut bytes = std::mem::take(&mut self.redacted);
        bytes.clear();
        redactor.chunk(ev.stream, ev.bytes, &mut bytes);
        self.redacted_chunk(ev.stream, ev.time, &bytes);
        self.redacted = bytes;
    }

    fn redacted_chunk(&mut self, stream: Stream, time: std::time::SystemTime, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.deliver(&Chunk {
            stream,
            time,
            bytes,
        });
    }

    /// Hands a chunk to every sink, the logs' without escape sequences with `--strip-ansi`.
    fn deliver(&mut self, ev: &Chunk<'_>) {
        let Some(stripper) = &mut self.stripper else {
            self.each_chunk(ev, Audience::All);
            return;
        };
        let mut stripped = std::mem::take(&mut self.stripped);
        stripped.clear();
        stripper.chunk(ev.stream, ev.bytes, &mut stripped);
        self.each_chunk(ev, Audience::Consoles);
        if let Some(redactor) = &mut self.log_redactor {
            let mut twice = Vec::new();
            redactor.chunk(ev.stream, &stripped, &mut twice);
            stripped = twice;
        }
        self.logs_chunk(ev.stream, ev.time, &stripped);
        self.stripped = stripped;
    }

    fn logs_chunk(&mut self, stream: Stream, time: std::time::SystemTime, bytes: &[u8]) {
        if !bytes.is_empty() {
            let ev = Chunk {
                stream,
                time,
                bytes,
            };
            self.each_chunk(&ev, Audience::Logs);
        }
    }

    pub fn pause(&mut self) {
        self.each(None, Audience::All, |f, out| f.pause(out), None);
    }

    pub fn exit(&mut self, ev: &Exit) {
        if let Some(mut round) = self.prompts.take() {
            round.decided.clear();
            let PromptRound {
                prompts, decided, ..
            } = &mut *round;
            prompts.finish(decided);
            self.release(&mut round);
        }
        if let Some((mut masker, on)) = self.masker.take() {
            for stream in Stream::ALL.into_iter().filter(|s| on[s.index()]) {
                let mut rest = Vec::new();
                masker.finish(stream, &mut rest);
                if !rest.is_empty() {
                    self.redact(&Chunk {
                        stream,
                        time: ev.time,
                        bytes: &rest,
                    });
                }
            }
        }
        if let Some(mut redactor) = self.redactor.take() {
            for stream in Stream::ALL {
                let mut rest = Vec::new();
                redactor.finish(stream, &mut rest);
                self.redacted_chunk(stream, ev.time, &rest);
            }
        }
        if let Some(mut redactor) = self.log_redactor.take() {
            for stream in Stream::ALL {
                let mut rest = Vec::new();
                redactor.finish(stream, &mut rest);
                self.logs_chunk(stream, ev.time, &rest);
            }
        }
        self.each(None, Audience::All, |f, out| f.exit(ev, out), None);
        // Syslog servers and the journal get a last chance to take what they were sent;
        // messages that were lost fail the run as a failed log does.
        for sink in &mut self.sinks {
            self.failed |= sink.out.finish() > 0;
        }
    }

    /// Whether every sink's main destination has gone (a closed standard output, a failed log):
    /// as with SIGPIPE, there is no point going on.
    pub fn closed(&self) -> bool {
        self.sinks.iter().all(|sink| sink.out.to.is_none())
    }

    /// Whether writing to a log (or to a console that did not just go away) failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Hands a chunk to every sink of `audience`; a plain sink writes its bytes as they are.
    fn each_chunk(&mut self, ev: &Chunk<'_>, audience: Audience) {
        self.each(
            Some(ev.stream),
            audience,
            |f, out| f.chunk(ev, out),
            Some(ev.bytes),
        );
    }

    /// Has every sink of `audience` format an event and writes what it made to its destination
    /// for `stream`; `raw`, for a chunk, is what a plain sink writes without formatting (the
    /// output unchanged, recorded input left out, as `PlainFormatter` would).
    fn each(
        &mut self,
        stream: Option<Stream>,
        audience: Audience,
        mut format: impl FnMut(&mut dyn Formatter, &mut Out),
        raw: Option<&[u8]>,
    ) {
        for sink in &mut self.sinks {
            match audience {
                Audience::Consoles if !sink.out.console => continue,
                Audience::Logs if sink.out.console => continue,
                _ => {}
            }
            sink.buf.clear();
            self.failed |= sink.out.follow_path();
            if let (true, Some(bytes), Some(stream)) = (sink.plain, raw, stream) {
                if stream == Stream::Stdin || bytes.is_empty() {
                    continue;
                }
                let dest = sink.dest(Some(stream));
                self.failed |= dest.write_bytes(bytes);
                continue;
            }
            // What a formatter lent of a chunk comes from the chunk itself.
            let chunk = raw.unwrap_or_default();
            if sink.out.shared.is_some() {
                self.failed |= sink.write_shared(&mut format, chunk);
                continue;
            }
            format(&mut *sink.formatter, &mut sink.buf);
            if sink.buf.total() == 0 {
                continue;
            }
            // Fields apart (not `Sink::dest`): `buf` is borrowed alongside.
            let dest = match (stream, &mut sink.err) {
                (Some(Stream::Stderr), Some(err)) => err,
                _ => &mut sink.out,
            };
            self.failed |= dest.write(&sink.buf, chunk);
        }
    }
}

/// The runner pushes into the fan-out through this trait: it knows no sink.
impl crate::event::Events for Fanout {
    fn start(&mut self, ev: &Start) {
        Fanout::start(self, ev);
    }
    fn chunk(&mut self, ev: &Chunk<'_>) {
        Fanout::chunk(self, ev);
    }
    fn pause(&mut self) {
        Fanout::pause(self);
    }
    fn exit(&mut self, ev: &Exit) {
        Fanout::exit(self, ev);
    }
    fn holding_input(&self) -> bool {
        Fanout::holding_input(self)
    }
    fn output_read(&mut self) {
        Fanout::output_read(self);
    }
    fn splices(&self) -> bool {
        Fanout::splices(self)
    }
    fn splice(&mut self, stream: Stream, from: &File, len: usize, buf: &mut [u8]) -> usize {
        Fanout::splice(self, stream, from, len, buf)
    }
}
