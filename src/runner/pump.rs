//! The poll(2) loop ([`Pump`]): what it waits for in a round, in which order it settles input,
//! reads output and passes input on, and how it ends; and taking what a source has ready into a
//! chunk for the sinks (or a splice), without waiting for more.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::input::{Input, Wait};
use super::pty::{follow_size, hung_up};
use super::spawn::{Source, Wired};
use super::{Clock, Ended, Exited, Reading, Spec, Waiter};
use crate::error::{EXIT_FAILED, report};
use crate::event::{Chunk, Events, Exit, SPLICE_MIN, Size, Status};
use crate::sys;

/// The most bytes taken from a pipe in one go: what is ready is read up to this, without waiting
/// for more, and goes out as one chunk (one `write` per sink).
const BATCH: usize = 128 * 1024;

/// What a polled descriptor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Source(usize),
    Waiter,
    /// The pipe to the command's stdin, for room.
    InputRoom,
    /// teelog's stdin, for data.
    InputData,
}

/// The loop's state: the sources still open, stdin forwarding, the waiter, and the clocks of the
/// pause, the grace period and the size check.
#[derive(Debug)]
pub(super) struct Pump<'s> {
    spec: &'s Spec,
    clock: Clock,
    /// The command's outputs not yet at their end, stdout first.
    sources: Vec<Source>,
    input: Option<Input>,
    waiter: Waiter,
    /// How the command ended, once the waiter has said so.
    exited: Option<Exited>,
    /// teelog's terminal, to follow its size, and the size the pty was last given.
    size_tty: Option<File>,
    pty_size: Option<Size>,
    buf: Vec<u8>,
    splices: bool,
    reading: Reading,
    /// When the sinks are owed a pause, unless output comes first.
    pause_at: Option<Instant>,
    /// Time spent waiting for output since the command exited: the grace period's clock.
    idle: Duration,
    slots: Vec<Slot>,
}

