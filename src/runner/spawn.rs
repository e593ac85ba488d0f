//! The command's wiring and its start: where its stdin, stdout and stderr go (pipes, one pipe for
//! both outputs with `--merge`, a pseudo-terminal for stdout with `--pty`, a pipe from teelog for
//! stdin with `--log-input`), then the spawn itself.
//!
//! With `--pty` the pty is the command's stdout and nothing more: not its controlling terminal
//! (the command is not a session leader, so opening the slave does not make it one). Ctrl-C, job
//! control and `/dev/tty` prompts therefore go through teelog's own terminal exactly as without
//! `--pty`; the pty only makes `isatty(1)` true, so that stdio flushes per line. Its line
//! discipline is raw (`cfmakeraw`): no `\n` to `\r\n`, no echo, no line-length limit, so the
//! bytes read from the master are the bytes the program wrote. stderr stays a pipe of its own.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::{Command, Stdio};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawnp};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;

use super::job;
use crate::error::Error;
use crate::event::{Size, Stream};
use crate::sys;

/// What the command's pipes are enlarged to: Linux's default `pipe-max-size`.
const PIPE_SIZE: i32 = 1024 * 1024;

/// What the pipe to the command's stdin is shrunk to: one page, the least a pipe holds. With a
/// single buffer slot the pipe polls writable only once the command has taken everything in it,
/// so teelog reads its own stdin only as fast as the command takes it.
pub const INPUT_PIPE_SIZE: usize = 4096;

/// How to connect the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wiring {
    pub stdout: Stdout,
    pub stderr: Stderr,
    pub stdin: Stdin,
}

/// Where the command's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdout {
    /// A pipe of its own (`--pty` not given).
    Pipe,
    /// A pseudo-terminal (`--pty`), so that the command sees a terminal.
    Pty,
}

/// Where the command's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stderr {
    /// A pipe of its own, read as a stream of its own.
    Own,
    /// Into stdout's pipe or pty (`--merge`).
    Merged,
}

/// Where the command's stdin comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdin {
    /// teelog's own stdin, passed on as it is.
    Inherited,
    /// A pipe that teelog fills from its own stdin, recording what the command takes
    /// (`--log-input`).
    Recorded,
}

/// One of the command's outputs, as teelog reads it.
#[derive(Debug)]
pub struct Source {
    pub file: File,
    pub stream: Stream,
    /// A pty master, which says EIO (not end of file) once the last slave is closed.
    pub pty: bool,
    /// Whether the last take from it was big enough that the next may be spliced: the loop
    /// asks how much is ready (one more system call) only then.
    pub bulky: bool,
}

/// Both ends of the wiring: teelog's (`sources`, `input`), and the command's, which go to the
/// spawn and are closed in teelog with it.
#[derive(Debug)]
pub struct Wired {
    /// stdout first: the loop reads in this order, and a pty is read before a pipe.
    pub sources: Vec<Source>,
    /// teelog's end of the command's stdin with `--log-input`, non-blocking, and a duplicate of
    /// the command's end, kept only to ask how much of what teelog wrote is still unread
    /// (FIONREAD), after teelog's end is closed too.
    pub input: Option<(File, File)>,
    /// The pty's size, when there is one.
    pub size: Option<Size>,
    stdin: Option<OwnedFd>,
    /// Taken by the spawn.
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
}

