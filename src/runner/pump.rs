//! The loop's reading: what a polled descriptor is, and taking what a source has ready into a
//! chunk for the sinks (or a splice), without waiting for more.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::PollTimeout;

use super::Clock;
use super::spawn::Source;
use crate::error::report;
use crate::event::{Chunk, Events, SPLICE_MIN};
use crate::sys;

/// The most bytes taken from a pipe in one go: what is ready is read up to this, without waiting
/// for more, and goes out as one chunk (one `write` per sink).
pub(super) const BATCH: usize = 128 * 1024;

/// What a polled descriptor is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Source(usize),
    Waiter,
    /// The pipe to the command's stdin, for room.
    InputRoom,
    /// teelog's stdin, for data.
    InputData,
}

/// Reads what `pipe` has ready (up to `buf`'s size and `limit`, without waiting for more) and
/// pushes it through the sinks as one chunk; returns how many bytes were read, whether the pipe
/// is at its end, and whether reading failed (reported).
pub(super) fn pass_on(
    source: &mut Source,
    buf: &mut [u8],
    limit: usize,
    clock: &Clock,
    fanout: &mut impl Events,
) -> (usize, bool, bool) {
    let time = clock.now();
    let len = buf.len().min(limit);
    let (n, at_end, failed) = read_ready(source, &mut buf[..len]);
    if n > 0 {
        fanout.chunk(&Chunk {
            stream: source.stream,
            time,
            bytes: &buf[..n],
        });
    }
    (n, at_end, failed)
}

/// As [`pass_on`], but a pipe holding at least [`SPLICE_MIN`] bytes goes to the sinks without
/// being read into `buf` (see `Events::splice`). How much is ready costs a system call, so
/// it is asked only while the command writes faster than small chunks: after a splice, or a read
/// that filled `buf`. A command writing a little at a time is read as without splice.
pub(super) fn splice_or_pass_on(
    source: &mut Source,
    buf: &mut [u8],
    clock: &Clock,
    fanout: &mut impl Events,
) -> (usize, bool, bool) {
    if source.bulky {
        let ready = sys::bytes_ready(source.file.as_fd()).unwrap_or(0);
        if ready >= SPLICE_MIN {
            let moved = fanout.splice(source.stream, &source.file, ready, buf);
            if moved > 0 {
                return (moved, false, false);
            }
        }
    }
    let taken = pass_on(source, buf, usize::MAX, clock, fanout);
    source.bulky = taken.0 >= buf.len().min(SPLICE_MIN);
    taken
}

/// Reads what `source` has ready, up to `buf`'s size, without waiting for more; returns how many
/// bytes, whether it is at its end, and whether reading failed (then reported, and the source
/// treated as ended). A pty master says EIO once the last process holding the slave has closed
/// it, after everything written before that has been read: that is its end of file.
fn read_ready(source: &mut Source, buf: &mut [u8]) -> (usize, bool, bool) {
    let mut n = 0;
    while n < buf.len() {
        match source.file.read(&mut buf[n..]) {
            Ok(0) => return (n, true, false),
            // Less than asked for: a pipe was empty just now, so another read would only say
            // EAGAIN. Not so a pty: a read returns what has reached the line discipline, and
            // only a read that finds nothing there waits for what the kernel is still passing
            // on (written before, say, the error the loop is about to read from stderr). So a
            // pty is read until it says EAGAIN.
            Ok(k) if k < buf.len() - n && !source.pty => return (n + k, false, false),
            Ok(k) => n += k,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if source.pty && err.raw_os_error() == Some(nix::libc::EIO) => {
                return (n, true, false);
            }
            Err(err) => {
                report(format_args!(
                    "cannot read the command's {}: {err}",
                    source.stream.name()
                ));
                return (n, true, true);
            }
        }
    }
    (n, false, false)
}

/// A poll(2) timeout that ends at `at` (never early: rounded up to the millisecond).
pub(super) fn timeout_until(at: Option<Instant>) -> PollTimeout {
    match at {
        None => PollTimeout::NONE,
        Some(at) => {
            let ms = at
                .saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000);
            PollTimeout::try_from(ms.min(i32::MAX as u128) as u64).unwrap_or(PollTimeout::MAX)
        }
    }
}
