//! The events the runner pushes through every formatter: one `Start`, then `Chunk`s (and pauses,
//! which carry no data), then one `Exit`.

use std::process::ExitStatus;
use std::time::{Duration, SystemTime};

/// Which of the command's output pipes a chunk was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name used in logs (`"stdout"` / `"stderr"`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// 0 for stdout, 1 for stderr: an index into per-stream state.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The command has been started.
#[derive(Clone, Debug)]
pub struct Start {
    pub time: SystemTime,
    /// The argv actually executed (lossy UTF-8).
    pub command: Vec<String>,
    /// teelog's (and so the command's) working directory.
    pub cwd: String,
    pub pid: u32,
}

/// Bytes read from one pipe at once (what it had ready); never empty.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a> {
    pub stream: Stream,
    /// When the bytes were read.
    pub time: SystemTime,
    pub bytes: &'a [u8],
}

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal number.
    Signal(i32),
}

impl Status {
    pub fn from_exit_status(status: ExitStatus) -> Status {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Code(code),
            (None, Some(signal)) => Status::Signal(signal),
            // Neither exited nor signalled is impossible for a waited-for child.
            (None, None) => Status::Code(125),
        }
    }

    /// The signal's name (`"SIGTERM"`), or `None` when the command exited normally.
    pub fn signal_name(self) -> Option<&'static str> {
        match self {
            Status::Code(_) => None,
            Status::Signal(n) => Some(crate::runner::signals::name(n).unwrap_or("SIG?")),
        }
    }
}

/// The command has ended and its output has been read.
#[derive(Clone, Copy, Debug)]
pub struct Exit {
    pub time: SystemTime,
    pub status: Status,
    /// From spawn to the command's exit.
    pub duration: Duration,
}
