//! Chunks to lines, for the formatters that write one record per line (jsonl, journal). A line
//! cut by a read boundary is held until its newline arrives, or until the command pauses: then the
//! held part goes out as a line without its end (`eol` false), so that a prompt such as
//! `Password: ` is not held back. A line longer than [`MAX_LINE`] goes out in pieces of at most
//! that many bytes (cut at a UTF-8 character boundary where there is one), which keeps memory
//! bounded; a partial line goes out as soon as it has a piece's worth (see [`piece`]). A UTF-8 character cut by a read is never split by a pause.

use std::time::SystemTime;

use super::Flush;
use super::utf8::{cut_point, incomplete_tail};
use crate::event::{Chunk, Stream};

/// The most bytes one line record carries.
pub const MAX_LINE: usize = 64 * 1024;

/// Where to cut a partial line that is held (its newline not read yet) and must not wait: once
/// it has `MAX_LINE` bytes, a piece of at most that many ending at a character boundary where
/// there is one; `None` while it may wait. At `MAX_LINE` already, not only past it: `teelog
/// replay`, feeding a recorded 64 KiB piece back, then sees it go out at once too.
pub fn piece(held: &[u8]) -> Option<usize> {
    (held.len() >= MAX_LINE).then(|| cut_point(held, MAX_LINE))
}

/// Where to cut a partial line held for one stream when another stream writes a line: at its
/// last whole character, when that makes a piece as long as [`piece`] can cut (`MAX_LINE - 3`
/// bytes or more); `None` otherwise (the usual case: it waits). So a piece cut a few bytes
/// short of `MAX_LINE` to keep a character whole, which `teelog replay` holds again when it
/// feeds it back, still goes out before the other stream's next line, as it did live.
pub fn long_partial(held: &[u8]) -> Option<usize> {
    let whole = held.len() - incomplete_tail(held);
    (whole >= MAX_LINE - 3).then_some(whole)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub stream: Stream,
    /// Without its newline.
    pub bytes: &'a [u8],
    /// When its first byte was read.
    pub time: SystemTime,
    /// Whether the line ended here with a newline.
    pub eol: bool,
}

#[derive(Debug)]
struct Held {
    bytes: Vec<u8>,
    time: SystemTime,
}

/// Per stream, the start of a line whose newline has not been read yet.
#[derive(Debug)]
pub struct Lines {
    held: [Held; 3],
}

impl Default for Lines {
    fn default() -> Lines {
        Lines {
            held: std::array::from_fn(|_| Held {
                bytes: Vec::new(),
                time: SystemTime::UNIX_EPOCH,
            }),
        }
    }
}

