//! Runs the command: spawns it with its stdout and stderr on pipes, and from one loop on the
//! calling thread reads whatever the pipes have as it arrives and pushes it through the sinks.
//!
//! ```text
//! command ─ stdout pipe ─┐
//! command ─ stderr pipe ─┼─ poll(2) ─> read ─> Fanout ─> sinks      (one thread)
//! waiter(child) ─ pipe ──┘
//! ```
//!
//! One thread reads and writes, as `tee` does: a chunk reaches the console without a hand-over
//! between threads (which cost ~70 µs a chunk here), and a slow console or log slows the command
//! (its pipe fills while teelog writes) instead of growing teelog. Nothing polls busily: the loop
//! sleeps in poll(2), with a timeout only while it owes the sinks a pause or is waiting out the
//! grace period, and the waiter thread sleeps in waitpid.

pub mod signals;

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::Error;
use crate::event::{Chunk, Exit, Start, Status, Stream};
use crate::sink::Fanout;

/// The most bytes taken from a pipe in one go: what is ready is read up to this, without waiting
/// for more, and goes out as one chunk (one `write` per sink).
const BATCH: usize = 128 * 1024;

/// What the command's pipes are enlarged to: Linux's default `pipe-max-size`.
const PIPE_SIZE: i32 = 1024 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The program and its arguments, run without a shell.
    pub argv: Vec<OsString>,
    /// The command line as the logs show it: `argv` with secrets masked.
    pub display: Vec<String>,
    /// The command's stderr goes into the same pipe as its stdout.
    pub merge: bool,
    /// How long the command must be quiet, after some output, for a pause: classic then starts a
    /// new prompt with the next output, and jsonl writes a line it holds without its newline.
    pub pause: Duration,
    /// After the command exits, how long to keep reading while processes it left behind (`cmd &`)
    /// still hold its output pipes open.
    pub grace: Duration,
}

