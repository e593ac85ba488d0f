//! Where records go: the `-o` grammar (`spec`), and the destinations themselves: a file (opened
//! with care, written whole with waiting writes, rotated, followed when logrotate moves it), a
//! local datagram socket (`datagram`: journald, /dev/log), or a remote syslog server
//! (`crate::remote`).
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

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::libc;

use crate::error::{Error, quote, report};
use crate::format::Out;

pub mod datagram;
pub mod opening;
pub mod spec;
pub mod watch;
pub use opening::Opening;

/// Where a destination's bytes go.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A file, FIFO, terminal or pipe: all of an event's records in one `write`.
    File(File),
    /// A local datagram socket (the journal's, /dev/log): one record per datagram, never
    /// blocking (see `datagram`).
    Datagram(datagram::Datagram),
    /// A remote syslog server: best effort, never failing (see `crate::remote`).
    Remote(crate::remote::Remote),
}

/// How file logs rotate (`--max-size`, `--keep`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before a write would take the file past this many bytes.
    pub max_size: Option<u64>,
    /// How many old files (PATH.1 ... PATH.N) to keep.
    pub keep: u32,
}

/// What a file log knows of its path: to reopen it when logrotate has renamed or removed it,
/// and to rotate it.
#[derive(Debug)]
pub(crate) struct FileLog {
    pub(crate) path: std::path::PathBuf,
    /// The device and inode of the file open.
    pub(crate) identity: (u64, u64),
    /// When the path was last compared with the open file.
    pub(crate) checked: std::time::Instant,
    pub(crate) rotation: Rotation,
    /// What tells at once that the path or the file changed (see `watch`); without it, the
    /// path is compared with the file once a second.
    pub(crate) watch: Option<watch::Watch>,
    /// The format writes whole lines only (classic, jsonl): a file found not ending in a
    /// newline holds a record cut short, which is ended before the first write.
    pub(crate) whole_lines: bool,
    /// Whether the file open was said to be open to other users (once per file).
    pub(crate) warned: bool,
}

/// How often, at most, a file log's path is compared with the file open (one stat) when no
/// event said it changed: the fallback where inotify is missing.
pub(crate) const REOPEN_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a log whose path was just removed or renamed waits for the path to come back
/// before creating it: logrotate's `create` makes the new file (with O_EXCL, renaming a file it
/// finds there to NAME-DATE.backup) just after its rename, and should be the one to make it.
pub(crate) const CREATE_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// One open destination.
#[derive(Debug)]
pub(crate) struct Dest {
    /// `None` once writing to it has failed.
    pub(crate) to: Option<Kind>,
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
    /// or `writev` (bar a short write), to a datagram socket one record per datagram. Returns
    /// true on a failure to report.
    pub(crate) fn write(&mut self, out: &Out, chunk: &[u8]) -> bool {
        let rotating = self.rotating();
        let written = match &mut self.to {
            None => return false,
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
        };
        written.is_err_and(|err| self.fail(err))
    }

