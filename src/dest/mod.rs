//! Where records go: the `-o` grammar (`spec`), and the destinations themselves: a file (opened
//! with care, written whole with waiting writes, rotated, followed when logrotate moves it), a
//! local datagram socket (`datagram`: journald, /dev/log), or a remote syslog server
//! (`crate::dest::remote`).
//!
//! All write errors are handled here. A log that fails is reported once (naming it) and dropped
//! while the console and the other logs go on; a console whose reader went away (EPIPE, as in
//! `teelog -o x.log -- cmd | head -1`) is dropped silently, since that is how pipelines end.
//!
//! Logs are opened with care, before the command starts: a FIFO nobody reads is refused at once
//! (not waited for), and in a sticky world-writable directory such as /tmp a symlink or an
//! existing file that belongs to another user is refused (the kernel's `protected_symlinks` and
//! `protected_regular` rules, applied whatever those settings say), so that nobody can choose
//! where another user's output goes.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

use crate::error::report;

pub mod datagram;
pub mod file;
pub mod opening;
mod out;
pub mod remote;
pub mod spec;
pub mod sudo_iolog;
pub mod watch;
pub(crate) use file::{FileLog, open_log};
pub use file::{Rotation, file_identity};
pub use opening::Opening;
pub use out::Out;

/// Where a destination's bytes go.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A file, FIFO, terminal or pipe: all of an event's records in one `write`.
    File(File),
    /// A local datagram socket (the journal's, /dev/log): one record per datagram, never
    /// blocking (see `datagram`).
    Datagram(datagram::Datagram),
    /// A remote syslog server: best effort, never failing (see `crate::dest::remote`).
    Remote(crate::dest::remote::Remote),
    /// A collector shipped from a spool (`relp=`, `syslog=tls:`): the spool is written here,
    /// and fails as a file does (see `crate::dest::remote::ship`).
    Spooled(crate::dest::remote::ship::Spooled),
    /// A sudo I/O log session directory: each record goes to the file its tag names (see
    /// `sudo_iolog`).
    SudoIolog(sudo_iolog::Session),
}

/// One open destination.
#[derive(Debug)]
pub(crate) struct Dest {
    /// `None` once writing to it has failed, or its reader (a console's) went away.
    pub(crate) to: Option<Kind>,
    /// Whether it failed, which teelog has said: the run then ends in failure. Set in one place,
    /// [`Dest::fail`], where the destination is dropped.
    pub(crate) failed: bool,
    /// For a log file (not a FIFO or a device): its path, to reopen and rotate.
    pub(crate) log: Option<FileLog>,
    /// How error messages name it.
    pub(crate) name: String,
    /// A console is allowed to go away without that being an error.
    pub(crate) console: bool,
    /// For a classic or jsonl log in a regular file, written under `flock`: where this run's last
    /// write ended, to notice another writer (`None` before the first write, or when not tracked).
    pub(crate) shared: Option<Shared>,
    /// Whether splice(2) may be tried (see `splice`): false once the destination refused it.
    pub(crate) spliceable: bool,
}

/// What [`Dest`] knows of a log file other runs may append to as well.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The file's size just after this run's last write.
    pub(crate) end: Option<u64>,
}

impl Dest {
    /// The file, for a destination that is one (and has not failed).
    pub(crate) fn file(&self) -> Option<&File> {
        match &self.to {
            Some(Kind::File(file)) => Some(file),
            _ => None,
        }
    }

    /// Writes `out` (with the piece it lent of `chunk`, the event's): to a file in one `write`
    /// or `writev` (bar a short write), to a datagram socket one record per datagram. A failure
    /// drops it ([`Dest::fail`]).
    pub(crate) fn write(&mut self, out: &Out, chunk: &[u8]) {
        let rotating = self.rotating();
        let written = match &mut self.to {
            None => return,
            Some(Kind::File(file)) => match out.slices(chunk) {
                [bytes, [], []] => return self.write_bytes(bytes),
                // A sink with --max-size does not lend (see `Sink::log`); were it to, the bytes
                // would go whole through the rotating writer.
                slices if rotating => return self.write_bytes(&slices.concat()),
                slices => write_slices_waiting(file, slices),
            },
            Some(Kind::Datagram(socket)) => {
                out.records().for_each(|record| socket.send(record));
                Ok(())
            }
            Some(Kind::Remote(remote)) => {
                out.records().for_each(|record| remote.send(record));
                Ok(())
            }
            Some(Kind::Spooled(spooled)) => spooled.send(out.records()),
            Some(Kind::SudoIolog(session)) => session.write(out.records()),
        };
        if let Err(err) = written {
            self.fail(err);
        }
    }

