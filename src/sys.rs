//! The few system calls teelog makes that safe Rust (std, nix, signal-hook) does not offer: the
//! command's own process group and terminal set up between fork and exec, signals by number (nix
//! knows no real-time signals), dying of any signal, `FIONREAD`, window sizes, and a handler for the fault
//! signals (SEGV, ILL, FPE) that signal-hook refuses. Every `unsafe` block of teelog is here.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;

/// Puts the command, between fork and exec, in a process group of its own and makes that group
/// the foreground of `terminal` (of which teelog is the foreground process group), as a shell
/// does for a job: the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z then reach the command directly and
/// once, and a signal sent to teelog's group reaches teelog alone, which relays it once. (Without
/// a terminal, posix_spawn does the rest of this: see `spawn::posix_spawn`.)
///
/// The child does both itself so that it is in place before the program runs (a shell does it
/// in parent and child for the same reason). tcsetpgrp from what is now a background group would
/// raise SIGTTOU, so SIGTTOU is blocked around it. Last, the mask is emptied: the command starts
/// with no signal blocked whatever teelog blocks while it spawns it (all of them, see
/// `signals::Installing`); one sent to it meanwhile is delivered then.
pub fn own_process_group(command: &mut Command, terminal: BorrowedFd<'_>) {
    let fd: RawFd = terminal.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe
    // functions (setpgid, sigemptyset, sigaddset, pthread_sigmask, tcsetpgrp, getpid) on memory
    // of its own stack; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut block: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            libc::sigaddset(&mut block, libc::SIGTTOU);
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, std::ptr::null_mut());
            // Failing here (the terminal went away) leaves the command in the background,
            // which is where teelog was about to be anyway: not a reason to fail the run.
            libc::tcsetpgrp(fd, libc::getpid());
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// `kill(target, signal)` for any signal number, real-time ones included (`target` < 0 is a
/// process group).
pub fn send(target: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    match unsafe { libc::kill(target, signal) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Ends teelog by `signal` with its default action (which is to terminate for every signal teelog
/// mirrors); returns only if that did not end it.
pub fn die_by(signal: i32) {
    // SAFETY: resetting a disposition to SIG_DFL and unblocking the signal for this thread
    // involve no Rust state; the handlers signal-hook installed are simply no longer called.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
}

/// How many bytes `fd` (a pipe) holds right now.
pub fn bytes_ready(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to `n`.
    match unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) } {
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(usize::try_from(n).unwrap_or(0)),
    }
}

/// The window size of the terminal `fd`, or `None` when it is not a terminal.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<crate::event::Size> {
    let mut size: libc::winsize = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize through the pointer, which points to `size`.
    match unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } {
        -1 => None,
        _ if size.ws_col == 0 || size.ws_row == 0 => None,
        _ => Some(crate::event::Size {
            cols: size.ws_col,
            rows: size.ws_row,
        }),
    }
}

/// Sets the window size of the terminal `fd` (a pty master).
pub fn set_window_size(fd: BorrowedFd<'_>, size: crate::event::Size) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize through the pointer, which points to `size`.
    match unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &size) } {
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(()),
    }
}

/// The command's process group once it runs (0 before): where the fault-signal handler relays.
static COMMAND_GROUP: AtomicI32 = AtomicI32::new(0);

/// Relays SIGSEGV, SIGILL and SIGFPE sent to teelog with `kill` to the command's process group
/// (signal-hook refuses these three, which normally mean a fault). A real fault (`si_code` > 0,
/// set by the kernel) gets the default action back and happens again on return, so teelog still
/// dies of it as it would have.
pub fn relay_fault_signals(ignored: impl Fn(i32) -> bool) -> io::Result<()> {
    for signal in [libc::SIGSEGV, libc::SIGILL, libc::SIGFPE] {
        if ignored(signal) {
            continue;
        }
        // SAFETY: the handler below only reads an atomic and calls kill/signal, which are
        // async-signal-safe; the sigaction struct is fully initialised before use.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Tells the fault-signal handler where the command is.
pub fn set_command_group(pgid: i32) {
    COMMAND_GROUP.store(pgid, Ordering::Release);
}

extern "C" fn on_fault_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
    let code = unsafe { (*info).si_code };
    if code > 0 {
        // SAFETY: async-signal-safe; see relay_fault_signals.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
        return;
    }
    let group = COMMAND_GROUP.load(Ordering::Acquire);
    if group > 0 {
        // SAFETY: as above.
        unsafe { libc::kill(-group, signal) };
    }
}

/// What `waitpid` reported about the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    Exited(i32),
    Killed(i32),
    Stopped(i32),
    /// Anything else (continued): wait again.
    Other,
}