impl Wired {
    /// Makes the pipes (and pty) that `wiring` asks for; `size` is the pty's window size.
    pub fn new(wiring: Wiring, size: Size) -> Result<Wired, Error> {
        let pipe = || -> Result<(File, OwnedFd), Error> {
            let (r, w) = std::io::pipe().map_err(Error::Pipe)?;
            // A larger pipe lets a fast command run ahead by more than 64 KiB, so teelog takes
            // its output in fewer, larger reads. This is kernel memory, not teelog's; where the
            // limit is lower the default size stays.
            let _ = fcntl(&r, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
            Ok((File::from(OwnedFd::from(r)), OwnedFd::from(w)))
        };
        let mut sources = Vec::new();
        let (stdout, size) = if wiring.stdout == Stdout::Pty {
            let (master, slave) = super::pty::open(size).map_err(Error::Pty)?;
            sources.push(Source {
                file: master,
                stream: Stream::Stdout,
                pty: true,
                bulky: true,
            });
            (slave, Some(size))
        } else {
            let (r, w) = pipe()?;
            sources.push(Source {
                file: r,
                stream: Stream::Stdout,
                pty: false,
                bulky: true,
            });
            (w, None)
        };
        let stderr = if wiring.stderr == Stderr::Merged {
            stdout.try_clone().map_err(Error::Pipe)?
        } else {
            let (r, w) = pipe()?;
            sources.push(Source {
                file: r,
                stream: Stream::Stderr,
                pty: false,
                bulky: true,
            });
            w
        };
        for source in &sources {
            // Only teelog reads these, so the flag is teelog's alone.
            set_nonblocking(&source.file).map_err(Error::Pipe)?;
        }
        let (stdin, input) = if wiring.stdin == Stdin::Recorded {
            let (r, w) = std::io::pipe().map_err(Error::Pipe)?;
            let _ = fcntl(&w, FcntlArg::F_SETPIPE_SZ(INPUT_PIPE_SIZE as i32));
            let w = File::from(OwnedFd::from(w));
            set_nonblocking(&w).map_err(Error::Pipe)?;
            let probe = File::from(OwnedFd::from(r.try_clone().map_err(Error::Pipe)?));
            (Some(OwnedFd::from(r)), Some((w, probe)))
        } else {
            (None, None)
        };
        Ok(Wired {
            sources,
            input,
            size,
            stdin,
            stdout: Some(stdout),
            stderr: Some(stderr),
        })
    }

    /// Starts `argv` on this wiring, in a process group of its own (with the terminal's
    /// foreground when teelog has it), and returns its pid. A file without a `#!` line that the
    /// kernel will not execute (ENOEXEC) is run with /bin/sh, as execvp, env, timeout and nice
    /// do. The command's ends of the wiring are closed in teelog on return, whatever happens: a
    /// pipe reaches end of file only once no process holds its write end (duct's "Avoid a
    /// deadlock!").
    pub fn spawn(
        &mut self,
        argv: &[OsString],
        terminal: Option<&job::Terminal>,
    ) -> Result<i32, Error> {
        let stdin = self.stdin.take();
        let (Some(stdout), Some(stderr)) = (self.stdout.take(), self.stderr.take()) else {
            unreachable!("a command is spawned once on its wiring");
        };
        let (program, args) = argv.split_first().ok_or(Error::NoCommand)?;
        let fds = Fds {
            stdin: stdin.as_ref().map(AsFd::as_fd),
            stdout: stdout.as_fd(),
            stderr: stderr.as_fd(),
        };
        let start = |argv: &[OsString]| match terminal {
            None => posix_spawn(argv, &fds),
            Some(terminal) => fork_exec(argv, &fds, terminal),
        };
        let spawned = match start(argv) {
            Err(err) if err.raw_os_error() == Some(nix::libc::ENOEXEC) => {
                match find_program(program) {
                    Some(path) => {
                        let mut sh = vec!["/bin/sh".into(), path.into_os_string()];
                        sh.extend(args.iter().cloned());
                        start(&sh)
                    }
                    None => Err(err),
                }
            }
            other => other,
        };
        spawned.map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })
    }
}

/// The command's end of the wiring: its stdin (inherited when `None`), stdout and stderr.
struct Fds<'a> {
    stdin: Option<BorrowedFd<'a>>,
    stdout: BorrowedFd<'a>,
    stderr: BorrowedFd<'a>,
}

/// Starts `argv` with posix_spawnp(3) (looked up in PATH, teelog's environment) in a process
/// group of its own, with an empty signal mask and SIGPIPE at its default (std ignores it in
/// teelog). A signal ignored when teelog started stays ignored, and glibc leaves its own two
/// (32 and 33) ignored, as for any program it spawns. glibc starts the child with `CLONE_VFORK`,
/// sharing teelog's memory until the exec instead of copying its page tables: `teelog -o x.log
/// -- true` went from 0.34 to 0.26 ms over `timeout 10 true` (6 alternating runs of
/// `benches/compare.py --sections startup`). std's `Command` cannot do this here: it forks as
/// soon as a `pre_exec` hook is set, and its own posix_spawn leaves the child the spawning
/// thread's mask, in which every signal is blocked until the handlers are in place
/// (`relay::Installing`).
fn posix_spawn(argv: &[OsString], fds: &Fds<'_>) -> io::Result<i32> {
    let argv = c_strings(argv.iter().map(|a| a.as_bytes().to_vec()))?;
    let env = c_strings(std::env::vars_os().map(|(key, value)| {
        let mut pair = key.into_vec();
        pair.push(b'=');
        pair.extend_from_slice(value.as_bytes());
        pair
    }))?;
    let mut actions = PosixSpawnFileActions::init()?;
    if let Some(stdin) = fds.stdin {
        actions.add_dup2(stdin.as_raw_fd(), 0)?;
    }
    actions.add_dup2(fds.stdout.as_raw_fd(), 1)?;
    actions.add_dup2(fds.stderr.as_raw_fd(), 2)?;
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_pgroup(Pid::from_raw(0))?;
    attr.set_sigmask(&SigSet::empty())?;
    let mut default = SigSet::empty();
    default.add(Signal::SIGPIPE);
    attr.set_sigdefault(&default)?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    let pid = posix_spawnp(&argv[0], &actions, &attr, &argv, &env)?;
    Ok(pid.as_raw())
}

/// Starts `argv` with std's fork and exec, which can run [`sys::own_process_group`] in the
/// child: it gives the command's group the terminal's foreground before the program runs.
fn fork_exec(argv: &[OsString], fds: &Fds<'_>, terminal: &job::Terminal) -> io::Result<i32> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdout(Stdio::from(fds.stdout.try_clone_to_owned()?))
        .stderr(Stdio::from(fds.stderr.try_clone_to_owned()?));
    if let Some(stdin) = fds.stdin {
        command.stdin(Stdio::from(stdin.try_clone_to_owned()?));
    }
    sys::own_process_group(&mut command, terminal.fd());
    Ok(command.spawn()?.id() as i32)
}

/// `strings` as C strings; one with a NUL byte inside cannot be passed to a program.
fn c_strings(strings: impl Iterator<Item = Vec<u8>>) -> io::Result<Vec<CString>> {
    strings
        .map(|s| {
            CString::new(s).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an argument or variable holds a NUL byte",
                )
            })
        })
        .collect()
}

fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL)?);
    fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

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
