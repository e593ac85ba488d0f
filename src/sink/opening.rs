//! Opening a run's file logs: all of them or none, what each one's state calls for (a record
//! another run left cut short, a mode that lets others read the output), and the watcher that
//! notices logrotate at work.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::watch::{Watch, Watcher};
use crate::error::{Error, quote, report};

/// The logs of one run being opened. Until [`Opening::done`], a failure (a later log that
/// cannot be opened, two logs that are the same file) undoes what the opening did: the files it
/// created are removed, and no file was emptied yet. So a run that does not start leaves the
/// disk as it found it.
#[derive(Debug, Default)]
pub struct Opening {
    /// Files this run created, with their device and inode (a file someone put in their place
    /// since is left alone).
    created: Vec<(PathBuf, (u64, u64))>,
    /// Recordings to empty (asciicast: one per file) once every log is open.
    to_empty: Vec<(PathBuf, File)>,
    /// The run's inotify instance, made with the first file log (`Err` once it could not be).
    watcher: Option<Result<Rc<RefCell<Watcher>>, ()>>,
}

impl Opening {
    pub fn new() -> Opening {
        Opening::default()
    }

    /// Notes that `path` was created by this run, as `file`.
    pub(super) fn created(&mut self, path: &Path, file: &File) {
        if let Ok(meta) = file.metadata() {
            self.created
                .push((path.to_owned(), (meta.dev(), meta.ino())));
        }
    }

    /// Empties `file` (at `path`) when every log is open.
    pub(super) fn empty_later(&mut self, path: &Path, file: &File) -> Result<(), Error> {
        let copy = file.try_clone().map_err(|source| Error::OpenLog {
            path: path.to_owned(),
            source,
        })?;
        self.to_empty.push((path.to_owned(), copy));
        Ok(())
    }

    /// A watch on `path`, open as `file`; `None` (said once) when inotify cannot be had.
    pub(super) fn watch(&mut self, path: &Path, file: &File) -> Option<Watch> {
        let watcher = self.watcher.get_or_insert_with(|| {
            Watcher::new().map_err(|err| {
                report(format_args!(
                    "warning: cannot watch the logs for renames (inotify: {err}); a log \
                     logrotate moves is noticed within a second instead of at once"
                ));
            })
        });
        Watcher::watch(watcher.as_ref().ok()?, path, file)
    }

    /// Every log is open: empties the recordings that start afresh, and keeps what was created.
    pub fn done(mut self) -> Result<(), Error> {
        for (path, file) in std::mem::take(&mut self.to_empty) {
            file.set_len(0)
                .map_err(|source| Error::OpenLog { path, source })?;
        }
        self.created.clear();
        Ok(())
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        for (path, identity) in &self.created {
            let same = std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == *identity);
            if same {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// The unit in which the kernel makes a write visible (see `end_cut_record`); a multiple of it
/// on every architecture Linux runs on with 4 KiB or larger pages.
const PAGE: u64 = 4096;

/// How many times a log that looks cut at a page boundary is looked at again, 2 ms apart.
const GROWING_CHECKS: usize = 25;

/// When the regular file `file` is not empty and does not end in a newline, appends one: the
/// last record was cut short (a full disk, `ulimit -f`, `kill -9` mid-write), and the next one
/// must not be glued onto it. Under the `flock` every teelog takes before writing a classic
/// log, so that two runs starting together add one newline, not two. The last byte is read
/// through a second, read-only descriptor of the same file (`/proc/self/fd`; the log is open
/// for appending only); a log that cannot be read is left as it is. Appending is all it does,
/// so an append-only file (`chattr +a`) takes it too.
pub(super) fn end_cut_record(file: &File) -> io::Result<()> {
    if !file.metadata()?.is_file() {
        return Ok(());
    }
    let Ok(reader) = File::open(format!("/proc/self/fd/{}", file.as_fd().as_raw_fd())) else {
        return Ok(());
    };
    let locked = file.lock().is_ok();
    let ended = (|| {
        let mut len = reader.metadata()?.len();
        for _ in 0..GROWING_CHECKS {
            let mut last = [0u8];
            if len == 0 || reader.read_exact_at(&mut last, len - 1).is_err() || last[0] == b'\n' {
                return Ok(());
            }
            // A jsonl record is written without the lock, in one write(2); while the kernel
            // copies a write that crosses a page, the file's size grows page by page
            // (generic_perform_write), so another run's record in progress looks cut at a
            // page boundary for a moment. Wait for it to end instead of adding a newline
            // after it (which would make an empty line). A record really cut short stays.
            if len % PAGE != 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
            let now = reader.metadata()?.len();
            if now == len {
                break;
            }
            len = now;
        }
        let mut file = file;
        file.write_all(b"\n")
    })();
    if locked {
        let _ = file.unlock();
    }
    ended
}

/// Says, in one line, when the log file `file` lets users other than its owner read or write
/// it (an existing 0644 log, or logrotate's `create 0644 nobody`): teelog creates logs 0600, but
/// never changes the mode of a file it did not create. Returns whether it said so.
pub(super) fn warn_if_open_to_others(path: &Path, file: &File) -> bool {
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let mode = meta.mode() & 0o7777;
    if !meta.is_file() || mode & 0o066 == 0 {
        return false;
    }
    let who = if mode & 0o044 != 0 {
        "read the output"
    } else {
        "write to it"
    };
    let owner = if meta.uid() == nix::unistd::Uid::effective().as_raw() {
        String::new()
    } else {
        format!(" and belongs to uid {}", meta.uid())
    };
    report(format_args!(
        "warning: log {} has mode {mode:04o}{owner}: users other than its owner can {who} \
         (chmod 600 it to keep the output private)",
        quote(path)
    ));
    true
}
