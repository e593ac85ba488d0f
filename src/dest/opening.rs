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
    pub(crate) fn created(&mut self, path: &Path, file: &File) {
        if let Ok(meta) = file.metadata() {
            self.created
                .push((path.to_owned(), (meta.dev(), meta.ino())));
        }
    }

    /// Empties `file` (at `path`) when every log is open.
    pub(crate) fn empty_later(&mut self, path: &Path, file: &File) -> Result<(), Error> {
        let copy = file.try_clone().map_err(|source| Error::OpenLog {
            path: path.to_owned(),
            source,
        })?;
        self.to_empty.push((path.to_owned(), copy));
        Ok(())
    }

    /// A watch on `path`, open as `file`; `None` (said once) when inotify cannot be had.
    pub(crate) fn watch(&mut self, path: &Path, file: &File) -> Option<Watch> {
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

/// When the regular file `file` is not empty and does not end in a newline, appends one: the
/// last record was cut short (a full disk, `ulimit -f`, `kill -9` mid-write), and the next one
/// must not be glued onto it. Under the `flock` every teelog takes to write a classic or jsonl
/// log, so that two runs starting together add one newline, not two, and a record another run
/// is writing is never seen half-copied (the file grows page by page while the kernel copies a
/// write; taking that moment for a cut made an empty line). The last byte is read
/// through a second, read-only descriptor of the same file (`/proc/self/fd`; the log is open
/// for appending only); a log that cannot be read is left as it is. Appending is all it does,
/// so an append-only file (`chattr +a`) takes it too.
pub(crate) fn end_cut_record(file: &File) -> io::Result<()> {
    if !file.metadata()?.is_file() {
        return Ok(());
    }
    let Ok(reader) = File::open(format!("/proc/self/fd/{}", file.as_fd().as_raw_fd())) else {
        return Ok(());
    };
    let locked = file.lock().is_ok();
    let ended = (|| {
        let len = reader.metadata()?.len();
        let mut last = [0u8];
        if len == 0 || reader.read_exact_at(&mut last, len - 1).is_err() || last[0] == b'\n' {
            return Ok(());
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
pub(crate) fn warn_if_open_to_others(path: &Path, file: &File) -> bool {
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
