//! Zero-copy pass-through, for runs whose every sink writes the output unchanged (`plain`, and
//! the stream files of `sudo-iolog`, with nothing masked, redacted or stripped, and no
//! `--max-size`): a chunk goes from the command's
//! pipe to the console and the logs without passing through teelog's memory. tee(2) duplicates
//! it into a spare pipe of teelog's for each destination beyond the first (page references, no
//! copy), and splice(2) moves it out of a pipe into each destination. The kernel then copies it
//! once, into a log's page cache, instead of twice (into teelog, then out of it), and not at all
//! into /dev/null or another pipe. Only a chunk of at least [`SPLICE_MIN`] bytes goes this way:
//! below that, the calls cost more than the copies they save.
//!
//! A sudo I/O log's chunk is spliced into its stream file, then its formatter writes what else
//! it owes for it (`Formatter::spliced`: its `timing` line, after the bytes, as sudoreplay -F
//! reads them).
//!
//! Where splice does not apply, the bytes are read out of their pipe and written as usual: a
//! destination that refuses it (EINVAL: a terminal, a file a shell opened with `>>`) is written
//! with read/write from then on.
//!
//! A log is opened for appending (O_APPEND), so that runs and other programs appending to it never
//! overwrite one another, and splice(2) refuses a file opened so. teelog therefore splices into a
//! log only under a write lease (fcntl(2) F_SETLEASE): the kernel grants one only while no other
//! open file description of the file exists, in any process, and while it is held another
//! open(2) or truncate(2) of the file waits. For each chunk teelog takes the lease, turns
//! O_APPEND off, seeks to the end, splices, turns O_APPEND back on and releases the lease: nobody
//! can write to the file in between, so the chunk lands at its end exactly as an append would,
//! and a program that opens the log meanwhile waits for one chunk at most. When the lease is
//! refused (another program has the log open, a `tail -f`; a filesystem without leases) the chunk
//! is copied.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::time::SystemTime;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice, tee};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::{Dest, Fanout, Kind};
use crate::event::Stream;
use crate::sys::{Lease, lease};

/// The smallest chunk worth splicing: a tee(2) and a splice(2) per destination, and five more
/// calls for the lease around a log's, cost more than copying a few pages.
pub use crate::event::SPLICE_MIN;

/// What a spare pipe holds: as much as the command's pipes, so that one tee(2) duplicates
/// whatever one of them holds.
const SPARE_PIPE: i32 = 1 << 20;

/// Why bytes were not spliced into a destination.
enum Refused {
    /// Not this time (the lease is taken by someone else's open): copy this chunk.
    Now,
    /// Not ever (the destination does not take splice, or has no leases): copy from now on.
    Always,
    /// Writing failed: the destination is done.
    Failed(io::Error),
}

impl Fanout {
    /// Whether chunks of output go through [`Fanout::splice`]: every sink writes them as they
    /// are, to a file descriptor, with nothing rewritten on the way.
    pub fn splices(&self) -> bool {
        self.chain.is_empty()
            && self.sinks.iter().all(|sink| {
                let passes = sink.plain || matches!(sink.out.to, Some(Kind::SudoIolog(_)));
                passes
                    && [Some(&sink.out), sink.err.as_ref()]
                        .into_iter()
                        .flatten()
                        .all(|dest| {
                            matches!(
                                dest.to,
                                None | Some(Kind::File(_)) | Some(Kind::SudoIolog(_))
                            ) && dest
                                .log
                                .as_ref()
                                .is_none_or(|log| log.rotation.max_size.is_none())
                        })
            })
    }

    /// Passes the first `len` bytes of the pipe `from`, which holds at least that many, to every
    /// destination of `stream`'s output, spliced where it can be (see the module's doc) and copied
    /// through `buf` where not; they were read at `time`. Returns how many bytes it took from
    /// `from`: at most `len`, and 0 when it could not duplicate them (the caller then reads them
    /// as usual).
    pub fn splice(
        &mut self,
        stream: Stream,
        time: SystemTime,
        from: &File,
        len: usize,
        buf: &mut [u8],
    ) -> usize {
        let Fanout {
            sinks,
            spares,
            unread,
            ..
        } = self;
        let mut dests: Vec<&mut Dest> = Vec::with_capacity(sinks.len());
        for sink in sinks.iter_mut() {
            sink.out.follow_path();
            let dest = sink.dest(Some(stream));
            if dest.to.is_some() {
                dests.push(dest);
            }
        }
        // One copy in a spare pipe for each destination after the first. tee(2) takes whole
        // pipe buffers and may take fewer bytes than asked when a spare has fewer free slots; the
        // chunk is then what every copy holds, and a copy's extra bytes are dropped below (they
        // are still in `from`, for the next chunk).
        let mut len = len;
        let mut teed = Vec::with_capacity(dests.len().saturating_sub(1));
        for k in 1..dests.len() {
            let copied = spare(spares, k - 1).and_then(|(_, w)| {
                tee(from, w, len, SpliceFFlags::SPLICE_F_NONBLOCK).map_err(io::Error::from)
            });
            match copied {
                Ok(n) if n > 0 => {
                    len = len.min(n);
                    teed.push(n);
                }
                _ => {
                    for (k, n) in teed.into_iter().enumerate() {
                        drop_bytes(&spares[k].0, n, buf);
                    }
                    return 0;
                }
            }
        }
        match dests.first_mut() {
            Some(dest) => *unread |= move_out(dest, stream, from, len, buf).is_err(),
            None => drop_bytes(from, len, buf),
        }
        for (k, dest) in dests.iter_mut().skip(1).enumerate() {
            let (r, _) = &spares[k];
            *unread |= move_out(dest, stream, r, len, buf).is_err();
            drop_bytes(r, teed[k] - len, buf);
        }
        // What the sinks that are more than the bytes owe for them (a sudo I/O log's timing).
        for sink in sinks.iter_mut().filter(|sink| !sink.plain) {
            sink.buf.clear();
            sink.formatter.spliced(stream, time, len, &mut sink.buf);
            if sink.buf.total() > 0 {
                sink.out.write(&sink.buf, &[]);
            }
        }
        len
    }
}

