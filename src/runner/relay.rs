//! Signals. teelog must outlive every signal it can catch (to log how the command ended), relay
//! the ones meant for the command exactly once, and finally end the way the command ended.
//!
//! The command runs in a process group of its own (see [`crate::sys::own_process_group`]), which
//! has the terminal's foreground when teelog had it, so:
//! - the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z reach the command directly and teelog not at all;
//! - a signal sent to teelog's process group (`kill -- -PGID`, a shell's `kill %1`) reaches
//!   teelog alone, and teelog relays it once;
//! - a signal sent to teelog (`kill PID`) is relayed once.
//!
//! Relayed means sent to the command's process group (the command and what it started), as the
//! terminal would. Not relayed, following sudo (`exec_nopty.c`): signals the kernel sent
//! (`si_code` SI_KERNEL: the hangup of teelog's terminal also reached the command's group),
//! signals teelog sent itself (SIGXFSZ and SIGPIPE from its own writes carry its pid), signals
//! from a process in the command's own group, and the second of two identical signals sent with
//! kill(2) by one sender within [`DUPLICATE_WINDOW`]: `timeout` sends its signal to teelog and
//! then to teelog's group, which is teelog again, and the command must see it once, real-time
//! signals included (the kernel merges pending standard signals anyway, and signal-hook reports a
//! signal once when several copies arrive before its thread reads them; sigqueue(3) sends, which
//! carry a value each, are not merged by this rule).
//!
//! Every catchable signal is caught except SIGCHLD and SIGPIPE (teelog's own business), SIGCONT
//! when teelog handed the command the terminal (left to its default, continuing teelog; job
//! control then continues the command, see `job`), the two glibc keeps for its threads, and a
//! real-time signal the environment refuses a handler for (valgrind keeps the highest ones); a
//! signal that was ignored when teelog started (`nohup`) stays ignored, for teelog and the
//! command. SIGSEGV, SIGILL and SIGFPE, which signal-hook refuses,
//! have a small handler of their own in `sys`. The command starts with default dispositions and
//! an empty signal mask whatever teelog does here: exec resets caught signals to their default,
//! and the spawn empties the mask and restores SIGPIPE (`spawn::posix_spawn`, or
//! `sys::own_process_group` when the command gets the terminal).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::unistd::{Pid, getpgid};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::{Cause, Sent};

use crate::sys;

/// Two identical signals sent with kill(2) by one sender this close together are one.
pub const DUPLICATE_WINDOW: Duration = Duration::from_millis(100);

/// Whether SIGCONT is relayed: not when teelog handed the command the terminal (then job control
/// continues the command, after giving the terminal back: see `job`), else yes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continue {
    ByJobControl,
    Relayed,
}

/// Every signal teelog catches and relays, in number order; `ignored` tells which signals were
/// ignored when teelog started (those stay ignored).
pub fn relayed(ignored: impl Fn(i32) -> bool, cont: Continue) -> Vec<i32> {
    let cont_is_own = (cont == Continue::ByJobControl).then_some(libc::SIGCONT);
    let own = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGCHLD,
        cont_is_own.unwrap_or(libc::SIGKILL),
        libc::SIGPIPE,
        libc::SIGSEGV,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    (1..32)
        .filter(|s| !own.contains(s))
        .chain(libc::SIGRTMIN()..=libc::SIGRTMAX())
        .filter(|&s| !ignored(s))
        .collect()
}