    /// Writes `bytes` to a file destination, in one `write` (bar a short write), or in whole
    /// lines between rotations with `--max-size`. A failure drops it ([`Dest::fail`]).
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        let rotating = self.rotating();
        let written = match &mut self.to {
            Some(Kind::File(_)) if rotating => self.write_rotating(bytes),
            Some(Kind::File(file)) => write_all_waiting(file, bytes),
            _ => return,
        };
        if let Err(err) = written {
            self.fail(err);
        }
    }

    /// Writes `bytes` to a file destination in one `write` (bar a short write), never rotating:
    /// a sealed log rotates between its own lines (`sink::sealed`). A failure drops it.
    pub(crate) fn write_whole(&mut self, bytes: &[u8]) {
        if let Some(Kind::File(file)) = &mut self.to
            && let Err(err) = write_all_waiting(file, bytes)
        {
            self.fail(err);
        }
    }

    /// Whether it is a log file with `--max-size`, written through [`Dest::write_rotating`].
    pub(crate) fn rotating(&self) -> bool {
        self.log
            .as_ref()
            .is_some_and(|l| l.rotation.max_size.is_some())
    }

    /// Drops the destination after `err`, and says so unless it is a console whose reader went
    /// away (as `tee` does on SIGPIPE: not a failure).
    pub(crate) fn fail(&mut self, err: io::Error) {
        let message = format!("cannot write to {}: {err}", self.name);
        self.lose(&message, err.kind());
    }

    /// Drops the destination, and unless it is a console whose reader went away, says
    /// `message` and marks it [`failed`](Dest::failed).
    pub(crate) fn lose(&mut self, message: &str, kind: io::ErrorKind) {
        match &mut self.to {
            // A spool that cannot be written keeps its shipper and its lock: what it holds is
            // still shipped, and what is left said at the end.
            Some(Kind::Spooled(spooled)) => spooled.stop_writing(),
            _ => self.to = None,
        }
        if self.console && kind == io::ErrorKind::BrokenPipe {
            return;
        }
        report(message);
        self.failed = true;
    }

    /// At the end of the run, for a datagram or remote destination: delivers what it still can,
    /// reports what was lost, and returns how many messages that is.
    pub(crate) fn finish(&mut self) -> u64 {
        match &mut self.to {
            Some(Kind::Remote(remote)) => remote.finish(),
            Some(Kind::Datagram(socket)) => socket.finish(),
            Some(Kind::Spooled(spooled)) => spooled.finish(),
            Some(Kind::SudoIolog(session)) => {
                if let Err(err) = session.finish() {
                    self.fail(err);
                }
                0
            }
            _ => 0,
        }
    }

    /// For a shipped destination: no more messages will come; the wait for the last
    /// acknowledgements starts (for all of them at once, before [`Dest::finish`] of each).
    pub(crate) fn end_soon(&mut self) {
        if let Some(Kind::Spooled(spooled)) = &mut self.to {
            spooled.end_soon();
        }
    }

    /// For a shipped destination: how many messages were sent again after a reconnect.
    pub(crate) fn resent(&self) -> u64 {
        match &self.to {
            Some(Kind::Spooled(spooled)) => spooled.resent(),
            _ => 0,
        }
    }

    pub(crate) fn console(fd: impl AsFd, name: &str) -> Dest {
        // A duplicate of the descriptor gives an unbuffered `File`: std's `Stdout` would buffer
        // a partial line until its newline, and nothing may wait in teelog.
        Dest {
            to: fd
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(|fd| Kind::File(File::from(fd))),
            failed: false,
            log: None,
            name: name.to_owned(),
            console: true,
            shared: None,
            spliceable: true,
        }
    }
}

/// journald's socket for the native protocol.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// `write_all`, except that a descriptor left non-blocking by whoever started teelog (a console
/// shared with such a program) is waited for when full, instead of failing with EAGAIN.
pub(crate) fn write_all_waiting(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    write_slices_waiting(file, [bytes])
}

/// [`write_all_waiting`] for the concatenation of `slices`, written with `writev` while more
/// than one is left: one system call, so a record is as whole in an appended file as with one
/// `write`.
pub(crate) fn write_slices_waiting<const N: usize>(
    file: &mut File,
    slices: [&[u8]; N],
) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut slices = slices.map(io::IoSlice::new);
    let mut left: &mut [io::IoSlice<'_>] = &mut slices;
    // An empty slice in front would make the write below write nothing.
    io::IoSlice::advance_slices(&mut left, 0);
    while !left.is_empty() {
        let written = match left {
            [one] => file.write(one),
            _ => file.write_vectored(left),
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut left, n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(errno) => return Err(errno.into()),
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    #[test]
    fn slices_are_written_whole_and_in_order_through_short_writes_and_a_full_pipe() {
        use std::io::Read;
        // A non-blocking pipe read slowly: writev is cut short at every slice and mid-slice,
        // and the writer waits for room.
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).unwrap();
        let (mut r, mut w) = (File::from(r), File::from(w));
        // The read end blocks again; only the writer must not.
        nix::fcntl::fcntl(
            &r,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .unwrap();
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 5000];
            loop {
                std::thread::sleep(std::time::Duration::from_micros(200));
                match r.read(&mut buf).unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        let slices = [
            &data[..0],
            &data[..100_000],
            &data[100_000..100_001],
            &data[100_001..100_001],
            &data[100_001..],
        ];
        write_slices_waiting(&mut w, slices).unwrap();
        drop(w);
        assert!(reader.join().unwrap() == data, "every byte, in order");
    }

    #[test]
    fn an_entry_too_large_for_a_datagram_goes_in_a_sealed_memfd() {
        use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
        use std::io::{IoSliceMut, Read};
        use std::os::fd::AsRawFd;
        let (tx, rx) = std::os::unix::net::UnixDatagram::pair().unwrap();
        setsockopt(&tx, sockopt::SndBuf, &4096).unwrap();
        let entry: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        datagram::send_entry(&tx, &entry).unwrap();
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let mut buf = [0u8; 16];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            rx.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .unwrap();
        assert_eq!(msg.bytes, 0, "no payload: the entry is in the fd");
        let fd = msg
            .cmsgs()
            .unwrap()
            .find_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
                _ => None,
            })
            .expect("an fd passed");
        // Opened again through /proc: safe code cannot adopt a raw descriptor.
        let mut memfd = OpenOptions::new()
            .read(true)
            .open(format!("/proc/self/fd/{fd}"))
            .unwrap();
        let mut got = Vec::new();
        memfd.read_to_end(&mut got).unwrap();
        assert!(got == entry);
        let sealed = OpenOptions::new()
            .write(true)
            .open(format!("/proc/self/fd/{fd}"))
            .and_then(|mut f| f.write_all(b"x"));
        assert!(sealed.is_err(), "sealed against writes");
    }
}
