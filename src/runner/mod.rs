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

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};

use crate::error::{EXIT_FAILED, Error, report};
use crate::event::{Events, Exit, Size, Start, Status};
use crate::sys;
use input::Input;
pub use pty::Resize;
use pty::{SIZE_CHECK, follow_size, hung_up};
use pump::{BATCH, Slot, pass_on, splice_or_pass_on, timeout_until};
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
    /// teelog could not read everything (a failed read or poll, bytes left unread); it has said
    /// so on stderr and, where it could, in the logs.
    pub trouble: bool,
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
    let mut input = match wired.input.take() {
        Some((to, probe)) => Some(Input {
            from: io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
                .map_err(Error::Input)?,
            to: Some(to),
            pending: Vec::new(),
            empty: true,
            unrecorded: Vec::new(),
            probe,
        }),
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
    let mut start = Start {
        time: clock.wall,
        session: spec.who.session.clone(),
        user: spec.who.user.clone(),
        host: spec.who.host.clone(),
        size: wired.size.or(terminal_size),
        command: spec.display.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default(),
        pid: None,
    };
    let pid = match wired.spawn(&spec.argv, terminal.as_ref()) {
        Ok(pid) => pid,
        Err(err) => {
            let _ = installing.finish();
            let code = err.exit_code();
            fanout.start(&start);
            fanout.exit(&Exit {
                time: clock.now(),
                status: Status::Code(code.into()),
                duration: clock.mono.elapsed(),
                unread: 0,
                error: Some(err.reason()),
            });
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
    let resize = match (&size_tty, wired.sources.iter().find(|s| s.pty)) {
        (Some(tty), Some(pty)) => match (tty.try_clone(), pty.file.try_clone()) {
            (Ok(tty), Ok(pty)) => Some(Resize { tty, pty }),
            _ => None,
        },
        _ => None,
    };
    catcher.relay_to(pid, Arc::clone(&reaped), resize);

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
        let _ = tx.send((clock.now(), clock.mono.elapsed(), status));
        drop(exited_w);
    });

    start.pid = Some(pid as u32);
    fanout.start(&start);

    let mut sources = wired.sources;
    let mut pty_size = wired.size;
    let mut next_size_check = Instant::now() + SIZE_CHECK;
    let mut buf = vec![0; BATCH];
    let mut trouble = false;
    let mut exited = None;
    // When the sinks are owed a pause, unless output comes first.
    let mut pause_at: Option<Instant> = None;
    // Time spent waiting for output since the command exited: the grace period's clock.
    let mut idle = Duration::ZERO;
    let mut slots = Vec::new();
    let splices = fanout.splices();
    while !sources.is_empty() || exited.is_none() {
        if exited.is_some() && idle >= spec.grace {
            break;
        }
        let mut wake_at = pause_at;
        if exited.is_some() {
            let give_up = Instant::now() + (spec.grace - idle);
            wake_at = Some(wake_at.map_or(give_up, |at| at.min(give_up)));
        }
        slots.clear();
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(sources.len() + 2);
        for (i, source) in sources.iter().enumerate() {
            fds.push(PollFd::new(source.file.as_fd(), PollFlags::POLLIN));
            slots.push(Slot::Source(i));
        }
        if exited.is_none() {
            fds.push(PollFd::new(exited_r.as_fd(), PollFlags::POLLIN));
            slots.push(Slot::Waiter);
        }
        if let Some(input) = &input
            && let Some(to) = &input.to
        {
            if !input.pending.is_empty() || !input.empty {
                fds.push(PollFd::new(to.as_fd(), PollFlags::POLLOUT));
                slots.push(Slot::InputRoom);
            } else {
                fds.push(PollFd::new(input.from.as_fd(), PollFlags::POLLIN));
                slots.push(Slot::InputData);
            }
        }
        let waiting_since = Instant::now();
        let polled = poll(&mut fds, timeout_until(wake_at));
        let now = Instant::now();
        if exited.is_some() {
            idle += now - waiting_since;
        }
        let ready: Vec<Slot> = match polled {
            Ok(_) => fds
                .iter()
                .zip(&slots)
                .filter(|(fd, _)| fd.revents().is_some_and(|r| !r.is_empty()))
                .map(|(_, slot)| *slot)
                .collect(),
            Err(Errno::EINTR) => continue,
            Err(err) => {
                report(format_args!("cannot wait for the command's output: {err}"));
                trouble = true;
                break;
            }
        };
        drop(fds);
        // Input the command has read is recorded before the output it may have caused.
        if let Some(input) = &mut input {
            input.settle(&clock, fanout);
        }

        // A pty's output reaches its master a moment after the write (the kernel passes it on
        // from a work queue), so a pipe can be readable before a pty written to earlier. Reading
        // the pty first whenever anything is ready (a read waits for that work) keeps a
        // statement on stdout ahead of the error it caused on stderr.
        let any_source = ready.iter().any(|s| matches!(s, Slot::Source(_)));
        let mut eof = Vec::new();
        for (i, source) in sources.iter_mut().enumerate() {
            let wanted = ready.contains(&Slot::Source(i))
                || (source.pty && any_source)
                || fanout.holding_input();
            if !wanted {
                continue;
            }
            loop {
                let (read, at_end, failed) = if splices && !source.pty {
                    splice_or_pass_on(source, &mut buf, &clock, fanout)
                } else {
                    pass_on(source, &mut buf, usize::MAX, &clock, fanout)
                };
                if read > 0 {
                    pause_at = Some(now + spec.pause);
                    if source.pty && now >= next_size_check {
                        next_size_check = now + SIZE_CHECK;
                        follow_size(size_tty.as_ref(), source, &mut pty_size);
                    }
                }
                trouble |= failed;
                if at_end {
                    eof.push(i);
                }
                // While input is held, the round's output is read to what the pipe holds: a
                // prompt behind more than one buffer of output would otherwise be seen a round
                // late, and the answer typed at it recorded as it was.
                if !fanout.holding_input() || read != buf.len() || at_end || failed {
                    break;
                }
            }
        }
        for i in eof.into_iter().rev() {
            sources.remove(i);
        }
        fanout.output_read();
        if let Some(input) = &mut input {
            if ready.contains(&Slot::InputData) {
                trouble |= input.read(&mut buf);
            } else if ready.contains(&Slot::InputRoom) {
                input.room();
            }
        }
        if ready.contains(&Slot::Waiter) {
            // The waiter sends before it closes its pipe.
            exited = rx.recv().ok();
        }
        if pause_at.is_some_and(|at| at <= now) {
            fanout.pause();
            pause_at = None;
        }
    }
    if let Some(input) = &mut input {
        input.settle(&clock, fanout);
    }
    drop(input);
    let (time, duration, status) = match exited {
        Some(exit) => exit,
        // The loop failed before the command ended: its status is still the one to log.
        None => rx.recv().unwrap_or((
            clock.now(),
            clock.mono.elapsed(),
            Status::Code(EXIT_FAILED.into()),
        )),
    };
    // Stopping with pipes still open: read what they hold now, then count what is left.
    let mut unread = 0;
    for source in &mut sources {
        if source.pty && hung_up(source) {
            // No process holds the pty's slave any more, so nothing more can come, but what
            // was written may still be on its way to the master (FIONREAD counts only what has
            // arrived): read to the end, EIO.
            loop {
                let (read, at_end, failed) = pass_on(source, &mut buf, usize::MAX, &clock, fanout);
                trouble |= failed;
                if at_end || read == 0 {
                    break;
                }
            }
        }
        let mut owed = sys::bytes_ready(source.file.as_fd()).unwrap_or(0);
        while owed > 0 {
            let (read, at_end, failed) = pass_on(source, &mut buf, owed, &clock, fanout);
            trouble |= failed;
            owed = owed.saturating_sub(read);
            if read == 0 || at_end {
                break;
            }
        }
        unread += sys::bytes_ready(source.file.as_fd()).unwrap_or(0) as u64;
    }
    if unread > 0 {
        report(format_args!(
            "stopped reading the command's output with {unread} bytes unread: processes it \
             started still hold it open, and the grace period ({}) ran out",
            seconds(spec.grace)
        ));
        trouble = true;
    }
    fanout.exit(&Exit {
        time,
        status,
        duration,
        unread,
        error: None,
    });
    Ok(Ended { status, trouble })
}

/// `1s`, `0.25s`
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_ready_counts_what_a_pipe_holds() {
        use std::io::Write;
        let (reader, mut writer) = std::io::pipe().unwrap();
        assert_eq!(sys::bytes_ready(reader.as_fd()).unwrap(), 0);
        writer.write_all(&[7; 1000]).unwrap();
        assert_eq!(sys::bytes_ready(reader.as_fd()).unwrap(), 1000);
    }
}
