//! A file destination: opened with care (see the module above), rotated with `--max-size` and
//! `--keep`, and followed when logrotate renames or removes it (inotify, with a once-a-second
//! check as the fallback).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::libc;

use super::{Dest, Kind, opening, watch, write_all_waiting};
use crate::error::{Error, quote};

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

impl Dest {
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
        // Watched before its mode is looked at: logrotate's `create MODE OWNER` sets them just
        // after making the file, and a change made between the look and the watch would go
        // unseen, the file never said to be open to others.
        if let Some(watch) = &mut log.watch {
            watch.follow(&file);
        }
        log.warned = opening::warn_if_open_to_others(&log.path, &file);
        log.identity = (meta.dev(), meta.ino());
        log.checked = std::time::Instant::now();
        self.to = Some(Kind::File(file));
        Ok(())
    }

    /// When the log's path no longer names the file open (logrotate renamed or removed it),
    /// opens the path again. Looks when the watch says something happened (checked before
    /// every write: one read(2), EAGAIN when nothing did), and once a second whatever it says.
    /// A path that cannot be opened again drops the log ([`Dest::lose`]).
    pub(crate) fn follow_path(&mut self) {
        self.follow_path_with(|_| {});
    }

    /// [`Dest::follow_path`], with `last_words` written to the file that was moved away just
    /// before the path is opened again (a sealed log's seal, as the last line of the old file).
    pub(crate) fn follow_path_with(&mut self, last_words: impl FnOnce(&mut Dest)) {
        let Some(log) = &mut self.log else {
            return;
        };
        if self.to.is_none() {
            return;
        }
        let moved = log.watch.as_ref().is_some_and(watch::Watch::moved);
        if !moved && log.checked.elapsed() < REOPEN_CHECK {
            return;
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
            return;
        }
        if now.is_err()
            && let Some(watch) = &log.watch
        {
            watch.wait_for_name(CREATE_WAIT);
        }
        last_words(self);
        if self.to.is_none() {
            return;
        }
        if let Err(err) = self.reopen() {
            let message = format!("cannot open {} again: {err}", self.name);
            self.lose(&message, err.kind());
        }
    }
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
    let sticky = StickyDir::of(path);
    // A symlink is checked before it is opened (the kernel's own check, when on, would only say
    // "Permission denied"); another user cannot swap a symlink that passes, as the directory is
    // sticky and the link is ours or the directory owner's. Anything else is opened without
    // following a symlink, so that one planted in between fails.
    let there = std::fs::symlink_metadata(path);
    let absent = there
        .as_ref()
        .is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
    let link = there.ok().filter(|m| m.file_type().is_symlink());
    if let Some(link) = &link {
        sticky.refuse_foreign(
            path,
            link.uid(),
            "it is a symlink owned by",
            "which could send the output anywhere",
        )?;
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
    sticky.refuse_foreign(
        path,
        meta.uid(),
        "it belongs to",
        "which lets that user read or redirect it",
    )?;
    // O_NONBLOCK was for the open alone (a FIFO with no reader fails instead of waiting); writes
    // to a FIFO wait for its reader as writes to a file do.
    let flags =
        nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL).map_err(|e| failed(e.into()))?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) - nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags)).map_err(|e| failed(e.into()))?;
    Ok((file, created))
}

/// The directory a log is opened in, for the checks a sticky world-writable one (/tmp) needs.
struct StickyDir<'a> {
    path: &'a Path,
    /// teelog's effective uid.
    me: u32,
}

impl StickyDir<'_> {
    fn of(log: &Path) -> StickyDir<'_> {
        let path = match log.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let me = nix::unistd::Uid::effective().as_raw();
        StickyDir { path, me }
    }

    /// The directory's owner, when it is sticky and world-writable (looked at each time: the
    /// open in between may take a while, on a FIFO).
    fn owner(&self) -> Option<u32> {
        std::fs::metadata(self.path)
            .ok()
            .filter(|m| m.mode() & 0o1002 == 0o1002)
            .map(|m| m.uid())
    }

    /// Refuses `log` when it belongs to `uid`, who is neither teelog's user nor the directory's
    /// owner, in a sticky world-writable directory: `what` uid N in the directory, `risk`.
    fn refuse_foreign(&self, log: &Path, uid: u32, what: &str, risk: &str) -> Result<(), Error> {
        match self.owner() {
            Some(dir_owner) if uid != self.me && uid != dir_owner => Err(Error::UnsafeLog {
                path: log.to_owned(),
                reason: format!(
                    "{what} uid {uid} in the sticky world-writable directory {}, {risk}",
                    quote(self.path)
                ),
            }),
            _ => Ok(()),
        }
    }
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
