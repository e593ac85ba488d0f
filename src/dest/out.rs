//! What a formatter hands its sink for one event: the bytes, where each record ends, and perhaps
//! a piece of the chunk lent instead of copied. The destination writes it as it is.

use std::ops::Range;

/// What a formatter writes for one event: bytes, and where each record ends; for a chunk, perhaps
/// also a piece of the chunk's own bytes, lent instead of copied (see [`Out::chunk_piece`]).
#[derive(Debug, Default)]
pub struct Out {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Whether a piece of the chunk may be lent: the sink writes with `writev`.
    lend: bool,
    /// The piece lent, a range of the chunk's bytes, which goes after `bytes[..at]`.
    lent: Option<(usize, Range<usize>)>,
}

impl Out {
    /// An `Out` that takes a piece of the chunk without copying it, for a sink that writes what
    /// it holds with one `writev` (a file without `--max-size`).
    pub fn lending() -> Out {
        Out {
            lend: true,
            ..Out::default()
        }
    }

    /// Marks the end of a record at the current end of the bytes.
    pub fn end_record(&mut self) {
        self.ends.push(self.bytes.len());
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.lent = None;
    }

    /// Appends `chunk[range]`, where `chunk` is the bytes of the chunk event being formatted.
    /// An `Out` that is [`lending`](Out::lending) takes the first such piece of an event as a
    /// range and its sink writes it from the chunk itself, so classic copies no output; other
    /// pieces are copied.
    pub fn chunk_piece(&mut self, chunk: &[u8], range: Range<usize>) {
        if self.lend && self.lent.is_none() {
            self.lent = Some((self.bytes.len(), range));
        } else {
            self.bytes.extend_from_slice(&chunk[range]);
        }
    }

    /// How many bytes there are to write, a piece lent included.
    pub fn total(&self) -> usize {
        self.bytes.len() + self.lent.as_ref().map_or(0, |(_, range)| range.len())
    }

    /// What there is to write, in order, given the event's chunk (ignored when nothing was lent).
    pub fn slices<'a>(&'a self, chunk: &'a [u8]) -> [&'a [u8]; 3] {
        match &self.lent {
            None => [&self.bytes, &[], &[]],
            Some((at, range)) => [
                &self.bytes[..*at],
                &chunk[range.clone()],
                &self.bytes[*at..],
            ],
        }
    }

    /// The records marked, then what follows the last mark (if anything). Only for an `Out`
    /// that does not lend.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        debug_assert!(self.lent.is_none(), "records of an Out that lent a piece");
        let mut start = 0;
        self.ends
            .iter()
            .copied()
            .chain(
                (self.ends.last().copied().unwrap_or(0) < self.bytes.len())
                    .then_some(self.bytes.len()),
            )
            .map(move |end| {
                let record = &self.bytes[start..end];
                start = end;
                record
            })
    }
}

impl std::ops::Deref for Out {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

impl std::io::Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
