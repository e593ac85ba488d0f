//! Delivery to the journal and to syslog when the reader misbehaves: a local reader that stops
//! reading or restarts, a TCP server that stalls and is restarted. The run never stops for them,
//! and what they may not have got is counted, reported in one line and fails the run.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// What a run printed and how it ended, with a deadline (for runs that might hang).
struct Ran {
    end: Status,
    stdout: Vec<u8>,
    stderr: String,
}

/// Starts `cmd` with its stdout and stderr in files of `dir`.
fn start(cmd: &mut Command, dir: &Path) -> std::process::Child {
    let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    cmd.stdout(file("stdout"))
        .stderr(file("stderr"))
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits for `child` (started by [`start`] in `dir`) to end by itself.
fn ended(mut child: std::process::Child, dir: &Path) -> Ran {
    let end = wait(&mut child);
    Ran {
        end,
        stdout: read(&dir.join("stdout")),
        stderr: text(&read(&dir.join("stderr"))),
    }
}

/// The undelivered count at the end of `stderr`'s line naming `name`.
#[track_caller]
fn undelivered(stderr: &str, name: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains(name) && l.ends_with("could not be delivered"))
        .unwrap_or_else(|| panic!("no count for {name}: {stderr}"));
    let words: Vec<&str> = line.split(' ').collect();
    words[words.len() - 6].parse().unwrap()
}

/// A local destination: `-o journal` at a socket of the test's (through
/// `$TEELOG_JOURNAL_SOCKET`) or `-o syslog=unix:PATH`.
#[derive(Clone, Copy, Debug)]
enum Local {
    Journal,
    Syslog,
}

impl Local {
    fn teelog(self, socket: &Path) -> Command {
        let mut cmd = teelog();
        match self {
            Local::Journal => {
                cmd.env("TEELOG_JOURNAL_SOCKET", socket)
                    .args(["-o", "journal"]);
            }
            Local::Syslog => {
                cmd.arg("-o")
                    .arg(format!("syslog=unix:{}", socket.display()));
            }
        }
        cmd
    }

    /// How teelog names it in its messages.
    fn name(self, socket: &Path) -> String {
        match self {
            Local::Journal => format!("the journal ('{}')", socket.display()),
            Local::Syslog => format!("syslog unix:{}", socket.display()),
        }
    }

    /// The text of the line a record carries.
    fn line(self, record: &[u8]) -> Option<String> {
        let record = text(record);
        match self {
            Local::Journal => record
                .lines()
                .find_map(|l| l.strip_prefix("MESSAGE="))
                .map(str::to_owned),
            Local::Syslog => record.split_once("]: ").map(|(_, m)| m.to_owned()),
        }
    }
}

/// Every datagram `reader` holds now.
fn drain(reader: &UnixDatagram) -> Vec<Vec<u8>> {
    reader.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 17];
    while let Ok(n) = reader.recv(&mut buf) {
        got.push(buf[..n].to_vec());
    }
    got
}

