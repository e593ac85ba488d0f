//! The fan-out: every sink of a run, fed the same events in the same order, through the
//! filters' [`Chain`] (line masker, redactor, ANSI stripper), holding recorded input where a
//! password prompt may be answered. It is what the runner pushes into (`impl Events`).

use std::fs::File;

use super::Sink;
use crate::dest::Out;
use crate::event::{Chunk, Exit, Start, Stream};
use crate::filter::{Audience, Chain};
use crate::format::Formatter;
use crate::mask::prompt::Prompts;

/// Every sink of a run, fed the same events in the same order; output goes through the
/// filters first.
#[derive(Debug, Default)]
pub struct Fanout {
    pub(super) sinks: Vec<Sink>,
    /// Messages the logging services did not take, counted at the end (each sink says how many).
    lost: u64,
    /// Output spliced to the logs could not be read from its pipe (said when it happened).
    pub(super) unread: bool,
    /// What the command's streams go through on their way to the sinks.
    pub(super) chain: Chain,
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

impl Fanout {
    /// Feeds `sinks` what comes out of `chain`.
    pub fn new(sinks: Vec<Sink>, chain: Chain) -> Fanout {
        // Recorded input whose lines are masked may hold a password typed at a prompt.
        let prompts = chain.masks(Stream::Stdin).then(Box::default);
        Fanout {
            sinks,
            lost: 0,
            unread: false,
            chain,
            spares: Vec::new(),
            prompts,
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
        self.release(&mut round, Prompts::decide);
        self.prompts = Some(round);
    }

    /// Has `round` decide its input with `decide` ([`Prompts::decide`] at the end of a round,
    /// [`Prompts::finish`] at the exit), records what it decided, then the output queued
    /// behind it.
    fn release(&mut self, round: &mut PromptRound, decide: fn(&mut Prompts, &mut Vec<u8>)) {
        round.decided.clear();
        decide(&mut round.prompts, &mut round.decided);
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

    pub fn start(&mut self, ev: &Start) {
        // The command line comes masked and redacted; the working directory can hold a
        // secret too (a directory named after a token).
        let redacted;
        let ev = match self.chain.redactor() {
            Some(redactor) => {
                redacted = Start {
                    cwd: redactor.text(&ev.cwd),
                    ..ev.clone()
                };
                &redacted
            }
            None => ev,
        };
        for sink in &mut self.sinks {
            if let Some(sealed) = &mut sink.seal {
                sealed.sealer.start(&ev.session, &ev.host, &ev.user, ev.pid);
            }
        }
        self.all(|f, out| f.start(ev, out));
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

    /// Passes a chunk through the filters to the sinks.
    fn filter(&mut self, ev: &Chunk<'_>) {
        let Fanout { chain, sinks, .. } = self;
        chain.chunk(ev, |ev, audience| each_chunk(sinks, ev, audience));
    }

    pub fn pause(&mut self) {
        self.all(|f, out| f.pause(out));
    }

    pub fn resize(&mut self, time: std::time::SystemTime, size: crate::event::Size) {
        self.all(|f, out| f.resize(time, size, out));
    }

    pub fn exit(&mut self, ev: &Exit) {
        if let Some(mut round) = self.prompts.take() {
            self.release(&mut round, Prompts::finish);
        }
        let Fanout { chain, sinks, .. } = self;
        chain.flush(ev.time, |ev, audience| each_chunk(sinks, ev, audience));
        let ev = &Exit {
            resent: sinks.iter().map(|sink| sink.out.resent()).sum(),
            ..ev.clone()
        };
        // The exit record is written with the final seal after it.
        for sink in &mut self.sinks {
            if let Some(sealed) = &mut sink.seal {
                sealed.ending = true;
            }
        }
        self.all(|f, out| f.exit(ev, out));
        // Syslog servers and the journal get a last chance to take what they were sent;
        // messages that were lost fail the run as a failed log does.
        for sink in &mut self.sinks {
            sink.out.end_soon();
        }
        for sink in &mut self.sinks {
            self.lost += sink.out.finish();
        }
    }

    /// Seals the sealed logs whose records have waited `--seal-interval` (the runner calls it
    /// at [`Fanout::seal_deadline`], when nothing else happened).
    pub fn seal_due(&mut self, now: std::time::Instant) {
        if self.sinks.iter().any(|sink| sink.seal_due(now)) {
            self.all(|_, _| {});
        }
    }

    /// When a sealed log is owed a seal, if one is.
    pub fn seal_deadline(&self) -> Option<std::time::Instant> {
        self.sinks.iter().filter_map(Sink::seal_deadline).min()
    }

    /// Whether every sink's main destination has gone (a closed standard output, a failed log):
    /// as with SIGPIPE, there is no point going on.
    pub fn closed(&self) -> bool {
        self.sinks.iter().all(|sink| sink.out.to.is_none())
    }

    /// Whether writing to a log (or to a console that did not just go away) failed, messages
    /// for a logging service were lost, or output could not be read on its way to the logs.
    pub fn failed(&self) -> bool {
        self.lost > 0
            || self.unread
            || self
                .sinks
                .iter()
                .any(|sink| sink.out.failed || sink.err.as_ref().is_some_and(|err| err.failed))
    }

    /// Has every sink format an event that is not a chunk, and writes what it made.
    fn all(&mut self, format: impl FnMut(&mut dyn Formatter, &mut Out)) {
        each(&mut self.sinks, None, Audience::All, format, None);
    }
}

/// Hands a chunk to every sink of `audience`; a plain sink writes its bytes as they are.
fn each_chunk(sinks: &mut [Sink], ev: &Chunk<'_>, audience: Audience) {
    each(
        sinks,
        Some(ev.stream),
        audience,
        |f, out| f.chunk(ev, out),
        Some(ev.bytes),
    );
}

/// Has every sink of `audience` format an event and writes what it made to its destination
/// for `stream`; `raw`, for a chunk, is what a plain sink writes without formatting (the
/// output unchanged, recorded input left out, as `PlainFormatter` would). A destination that
/// fails is dropped where it failed ([`crate::dest`]'s `Dest::fail`).
fn each(
    sinks: &mut [Sink],
    stream: Option<Stream>,
    audience: Audience,
    mut format: impl FnMut(&mut dyn Formatter, &mut Out),
    raw: Option<&[u8]>,
) {
    for sink in sinks.iter_mut() {
        match audience {
            Audience::Consoles if !sink.out.console => continue,
            Audience::Logs if sink.out.console => continue,
            _ => {}
        }
        sink.buf.clear();
        sink.follow_path();
        if let (true, Some(bytes), Some(stream)) = (sink.plain, raw, stream) {
            if stream == Stream::Stdin || bytes.is_empty() {
                continue;
            }
            let dest = sink.dest(Some(stream));
            dest.write_bytes(bytes);
            continue;
        }
        // What a formatter lent of a chunk comes from the chunk itself.
        let chunk = raw.unwrap_or_default();
        if sink.out.shared.is_some() {
            sink.write_shared(&mut format, chunk);
            continue;
        }
        format(&mut *sink.formatter, &mut sink.buf);
        if sink.seal.is_some() {
            sink.write_sealed(None, false);
            continue;
        }
        if sink.buf.total() == 0 {
            continue;
        }
        // Fields apart (not `Sink::dest`): `buf` is borrowed alongside.
        let dest = match (stream, &mut sink.err) {
            (Some(Stream::Stderr), Some(err)) => err,
            _ => &mut sink.out,
        };
        dest.write(&sink.buf, chunk);
    }
    hand_over_seals(sinks);
}

/// Gives the seals the sealed logs just made to every other sink whose formatter sends them on
/// (the journal, syslog, relp=), each as a message of its own: a copy out of the recorded
/// user's reach.
fn hand_over_seals(sinks: &mut [Sink]) {
    let mut made = Vec::new();
    for sink in sinks.iter_mut() {
        if let Some(sealed) = &mut sink.seal {
            made.append(&mut sealed.made);
        }
    }
    if made.is_empty() {
        return;
    }
    for sink in sinks.iter_mut().filter(|sink| sink.seal.is_none()) {
        for line in &made {
            sink.buf.clear();
            sink.formatter.seal(line, &mut sink.buf);
            if sink.buf.total() > 0 {
                sink.out.write(&sink.buf, &[]);
            }
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
    fn resize(&mut self, time: std::time::SystemTime, size: crate::event::Size) {
        Fanout::resize(self, time, size);
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
    fn splice(
        &mut self,
        stream: Stream,
        time: std::time::SystemTime,
        from: &File,
        len: usize,
        buf: &mut [u8],
    ) -> usize {
        Fanout::splice(self, stream, time, from, len, buf)
    }
    fn wake_at(&self) -> Option<std::time::Instant> {
        Fanout::seal_deadline(self)
    }
    fn wake(&mut self, now: std::time::Instant) {
        Fanout::seal_due(self, now);
    }
}