    /// Writes `bytes` to a file destination, in one `write` (bar a short write), or in whole
    /// lines between rotations with `--max-size`. Returns true on a failure to report.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) -> bool {
        let rotating = self.rotating();
        let written = match &mut self.to {
            Some(Kind::File(_)) if rotating => self.write_rotating(bytes),
            Some(Kind::File(file)) => write_all_waiting(file, bytes),
            _ => return false,
        };
        written.is_err_and(|err| self.fail(err))
    }

    /// Whether it is a log file with `--max-size`, written through [`Dest::write_rotating`].
    pub(crate) fn rotating(&self) -> bool {
        self.log
            .as_ref()
            .is_some_and(|l| l.rotation.max_size.is_some())
    }

    /// Drops the destination after `err`, and says so unless it is a console whose reader went
    /// away. Returns true when that is a failure to report (it has been reported).
    pub(crate) fn fail(&mut self, err: io::Error) -> bool {
        self.to = None;
        if self.console && err.kind() == io::ErrorKind::BrokenPipe {
            return false;
        }
        report(format_args!("cannot write to {}: {err}", self.name));
        true
    }

    /// Writes `out` to a log with `--max-size`: whole lines that fit in one `write`, rotating
    /// between lines when the next would take the file past the size (unless the file is empty:
    /// a single line larger than the size goes in a file of its own).
    pub(crate) fn write_rotating(&mut self, out: &[u8]) -> io::Result<()> {
        let (Some(log), Some(Kind::File(file))) = (&self.log, &self.to) else {
            return Ok(());
        };
        let max = log.rotation.max_size.unwrap_or(u64::MAX);
        let mut size = file.metadata()?.len();
        let mut rest = out;
        while !rest.is_empty() {
            // As many whole lines as fit (at least one line).
            let mut take = 0;
            for line in rest.split_inclusive(|b| *b == b'\n') {
                if take > 0 && size + (take + line.len()) as u64 > max {
                    break;
                }
                take += line.len();
                if size + take as u64 > max {
                    break;
                }
            }
            if size > 0 && size + take as u64 > max {
                self.rotate()?;
                size = 0;
                continue;
            }
            let Some(Kind::File(file)) = &mut self.to else {
                return Ok(());
            };
            write_all_waiting(file, &rest[..take])?;
            size += take as u64;
            rest = &rest[take..];
        }
        Ok(())
    }

    /// PATH.N-1 becomes PATH.N, ..., PATH becomes PATH.1 (renames only: the files keep their
    /// content and inode), then PATH is opened afresh with the checks of the first open.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        let numbered = |n: u32| {
            let mut name = log.path.clone().into_os_string();
            name.push(format!(".{n}"));
            std::path::PathBuf::from(name)
        };
        if log.rotation.keep == 0 {
            std::fs::remove_file(&log.path)?;
        } else {
            // Only the files there are moved up: PATH.1 ... PATH.top, the oldest kept one
            // (PATH.keep) replaced by the one before it.
            let there = (1..log.rotation.keep)
                .take_while(|n| std::fs::symlink_metadata(numbered(*n)).is_ok())
                .count() as u32;
            for n in (1..=there).rev() {
                match std::fs::rename(numbered(n), numbered(n + 1)) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            std::fs::rename(&log.path, numbered(1))?;
        }
        self.reopen()
    }

    /// Opens the log's path again (after a rotation, or when logrotate moved the file away).
    pub(crate) fn reopen(&mut self) -> io::Result<()> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        let (file, _) = open_log(&log.path).map_err(|err| io::Error::other(err.to_string()))?;
        let meta = file.metadata()?;
        if log.whole_lines {
            opening::end_cut_record(&file)?;
        }
        log.warned = opening::warn_if_open_to_others(&log.path, &file);
        log.identity = (meta.dev(), meta.ino());
        log.checked = std::time::Instant::now();
        if let Some(watch) = &mut log.watch {
            watch.follow(&file);
        }
        self.to = Some(Kind::File(file));
        Ok(())
    }

    /// When the log's path no longer names the file open (logrotate renamed or removed it),
    /// opens the path again. Looks when the watch says something happened (checked before
    /// every write: one read(2), EAGAIN when nothing did), and once a second whatever it says.
    /// Returns true on a failure to report.
    pub(crate) fn follow_path(&mut self) -> bool {
        let Some(log) = &mut self.log else {
            return false;
        };
        if self.to.is_none() {
            return false;
        }
        let moved = log.watch.as_ref().is_some_and(watch::Watch::moved);
        if !moved && log.checked.elapsed() < REOPEN_CHECK {
            return false;
        }
        log.checked = std::time::Instant::now();
        let now = std::fs::metadata(&log.path);
        if now
            .as_ref()
            .is_ok_and(|m| (m.dev(), m.ino()) == log.identity)
        {
            // The same file, perhaps given another mode or owner (logrotate's `create` sets
            // them just after making the file, which teelog may have opened in between).
            if moved
                && !log.warned
                && let Some(Kind::File(file)) = &self.to
            {
                log.warned = opening::warn_if_open_to_others(&log.path, file);
            }
            return false;
        }
        if now.is_err()
            && let Some(watch) = &log.watch
        {
            watch.wait_for_name(CREATE_WAIT);
        }
        match self.reopen() {
            Ok(()) => false,
            Err(err) => {
                self.to = None;
                report(format_args!("cannot open {} again: {err}", self.name));
                true
            }
        }
    }

    /// At the end of the run, for a datagram or remote destination: delivers what it still can,
    /// reports what was lost, and returns how many messages that is.
    pub(crate) fn finish(&mut self) -> u64 {
        match &mut self.to {
            Some(Kind::Remote(remote)) => remote.finish(),
            Some(Kind::Datagram(socket)) => socket.finish(),
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

/// The device and inode of `fd` when it is a regular file or a FIFO (where two writers would mix
/// their records); `None` for terminals, pipes, /dev/null and the like.
pub fn file_identity(fd: impl AsFd) -> Option<(u64, u64)> {
    use std::os::unix::fs::FileTypeExt;
    let meta = File::from(fd.as_fd().try_clone_to_owned().ok()?)
        .metadata()
        .ok()?;
    (meta.is_file() || meta.file_type().is_fifo()).then(|| (meta.dev(), meta.ino()))
}

/// Opens a log for appending, refusing what the module's doc says it refuses. Says whether it
/// created the file (with O_EXCL: nobody else's file is ever taken for one of ours).
pub(crate) fn open_log(path: &Path) -> Result<(File, bool), Error> {
    let open = |follow: bool, new: bool| {
        let mut flags = libc::O_NONBLOCK;
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        OpenOptions::new()
            .append(true)
            .create(!new)
            .create_new(new)
            .mode(0o600)
            .custom_flags(flags)
            .open(path)
    };
    let failed = |source: io::Error| Error::OpenLog {
        path: path.to_owned(),
        source,
    };
    let unsafe_log = |reason: String| Error::UnsafeLog {
        path: path.to_owned(),
        reason,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A sticky, world-writable directory, and its owner.
    let sticky_owner = || {
        std::fs::metadata(parent)
            .ok()
            .filter(|m| m.mode() & 0o1002 == 0o1002)
            .map(|m| m.uid())
    };
    let me = nix::unistd::Uid::effective().as_raw();
    // A symlink is checked before it is opened (the kernel's own check, when on, would only say
    // "Permission denied"); another user cannot swap a symlink that passes, as the directory is
    // sticky and the link is ours or the directory owner's. Anything else is opened without
    // following a symlink, so that one planted in between fails.
    let there = std::fs::symlink_metadata(path);
    let absent = there
        .as_ref()
        .is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
    let link = there.ok().filter(|m| m.file_type().is_symlink());
    if let (Some(link), Some(dir_owner)) = (&link, sticky_owner())
        && link.uid() != me
        && link.uid() != dir_owner
    {
        return Err(unsafe_log(format!(
            "it is a symlink owned by uid {} in the sticky world-writable directory {}, \
             which could send the output anywhere",
            link.uid(),
            quote(parent)
        )));
    }
    // Created here, or (made by someone else since the look) opened as it is.
    let (file, created) = match absent.then(|| open(false, true)) {
        Some(Ok(file)) => (file, true),
        Some(Err(err)) if err.kind() != io::ErrorKind::AlreadyExists => {
            return Err(fifo_or(err, path));
        }
        _ => (
            open(link.is_some(), false).map_err(|e| fifo_or(e, path))?,
            false,
        ),
    };
    let meta = file.metadata().map_err(failed)?;
    if let Some(dir_owner) = sticky_owner()
        && meta.uid() != me
        && meta.uid() != dir_owner
    {
        return Err(unsafe_log(format!(
            "it belongs to uid {} in the sticky world-writable directory {}, which lets that \
             user read or redirect it",
            meta.uid(),
            quote(parent)
        )));
    }
    // O_NONBLOCK was for the open alone (a FIFO with no reader fails instead of waiting); writes
    // to a FIFO wait for its reader as writes to a file do.
    let flags =
        nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL).map_err(|e| failed(e.into()))?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) - nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags)).map_err(|e| failed(e.into()))?;
    Ok((file, created))
}

/// ENXIO from a non-blocking open for writing means a FIFO with no reader: say so.
pub(crate) fn fifo_or(err: io::Error, path: &Path) -> Error {
    if err.raw_os_error() == Some(libc::ENXIO) {
        return Error::UnsafeLog {
            path: path.to_owned(),
            reason: "it is a FIFO that no process is reading (start the reader first)".into(),
        };
    }
    Error::OpenLog {
        path: path.to_owned(),
        source: err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
