//! Signals. teelog must outlive the signals that end the command (to log how it ended), pass on
//! the signals sent to teelog alone, and finally end the way the command ended.
//!
//! A terminal's Ctrl-C (and Ctrl-\, and the hangup when it closes) goes to the whole foreground
//! process group, the command included, so teelog must not send it again: the kernel sends
//! those (`si_code` `SI_KERNEL`), while `kill` sends `SI_USER`, which is how the two are told apart.
//! The command is spawned with default dispositions and an empty signal mask whatever teelog
//! does here: exec resets caught signals to their default, and std's spawn empties the mask and
//! restores SIGPIPE.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

/// The signals teelog catches and passes on to the command when they were sent to teelog.
pub const FORWARDED: [i32; 6] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];

/// Catches [`FORWARDED`] from now on; install it before spawning, so that no signal in between
/// ends teelog with the logs unwritten.
#[derive(Debug)]
pub struct Catcher {
    signals: SignalsInfo<WithOrigin>,
}

impl Catcher {
    pub fn install() -> io::Result<Catcher> {
        Ok(Catcher {
            signals: SignalsInfo::with_exfiltrator(FORWARDED, WithOrigin::default())?,
        })
    }

    /// Passes every signal sent to teelog by a process on to `pid`, until `reaped` is set, on a
    /// thread of its own. Signals the kernel sent (from the terminal) reached the command already.
    pub fn forward_to(mut self, pid: u32, reaped: Arc<AtomicBool>) {
        thread::spawn(move || {
            for origin in self.signals.forever() {
                if reaped.load(Ordering::Acquire) || !matches!(origin.cause, Cause::Sent(_)) {
                    continue;
                }
                if let (Ok(signal), Ok(pid)) = (Signal::try_from(origin.signal), i32::try_from(pid))
                {
                    // ESRCH: the command has just ended, and its exit is about to be logged.
                    let _ = kill(Pid::from_raw(pid), signal);
                }
            }
        });
    }
}

/// Ends teelog by `signal`, as the command ended, without dumping core: a shell, make or a
/// supervisor then sees what it would have seen without teelog. Returns only if that failed.
pub fn die_by(signal: i32) {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = signal_hook::low_level::emulate_default_handler(signal);
}

/// `"SIGTERM"` for 15.
pub fn name(signal: i32) -> Option<&'static str> {
    signal_hook::low_level::signal_name(signal)
}
