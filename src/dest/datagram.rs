//! A local datagram destination (the journal's socket, `/dev/log`): never blocks the run, and
//! follows its reader across restarts.
//!
//! Sends do not block. When the reader's queue is full, teelog waits for room at most
//! [`STALL_WAIT`]; a reader that took nothing in that time is stalled, and from then on a
//! message it has no room for is dropped at once (and counted) until it has read its queue
//! empty. A reader that went away (the socket's file removed, or left with nobody bound to it,
//! as when journald or rsyslogd restarts) is looked for again at its path at every message, as
//! `sd_journal_send` sends to the path each time; messages sent while nobody is there are
//! counted. The count is reported at the end, and fails the run.

use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::report;

/// How long, at most, a message waits for room in a reader's queue.
pub const STALL_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Datagram {
    /// Connected to `path` (for poll(2) to wait for room in that reader's queue), non-blocking.
    socket: UnixDatagram,
    path: PathBuf,
    name: String,
    /// Whether `socket` is connected to the reader now at `path`.
    connected: bool,
    /// The reader took nothing for [`STALL_WAIT`]: no waiting until it has caught up.
    stalled: bool,
    lost: u64,
    reported: bool,
}

impl Datagram {
    /// Connects to the reader at `path`, which must be there (as a log file must open).
    pub fn open(path: PathBuf, name: String) -> io::Result<Datagram> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(&path)?;
        socket.set_nonblocking(true)?;
        Ok(Datagram {
            socket,
            path,
            name,
            connected: true,
            stalled: false,
            lost: 0,
            reported: false,
        })
    }

    /// Sends one record as one datagram, or drops and counts it (see the module's doc).
    pub fn send(&mut self, record: &[u8]) {
        let mut waited = false;
        let mut reconnected = false;
        loop {
            if !self.connected {
                reconnected = true;
                if let Err(err) = self.socket.connect(&self.path) {
                    return self.lose(&err);
                }
                self.connected = true;
            }
            if self.stalled {
                // Caught up once nothing it was sent is left unread.
                self.stalled = !matches!(crate::sys::unacknowledged(self.socket.as_fd()), Ok(0));
            }
            match send_entry(&self.socket, record) {
                Ok(()) => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if self.stalled || waited {
                        return self.lose(&err);
                    }
                    waited = true;
                    if !self.wait() {
                        self.stalled = true;
                        return self.lose(&io::Error::other(format!(
                            "not reading (nothing taken for {}s)",
                            STALL_WAIT.as_secs()
                        )));
                    }
                }
                Err(err)
                    if !reconnected
                        && matches!(
                            err.raw_os_error(),
                            Some(libc::ECONNREFUSED | libc::ENOTCONN | libc::ENOENT)
                        ) =>
                {
                    // The reader went away; another may be at the path already.
                    self.connected = false;
                }
                Err(err) => {
                    if matches!(
                        err.raw_os_error(),
                        Some(libc::ECONNREFUSED | libc::ENOTCONN)
                    ) {
                        self.connected = false;
                    }
                    return self.lose(&err);
                }
            }
        }
    }

    /// Waits, at most [`STALL_WAIT`], for room in the reader's queue; false if none came.
    fn wait(&self) -> bool {
        let until = Instant::now() + STALL_WAIT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLOUT)];
            let ms = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, ms) {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return false,
            }
        }
    }

    fn lose(&mut self, err: &io::Error) {
        // A socket whose reader is gone stays unconnected: the next message looks again.
        self.lost += 1;
        if !self.reported {
            self.reported = true;
            report(format_args!(
                "{}: {err}; going on without waiting for it (lost messages are counted)",
                self.name
            ));
        }
    }

    /// At the end of the run: reports how many messages were not delivered, and returns it.
    pub fn finish(&mut self) -> u64 {
        if self.lost > 0 {
            let plural = if self.lost == 1 { "" } else { "s" };
            report(format_args!(
                "{}: {} message{plural} could not be delivered",
                self.name, self.lost
            ));
        }
        self.lost
    }
}

/// Sends one journal entry as one datagram. An entry the socket refuses as too large goes in a
/// sealed memfd passed with SCM_RIGHTS, as sd_journal_sendv does.
pub(crate) fn send_entry(socket: &UnixDatagram, entry: &[u8]) -> io::Result<()> {
    match socket.send(entry) {
        Ok(_) => Ok(()),
        Err(err) if matches!(err.raw_os_error(), Some(libc::EMSGSIZE | libc::ENOBUFS)) => {
            send_entry_in_memfd(socket, entry)
        }
        Err(err) => Err(err),
    }
}

fn send_entry_in_memfd(socket: &UnixDatagram, entry: &[u8]) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, SealFlag, fcntl};
    use nix::sys::memfd::{MFdFlags, memfd_create};
    use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let memfd = memfd_create(
        c"teelog-journal-entry",
        MFdFlags::MFD_ALLOW_SEALING | MFdFlags::MFD_CLOEXEC,
    )?;
    let mut file = std::fs::File::from(memfd);
    file.write_all(entry)?;
    fcntl(
        &file,
        FcntlArg::F_ADD_SEALS(
            SealFlag::F_SEAL_SHRINK
                | SealFlag::F_SEAL_GROW
                | SealFlag::F_SEAL_WRITE
                | SealFlag::F_SEAL_SEAL,
        ),
    )?;
    let fds = [file.as_raw_fd()];
    sendmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &[],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )?;
    Ok(())
}
