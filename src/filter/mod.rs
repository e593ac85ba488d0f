//! The filters between the command's streams and the formatters: the line masker (secrets in
//! recorded input and echoed statements), the redactor (`--redact-env`), and for the logs alone
//! the ANSI stripper (`--strip-ansi`) with the redactor once more after it. One [`Filter`]
//! trait, and one [`Chain`] that runs them in that order, the same way for each chunk and for
//! the flush at the exit.

pub mod line_mask;
pub mod redact;
pub mod strip;

use std::time::SystemTime;

use crate::event::{Chunk, Stream};
use line_mask::LineMask;
use redact::Redactor;
use strip::AnsiStripper;

/// One pass over the bytes of the command's streams, each stream apart. A filter may hold back
/// the end of what it was given (a partial line, the start of what may be a secret) until more
/// of its stream comes, or until [`Filter::finish`].
pub trait Filter {
    /// Appends to `out` what may be written of `stream` now that `bytes` came: what was held
    /// and `bytes`, filtered, less an end it holds back.
    fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>);

    /// Appends to `out` what is held for `stream`, filtered as far as it can be: the command
    /// has ended, so nothing will come to complete it. A filter that holds nothing has nothing
    /// to append.
    fn finish(&mut self, stream: Stream, out: &mut Vec<u8>) {
        let _ = (stream, out);
    }

    /// Whether the filter rewrites `stream` at all: the bytes of a stream it leaves alone go on
    /// as they came, uncopied.
    fn applies(&self, stream: Stream) -> bool {
        let _ = stream;
        true
    }
}

/// Which sinks some filtered bytes are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The consoles and the logs: nothing is stripped.
    All,
    /// The consoles only: the logs get these bytes stripped, as [`Audience::Logs`].
    Consoles,
    /// The logs only: the bytes without their escape sequences.
    Logs,
}

/// A filter of the chain, if the run has it, and the buffer its output goes to (kept from
/// chunk to chunk, so that no chunk allocates one).
#[derive(Debug)]
struct Stage<F> {
    filter: Option<F>,
    out: Vec<u8>,
}

impl<F: Filter> Stage<F> {
    fn new(filter: Option<F>) -> Stage<F> {
        Stage {
            filter,
            out: Vec::new(),
        }
    }

    /// What of `bytes` goes on to the next stage: `bytes` themselves when there is no filter or
    /// it leaves `stream` alone, else what the filter let out; `None` when that is nothing.
    fn pass<'a>(&'a mut self, stream: Stream, bytes: &'a [u8]) -> Option<&'a [u8]> {
        match &mut self.filter {
            Some(filter) if filter.applies(stream) => {
                self.out.clear();
                filter.chunk(stream, bytes, &mut self.out);
                (!self.out.is_empty()).then_some(self.out.as_slice())
            }
            _ => Some(bytes),
        }
    }

    /// Appends to `out` what the filter holds of `stream`.
    fn finish(&mut self, stream: Stream, out: &mut Vec<u8>) {
        if let Some(filter) = &mut self.filter
            && filter.applies(stream)
        {
            filter.finish(stream, out);
        }
    }
}

/// Where bytes enter the chain: a chunk at the start; what a filter held, at the flush, just
/// after that filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Mask,
    Redact,
    Strip,
    RedactStripped,
    /// Past every filter: to the logs.
    Deliver,
}

/// The filters of a run, in their order: line masker → redactor for every audience, then for
/// the logs the stripper → the redactor again. A value the first redaction let out in two
/// parts, with an escape string longer than it looks back between them, is whole again once
/// the string is taken out: the second pass masks it.
#[derive(Debug)]
pub struct Chain {
    masker: Stage<LineMask>,
    redactor: Stage<Redactor>,
    stripper: Stage<AnsiStripper>,
    stripped_redactor: Stage<Redactor>,
}

impl Default for Chain {
    /// No filter: every byte goes to every sink as it came.
    fn default() -> Chain {
        Chain::new(None, None, None)
    }
}