impl<'s> Pump<'s> {
    /// The loop over `wired`'s sources and `input`, for the command `waiter` waits for;
    /// `splices` is what the consumer said to [`Events::splices`].
    pub(super) fn new(
        spec: &'s Spec,
        clock: Clock,
        wired: Wired,
        input: Option<Input>,
        size_tty: Option<File>,
        waiter: Waiter,
        splices: bool,
    ) -> Pump<'s> {
        Pump {
            spec,
            clock,
            sources: wired.sources,
            input,
            waiter,
            exited: None,
            size_tty,
            pty_size: wired.size,
            buf: vec![0; BATCH],
            splices,
            reading: Reading::Complete,
            pause_at: None,
            idle: Duration::ZERO,
            slots: Vec::new(),
        }
    }

    /// Runs the loop until the sources are at their end and the command has exited (or the
    /// grace period ran out, or poll failed), then reads what is left and pushes the exit.
    pub(super) fn run(mut self, fanout: &mut impl Events) -> Ended {
        while !self.sources.is_empty() || self.exited.is_none() {
            if self.exited.is_some() && self.idle >= self.spec.grace {
                break;
            }
            let wake_at = fanout.wake_at();
            match self.poll(wake_at) {
                Polled::Ready { now, ready } => {
                    self.round(now, &ready, fanout);
                    if wake_at.is_some_and(|at| at <= now) {
                        fanout.wake(now);
                    }
                }
                Polled::Interrupted => continue,
                Polled::Failed => break,
            }
        }
        self.finish(fanout)
    }

    /// Waits in poll(2) for what the round needs, until the pause, the end of the grace period
    /// or the consumer's `wake_at` is due; says what is ready, and counts the wait into `idle`
    /// once the command has exited.
    fn poll(&mut self, woken: Option<Instant>) -> Polled {
        let mut wake_at = match (self.pause_at, woken) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.exited.is_some() {
            let give_up = Instant::now() + (self.spec.grace - self.idle);
            wake_at = Some(wake_at.map_or(give_up, |at| at.min(give_up)));
        }
        self.slots.clear();
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(self.sources.len() + 2);
        for (i, source) in self.sources.iter().enumerate() {
            fds.push(PollFd::new(source.file.as_fd(), PollFlags::POLLIN));
            self.slots.push(Slot::Source(i));
        }
        if self.exited.is_none() {
            fds.push(PollFd::new(self.waiter.exited.as_fd(), PollFlags::POLLIN));
            self.slots.push(Slot::Waiter);
        }
        match self.input.as_ref().and_then(Input::wait) {
            Some(Wait::Room(to)) => {
                fds.push(PollFd::new(to, PollFlags::POLLOUT));
                self.slots.push(Slot::InputRoom);
            }
            Some(Wait::Data(from)) => {
                fds.push(PollFd::new(from, PollFlags::POLLIN));
                self.slots.push(Slot::InputData);
            }
            None => {}
        }
        let waiting_since = Instant::now();
        let polled = poll(&mut fds, timeout_until(wake_at));
        let now = Instant::now();
        if self.exited.is_some() {
            self.idle += now - waiting_since;
        }
        match polled {
            Ok(_) => Polled::Ready {
                now,
                ready: fds
                    .iter()
                    .zip(&self.slots)
                    .filter(|(fd, _)| fd.revents().is_some_and(|r| !r.is_empty()))
                    .map(|(_, slot)| *slot)
                    .collect(),
            },
            Err(Errno::EINTR) => Polled::Interrupted,
            Err(err) => {
                report(format_args!("cannot wait for the command's output: {err}"));
                self.reading = Reading::Incomplete;
                Polled::Failed
            }
        }
    }

    /// One round after poll: input the command has read is recorded before the output it may
    /// have caused, then the output is read, then input is passed on, then the waiter heard,
    /// then a pause pushed when one is due.
    fn round(&mut self, now: Instant, ready: &[Slot], fanout: &mut impl Events) {
        if let Some(input) = &mut self.input {
            input.settle(&self.clock, fanout);
        }
        self.read_output(now, ready, fanout);
        fanout.output_read();
        if let Some(input) = &mut self.input {
            if ready.contains(&Slot::InputData) {
                if input.read(&mut self.buf) == Reading::Incomplete {
                    self.reading = Reading::Incomplete;
                }
            } else if ready.contains(&Slot::InputRoom) {
                input.room();
            }
        }
        if ready.contains(&Slot::Waiter) {
            // The waiter sends before it closes its pipe.
            self.exited = self.waiter.exits.recv().ok();
        }
        if self.pause_at.is_some_and(|at| at <= now) {
            fanout.pause();
            self.pause_at = None;
        }
    }

    /// Reads the sources that are ready, and drops those at their end.
    fn read_output(&mut self, now: Instant, ready: &[Slot], fanout: &mut impl Events) {
        // A pty's output reaches its master a moment after the write (the kernel passes it on
        // from a work queue), so a pipe can be readable before a pty written to earlier. Reading
        // the pty first whenever anything is ready (a read waits for that work) keeps a
        // statement on stdout ahead of the error it caused on stderr.
        let any_source = ready.iter().any(|s| matches!(s, Slot::Source(_)));
        let mut eof = Vec::new();
        for (i, source) in self.sources.iter_mut().enumerate() {
            let wanted = ready.contains(&Slot::Source(i))
                || (source.pty && any_source)
                || fanout.holding_input();
            if !wanted {
                continue;
            }
            // Before each round's reads (one ioctl): what the command wrote after a resize
            // follows it in the logs.
            if source.pty
                && let Some(size) = follow_size(self.size_tty.as_ref(), source, &mut self.pty_size)
            {
                fanout.resize(self.clock.now(), size);
            }
            loop {
                let taken = if self.splices && !source.pty {
                    splice_or_pass_on(source, &mut self.buf, &self.clock, fanout)
                } else {
                    pass_on(source, &mut self.buf, usize::MAX, &self.clock, fanout)
                };
                if taken.bytes > 0 {
                    self.pause_at = Some(now + self.spec.pause);
                }
                self.reading = self.reading.after(taken);
                if taken.ended() {
                    eof.push(i);
                }
                // While input is held, the round's output is read to what the pipe holds: a
                // prompt behind more than one buffer of output would otherwise be seen a round
                // late, and the answer typed at it recorded as it was.
                if !fanout.holding_input() || taken.bytes != self.buf.len() || taken.ended() {
                    break;
                }
            }
        }
        for i in eof.into_iter().rev() {
            self.sources.remove(i);
        }
    }

    /// The end of the run: the last input the command read is recorded and its stdin closed,
    /// how it ended is heard (waiting for it when the loop failed first), what the pipes still
    /// hold is read, and the exit pushed.
    fn finish(mut self, fanout: &mut impl Events) -> Ended {
        if let Some(input) = &mut self.input {
            input.settle(&self.clock, fanout);
        }
        self.input = None;
        let exited = match self.exited {
            Some(exit) => exit,
            // The loop failed before the command ended: its status is still the one to log.
            None => self.waiter.exits.recv().unwrap_or(Exited {
                time: self.clock.now(),
                duration: self.clock.mono.elapsed(),
                status: Status::Code(EXIT_FAILED.into()),
            }),
        };
        let unread = self.read_what_is_left(fanout);
        if unread > 0 {
            report(format_args!(
                "stopped reading the command's output with {unread} bytes unread: processes it \
                 started still hold it open, and the grace period ({}) ran out",
                seconds(self.spec.grace)
            ));
            self.reading = Reading::Incomplete;
        }
        fanout.exit(&Exit {
            time: exited.time,
            status: exited.status,
            duration: exited.duration,
            unread,
            resent: 0,
            error: None,
        });
        Ended {
            status: exited.status,
            reading: self.reading,
        }
    }

    /// Stopping with pipes still open: reads what they hold now; returns how much is left.
    fn read_what_is_left(&mut self, fanout: &mut impl Events) -> u64 {
        let mut unread = 0;
        for source in &mut self.sources {
            if source.pty && hung_up(source) {
                // No process holds the pty's slave any more, so nothing more can come, but what
                // was written may still be on its way to the master (FIONREAD counts only what
                // has arrived): read to the end, EIO.
                loop {
                    let taken = pass_on(source, &mut self.buf, usize::MAX, &self.clock, fanout);
                    self.reading = self.reading.after(taken);
                    if taken.ended() || taken.bytes == 0 {
                        break;
                    }
                }
            }
            let mut owed = sys::bytes_ready(source.file.as_fd()).unwrap_or(0);
            while owed > 0 {
                let taken = pass_on(source, &mut self.buf, owed, &self.clock, fanout);
                self.reading = self.reading.after(taken);
                owed = owed.saturating_sub(taken.bytes);
                if taken.bytes == 0 || taken.ended() {
                    break;
                }
            }
            unread += sys::bytes_ready(source.file.as_fd()).unwrap_or(0) as u64;
        }
        unread
    }
}