/// Runs `spec` to its end, pushing its events through `fanout`; returns how the command ended.
pub fn run(spec: &Spec, fanout: &mut Fanout) -> Result<Status, Error> {
    let (out_reader, out_writer) = os_pipe::pipe().map_err(Error::Pipe)?;
    let (err_reader, err_writer) = if spec.merge {
        (None, out_writer.try_clone().map_err(Error::Pipe)?)
    } else {
        let (r, w) = os_pipe::pipe().map_err(Error::Pipe)?;
        (Some(r), w)
    };
    let mut pipes = vec![(out_reader, Stream::Stdout)];
    pipes.extend(err_reader.map(|r| (r, Stream::Stderr)));
    for (pipe, _) in &pipes {
        // A larger pipe lets a fast command run ahead by more than 64 KiB, so teelog takes its
        // output in fewer, larger reads, with less contention on the pipe's lock. This is
        // kernel memory, not teelog's; where the limit is lower the default size stays.
        let _ = fcntl(pipe, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        // Only teelog reads these pipes, so the flag is teelog's alone.
        fcntl(pipe, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(|e| Error::Pipe(e.into()))?;
    }
    // The waiter closes `exited_w` once it has the status: the loop's wake-up call.
    let (exited_r, exited_w) = os_pipe::pipe().map_err(Error::Pipe)?;
    let catcher = signals::Catcher::install().map_err(Error::Signals)?;

    let started = Instant::now();
    let start_time = SystemTime::now();
    let mut child = {
        let (program, args) = spec.argv.split_first().ok_or(Error::NoCommand)?;
        let mut command = Command::new(program);
        command.args(args).stdout(out_writer).stderr(err_writer);
        command.spawn().map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?
        // `command` is dropped here, closing teelog's copies of the pipes' write ends: a pipe
        // reaches end of file only once no process holds its write end (duct's "Avoid a
        // deadlock!", os_pipe's docs).
    };
    let pid = child.id();
    let reaped = Arc::new(AtomicBool::new(false));
    catcher.forward_to(pid, Arc::clone(&reaped));

    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let status = match child.wait() {
            Ok(status) => Status::from_exit_status(status),
            // waitpid on our own child cannot fail short of a bug; say so rather than hang.
            Err(err) => {
                crate::error::report(format_args!("cannot wait for the command: {err}"));
                Status::Code(crate::error::EXIT_FAILED.into())
            }
        };
        reaped.store(true, Ordering::Release);
        let _ = tx.send(Exit {
            time: SystemTime::now(),
            status,
            duration: started.elapsed(),
        });
        drop(exited_w);
    });

    fanout.start(&Start {
        time: start_time,
        command: spec.display.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default(),
        pid,
    });

    let mut buf = vec![0; BATCH];
    let mut exited: Option<Exit> = None;
    // When the sinks are owed a pause, unless output comes first.
    let mut pause_at: Option<Instant> = None;
    // When to stop waiting for descendants that hold the pipes open.
    let mut give_up_at: Option<Instant> = None;
    while !pipes.is_empty() || exited.is_none() {
        let wake_at = match (pause_at, give_up_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut fds: Vec<PollFd<'_>> = pipes
            .iter()
            .map(|(pipe, _)| PollFd::new(pipe.as_fd(), PollFlags::POLLIN))
            .collect();
        if exited.is_none() {
            fds.push(PollFd::new(exited_r.as_fd(), PollFlags::POLLIN));
        }
        let ready: Vec<bool> = match poll(&mut fds, timeout_until(wake_at)) {
            Ok(_) => fds
                .iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect(),
            Err(Errno::EINTR) => continue,
            Err(err) => {
                crate::error::report(format_args!("cannot wait for the command's output: {err}"));
                break;
            }
        };
        drop(fds);
        // The waiter's pipe is polled last, while the exit is still to come.
        let waiter_done = exited.is_none() && ready.get(pipes.len()) == Some(&true);

        let now = Instant::now();
        let mut eof = Vec::new();
        for (i, (pipe, stream)) in pipes.iter_mut().enumerate() {
            if !ready[i] {
                continue;
            }
            let (read, at_end) = pass_on(pipe, *stream, &mut buf, fanout);
            if read {
                pause_at = Some(now + spec.pause);
            }
            if at_end {
                eof.push(i);
            }
        }
        for i in eof.into_iter().rev() {
            pipes.remove(i);
        }
        if waiter_done {
            // The waiter sends before it closes its pipe.
            exited = rx.recv().ok();
            give_up_at = Some(now + spec.grace);
        }
        if pause_at.is_some_and(|at| at <= now) {
            fanout.pause();
            pause_at = None;
        }
        if give_up_at.is_some_and(|at| at <= now) {
            // Log what is there already, and leave the rest to whoever still holds the pipes.
            for (pipe, stream) in &mut pipes {
                pass_on(pipe, *stream, &mut buf, fanout);
            }
            break;
        }
    }
    let exit = exited.unwrap_or_else(|| Exit {
        time: SystemTime::now(),
        status: Status::Code(crate::error::EXIT_FAILED.into()),
        duration: started.elapsed(),
    });
    fanout.exit(&exit);
    Ok(exit.status)
}

/// Reads what `pipe` has ready (up to `buf`'s size, without waiting for more) and pushes it
/// through the sinks as one chunk; returns whether anything was read, and whether the pipe is at
/// its end.
fn pass_on(
    pipe: &mut os_pipe::PipeReader,
    stream: Stream,
    buf: &mut [u8],
    fanout: &mut Fanout,
) -> (bool, bool) {
    let time = SystemTime::now();
    let (n, at_end) = read_ready(pipe, buf, stream);
    if n > 0 {
        fanout.chunk(&Chunk {
            stream,
            time,
            bytes: &buf[..n],
        });
    }
    (n > 0, at_end)
}

/// Reads what `pipe` has ready, up to `buf`'s size, without waiting for more; returns how many
/// bytes and whether the pipe is at its end.
fn read_ready(pipe: &mut os_pipe::PipeReader, buf: &mut [u8], stream: Stream) -> (usize, bool) {
    let mut n = 0;
    while n < buf.len() {
        match pipe.read(&mut buf[n..]) {
            Ok(0) => return (n, true),
            // Less than asked for: the pipe was empty just now, so another read would only say
            // EAGAIN.
            Ok(k) if k < buf.len() - n => return (n + k, false),
            Ok(k) => n += k,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                crate::error::report(format_args!(
                    "cannot read the command's {}: {err}",
                    stream.name()
                ));
                return (n, true);
            }
        }
    }
    (n, false)
}

/// A poll(2) timeout that ends at `at` (never early: rounded up to the millisecond).
fn timeout_until(at: Option<Instant>) -> PollTimeout {
    match at {
        None => PollTimeout::NONE,
        Some(at) => {
            let ms = at
                .saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000);
            PollTimeout::try_from(ms.min(i32::MAX as u128) as u64).unwrap_or(PollTimeout::MAX)
        }
    }
}