/// The signals that were ignored when teelog started, from `/proc/self/status` (`SigIgn`, a hex
/// mask): a safe way to read dispositions. std ignores SIGPIPE before `main`, so that one says
/// nothing about teelog's parent.
pub fn ignored_at_start() -> impl Fn(i32) -> bool {
    let mask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(0);
    move |signal: i32| (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0
}

/// Catches every relayed signal from now on; install it before spawning, so that no signal in
/// between ends teelog with the logs unwritten.
#[derive(Debug)]
pub struct Catcher {
    signals: SignalsInfo<WithOrigin>,
}

/// A [`Catcher`] being installed on a thread of its own while the calling thread goes on (to
/// spawn the command): installing some sixty handlers takes a fifth of a millisecond, as long as
/// the rest of teelog's start-up. Until [`Installing::finish`] every signal is blocked in the
/// calling thread (and in the installing one), so that one sent meanwhile stays pending, to be
/// caught and relayed once the handlers are in place, instead of ending teelog.
#[derive(Debug)]
pub struct Installing {
    thread: thread::JoinHandle<io::Result<Catcher>>,
    /// The calling thread's mask before.
    mask: SigSet,
}

impl Installing {
    /// Waits for the handlers and unblocks the signals: any that came meanwhile is caught now.
    pub fn finish(self) -> io::Result<Catcher> {
        let catcher = self
            .thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the thread setting it up panicked")));
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.mask), None);
        catcher
    }
}

impl Catcher {
    /// Starts [`Catcher::install`] on a thread of its own; see [`Installing`].
    pub fn install_meanwhile(cont: Continue) -> Installing {
        let mut mask = SigSet::empty();
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask));
        Installing {
            thread: thread::spawn(move || Catcher::install(cont)),
            mask,
        }
    }

    pub fn install(cont: Continue) -> io::Result<Catcher> {
        let ignored = ignored_at_start();
        sys::relay_fault_signals(&ignored)?;
        let signals = SignalsInfo::with_exfiltrator(Vec::<i32>::new(), WithOrigin::default())?;
        for signal in relayed(&ignored, cont) {
            match signals.add_signal(signal) {
                // A real-time signal the environment keeps for itself (valgrind takes the highest
                // ones and refuses a handler with EINVAL) cannot reach teelog to be relayed.
                Err(err)
                    if signal >= libc::SIGRTMIN() && err.raw_os_error() == Some(libc::EINVAL) => {}
                added => added?,
            }
        }
        Ok(Catcher { signals })
    }

    /// Relays the signals meant for the command (see the module's rules) to its process group
    /// `pgid`, until `reaped` is set, on a thread of its own. On SIGWINCH, from whomever, the
    /// command's pty (if any) first takes the terminal's new size.
    pub fn relay_to(mut self, pgid: i32, reaped: Arc<AtomicBool>, resize: Option<super::Resize>) {
        sys::set_command_group(pgid);
        let me = std::process::id() as i32;
        thread::spawn(move || {
            // The other threads block SIGTTOU (see `block_tty_stop`); this one takes a SIGTTOU
            // sent to teelog, to relay it.
            let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&tty_stop()), None);
            let mut last: Option<(i32, i32, Instant)> = None;
            for origin in self.signals.forever() {
                if reaped.load(Ordering::Acquire) {
                    crate::signal::note_after_exit(origin.signal);
                    continue;
                }
                if origin.signal == libc::SIGWINCH
                    && let Some(resize) = &resize
                {
                    resize.follow();
                }
                if !matches!(
                    origin.cause,
                    Cause::Sent(Sent::User | Sent::TKill | Sent::Queue)
                ) {
                    continue;
                }
                let signal = origin.signal;
                let sender = origin.process.map_or(0, |p| p.pid);
                if sender == me || getpgid(Some(Pid::from_raw(sender))) == Ok(Pid::from_raw(pgid)) {
                    continue;
                }
                let now = Instant::now();
                // sigqueue(3) sends carry a value each: never merged.
                let plain_kill = !matches!(origin.cause, Cause::Sent(Sent::Queue));
                if plain_kill
                    && last.is_some_and(|(s, p, at)| {
                        s == signal && p == sender && now.duration_since(at) < DUPLICATE_WINDOW
                    })
                {
                    continue;
                }
                last = Some((signal, sender, now));
                relay(pgid, signal);
            }
        });
    }
}

/// The last signal relayed to the command, and when: see
/// [`relayed_lately`].
static LAST_RELAYED: std::sync::Mutex<Option<(i32, Instant)>> = std::sync::Mutex::new(None);

