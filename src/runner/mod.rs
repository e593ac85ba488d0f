//! Runs the command: spawns it with its stdout and stderr on pipes, reads each pipe on its own
//! thread with blocking reads, and pushes every event through the sinks from one writer loop on
//! the calling thread.
//!
//! ```text
//! reader(stdout) ─┐
//! reader(stderr) ─┼─ bounded channel ─> writer loop ─> Fanout ─> sinks
//! waiter(child)  ─┘
//! ```
//!
//! The channel is bounded, so a slow console or log slows the command (its pipe fills) instead of
//! growing teelog. No thread polls: readers block in `read`, the waiter in `waitpid`, and the
//! writer in `recv`, with a timeout only while it owes the sinks a pause.

pub mod signals;

use std::ffi::OsString;
use std::io::{self, Read};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::error::Error;
use crate::event::{Chunk, Exit, Start, Status, Stream};
use crate::sink::Fanout;

/// Bytes asked for in one `read`: the default capacity of a Linux pipe.
const READ_SIZE: usize = 64 * 1024;

/// Messages in flight between the readers and the writer loop (at most `READ_SIZE` bytes each).
const CHANNEL_CAPACITY: usize = 16;

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The program and its arguments, run without a shell.
    pub argv: Vec<OsString>,
    /// The command's stderr goes into the same pipe as its stdout.
    pub merge: bool,
    /// How long the command must be quiet, after some output, for a pause: classic then starts a
    /// new prompt with the next output, and jsonl writes a line it holds without its newline.
    pub pause: Duration,
    /// After the command exits, how long to keep reading while processes it left behind (`cmd &`)
    /// still hold its output pipes open.
    pub grace: Duration,
}

enum Msg {
    Chunk(Chunk),
    /// A pipe reached end of file (every process holding its write end closed it).
    Eof,
    Exited {
        status: Status,
        time: SystemTime,
        duration: Duration,
    },
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

    let (tx, rx) = mpsc::sync_channel(CHANNEL_CAPACITY);
    let mut open_pipes = 1;
    spawn_reader(out_reader, Stream::Stdout, tx.clone());
    if let Some(err_reader) = err_reader {
        open_pipes += 1;
        spawn_reader(err_reader, Stream::Stderr, tx.clone());
    }
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
        let _ = tx.send(Msg::Exited {
            status,
            time: SystemTime::now(),
            duration: started.elapsed(),
        });
    });

    fanout.start(&Start {
        time: start_time,
        command: spec
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        cwd: std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default(),
        pid,
    });

    let mut exited = None;
    // When the sinks are owed a pause, unless output comes first.
    let mut pause_at: Option<Instant> = None;
    // When to stop waiting for descendants that hold the pipes open.
    let mut give_up_at: Option<Instant> = None;
    while open_pipes > 0 || exited.is_none() {
        let wake_at = match (pause_at, give_up_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let msg = match wake_at {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        let msg = match msg {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                if pause_at.is_some_and(|at| at <= now) {
                    fanout.pause();
                    pause_at = None;
                }
                if give_up_at.is_some_and(|at| at <= now) {
                    // Log what was read already, and leave the rest to the lingering process.
                    for msg in rx.try_iter() {
                        if let Msg::Chunk(chunk) = msg {
                            fanout.chunk(&chunk);
                        }
                    }
                    break;
                }
                continue;
            }
            // Every sender sends its last message before it goes away, so the channel cannot
            // close before the loop ends; stop rather than spin if it ever did.
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match msg {
            Msg::Chunk(chunk) => {
                fanout.chunk(&chunk);
                pause_at = Some(Instant::now() + spec.pause);
            }
            Msg::Eof => open_pipes -= 1,
            Msg::Exited {
                status,
                time,
                duration,
            } => {
                exited = Some(Exit {
                    time,
                    status,
                    duration,
                });
                give_up_at = Some(Instant::now() + spec.grace);
            }
        }
    }
    let exit = exited.unwrap_or(Exit {
        time: SystemTime::now(),
        status: Status::Code(crate::error::EXIT_FAILED.into()),
        duration: started.elapsed(),
    });
    fanout.exit(&exit);
    Ok(exit.status)
}

/// Reads `pipe` until end of file on a thread of its own, sending each read as a chunk.
fn spawn_reader(mut pipe: os_pipe::PipeReader, stream: Stream, tx: SyncSender<Msg>) {
    thread::spawn(move || {
        let mut buf = vec![0; READ_SIZE];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = Chunk {
                        stream,
                        time: SystemTime::now(),
                        bytes: buf[..n].to_vec(),
                    };
                    if tx.send(Msg::Chunk(chunk)).is_err() {
                        return;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    crate::error::report(format_args!(
                        "cannot read the command's {}: {err}",
                        stream.name()
                    ));
                    break;
                }
            }
        }
        let _ = tx.send(Msg::Eof);
    });
}
