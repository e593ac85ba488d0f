//! The formatter of the line-record formats (jsonl, journal, syslog), written once: chunks split
//! into lines by [`Lines`] (a partial line and a UTF-8 sequence cut by a read carried over, held
//! lines handed over at a pause and at the exit), each line handed to the format's
//! [`LineRecords`], which encodes it. As hyperfine's `MarkupExporter` serves three formats from
//! one generic impl; static dispatch, so the per-line call costs what a direct call does.

use super::Formatter;
use super::lines::{Line, Lines};
use crate::dest::Out;
use crate::event::{Chunk, Exit, Start};

/// How one line-record format encodes a run: its start, each line, its exit.
///
/// [`LineFormatter`] calls `start` once, then `line` for every line (or piece of one) in the
/// order the lines ended, `paused` after handing over what a pause let go, and `exit` once,
/// after the last line. Each appends whole records to `out` (marking their ends where the
/// destination takes one record at a time).
pub trait LineRecords {
    fn start(&mut self, ev: &Start, out: &mut Out);
    fn line(&mut self, line: Line<'_>, out: &mut Out);
    /// The command paused: what came before was handed over; what comes next follows a pause.
    fn paused(&mut self, _out: &mut Out) {}
    fn exit(&mut self, ev: &Exit, out: &mut Out);
    /// A seal line of a sealed log, to send on (see [`Formatter`]); most formats leave it out.
    fn seal(&mut self, _line: &[u8], _out: &mut Out) {}
}

/// A [`Formatter`] for a line-record format `R`: [`Lines`] cuts the chunks, `R` writes the
/// records.
#[derive(Debug)]
pub struct LineFormatter<R> {
    /// Chunks to lines.
    pub(super) lines: Lines,
    /// Lines to records (apart from `lines`, so that lines can be handed to it while `lines`
    /// is busy).
    pub(super) records: R,
}

impl<R> LineFormatter<R> {
    /// A formatter that writes its lines with `records`.
    pub(super) fn with(records: R) -> LineFormatter<R> {
        LineFormatter {
            lines: Lines::default(),
            records,
        }
    }
}

impl<R: LineRecords> Formatter for LineFormatter<R> {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        self.records.start(ev, out);
    }

    fn chunk(&mut self, ev: &Chunk<'_>, out: &mut Out) {
        self.lines.chunk(ev, |line| self.records.line(line, out));
    }

    fn pause(&mut self, out: &mut Out) {
        self.lines.flush(super::Flush::Characters, |line| {
            self.records.line(line, out)
        });
        self.records.paused(out);
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        self.lines
            .flush(super::Flush::All, |line| self.records.line(line, out));
        self.records.exit(ev, out);
    }

    fn seal(&mut self, line: &[u8], out: &mut Out) {
        self.records.seal(line, out);
    }
}
