//! Noticing at once that logrotate renamed or removed a log: one inotify(7) instance for the
//! run, watching each log's directory (for the log's name: moved away, removed, created) and the
//! file open (moved, unlinked, its mode or owner changed). The kernel queues an event before the
//! rename(2) or unlink(2) that caused it returns, so a non-blocking read of the queue just
//! before a write tells whether the path still names the file about to be written: one read(2),
//! which fails with EAGAIN when nothing happened.
//!
//! Where inotify is missing or refused (no more instances: `fs.inotify.max_user_instances`; a
//! network filesystem whose changes come from other machines), the once-a-second `stat` of
//! `Dest::follow_path` is all there is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// One inotify instance for every log of the run (an instance is a file descriptor, and a user
/// may have only 128 by default), shared by their [`Watch`]es.
#[derive(Debug)]
pub struct Watcher {
    inotify: Inotify,
    /// What each watch is for: a directory, for the names of the logs in it, or a log's file.
    watches: HashMap<WatchDescriptor, Vec<(usize, Target)>>,
    /// Per log: whether something happened to its path or file since it last asked.
    moved: Vec<bool>,
}

#[derive(Debug)]
enum Target {
    /// An entry of the watched directory: the log's file name.
    Name(OsString),
    /// The log's file itself.
    File,
}

/// What happens to a directory entry that matters: the log's name leaves, or comes back.
const DIR_EVENTS: AddWatchFlags = AddWatchFlags::IN_MOVED_FROM
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_CREATE);

/// What happens to the file open that matters: moved, unlinked (the link count is an
/// attribute), or its mode or owner changed (logrotate's `create MODE OWNER` sets them just
/// after creating the file).
const FILE_EVENTS: AddWatchFlags = AddWatchFlags::IN_MOVE_SELF
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_ATTRIB);

/// One log's registration with the [`Watcher`].
#[derive(Debug)]
pub struct Watch {
    watcher: Rc<RefCell<Watcher>>,
    id: usize,
    file: Option<WatchDescriptor>,
}

impl Watcher {
    /// A watcher, or why there is none.
    pub fn new() -> nix::Result<Rc<RefCell<Watcher>>> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        Ok(Rc::new(RefCell::new(Watcher {
            inotify,
            watches: HashMap::new(),
            moved: Vec::new(),
        })))
    }

    /// Watches `path`'s directory for its name, and `file` (just opened at `path`). `None` when
    /// the directory cannot be watched (the fallback check then does it all).
    pub fn watch(this: &Rc<RefCell<Watcher>>, path: &Path, file: &File) -> Option<Watch> {
        let name = path.file_name()?.to_owned();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut watcher = this.borrow_mut();
        // The same directory gives the same descriptor (and mask) for every log in it.
        let wd = watcher.inotify.add_watch(dir, DIR_EVENTS).ok()?;
        let id = watcher.moved.len();
        watcher.moved.push(false);
        watcher
            .watches
            .entry(wd)
            .or_default()
            .push((id, Target::Name(name)));
        drop(watcher);
        let mut watch = Watch {
            watcher: Rc::clone(this),
            id,
            file: None,
        };
        watch.follow(file);
        Some(watch)
    }

    /// Reads every queued event, marking the logs they concern.
    fn drain(&mut self) {
        loop {
            let events = match self.inotify.read_events() {
                Ok(events) if !events.is_empty() => events,
                // EAGAIN: nothing (more) queued. Another error cannot be waited out either.
                _ => return,
            };
            for event in events {
                if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                    self.moved.iter_mut().for_each(|m| *m = true);
                    continue;
                }
                let Some(targets) = self.watches.get(&event.wd) else {
                    continue;
                };
                for (id, target) in targets {
                    let concerned = match target {
                        Target::File => true,
                        // IN_IGNORED: the directory itself went away.
                        Target::Name(name) => {
                            event.name.as_ref() == Some(name)
                                || event.mask.contains(AddWatchFlags::IN_IGNORED)
                        }
                    };
                    if concerned {
                        self.moved[*id] = true;
                    }
                }
            }
        }
    }
}

impl Watch {
    /// Whether the log's path or file changed since the last call: renamed, removed, created,
    /// its mode or owner changed. A hint, to be confirmed by comparing the path with the file.
    pub fn moved(&self) -> bool {
        let mut watcher = self.watcher.borrow_mut();
        watcher.drain();
        std::mem::take(&mut watcher.moved[self.id])
    }

    /// Watches `file`, just opened at the log's path, instead of the file before it.
    pub fn follow(&mut self, file: &File) {
        let mut watcher = self.watcher.borrow_mut();
        if let Some(old) = self.file.take() {
            let _ = watcher.inotify.rm_watch(old);
            watcher.watches.remove(&old);
        }
        // Through /proc, the watch is on the very file open, not on whatever the path names by
        // now.
        let proc = format!("/proc/self/fd/{}", file.as_fd().as_raw_fd());
        if let Ok(wd) = watcher.inotify.add_watch(proc.as_str(), FILE_EVENTS) {
            watcher
                .watches
                .entry(wd)
                .or_default()
                .push((self.id, Target::File));
            self.file = Some(wd);
        }
    }

    /// Waits, at most `limit`, for the log's name to come back in its directory (logrotate's
    /// `create` makes the new file just after the rename). Returns early on any event.
    pub fn wait_for_name(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let watcher = self.watcher.borrow();
            let mut fds = [PollFd::new(watcher.inotify.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, timeout) {
                Err(Errno::EINTR) => continue,
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            drop(watcher);
            let mut watcher = self.watcher.borrow_mut();
            watcher.drain();
            if std::mem::take(&mut watcher.moved[self.id]) {
                return;
            }
        }
    }
}
