//! Runs the command: spawns it with its stdout and stderr on pipes, in a process group of its
//! own, and from one loop on the calling thread reads whatever the pipes have as it arrives and
//! pushes it through the sinks.
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
//!
//! Nothing the command wrote is dropped: after it exits, teelog reads until its pipes reach end
//! of file. Only when processes it left behind keep them open does the grace period apply, and
//! it counts only the time teelog spends waiting for output that does not come, never the time
//! it spends writing (a slow console). When teelog then stops, it first reads what the pipes
//! hold at that moment; whatever is still there after that is reported, with its size.

mod job;
pub mod signals;
mod sys;

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

use crate::error::{EXIT_FAILED, Error, report};
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
    /// After the command exits, how long to wait, in all, for output from processes it left
    /// behind (`cmd &`) that still hold its output pipes open.
    pub grace: Duration,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    pub status: Status,
    /// teelog could not read everything (a failed read or poll, bytes left unread); it has said
    /// so on stderr and, where it could, in the logs.
    pub trouble: bool,
}

/// One of the command's output pipes.
struct Pipe {
    reader: os_pipe::PipeReader,
    stream: Stream,
}

/// Runs `spec` to its end, pushing its events through `fanout`; returns how the command ended.
/// A command that cannot be started is still on record: a start and an exit record (127 or
/// 126, with the reason) are written before the error is returned.
pub fn run(spec: &Spec, fanout: &mut Fanout) -> Result<Ended, Error> {
    let (out_reader, out_writer) = os_pipe::pipe().map_err(Error::Pipe)?;
    let (err_reader, err_writer) = if spec.merge {
        (None, out_writer.try_clone().map_err(Error::Pipe)?)
    } else {
        let (r, w) = os_pipe::pipe().map_err(Error::Pipe)?;
        (Some(r), w)
    };
    let mut pipes = vec![Pipe {
        reader: out_reader,
        stream: Stream::Stdout,
    }];
    pipes.extend(err_reader.map(|reader| Pipe {
        reader,
        stream: Stream::Stderr,
    }));
    for pipe in &pipes {
        // A larger pipe lets a fast command run ahead by more than 64 KiB, so teelog takes its
        // output in fewer, larger reads, with less contention on the pipe's lock. This is
        // kernel memory, not teelog's; where the limit is lower the default size stays.
        let _ = fcntl(&pipe.reader, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        // Only teelog reads these pipes, so the flag is teelog's alone.
        fcntl(&pipe.reader, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
            .map_err(|e| Error::Pipe(e.into()))?;
    }
    // The waiter closes `exited_w` once it has the status: the loop's wake-up call.
    let (exited_r, exited_w) = os_pipe::pipe().map_err(Error::Pipe)?;
    let terminal = job::Terminal::foreground();
    let cont = match terminal {
        Some(_) => signals::Continue::ByJobControl,
        None => signals::Continue::Relayed,
    };
    let catcher = signals::Catcher::install(cont).map_err(Error::Signals)?;
    signals::block_tty_stop();

    let started = Instant::now();
    let start_time = SystemTime::now();
    let mut start = Start {
        time: start_time,
        command: spec.display.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default(),
        pid: None,
    };
    let child = match spawn(&spec.argv, out_writer, err_writer, terminal.as_ref()) {
        Ok(child) => child,
        Err(err) => {
            let code = err.exit_code();
            fanout.start(&start);
            fanout.exit(&Exit {
                time: SystemTime::now(),
                status: Status::Code(code.into()),
                duration: started.elapsed(),
                unread: 0,
                error: Some(err.reason()),
            });
            return Err(err);
        }
    };
    // The spawn's `Command` is gone, and with it teelog's copies of the pipes' write ends: a
    // pipe reaches end of file only once no process holds its write end (duct's "Avoid a
    // deadlock!", os_pipe's docs).
    let pid = child.id() as i32;
    // Not waited for through `child`: the waiter below uses waitpid to follow stops too.
    drop(child);
    let reaped = Arc::new(AtomicBool::new(false));
    catcher.relay_to(pid, Arc::clone(&reaped));

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
        let _ = tx.send((SystemTime::now(), started.elapsed(), status));
        drop(exited_w);
    });

    start.pid = Some(pid as u32);
    fanout.start(&start);

    let mut buf = vec![0; BATCH];
    let mut trouble = false;
    let mut exited = None;
    // When the sinks are owed a pause, unless output comes first.
    let mut pause_at: Option<Instant> = None;
    // Time spent waiting for output since the command exited: the grace period's clock.
    let mut idle = Duration::ZERO;
    while !pipes.is_empty() || exited.is_none() {
        if exited.is_some() && idle >= spec.grace {
            break;
        }
        let mut wake_at = pause_at;
        if exited.is_some() {
            let give_up = Instant::now() + (spec.grace - idle);
            wake_at = Some(wake_at.map_or(give_up, |at| at.min(give_up)));
        }
        let mut fds: Vec<PollFd<'_>> = pipes
            .iter()
            .map(|p| PollFd::new(p.reader.as_fd(), PollFlags::POLLIN))
            .collect();
        if exited.is_none() {
            fds.push(PollFd::new(exited_r.as_fd(), PollFlags::POLLIN));
        }
        let waiting_since = Instant::now();
        let polled = poll(&mut fds, timeout_until(wake_at));
        let now = Instant::now();
        if exited.is_some() {
            idle += now - waiting_since;
        }
        let ready: Vec<bool> = match polled {
            Ok(_) => fds
                .iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect(),
            Err(Errno::EINTR) => continue,
            Err(err) => {
                report(format_args!("cannot wait for the command's output: {err}"));
                trouble = true;
                break;
            }
        };
        drop(fds);
        // The waiter's pipe is polled last, while the exit is still to come.
        let waiter_done = exited.is_none() && ready.get(pipes.len()) == Some(&true);

        let mut eof = Vec::new();
        for (i, pipe) in pipes.iter_mut().enumerate() {
            if !ready[i] {
                continue;
            }
            let (read, at_end, failed) = pass_on(pipe, &mut buf, usize::MAX, fanout);
            if read > 0 {
                pause_at = Some(now + spec.pause);
            }
            trouble |= failed;
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
        }
        if pause_at.is_some_and(|at| at <= now) {
            fanout.pause();
            pause_at = None;
        }
    }
    let (time, duration, status) = match exited {
        Some(exit) => exit,
        // The loop failed before the command ended: its status is still the one to log.
        None => rx.recv().unwrap_or((
            SystemTime::now(),
            started.elapsed(),
            Status::Code(EXIT_FAILED.into()),
        )),
    };
    // Stopping with pipes still open: read what they hold now, then count what is left.
    let mut unread = 0;
    for pipe in &mut pipes {
        let mut owed = sys::bytes_ready(pipe.reader.as_fd()).unwrap_or(0);
        while owed > 0 {
            let (read, at_end, failed) = pass_on(pipe, &mut buf, owed, fanout);
            trouble |= failed;
            owed = owed.saturating_sub(read);
            if read == 0 || at_end {
                break;
            }
        }
        unread += sys::bytes_ready(pipe.reader.as_fd()).unwrap_or(0) as u64;
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

/// Starts `argv` with its output on the given pipes, in a process group of its own (with the
/// terminal's foreground when teelog has it). A file without a `#!` line that the kernel will not
/// execute (ENOEXEC) is run with /bin/sh, as execvp, env, timeout and nice do.
fn spawn(
    argv: &[OsString],
    stdout: os_pipe::PipeWriter,
    stderr: os_pipe::PipeWriter,
    terminal: Option<&job::Terminal>,
) -> Result<std::process::Child, Error> {
    let (program, args) = argv.split_first().ok_or(Error::NoCommand)?;
    let command = |program: &OsString, args: &[OsString]| -> io::Result<Command> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdout(stdout.try_clone()?)
            .stderr(stderr.try_clone()?);
        sys::own_process_group(&mut command, terminal.map(job::Terminal::fd));
        Ok(command)
    };
    let spawned = command(program, args).and_then(|mut c| c.spawn());
    let spawned = match spawned {
        Err(err) if err.raw_os_error() == Some(nix::libc::ENOEXEC) => match find_program(program) {
            Some(path) => {
                let mut sh_args = vec![path.into_os_string()];
                sh_args.extend(args.iter().cloned());
                command(&"/bin/sh".into(), &sh_args).and_then(|mut c| c.spawn())
            }
            None => Err(err),
        },
        other => other,
    };
    spawned.map_err(|source| Error::Spawn {
        program: program.clone(),
        source,
    })
}

/// Where the exec search finds `program`: itself when it names a path, else the first
/// executable file of that name in `$PATH`.
fn find_program(program: &OsString) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    if program.as_bytes().contains(&b'/') {
        return Some(program.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Reads what `pipe` has ready (up to `buf`'s size and `limit`, without waiting for more) and
/// pushes it through the sinks as one chunk; returns how many bytes were read, whether the pipe
/// is at its end, and whether reading failed (reported).
fn pass_on(
    pipe: &mut Pipe,
    buf: &mut [u8],
    limit: usize,
    fanout: &mut Fanout,
) -> (usize, bool, bool) {
    let time = SystemTime::now();
    let len = buf.len().min(limit);
    let (n, at_end, failed) = read_ready(&mut pipe.reader, &mut buf[..len], pipe.stream);
    if n > 0 {
        fanout.chunk(&Chunk {
            stream: pipe.stream,
            time,
            bytes: &buf[..n],
        });
    }
    (n, at_end, failed)
}

/// Reads what `pipe` has ready, up to `buf`'s size, without waiting for more; returns how many
/// bytes, whether the pipe is at its end, and whether reading failed (then reported, and the
/// pipe treated as ended).
fn read_ready(
    pipe: &mut os_pipe::PipeReader,
    buf: &mut [u8],
    stream: Stream,
) -> (usize, bool, bool) {
    let mut n = 0;
    while n < buf.len() {
        match pipe.read(&mut buf[n..]) {
            Ok(0) => return (n, true, false),
            // Less than asked for: the pipe was empty just now, so another read would only say
            // EAGAIN.
            Ok(k) if k < buf.len() - n => return (n + k, false, false),
            Ok(k) => n += k,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                report(format_args!(
                    "cannot read the command's {}: {err}",
                    stream.name()
                ));
                return (n, true, true);
            }
        }
    }
    (n, false, false)
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
        let (reader, mut writer) = os_pipe::pipe().unwrap();
        assert_eq!(sys::bytes_ready(reader.as_fd()).unwrap(), 0);
        writer.write_all(&[7; 1000]).unwrap();
        assert_eq!(sys::bytes_ready(reader.as_fd()).unwrap(), 1000);
    }

    #[test]
    fn a_script_without_a_shebang_is_found_for_sh() {
        assert_eq!(
            find_program(&"./x".into()),
            Some(std::path::PathBuf::from("./x"))
        );
        assert_eq!(
            find_program(&"sh".into()).map(|p| p.file_name().unwrap().to_owned()),
            Some("sh".into())
        );
        assert_eq!(find_program(&"teelog-no-such-program".into()), None);
    }
}