/// Whether teelog relayed `signal` to the command in the last few seconds: a death or stop by it
/// is then teelog's doing, not the terminal's.
pub fn relayed_lately(signal: i32) -> bool {
    LAST_RELAYED
        .lock()
        .ok()
        .and_then(|last| *last)
        .is_some_and(|(s, at)| s == signal && at.elapsed() < Duration::from_secs(10))
}

/// Sends `signal` to the command's process group `pgid`, or to the command alone if it has left
/// that group. ESRCH means the command has just ended, and its exit is about to be logged.
pub fn relay(pgid: i32, signal: i32) {
    if let Ok(mut last) = LAST_RELAYED.lock() {
        *last = Some((signal, Instant::now()));
    }
    if sys::send(-pgid, signal).is_err() {
        let _ = sys::send(pgid, signal);
    }
}

fn tty_stop() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTTOU);
    set
}

/// Blocks SIGTTOU in the calling thread and the threads it starts: teelog writes to a terminal
/// whose foreground it has handed to the command, and must neither stop (with `stty tostop`)
/// nor be refused when it takes the foreground back. The command's mask is emptied at spawn.
pub fn block_tty_stop() {
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&tty_stop()), None);
}

/// Stops teelog as the command stopped, until a SIGCONT: by the same signal when it was
/// SIGTSTP, SIGTTIN or SIGTTOU (a shell then reports "Stopped", status 148 for SIGTSTP, as for
/// the bare command), else by SIGSTOP. And by SIGSTOP when teelog's process group is orphaned:
/// there the kernel discards the other three when their action is the default (POSIX, "orphaned
/// process group"; Linux `get_signal`), and teelog would go on while the command stays stopped.
pub fn stop_as(signal: i32) {
    let by = match signal {
        libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU if !own_group_orphaned() => signal,
        _ => libc::SIGSTOP,
    };
    sys::stop_by(by);
}

/// Whether teelog's process group is orphaned: none of its members has a parent in another
/// group of the same session (read from `/proc/*/stat`; when that cannot be read, it counts as
/// orphaned, which only makes the stop SIGSTOP).
fn own_group_orphaned() -> bool {
    /// pid, parent, group and session of every process.
    fn processes() -> Option<Vec<[i32; 4]>> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid pgrp session ...": comm may hold anything but the last ')'.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(1);
            let mut next = || fields.next()?.parse::<i32>().ok();
            all.push([pid, next()?, next()?, next()?]);
        }
        Some(all)
    }
    let group = nix::unistd::getpgrp().as_raw();
    let session = nix::unistd::getsid(None).map_or(-1, Pid::as_raw);
    let Some(all) = processes() else {
        return true;
    };
    !all.iter().filter(|p| p[2] == group).any(|member| {
        all.iter()
            .any(|parent| parent[0] == member[1] && parent[2] != group && parent[3] == session)
    })
}

/// Ends teelog by `signal`, as the command ended, without dumping core: a shell, make or a
/// supervisor then sees what it would have seen without teelog. Returns only if that failed.
pub fn die_by(signal: i32) {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    sys::die_by(signal);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::name;

    #[test]
    fn relays_every_catchable_signal_but_its_own() {
        let all = relayed(|_| false, Continue::ByJobControl);
        for s in [
            libc::SIGALRM,
            libc::SIGVTALRM,
            libc::SIGPROF,
            libc::SIGPWR,
            libc::SIGIO,
        ] {
            assert!(all.contains(&s), "{}", name(s));
        }
        assert!(all.contains(&libc::SIGRTMIN()) && all.contains(&libc::SIGRTMAX()));
        for s in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGCHLD,
            libc::SIGPIPE,
            32,
            33,
        ] {
            assert!(!all.contains(&s), "{}", name(s));
        }
        let nohup = relayed(|s| s == libc::SIGHUP, Continue::ByJobControl);
        assert!(!nohup.contains(&libc::SIGHUP));
        assert!(relayed(|_| false, Continue::Relayed).contains(&libc::SIGCONT));
    }
}