/// What a poll of the loop's descriptors came to.
enum Polled {
    /// Some are ready (or the timeout came), at `now`.
    Ready { now: Instant, ready: Vec<Slot> },
    /// A signal came first: poll again.
    Interrupted,
    /// poll failed (reported): the loop ends.
    Failed,
}

/// `1s`, `0.25s`
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// What one read took from a source, and how it left the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Taken {
    pub(super) bytes: usize,
    pub(super) source: Left,
}

/// How a read left a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Left {
    /// More may come.
    Open,
    /// At its end: nothing more will.
    AtEnd,
    /// Reading it failed (reported); treated as ended.
    Failed,
}

impl Taken {
    fn open(bytes: usize) -> Taken {
        Taken {
            bytes,
            source: Left::Open,
        }
    }

    /// Whether the source is done with (at its end, or failed).
    pub(super) fn ended(self) -> bool {
        self.source != Left::Open
    }
}

/// Reads what `pipe` has ready (up to `buf`'s size and `limit`, without waiting for more) and
/// pushes it through the sinks as one chunk.
fn pass_on(
    source: &mut Source,
    buf: &mut [u8],
    limit: usize,
    clock: &Clock,
    fanout: &mut impl Events,
) -> Taken {
    let time = clock.now();
    let len = buf.len().min(limit);
    let taken = read_ready(source, &mut buf[..len]);
    if taken.bytes > 0 {
        fanout.chunk(&Chunk {
            stream: source.stream,
            time,
            bytes: &buf[..taken.bytes],
        });
    }
    taken
}

/// As [`pass_on`], but a pipe holding at least [`SPLICE_MIN`] bytes goes to the sinks without
/// being read into `buf` (see `Events::splice`). How much is ready costs a system call, so
/// it is asked only while the command writes faster than small chunks: after a splice, or a read
/// that filled `buf`. A command writing a little at a time is read as without splice.
fn splice_or_pass_on(
    source: &mut Source,
    buf: &mut [u8],
    clock: &Clock,
    fanout: &mut impl Events,
) -> Taken {
    if source.bulky {
        let ready = sys::bytes_ready(source.file.as_fd()).unwrap_or(0);
        if ready >= SPLICE_MIN {
            let moved = fanout.splice(source.stream, clock.now(), &source.file, ready, buf);
            if moved > 0 {
                return Taken::open(moved);
            }
        }
    }
    let taken = pass_on(source, buf, usize::MAX, clock, fanout);
    source.bulky = taken.bytes >= buf.len().min(SPLICE_MIN);
    taken
}

/// Reads what `source` has ready, up to `buf`'s size, without waiting for more (a failure is
/// reported here). A pty master says EIO once the last process holding the slave has closed
/// it, after everything written before that has been read: that is its end of file.
fn read_ready(source: &mut Source, buf: &mut [u8]) -> Taken {
    let end = |bytes, source| Taken { bytes, source };
    let mut n = 0;
    while n < buf.len() {
        match source.file.read(&mut buf[n..]) {
            Ok(0) => return end(n, Left::AtEnd),
            // Less than asked for: a pipe was empty just now, so another read would only say
            // EAGAIN. Not so a pty: a read returns what has reached the line discipline, and
            // only a read that finds nothing there waits for what the kernel is still passing
            // on (written before, say, the error the loop is about to read from stderr). So a
            // pty is read until it says EAGAIN.
            Ok(k) if k < buf.len() - n && !source.pty => return Taken::open(n + k),
            Ok(k) => n += k,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if source.pty && err.raw_os_error() == Some(nix::libc::EIO) => {
                return end(n, Left::AtEnd);
            }
            Err(err) => {
                report(format_args!(
                    "cannot read the command's {}: {err}",
                    source.stream.name()
                ));
                return end(n, Left::Failed);
            }
        }
    }
    Taken::open(n)
}

/// A poll(2) timeout that ends at `at` (never early: rounded up to the millisecond).
fn timeout_until(at: Option<Instant>) -> PollTimeout {
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
