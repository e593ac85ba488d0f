//! Job control, as a shell does it for a job of one process: when teelog is its terminal's
//! foreground process group, the command's group gets the foreground (so the terminal's keys
//! reach it directly), teelog takes it back when the command stops (Ctrl-Z) or ends, stops
//! itself while the command is stopped (so the shell sees the job stopped), and on SIGCONT
//! (`fg`) gives the foreground back and continues the command. Without the terminal, a stopped
//! command does not stop teelog, which relays SIGCONT instead.
//!
//! Without teelog, the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z would also have reached whatever
//! shares teelog's process group: the script that runs it, the other commands of its pipeline.
//! So when the command, holding the terminal, dies of SIGINT or SIGQUIT or stops with SIGTSTP,
//! and teelog did not relay that signal itself, teelog sends it on to its own process group (a
//! script's loop then stops, as bash's "wait and cooperative exit" expects). teelog itself
//! ignores the copy it gets (it comes from teelog).

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::libc;
use nix::unistd::{Pid, getpgrp, tcgetpgrp, tcsetpgrp};

use super::relay;
use crate::sys::{self, Waited};

use crate::event::Status;

/// teelog's controlling terminal, while teelog is in its foreground process group.
#[derive(Debug)]
pub struct Terminal {
    tty: File,
}

impl Terminal {
    /// The controlling terminal, if there is one and teelog's group has its foreground.
    pub fn foreground() -> Option<Terminal> {
        let tty = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open("/dev/tty")
            .ok()?;
        let terminal = Terminal { tty };
        terminal.held_by(getpgrp()).then_some(terminal)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.tty.as_fd()
    }

    fn held_by(&self, pgid: Pid) -> bool {
        tcgetpgrp(&self.tty) == Ok(pgid)
    }

    /// Takes the foreground back from the command's group `pgid`, if it has it. SIGTTOU is
    /// blocked in teelog's threads ([`relay::block_tty_stop`]), so this does not stop teelog.
    fn take_back_from(&self, pgid: Pid) {
        if self.held_by(pgid) {
            let _ = tcsetpgrp(&self.tty, getpgrp());
        }
    }
}

/// Waits for the command `pid` (leader of its own group) to end, following it through stops;
/// returns how it ended.
pub fn wait(pid: i32, terminal: Option<&Terminal>) -> Result<Status, std::io::Error> {
    let pgid = Pid::from_raw(pid);
    loop {
        match sys::wait(pid) {
            Ok(Waited::Exited(code)) => break finish(terminal, pgid, Status::Code(code)),
            Ok(Waited::Killed(signal)) => break finish(terminal, pgid, Status::Signal(signal)),
            // Without a terminal there is no job to show stopped: teelog goes on reading (and
            // relays SIGCONT, see `relay`), so that whoever stopped the command can continue it.
            Ok(Waited::Stopped(signal)) => {
                if let Some(t) = terminal {
                    t.take_back_from(pgid);
                    if signal == libc::SIGTSTP {
                        pass_to_own_group(signal);
                    }
                    // The whole of teelog stops here until a SIGCONT, as the command did, and
                    // by the same signal, so that the shell reports the same stop.
                    relay::stop_as(signal);
                    if t.held_by(getpgrp()) {
                        let _ = tcsetpgrp(&t.tty, pgid);
                    }
                    relay::relay(pid, libc::SIGCONT);
                }
            }
            Ok(Waited::Other) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => break Err(err),
        }
    }
}

fn finish(
    terminal: Option<&Terminal>,
    pgid: Pid,
    status: Status,
) -> Result<Status, std::io::Error> {
    if let Some(t) = terminal {
        t.take_back_from(pgid);
        if let Status::Signal(signal @ (libc::SIGINT | libc::SIGQUIT)) = status {
            pass_to_own_group(signal);
        }
    }
    Ok(status)
}

/// Sends a terminal signal the command got on to teelog's own process group, unless teelog
/// relayed it to the command itself (then it was meant for the command alone).
fn pass_to_own_group(signal: i32) {
    if !relay::relayed_lately(signal) {
        let _ = sys::send(0, signal);
    }
}
