//! What a file log's state calls for when it is opened: a record another run left cut short.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileExt;

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