/// `waitpid(pid, WUNTRACED)`, with the raw signal numbers (nix's `WaitStatus` cannot hold a
/// real-time signal, std's `wait` does not report stops).
pub fn wait(pid: i32) -> io::Result<Waited> {
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid writes one c_int through the pointer, which points to `status`.
    if unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(if libc::WIFEXITED(status) {
        Waited::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Waited::Killed(libc::WTERMSIG(status))
    } else if libc::WIFSTOPPED(status) {
        Waited::Stopped(libc::WSTOPSIG(status))
    } else {
        Waited::Other
    })
}

/// A file lease (`fcntl(F_SETLEASE)`), which nix does not wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// A write lease: granted only while no other open file description of the file exists
    /// (in any process); while it is held, another open(2) or truncate(2) of the file waits until
    /// it is released (or for `/proc/sys/fs/lease-break-time` at most).
    Write,
    /// No lease.
    None,
}

/// Takes or releases a lease on `fd`, a regular file teelog owns.
pub fn lease(fd: BorrowedFd<'_>, lease: Lease) -> io::Result<()> {
    let kind = match lease {
        Lease::Write => libc::F_WRLCK,
        Lease::None => libc::F_UNLCK,
    };
    // SAFETY: F_SETLEASE takes an int argument and touches no memory of ours.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLEASE, kind) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// How many bytes written to the socket `fd` its peer has not taken yet (`SIOCOUTQ`, which is
/// `TIOCOUTQ`): for TCP, those not acknowledged (sent or not); for a unix datagram socket, the
/// memory of its datagrams that the reader has not read yet.
pub fn unacknowledged(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one c_int through the pointer, which points to `n`.
    match unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut n) } {
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(usize::try_from(n).unwrap_or(0)),
    }
}

/// The receive window the TCP peer of `fd` last advertised (`TCP_INFO`'s `tcpi_snd_wnd`), or
/// `None` when the kernel does not tell (before Linux 5.4).
pub fn peer_window(fd: BorrowedFd<'_>) -> Option<u32> {
    // SAFETY: tcp_info is a C struct of integers, for which all-zero bytes are a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes (the struct's size) into `info`, and the
    // length it wrote into `len`, both ours and alive for the call.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    let end = std::mem::offset_of!(libc::tcp_info, tcpi_snd_wnd) + 4;
    (rc == 0 && len as usize >= end).then_some(info.tcpi_snd_wnd)
}

/// Stops the whole of teelog by `signal` (SIGTSTP, SIGTTIN or SIGTTOU) with that signal's
/// default action, and returns once teelog is continued, with the handler (signal-hook's) and
/// this thread's mask as they were. Sent to this thread, unblocked in it, so that teelog has
/// stopped before the call returns. SIGSTOP, or a disposition that cannot be changed, stops it
/// by SIGSTOP.
pub fn stop_by(signal: i32) {
    // SAFETY: sigaction reads and writes the two sigaction values on this stack; the handler
    // put back is the very one read out, so signal-hook's state is untouched. pthread_sigmask
    // and pthread_kill act on this thread only, with sets built here.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut default.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        if signal == libc::SIGSTOP || libc::sigaction(signal, &default, &mut old) != 0 {
            libc::pthread_kill(libc::pthread_self(), libc::SIGSTOP);
            return;
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, &mut mask);
        libc::pthread_kill(libc::pthread_self(), signal);
        libc::sigaction(signal, &old, std::ptr::null_mut());
        libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_ready_counts_what_a_pipe_holds() {
        use std::io::Write;
        use std::os::fd::AsFd;
        let (reader, mut writer) = std::io::pipe().unwrap();
        assert_eq!(bytes_ready(reader.as_fd()).unwrap(), 0);
        writer.write_all(&[7; 1000]).unwrap();
        assert_eq!(bytes_ready(reader.as_fd()).unwrap(), 1000);
    }
}