impl Chain {
    /// The chain of `masker`, `redactor` (left out when it has nothing to mask) and `stripper`;
    /// with both of the last two, the redactor runs again after the stripper.
    pub fn new(
        masker: Option<LineMask>,
        redactor: Option<Redactor>,
        stripper: Option<AnsiStripper>,
    ) -> Chain {
        let redactor = redactor.filter(|r| !r.is_empty());
        let stripped_redactor = stripper.as_ref().and(redactor.clone());
        Chain {
            masker: Stage::new(masker),
            redactor: Stage::new(redactor),
            stripper: Stage::new(stripper),
            stripped_redactor: Stage::new(stripped_redactor),
        }
    }

    /// Whether the chain has no filter: every byte goes to every sink as it came.
    pub fn is_empty(&self) -> bool {
        self.masker.filter.is_none()
            && self.redactor.filter.is_none()
            && self.stripper.filter.is_none()
    }

    /// Whether the lines of `stream` are masked.
    pub fn masks(&self, stream: Stream) -> bool {
        self.masker
            .filter
            .as_ref()
            .is_some_and(|masker| masker.applies(stream))
    }

    /// The redactor, for text that is not a stream (the working directory in the start record).
    pub fn redactor(&self) -> Option<&Redactor> {
        self.redactor.filter.as_ref()
    }

    /// Passes a chunk through the filters; `emit` gets what comes out and for whom (the
    /// consoles' bytes before the logs', when they differ). Nothing is emitted of what a filter
    /// holds back.
    pub fn chunk(&mut self, ev: &Chunk<'_>, mut emit: impl FnMut(&Chunk<'_>, Audience)) {
        self.pass(Step::Mask, ev.stream, ev.time, ev.bytes, &mut emit);
    }

    /// The command has ended: each filter in turn lets out what it holds of each stream, which
    /// goes through the filters after it to `emit`, stamped `time`.
    pub fn flush(&mut self, time: SystemTime, mut emit: impl FnMut(&Chunk<'_>, Audience)) {
        let steps = [
            (Step::Mask, Step::Redact),
            (Step::Redact, Step::Strip),
            (Step::Strip, Step::RedactStripped),
            (Step::RedactStripped, Step::Deliver),
        ];
        for (step, next) in steps {
            for stream in Stream::ALL {
                let mut rest = Vec::new();
                match step {
                    Step::Mask => self.masker.finish(stream, &mut rest),
                    Step::Redact => self.redactor.finish(stream, &mut rest),
                    Step::Strip => self.stripper.finish(stream, &mut rest),
                    Step::RedactStripped => self.stripped_redactor.finish(stream, &mut rest),
                    Step::Deliver => {}
                }
                if !rest.is_empty() {
                    self.pass(next, stream, time, &rest, &mut emit);
                }
            }
        }
    }

    /// Passes `bytes` of `stream` through the filters from `from` on, and emits what comes
    /// out.
    fn pass(
        &mut self,
        from: Step,
        stream: Stream,
        time: SystemTime,
        bytes: &[u8],
        emit: &mut impl FnMut(&Chunk<'_>, Audience),
    ) {
        let Chain {
            masker,
            redactor,
            stripper,
            stripped_redactor,
        } = self;
        let mut bytes = bytes;
        if from <= Step::Mask {
            let Some(masked) = masker.pass(stream, bytes) else {
                return;
            };
            bytes = masked;
        }
        if from <= Step::Redact {
            let Some(redacted) = redactor.pass(stream, bytes) else {
                return;
            };
            bytes = redacted;
        }
        if from <= Step::Strip {
            let chunk = Chunk {
                stream,
                time,
                bytes,
            };
            if stripper.filter.is_none() {
                emit(&chunk, Audience::All);
                return;
            }
            emit(&chunk, Audience::Consoles);
            let Some(stripped) = stripper.pass(stream, bytes) else {
                return;
            };
            bytes = stripped;
        }
        if from <= Step::RedactStripped {
            let Some(redacted) = stripped_redactor.pass(stream, bytes) else {
                return;
            };
            bytes = redacted;
        }
        let chunk = Chunk {
            stream,
            time,
            bytes,
        };
        emit(&chunk, Audience::Logs);
    }
}
