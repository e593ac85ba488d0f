//! The line masker as a filter: [`LineMasker`] (SQL's password clauses and the command-line
//! rules, line by line) on the streams that may carry statements or a script.

use super::Filter;
use crate::event::Stream;
use crate::mask::LineMasker;

/// The line masker on the streams chosen: input with `--log-input`, output with `--echo` or a
/// SQL client's preset.
#[derive(Debug)]
pub struct LineMask {
    masker: LineMasker,
    streams: [bool; 3],
}

impl LineMask {
    /// Masks the lines of `streams`; `None` when there are none.
    pub fn of(streams: &[Stream]) -> Option<LineMask> {
        if streams.is_empty() {
            return None;
        }
        let mut on = [false; 3];
        for stream in streams {
            on[stream.index()] = true;
        }
        Some(LineMask {
            masker: LineMasker::default(),
            streams: on,
        })
    }
}

impl Filter for LineMask {
    /// The whole lines of `bytes`, masked; a partial line waits for its end.
    fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>) {
        self.masker.chunk(stream, bytes, out);
    }

    /// The partial line held, masked.
    fn finish(&mut self, stream: Stream, out: &mut Vec<u8>) {
        self.masker.finish(stream, out);
    }

    fn applies(&self, stream: Stream) -> bool {
        self.streams[stream.index()]
    }
}
