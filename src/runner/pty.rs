//! The command's pty (`--pty`): making it, following teelog's terminal's size, and telling when
//! no process holds its slave any more.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::spawn::Source;
use crate::event::Size;
use crate::sys;

/// teelog's terminal and the command's pty, for the signal thread to pass a resize on.
#[derive(Debug)]
pub struct Resize {
    tty: File,
    pty: File,
}

impl Resize {
    /// The terminal `tty` and the pty among `sources`, when there are both.
    pub(super) fn of(tty: Option<&File>, sources: &[Source]) -> Option<Resize> {
        let pty = sources.iter().find(|s| s.pty)?;
        Some(Resize {
            tty: tty?.try_clone().ok()?,
            pty: pty.file.try_clone().ok()?,
        })
    }

    /// Gives the pty the terminal's size.
    pub fn follow(&self) {
        if let Some(size) = sys::window_size(self.tty.as_fd()) {
            let _ = sys::set_window_size(self.pty.as_fd(), size);
        }
    }
}

/// Whether `source`'s other side is closed by every process (poll's POLLHUP).
pub(super) fn hung_up(source: &Source) -> bool {
    let mut fds = [PollFd::new(source.file.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).is_ok()
        && fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLHUP))
}

/// Gives the pty `source` the size of teelog's terminal when that changed (here, or on the
/// signal thread at a SIGWINCH teelog got: [`Resize::follow`]); returns the new size then.
pub(super) fn follow_size(
    tty: Option<&File>,
    source: &Source,
    size: &mut Option<Size>,
) -> Option<Size> {
    let now = tty.and_then(|t| sys::window_size(t.as_fd()))?;
    if *size != Some(now) && sys::set_window_size(source.file.as_fd(), now).is_ok() {
        *size = Some(now);
        return Some(now);
    }
    None
}

/// A new pseudo-terminal of `size` with a raw line discipline: its master (for teelog) and slave
/// (for the command's stdout), both closed on exec (the slave is duplicated onto fd 1).
pub(super) fn open(size: Size) -> io::Result<(File, OwnedFd)> {
    use nix::pty::{Winsize, openpty};
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let winsize = Winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(&winsize, None)?;
    for fd in [&pty.master, &pty.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    let mut termios = tcgetattr(&pty.slave)?;
    cfmakeraw(&mut termios);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios)?;
    Ok((File::from(pty.master), pty.slave))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn the_pty_passes_bytes_unchanged_and_ends_with_eio() {
        let (mut master, slave) = open(Size::DEFAULT).unwrap();
        let mut slave = File::from(slave);
        let long = vec![b'x'; 10_000];
        slave.write_all(b"a\nb\r\n").unwrap();
        slave.write_all(&long).unwrap();
        drop(slave);
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(err) if err.raw_os_error() == Some(nix::libc::EIO) => break,
                Err(err) => panic!("{err}"),
            }
        }
        let mut want = b"a\nb\r\n".to_vec();
        want.extend_from_slice(&long);
        assert_eq!(got, want);
    }

    #[test]
    fn the_pty_has_the_size_asked_for() {
        let (master, _slave) = open(Size {
            cols: 132,
            rows: 50,
        })
        .unwrap();
        assert_eq!(
            sys::window_size(master.as_fd()),
            Some(Size {
                cols: 132,
                rows: 50
            })
        );
    }
}