fn a_local_reader_that_stops_reading_never_blocks_the_run_and_what_it_missed_is_counted() {
    for local in [Local::Journal, Local::Syslog] {
        let dir = tempdir();
        let socket = dir.path().join("reader.sock");
        // Bound, and never read until the run is over.
        let reader = UnixDatagram::bind(&socket).unwrap();
        let log = dir.path().join("p.log");
        let child = start(
            local
                .teelog(&socket)
                .arg("-o")
                .arg(format!("plain={}", log.display()))
                .args(["--", "seq", "1", "20000"]),
            dir.path(),
        );
        let ran = ended(child, dir.path());
        let expected: String = (1..=20000).map(|i| format!("{i}\n")).collect();
        assert!(
            text(&ran.stdout) == expected,
            "{local:?}: the console got every byte"
        );
        assert!(text(&read(&log)) == expected, "{local:?}: the file log too");
        assert_eq!(ran.end, Status::Code(125), "{local:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 2, "{local:?}: {}", ran.stderr);
        assert!(
            ran.stderr.lines().next().unwrap().contains("not reading"),
            "{}",
            ran.stderr
        );
        let lost = undelivered(&ran.stderr, &local.name(&socket));
        let got = drain(&reader);
        assert!(lost > 0 && !got.is_empty(), "{local:?}: {}", ran.stderr);
        // Start, 20000 lines, exit: each one either arrived or was counted.
        assert_eq!(got.len() as u64 + lost, 20002, "{local:?}: {}", ran.stderr);
        let lines: Vec<String> = got.iter().filter_map(|r| local.line(r)).collect();
        let first: Vec<String> = (1..=lines.len() - 1).map(|i| i.to_string()).collect();
        assert_eq!(lines[1..], first[..], "{local:?}: the first ones, in order");
    }
}

fn sigterm_ends_a_run_whose_local_reader_has_stopped_reading() {
    for local in [Local::Journal, Local::Syslog] {
        let dir = tempdir();
        let socket = dir.path().join("reader.sock");
        let _reader = UnixDatagram::bind(&socket).unwrap();
        let log = dir.path().join("p.log");
        let child = start(
            local
                .teelog(&socket)
                .arg("-o")
                .arg(format!("plain={}", log.display()))
                .args(["--", "sh", "-c", "seq 1 20000; exec sleep 600"]),
            dir.path(),
        );
        let expected: String = (1..=20000).map(|i| format!("{i}\n")).collect();
        let deadline = Instant::now() + PATIENCE;
        let logged = || std::fs::read(&log).unwrap_or_default();
        while logged() != expected.as_bytes() {
            assert!(
                Instant::now() < deadline,
                "{local:?}: the file log stopped at {} bytes",
                logged().len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let ran = ended(child, dir.path());
        assert_eq!(ran.end, Status::Signal(15), "{local:?}: {}", ran.stderr);
        assert!(undelivered(&ran.stderr, &local.name(&socket)) > 0);
    }
}

/// The command of [`a_local_reader_that_restarts_gets_every_line_sent_after`]: 50 lines, then
/// 50 more once `go1` exists, then 50 more once `go2` exists.
const PHASES: &str = "for i in $(seq 1 50); do echo a$i; done; \
    while [ ! -e go1 ]; do sleep 0.01; done; for i in $(seq 1 50); do echo b$i; done; \
    while [ ! -e go2 ]; do sleep 0.01; done; for i in $(seq 1 50); do echo c$i; done";

/// Receives from `reader` until `count` records arrived.
#[track_caller]
fn receive(reader: &UnixDatagram, count: usize) -> Vec<Vec<u8>> {
    reader.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = vec![0u8; 1 << 17];
    (0..count)
        .map(|_| {
            let n = reader.recv(&mut buf).expect("a record");
            buf[..n].to_vec()
        })
        .collect()
}

fn a_local_reader_that_restarts_gets_every_line_sent_after() {
    // The reader goes away (its socket file removed, as rsyslogd does, or left behind, as a
    // killed one does), nobody is there for a while, then a new reader binds the same path.
    for local in [Local::Journal, Local::Syslog] {
        for remove in [true, false] {
            let dir = tempdir();
            let socket = dir.path().join("reader.sock");
            let first = UnixDatagram::bind(&socket).unwrap();
            let log = dir.path().join("p.log");
            let child = start(
                local
                    .teelog(&socket)
                    .current_dir(dir.path())
                    .arg("-o")
                    .arg(format!("plain={}", log.display()))
                    .args(["--", "sh", "-c", PHASES]),
                dir.path(),
            );
            let before = receive(&first, 51);
            drop(first);
            if remove {
                std::fs::remove_file(&socket).unwrap();
            }
            std::fs::write(dir.path().join("go1"), "").unwrap();
            let deadline = Instant::now() + PATIENCE;
            while !text(&std::fs::read(&log).unwrap_or_default()).contains("b50\n") {
                assert!(Instant::now() < deadline, "{local:?}: no b50");
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = std::fs::remove_file(&socket);
            // This one reads as a reader does, until the exit record.
            let second = UnixDatagram::bind(&socket).unwrap();
            let reading = std::thread::spawn(move || {
                second.set_read_timeout(Some(PATIENCE)).unwrap();
                let mut got = Vec::new();
                let mut buf = vec![0u8; 1 << 17];
                while let Ok(n) = second.recv(&mut buf) {
                    got.push(buf[..n].to_vec());
                    if local
                        .line(&buf[..n])
                        .is_some_and(|l| l.starts_with("exit: "))
                    {
                        break;
                    }
                }
                got
            });
            std::fs::write(dir.path().join("go2"), "").unwrap();
            let ran = ended(child, dir.path());
            let after = reading.join().unwrap();
            let what = format!("{local:?} (removed: {remove}): {}", ran.stderr);
            assert_eq!(ran.end, Status::Code(125), "{what}");
            let lines = |records: &[Vec<u8>]| -> Vec<String> {
                records.iter().filter_map(|r| local.line(r)).collect()
            };
            let a: Vec<String> = (1..=50).map(|i| format!("a{i}")).collect();
            assert_eq!(lines(&before)[1..], a[..], "{what}");
            let mut c: Vec<String> = (1..=50).map(|i| format!("c{i}")).collect();
            let after_lines = lines(&after);
            assert!(
                after_lines
                    .last()
                    .is_some_and(|l| l.starts_with("exit: status 0")),
                "{what}: {after_lines:?}"
            );
            c.push(after_lines.last().unwrap().clone());
            assert_eq!(after_lines, c, "{what}: every line after the restart");
            assert_eq!(
                undelivered(&ran.stderr, &local.name(&socket)),
                50,
                "{what}: the b lines, sent while nobody was there"
            );
            assert_eq!(ran.stderr.lines().count(), 2, "{what}");
        }
    }
}

crate::trials![
    a_local_reader_that_stops_reading_never_blocks_the_run_and_what_it_missed_is_counted,
    sigterm_ends_a_run_whose_local_reader_has_stopped_reading,
    a_local_reader_that_restarts_gets_every_line_sent_after,
];
