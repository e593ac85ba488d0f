//! Runs the command: spawns it on its wiring (see `spawn`: pipes, or a pty for stdout), in a
//! process group of its own, and from one loop on the calling thread reads whatever its outputs
//! have as it arrives and pushes it into an [`Events`] (the sinks' fan-out, which the runner does
//! not know); with `--log-input` the same loop passes teelog's stdin on to the command,
//! recording it.
//!
//! ```text
//! command ─ stdout pipe/pty ─┐
//! command ─ stderr pipe ─────┼─ poll(2) ─> read ─> Events ─> sinks      (one thread)
//! waiter(child) ─ pipe ──────┤
//! teelog's stdin ────────────┘─> read ─> Events, and ─> pipe ─> command's stdin
//! ```
//!
//! One thread reads and writes, as `tee` does: a chunk reaches the console without a hand-over
//! between threads (which cost ~70 µs a chunk here), and a slow console or log slows the command
//! (its pipe fills while teelog writes) instead of growing teelog. Nothing polls busily: the loop
//! sleeps in poll(2), with a timeout only while it owes the sinks a pause or is waiting out the
//! grace period, and the waiter thread sleeps in waitpid.
//!
//! Nothing the command wrote is dropped: after it exits, teelog reads until its pipes reach end
//! of file. Only when processes it left behind keep them open does the grace period apply, and
//! it counts only the time teelog spends waiting for output that does not come, never the time
//! it spends writing (a slow console). When teelog then stops, it first reads what the pipes
//! hold at that moment; whatever is still there after that is reported, with its size.

mod input;
mod job;
mod pty;
mod pump;
pub mod relay;
mod spawn;

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::error::{EXIT_FAILED, Error, report};
use crate::event::{Events, Exit, Size, Start, Status};
use crate::sys;
use input::Input;
pub use pty::Resize;
use pump::Pump;
use spawn::Wired;
pub use spawn::{INPUT_PIPE_SIZE, Stderr, Stdin, Stdout, Wiring};

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The program and its arguments, run without a shell.
    pub argv: Vec<OsString>,
    /// The command line as the logs show it: `argv` with secrets masked.
    pub display: Vec<String>,
    /// Where the command's stdin, stdout and stderr go.
    pub wiring: Wiring,
    /// How long the command must be quiet, after some output, for a pause: classic then starts a
    /// new prompt with the next output, and jsonl writes a line it holds without its newline.
    pub pause: Duration,
    /// After the command exits, how long to wait, in all, for output from processes it left
    /// behind (`cmd &`) that still hold its output pipes open.
    pub grace: Duration,
    /// The run's identity, for the start event.
    pub who: Who,
}

/// Which run this is, who started it, where.
#[derive(Debug, Clone)]
pub struct Who {
    pub session: String,
    pub user: String,
    pub host: String,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    pub status: Status,
    /// Whether teelog read everything it had to.
    pub reading: Reading,
}

/// Whether teelog read everything it had to: the command's output, and with `--log-input`
/// its own stdin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Every byte, to the end of every output.
    Complete,
    /// Not all of it (a failed read or poll, output left unread): teelog has said so on stderr
    /// and, where it could, in the logs.
    Incomplete,
}

impl Reading {
    /// `Incomplete` once a read has failed, else as it was.
    fn after(self, taken: pump::Taken) -> Reading {
        match taken.source {
            pump::Left::Failed => Reading::Incomplete,
            pump::Left::Open | pump::Left::AtEnd => self,
        }
    }
}

/// How the command ended, and when: what the waiter thread sends.
#[derive(Clone, Copy, Debug)]
struct Exited {
    time: SystemTime,
    /// From spawn to the command's exit.
    duration: Duration,
    status: Status,
}

/// The waiter thread, as the loop sees it: a pipe that it closes once it has sent how the
/// command ended (the loop's wake-up call), and the channel it sends that on.
#[derive(Debug)]
struct Waiter {
    exited: std::io::PipeReader,
    exits: mpsc::Receiver<Exited>,
}

/// The run's clock: wall-clock time at the start plus monotonic time since, so that times never
/// go back (or jump) when the system clock is stepped during a run.
#[derive(Clone, Copy, Debug)]
struct Clock {
    wall: SystemTime,
    mono: Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: SystemTime::now(),
            mono: Instant::now(),
        }
    }

    fn now(&self) -> SystemTime {
        self.wall + self.mono.elapsed()
    }
}