/// The `k`th spare pipe, made when first needed.
fn spare(spares: &mut Vec<(File, File)>, k: usize) -> io::Result<&(File, File)> {
    while spares.len() <= k {
        let (r, w) = std::io::pipe()?;
        // A pipe that stays smaller (a lower fs.pipe-max-size) only makes tee take less.
        let _ = fcntl(&w, FcntlArg::F_SETPIPE_SZ(SPARE_PIPE));
        spares.push((File::from(OwnedFd::from(r)), File::from(OwnedFd::from(w))));
    }
    Ok(&spares[k])
}

/// Moves `len` bytes from the pipe `from` into `dest`: spliced where it takes that, else read
/// into `buf` and written. Bytes `dest` cannot take (it failed, or has gone) are read and
/// dropped, so that the pipe is left as if they were written. A pipe that cannot be read is an
/// error, said here.
fn move_out(
    dest: &mut Dest,
    stream: Stream,
    from: &File,
    len: usize,
    buf: &mut [u8],
) -> io::Result<()> {
    let mut left = len;
    if dest.spliceable {
        match splice_into(dest, stream, from, &mut left) {
            Ok(()) => {}
            Err(Refused::Now) => {}
            Err(Refused::Always) => dest.spliceable = false,
            Err(Refused::Failed(err)) => {
                dest.fail(err);
                drop_bytes(from, left, buf);
                return Ok(());
            }
        }
    }
    while left > 0 {
        let room = left.min(buf.len());
        let n = match read_some(from, &mut buf[..room]) {
            Ok(n) => n,
            Err(err) => {
                crate::error::report(format_args!("cannot read the command's output: {err}"));
                return Err(err);
            }
        };
        match &mut dest.to {
            Some(Kind::SudoIolog(session)) => {
                if let Err(err) = session.write_stream(stream, &buf[..n]) {
                    dest.fail(err);
                }
            }
            _ => dest.write_bytes(&buf[..n]),
        }
        left -= n;
    }
    Ok(())
}

/// Splices `left` bytes from `from` into `dest`, counting down `left` as they go.
fn splice_into(
    dest: &mut Dest,
    stream: Stream,
    from: &File,
    left: &mut usize,
) -> Result<(), Refused> {
    let file = match &mut dest.to {
        Some(Kind::File(file)) => file,
        // A file of the session's own directory, which nobody else writes: no lease needed.
        Some(Kind::SudoIolog(session)) => {
            let file = session.stream_file(stream).map_err(Refused::Failed)?;
            return splice_all(from, file, left);
        }
        _ => return Err(Refused::Always),
    };
    if dest.log.is_none() {
        return splice_all(from, file, left);
    }
    // A log, opened for appending: see the module's doc. Its flags are read before the lease,
    // which adds FASYNC (the kernel's way to signal a lease break) until it is released.
    let flags = fcntl(&*file, FcntlArg::F_GETFL)
        .map(OFlag::from_bits_truncate)
        .map_err(|_| Refused::Always)?;
    lease(file.as_fd(), Lease::Write).map_err(|err| match err.raw_os_error() {
        Some(nix::libc::EAGAIN) => Refused::Now,
        _ => Refused::Always,
    })?;
    let appending = fcntl(
        &*file,
        FcntlArg::F_SETFL(flags - OFlag::O_APPEND - OFlag::O_ASYNC),
    )
    .map(|_| flags);
    let spliced = match appending {
        Ok(_) => file
            .seek(SeekFrom::End(0))
            .map_err(Refused::Failed)
            .and_then(|_| splice_all(from, file, left)),
        Err(_) => Err(Refused::Always),
    };
    // O_APPEND back before anyone else may open the file; a log that cannot have it back is
    // written no more.
    let restored = match appending {
        Ok(flags) => fcntl(&*file, FcntlArg::F_SETFL(flags))
            .map(drop)
            .map_err(io::Error::from),
        Err(_) => Ok(()),
    };
    let _ = lease(file.as_fd(), Lease::None);
    restored.map_err(Refused::Failed)?;
    spliced
}

/// Splices `left` bytes from the pipe `from` into `to`, waiting for room when `to` is a full
/// non-blocking pipe. EINVAL before any byte moved means `to` does not take splice.
fn splice_all(from: &File, to: &File, left: &mut usize) -> Result<(), Refused> {
    let mut moved = false;
    while *left > 0 {
        match splice(from, None, to, None, *left, SpliceFFlags::empty()) {
            Ok(0) => return Err(Refused::Failed(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                *left -= n;
                moved = true;
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                let mut fds = [PollFd::new(to.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(errno) => return Err(Refused::Failed(errno.into())),
                }
            }
            Err(Errno::EINVAL) if !moved => return Err(Refused::Always),
            Err(errno) => return Err(Refused::Failed(errno.into())),
        }
    }
    Ok(())
}

/// Reads what `from` has, up to `buf`'s size (it holds at least one byte).
fn read_some(mut from: &File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match from.read(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

/// Reads `len` bytes out of the pipe `from` and drops them.
fn drop_bytes(from: &File, mut len: usize, buf: &mut [u8]) {
    while len > 0 {
        let room = len.min(buf.len());
        match read_some(from, &mut buf[..room]) {
            Ok(n) => len -= n,
            Err(_) => return,
        }
    }
}