impl Lines {
    /// Hands `emit` every line `ev` completes, and pieces of lines that grew to [`MAX_LINE`]
    /// (before them, what [`long_partial`] cuts of the other streams' partial lines).
    pub fn chunk(&mut self, ev: &Chunk<'_>, mut emit: impl FnMut(Line<'_>)) {
        let i = ev.stream.index();
        if memchr::memchr(b'\n', ev.bytes).is_some()
            || self.held[i].bytes.len() + ev.bytes.len() >= MAX_LINE
        {
            self.cut_others(ev.stream, &mut emit);
        }
        let mut rest = ev.bytes;
        if !self.held[i].bytes.is_empty() {
            let Some(n) = memchr::memchr(b'\n', rest) else {
                self.held[i].bytes.extend_from_slice(rest);
                self.spill(ev.stream, &mut emit);
                return;
            };
            let mut line = std::mem::take(&mut self.held[i].bytes);
            line.extend_from_slice(&rest[..n]);
            whole(ev.stream, &line, self.held[i].time, true, &mut emit);
            line.clear();
            self.held[i].bytes = line;
            rest = &rest[n + 1..];
        }
        while let Some(n) = memchr::memchr(b'\n', rest) {
            whole(ev.stream, &rest[..n], ev.time, true, &mut emit);
            rest = &rest[n + 1..];
        }
        if !rest.is_empty() {
            self.held[i].bytes.extend_from_slice(rest);
            self.held[i].time = ev.time;
            self.spill(ev.stream, &mut emit);
        }
    }

    /// Hands over what is held for every stream as lines without their end; on a pause
    /// ([`Flush::Characters`]) an incomplete UTF-8 character stays held.
    pub fn flush(&mut self, how: Flush, mut emit: impl FnMut(Line<'_>)) {
        for stream in Stream::ALL {
            let i = stream.index();
            let mut held = std::mem::take(&mut self.held[i].bytes);
            let keep = match how {
                Flush::All => 0,
                Flush::Characters => incomplete_tail(&held),
            };
            let now = held.len() - keep;
            if now > 0 {
                emit(Line {
                    stream,
                    bytes: &held[..now],
                    time: self.held[i].time,
                    eol: false,
                });
            }
            held.drain(..now);
            self.held[i].bytes = held;
        }
    }

    /// Hands over what [`long_partial`] cuts of the partial lines of the streams but `stream`.
    fn cut_others(&mut self, stream: Stream, emit: &mut impl FnMut(Line<'_>)) {
        for other in Stream::ALL.into_iter().filter(|&s| s != stream) {
            let held = &mut self.held[other.index()];
            if let Some(cut) = long_partial(&held.bytes) {
                emit(Line {
                    stream: other,
                    bytes: &held.bytes[..cut],
                    time: held.time,
                    eol: false,
                });
                held.bytes.drain(..cut);
            }
        }
    }

    /// Hands over the pieces of a held line that has grown too long to wait (see [`piece`]).
    fn spill(&mut self, stream: Stream, emit: &mut impl FnMut(Line<'_>)) {
        let held = &mut self.held[stream.index()];
        let mut from = 0;
        while let Some(cut) = piece(&held.bytes[from..]) {
            emit(Line {
                stream,
                bytes: &held.bytes[from..from + cut],
                time: held.time,
                eol: false,
            });
            from += cut;
        }
        held.bytes.drain(..from);
    }
}

/// Hands over `line` as one line, or several pieces when it exceeds `MAX_LINE`.
fn whole(
    stream: Stream,
    line: &[u8],
    time: SystemTime,
    eol: bool,
    emit: &mut impl FnMut(Line<'_>),
) {
    let bytes = split_long(stream, line, time, emit);
    emit(Line {
        stream,
        bytes,
        time,
        eol,
    });
}

/// While more than `MAX_LINE` bytes remain, hands over a leading piece without its end;
/// returns the rest.
fn split_long<'b>(
    stream: Stream,
    mut bytes: &'b [u8],
    time: SystemTime,
    emit: &mut impl FnMut(Line<'_>),
) -> &'b [u8] {
    while bytes.len() > MAX_LINE {
        let cut = cut_point(bytes, MAX_LINE);
        emit(Line {
            stream,
            bytes: &bytes[..cut],
            time,
            eol: false,
        });
        bytes = &bytes[cut..];
    }
    bytes
}

/// The `seq` of a run's records (jsonl's, and the same number in the journal's `TEELOG_SEQ` and
/// syslog's structured data), kept in decimal as well (right-aligned in as many digits as `u64::MAX`
/// has) and counted up in place there: cheaper than formatting it for every line.
#[derive(Clone, Copy, Debug)]
pub struct Seq {
    value: u64,
    digits: [u8; 20],
    from: usize,
}

impl Seq {
    /// A counter whose next value is `value + 1`.
    pub fn after(value: u64) -> Seq {
        let mut digits = [b'0'; 20];
        let mut buf = itoa::Buffer::new();
        let text = buf.format(value).as_bytes();
        let from = digits.len() - text.len();
        digits[from..].copy_from_slice(text);
        Seq {
            value,
            digits,
            from,
        }
    }

    /// The last value counted.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Counts one up and returns the new value.
    pub fn next(&mut self) -> u64 {
        self.value += 1;
        let mut i = self.digits.len() - 1;
        while self.digits[i] == b'9' && i > 0 {
            self.digits[i] = b'0';
            i -= 1;
        }
        self.digits[i] += 1;
        self.from = self.from.min(i);
        self.value
    }

    /// The current value in decimal.
    pub fn digits(&self) -> &[u8] {
        &self.digits[self.from..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_counts_in_decimal_as_u64_formats() {
        for start in [0, 7, 99, 999_999, 10u64.pow(18) - 3, u64::MAX - 5_000] {
            let mut seq = Seq::after(start);
            assert_eq!(seq.digits(), start.to_string().as_bytes());
            // 5,000 on from each start: every carry up to 19 digits, and u64::MAX itself last.
            for n in start + 1..=start + 5_000 {
                assert_eq!(seq.next(), n);
                assert_eq!(seq.digits(), n.to_string().as_bytes(), "after {start}");
            }
        }
    }
}
