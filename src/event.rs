//! The events the runner pushes through every formatter: one `Start`, then `Chunk`s (and pauses,
//! which carry no data), then one `Exit`. They carry everything a formatter needs, so that
//! `teelog replay` can rebuild them from a jsonl recording and feed the same formatters. The
//! runner pushes them into an [`Events`] (as ripgrep's searcher pushes into its `Sink`): it does
//! not know what consumes them.

use std::fs::File;
use std::time::{Duration, SystemTime};

/// Where the runner pushes what the command does (`sink::Fanout` is the one implementation).
///
/// The runner calls `start` once (also for a command that could not be started), then `chunk`
/// for each read of a stream and `pause` when the command has been quiet for `--pause` after
/// some output, then `exit` once. Failures are the consumer's own business: none of these
/// returns one. Only `chunk` has no default body; the rest are hooks a consumer may leave alone.
pub trait Events {
    fn start(&mut self, _ev: &Start) {}
    fn chunk(&mut self, ev: &Chunk<'_>);
    fn pause(&mut self) {}
    /// Under `--pty`: the command's terminal took a new size at `time` (teelog's own terminal
    /// was resized), before the output that follows.
    fn resize(&mut self, _time: SystemTime, _size: Size) {}
    fn exit(&mut self, _ev: &Exit) {}
    /// Whether input is being held until the output of the same round has been read (a password
    /// prompt may be in it): the runner then reads every output source in that round and calls
    /// `output_read` after.
    fn holding_input(&self) -> bool {
        false
    }
    /// The runner has read the output of one round of its loop.
    fn output_read(&mut self) {}
    /// Whether output may go by [`Events::splice`] instead of `chunk`: asked once, before the
    /// first output.
    fn splices(&self) -> bool {
        false
    }
    /// Takes up to `len` bytes of `stream` (at least [`SPLICE_MIN`]) straight out of its pipe
    /// `from` at `time`, with `buf` to read into where a destination cannot take a splice;
    /// returns how many were moved, 0 to have them read and pushed as a `chunk` instead.
    fn splice(
        &mut self,
        _stream: Stream,
        _time: std::time::SystemTime,
        _from: &File,
        _len: usize,
        _buf: &mut [u8],
    ) -> usize {
        0
    }
    /// When the consumer wants `wake` called if nothing else happens first (a sealed log owes a
    /// seal after `--seal-interval`): the runner's wait ends no later. Asked before each wait.
    fn wake_at(&self) -> Option<std::time::Instant> {
        None
    }
    /// The time `wake_at` gave has come.
    fn wake(&mut self, _now: std::time::Instant) {}
}

/// The least output the runner offers to [`Events::splice`]: below that, the calls cost more
/// than the copies they save.
pub const SPLICE_MIN: usize = 64 * 1024;

/// Which of the command's streams a chunk belongs to: its output pipes (or pty), or, with
/// `--log-input`, what teelog passed to its stdin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
    Stdin,
}

impl Stream {
    /// Every stream, in index order.
    pub const ALL: [Stream; 3] = [Stream::Stdout, Stream::Stderr, Stream::Stdin];

    /// The name used in logs (`"stdout"`, `"stderr"`, `"stdin"`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Stdin => "stdin",
        }
    }

    pub fn from_name(name: &str) -> Option<Stream> {
        Stream::ALL.into_iter().find(|s| s.name() == name)
    }

    /// 0 for stdout, 1 for stderr, 2 for stdin: an index into per-stream state.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A terminal's size in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub cols: u16,
    pub rows: u16,
}

impl Size {
    /// What a terminal is assumed to be when there is none to ask.
    pub const DEFAULT: Size = Size { cols: 80, rows: 24 };
}

/// The command has been started.
#[derive(Clone, Debug)]
pub struct Start {
    pub time: SystemTime,
    /// Unique per run.
    pub session: String,
    /// Who ran it, where.
    pub user: String,
    pub host: String,
    /// The size of teelog's terminal (of the command's pty with `--pty`), when there is one.
    pub size: Option<Size>,
    /// The argv actually executed (lossy UTF-8).
    pub command: Vec<String>,
    /// teelog's (and so the command's) working directory.
    pub cwd: String,
    /// `None` when the command could not be started.
    pub pid: Option<u32>,
}

/// Bytes read from one pipe at once (what it had ready); never empty.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a> {
    pub stream: Stream,
    /// When the bytes were read.
    pub time: SystemTime,
    pub bytes: &'a [u8],
}

/// How a process ended: the command (in the logs and replay), and teelog itself (what
/// `lib::run` returns and `main` turns into teelog's exit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal number.
    Signal(i32),
}

impl Status {
    /// How a child process ended, as std reports it.
    pub fn of(status: std::process::ExitStatus) -> Status {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Code(code),
            (None, Some(signal)) => Status::Signal(signal),
            // Stopped or continued: only a waitpid with WUNTRACED/WCONTINUED reports these.
            (None, None) => unreachable!("a process that has not ended: {status:?}"),
        }
    }

    /// The signal's name (`"SIGTERM"`, `"SIGRTMIN+3"`), or `None` when the command exited.
    pub fn signal_name(self) -> Option<String> {
        match self {
            Status::Code(_) => None,
            Status::Signal(n) => Some(crate::signal::name(n)),
        }
    }
}

/// An exit code.
impl From<i32> for Status {
    fn from(code: i32) -> Status {
        Status::Code(code)
    }
}

/// The command has ended and its output has been read.
#[derive(Clone, Debug)]
pub struct Exit {
    /// When the command ended (formatters never stamp it earlier than what they wrote before).
    pub time: SystemTime,
    pub status: Status,
    /// From spawn to the command's exit.
    pub duration: Duration,
    /// Bytes still in the command's pipes when teelog stopped reading them (processes it left
    /// behind held them open past the grace period); 0 when everything was read.
    pub unread: u64,
    /// Messages sent again to a collector after a reconnect, up to the exit (`relp=`): the
    /// collector may hold them twice, and can drop the second by session and seq.
    pub resent: u64,
    /// Why the command could not be started (its status is then 127 or 126).
    pub error: Option<String>,
}
