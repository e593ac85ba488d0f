//! Real signals: from a terminal, from `kill`, and the command's own death.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::*;

const PATIENCE: Duration = Duration::from_secs(30);

/// Collects what `source` yields on a thread; `wait_for` blocks until a text shows up.
struct Collector {
    rx: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Collector {
    fn new(mut source: impl Read + Send + 'static) -> Collector {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            // A pty's master reads EIO once the terminal's last user is gone: the end here.
            while let Ok(n @ 1..) = source.read(&mut buf) {
                let _ = tx.send(buf[..n].to_vec());
            }
        });
        Collector {
            rx,
            seen: Vec::new(),
        }
    }

    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !text(&self.seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(bytes) => self.seen.extend(bytes),
                Err(_) => panic!("{needle:?} never came; got {:?}", text(&self.seen)),
            }
        }
    }

    fn rest(mut self) -> String {
        while let Ok(bytes) = self.rx.recv_timeout(PATIENCE) {
            self.seen.extend(bytes);
        }
        text(&self.seen)
    }
}

fn wait(child: &mut Child) -> End {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return End::of(status);
        }
        assert!(Instant::now() < deadline, "teelog did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The exit record of a jsonl log, after checking the whole run is there.
fn exit_record(log: &std::path::Path) -> serde_json::Value {
    let records = records(&read(log));
    check_run(&records);
    records.last().unwrap().clone()
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_command_once_and_teelog_ends_as_it_did() {
    for (key, name, number) in [(b"\x03", "INT", 2), (b"\x1c", "QUIT", 3)] {
        let dir = tempdir();
        let log = dir.path().join("tty.jsonl");
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave = File::from(pty.slave);
        // setsid -c: a new session whose controlling terminal is the pty, so that the terminal's
        // Ctrl-C goes to its foreground process group: teelog and the command.
        let mut child = Command::new("setsid")
            .current_dir(dir.path())
            .arg("-c")
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .arg("--")
            .arg(fixture("signals.sh"))
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave)
            .spawn()
            .unwrap();
        let mut master = File::from(pty.master);
        let mut console = Collector::new(master.try_clone().unwrap());
        console.wait_for("ready");
        master.write_all(key).unwrap();
        assert_eq!(
            wait(&mut child),
            End::Signal(number),
            "teelog ends by SIG{name}"
        );
        let signals = format!("signals: 1 {name}");
        let exit = exit_record(&log);
        assert_eq!(exit["signal"], format!("SIG{name}"));
        let records = records(&read(&log));
        assert!(
            messages(&records, "stdout").contains(&signals),
            "{records:?}"
        );
        drop(master);
        assert!(console.rest().contains(&signals));
    }
}

fn start_signals_fixture(log: &std::path::Path) -> (Child, Collector) {
    let mut child = teelog()
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .arg("--")
        .arg(fixture("signals.sh"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    console.wait_for("ready");
    (child, console)
}

#[test]
fn signals_sent_to_teelog_are_forwarded_and_logged() {
    let signals = [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ];
    let runs: Vec<_> = signals
        .into_iter()
        .map(|signal| {
            std::thread::spawn(move || {
                let dir = tempdir();
                let log = dir.path().join("k.jsonl");
                let (mut child, console) = start_signals_fixture(&log);
                kill(Pid::from_raw(child.id() as i32), signal).unwrap();
                assert_eq!(wait(&mut child), End::Signal(signal as i32), "{signal}");
                let short = &signal.as_str()[3..];
                assert!(
                    console.rest().contains(&format!("signals: 1 {short}")),
                    "{signal}"
                );
                assert_eq!(exit_record(&log)["signal"], signal.as_str());
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

#[test]
fn a_second_sigterm_does_not_cut_the_log_short() {
    let dir = tempdir();
    let log = dir.path().join("k.jsonl");
    let (mut child, console) = start_signals_fixture(&log);
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(pid, Signal::SIGTERM).unwrap();
    assert_eq!(wait(&mut child), End::Signal(15));
    assert!(
        console.rest().contains("signals: 2 TERM"),
        "both reached the command"
    );
    assert_eq!(exit_record(&log)["signal"], "SIGTERM");
}

#[test]
fn the_command_starts_with_default_dispositions_and_an_empty_mask() {
    let script = "grep -E '^Sig(Blk|Ign)' /proc/self/status";
    let direct = Command::new("sh").args(["-c", script]).output().unwrap();
    let out = run(teelog().args(["--", "sh", "-c", script]), 0);
    assert_eq!(text(&out.stdout), text(&direct.stdout));
    assert!(
        text(&out.stdout).contains("SigBlk:\t0000000000000000"),
        "{}",
        text(&out.stdout)
    );
    // SIGPIPE is not ignored in the command (std ignores it in teelog itself).
    run(
        teelog().args(["--", "sh", "-c", "kill -PIPE $$; echo survived"]),
        End::Signal(13),
    );
}