/// Runs `spec` to its end, pushing its events into `fanout`; returns how the command ended.
/// Generic, not `dyn`: the one consumer is monomorphised, so a chunk costs no indirect call.
/// A command that cannot be started is still on record: a start and an exit record (127 or
/// 126, with the reason) are written before the error is returned.
pub fn run(spec: &Spec, fanout: &mut impl Events) -> Result<Ended, Error> {
    let terminal = job::Terminal::foreground();
    // A duplicate of the terminal, to follow its size (the waiter thread owns `terminal`).
    let size_tty: Option<File> = terminal
        .as_ref()
        .and_then(|t| t.fd().try_clone_to_owned().ok())
        .map(File::from);
    let terminal_size = size_tty
        .as_ref()
        .and_then(|t| sys::window_size(t.as_fd()))
        .or_else(|| sys::window_size(io::stdout().as_fd()))
        .or_else(|| sys::window_size(io::stderr().as_fd()));
    let mut wired = Wired::new(spec.wiring, terminal_size.unwrap_or(Size::DEFAULT))?;
    let input = match wired.input.take() {
        Some((to, probe)) => Some(Input::new(to, probe)?),
        None => None,
    };
    // The waiter closes `exited_w` once it has the status: the loop's wake-up call.
    let (exited_r, exited_w) = std::io::pipe().map_err(Error::Pipe)?;
    let cont = match terminal {
        Some(_) => relay::Continue::ByJobControl,
        None => relay::Continue::Relayed,
    };
    // Installed while the command is being spawned; any signal that comes meanwhile waits.
    let installing = relay::Catcher::install_meanwhile(cont);

    let clock = Clock::start();
    let mut start = start_event(spec, &clock, wired.size.or(terminal_size));
    let pid = match wired.spawn(&spec.argv, terminal.as_ref()) {
        Ok(pid) => pid,
        Err(err) => {
            let _ = installing.finish();
            record_failed_start(&start, &err, &clock, fanout);
            return Err(err);
        }
    };
    let catcher = match installing.finish() {
        Ok(catcher) => catcher,
        Err(err) => {
            // Without its handlers teelog could not outlive a signal to log the end: stop the
            // command it has just started rather than leave it running unlogged.
            let _ = sys::send(-pid, nix::libc::SIGKILL);
            let _ = sys::wait(pid);
            return Err(Error::Signals(err));
        }
    };
    relay::block_tty_stop();
    let reaped = Arc::new(AtomicBool::new(false));
    catcher.relay_to(
        pid,
        Arc::clone(&reaped),
        Resize::of(size_tty.as_ref(), &wired.sources),
    );
    let exits = wait_on_a_thread(pid, terminal, clock, reaped, exited_w);

    start.pid = Some(pid as u32);
    fanout.start(&start);
    let waiter = Waiter {
        exited: exited_r,
        exits,
    };
    let pump = Pump::new(
        spec,
        clock,
        wired,
        input,
        size_tty,
        waiter,
        fanout.splices(),
    );
    Ok(pump.run(fanout))
}

/// The start event, before the command has a pid; `size` is its pty's or teelog's terminal's.
fn start_event(spec: &Spec, clock: &Clock, size: Option<Size>) -> Start {
    Start {
        time: clock.wall,
        session: spec.who.session.clone(),
        user: spec.who.user.clone(),
        host: spec.who.host.clone(),
        size,
        command: spec.display.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default(),
        pid: None,
    }
}

/// Puts a command that could not be started on record: its start, and an exit with the code
/// (127 or 126) and the reason.
fn record_failed_start(start: &Start, err: &Error, clock: &Clock, fanout: &mut impl Events) {
    fanout.start(start);
    fanout.exit(&Exit {
        time: clock.now(),
        status: Status::Code(err.exit_code().into()),
        duration: clock.mono.elapsed(),
        unread: 0,
        resent: 0,
        error: Some(err.reason()),
    });
}

/// Waits for the command `pid` on a thread of its own, which sends how it ended (and when) and
/// then closes `exited_w`; sets `reaped` before, so that no signal is relayed to a reused pid.
fn wait_on_a_thread(
    pid: i32,
    terminal: Option<job::Terminal>,
    clock: Clock,
    reaped: Arc<AtomicBool>,
    exited_w: std::io::PipeWriter,
) -> mpsc::Receiver<Exited> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let status = match job::wait(pid, terminal.as_ref()) {
            Ok(status) => status,
            // waitpid on our own child cannot fail short of a bug; say so rather than hang.
            Err(err) => {
                report(format_args!("cannot wait for the command: {err}"));
                Status::Code(EXIT_FAILED.into())
            }
        };
        reaped.store(true, Ordering::Release);
        let _ = tx.send(Exited {
            time: clock.now(),
            duration: clock.mono.elapsed(),
            status,
        });
        drop(exited_w);
    });
    rx
}
