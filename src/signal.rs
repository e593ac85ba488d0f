//! Signal names both ways, as bash's `kill -l` gives them (`SIGTERM`, `SIGRTMIN+3`): data, no
//! behaviour. Logs, formatters and replay name signals; the runner (`runner::relay`) catches,
//! relays and dies of them.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;

/// A signal that asked teelog to stop once the command had ended (see [`stop_asked`]); 0 until
/// one came.
static STOP_ASKED: AtomicI32 = AtomicI32::new(0);

/// Notes `signal`, which reached teelog after the command had ended, if it asks a program to
/// stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT): what teelog still waits for then (a collector's last
/// acknowledgements) is not waited for.
pub fn note_after_exit(signal: i32) {
    if matches!(
        signal,
        libc::SIGINT | libc::SIGTERM | libc::SIGHUP | libc::SIGQUIT
    ) {
        STOP_ASKED.store(signal, Ordering::Relaxed);
    }
}

/// The signal that asked teelog to stop after the command ended, if one did.
pub fn stop_asked() -> Option<i32> {
    Some(STOP_ASKED.load(Ordering::Relaxed)).filter(|&s| s != 0)
}

/// The signal's name as bash's `kill -l` gives it: `SIGTERM` for 15, `SIGRTMIN+3`, `SIGRTMAX-1`;
/// `SIG32` for a number with no name.
pub fn name(signal: i32) -> String {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    match signal {
        1..=31 => NAMES[signal as usize - 1].to_owned(),
        s if s == min => "SIGRTMIN".to_owned(),
        s if s == max => "SIGRTMAX".to_owned(),
        s if s > min && s - min <= (max - min) / 2 => format!("SIGRTMIN+{}", s - min),
        s if s > min && s < max => format!("SIGRTMAX-{}", max - s),
        s => format!("SIG{s}"),
    }
}

/// The number of the signal [`name`] calls `name`.
pub fn number(name: &str) -> Option<i32> {
    (1..=libc::SIGRTMAX()).find(|&n| self::name(n) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_has_the_name_bash_gives_it() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(16), "SIGSTKFLT");
        assert_eq!(name(30), "SIGPWR");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(49), "SIGRTMIN+15");
        assert_eq!(name(50), "SIGRTMAX-14");
        assert_eq!(name(64), "SIGRTMAX");
        assert_eq!(name(32), "SIG32");
        // Every name is distinct, so a log says which signal it was.
        let all: std::collections::BTreeSet<String> = (1..=64).map(name).collect();
        assert_eq!(all.len(), 64);
        for n in 1..=64 {
            assert_eq!(number(&name(n)), Some(n));
        }
        assert_eq!(number("SIGNOPE"), None);
    }
}
