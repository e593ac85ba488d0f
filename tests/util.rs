//! The one helper: run the real binary, read back what it wrote.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

pub use crate::harness::needs::*;
pub use crate::harness::require;

/// `teelog` with stdin closed (tests that feed stdin set their own).
pub fn teelog() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_teelog"));
    cmd.stdin(Stdio::null());
    cmd
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// How a process ended: teelog's own type, so that the tests say it the way the logs do.
pub use teelog::event::Status;

/// Runs `cmd` to its end and checks how it ended; on a mismatch shows what it printed.
pub fn run(cmd: &mut Command, end: impl Into<Status>) -> Output {
    let out = cmd.output().expect("teelog runs");
    assert_eq!(
        Status::of(out.status),
        end.into(),
        "end of {cmd:?}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every line of `bytes`, each parsed as one JSON object.
pub fn records(bytes: &[u8]) -> Vec<Value> {
    text(bytes)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The exact bytes of `stream`, rebuilt from jsonl output records.
pub fn rebuild(records: &[Value], stream: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for r in records {
        if r["type"] != "output" || r["stream"] != stream {
            continue;
        }
        match r.get("bytes") {
            Some(b) => bytes.extend(BASE64.decode(b.as_str().unwrap()).unwrap()),
            None => bytes.extend(r["message"].as_str().unwrap().as_bytes()),
        }
        if r.get("eol") != Some(&Value::Bool(false)) {
            bytes.push(b'\n');
        }
    }
    bytes
}

/// The messages of the output records of `stream`, in order.
pub fn messages(records: &[Value], stream: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["type"] == "output" && r["stream"] == stream)
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Checks the invariants of a whole jsonl run: a start record first, an exit record last, one
/// session, one pid, seq counting from 1, RFC 3339 UTC timestamps with microseconds.
pub fn check_run(records: &[Value]) {
    assert!(records.len() >= 2, "{records:?}");
    assert_eq!(records[0]["type"], "start");
    assert_eq!(records.last().unwrap()["type"], "exit");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1, "{r}");
        assert_eq!(r["session"], records[0]["session"]);
        assert_eq!(r["pid"], records[0]["pid"]);
        assert!(r["host"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(r["user"].as_str().is_some_and(|u| !u.is_empty()));
        let stamp = r["timestamp"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(stamp).unwrap_or_else(|e| panic!("{e}: {stamp}"));
        assert!(
            stamp.ends_with('Z') && stamp.len() == "2012-10-30T22:13:13.000000Z".len(),
            "{stamp}"
        );
    }
    for r in &records[1..records.len() - 1] {
        assert_eq!(r["type"], "output", "{r}");
    }
    // Tools that sort by time (lnav, Loki) must see the records in seq order.
    for pair in records.windows(2) {
        let stamp = |r: &Value| r["timestamp"].as_str().unwrap().to_owned();
        assert!(
            stamp(&pair[0]) <= stamp(&pair[1]),
            "timestamps go back: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

/// Reads `source` at about `bytes_per_sec`, as a slow terminal or an SSH session would, until its
/// end; returns everything read.
pub fn read_slowly(mut source: impl std::io::Read, bytes_per_sec: usize) -> Vec<u8> {
    let piece = 16 * 1024;
    let interval = std::time::Duration::from_secs_f64(piece as f64 / bytes_per_sec as f64);
    let mut all = Vec::new();
    let mut buf = vec![0; piece];
    loop {
        match source.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading the console: {e}"),
        }
        std::thread::sleep(interval);
    }
}

/// Splits a classic prompt line `[Tue Oct 30 22:13:13 2012 ops@db1 stderr]> rest` into its time,
/// `user@host`, tag (`""` or `"stderr"`) and the rest after `]`.
pub fn classic_prompt(line: &str) -> (chrono::NaiveDateTime, String, String, String) {
    let inner = line
        .strip_prefix('[')
        .unwrap_or_else(|| panic!("not a prompt: {line:?}"));
    let (head, rest) = inner.split_once(']').unwrap();
    let fields: Vec<&str> = head.split(' ').collect();
    assert!(fields.len() == 6 || fields.len() == 7, "{line:?}");
    let time =
        chrono::NaiveDateTime::parse_from_str(&fields[..5].join(" "), "%a %b %d %H:%M:%S %Y")
            .unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let tag = fields.get(6).copied().unwrap_or("");
    (time, fields[5].to_owned(), tag.to_owned(), rest.to_owned())
}

/// Deterministic bytes of every value (xorshift), for volume tests.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bytes.extend_from_slice(&seed.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// How long a test waits for something that should come at once.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Collects what `source` yields on a thread; `wait_for` blocks until a text shows up.
pub struct Collector {
    rx: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Collector {
    pub fn new(mut source: impl Read + Send + 'static) -> Collector {
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

    pub fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !text(&self.seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(bytes) => self.seen.extend(bytes),
                Err(_) => panic!("{needle:?} never came; got {:?}", text(&self.seen)),
            }
        }
    }

    /// Waits for a whole line holding `needle`; returns it.
    pub fn wait_for_line_with(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = text(&self.seen)
                .split(['\r', '\n'])
                .find(|l| l.contains(needle))
                .filter(|_| text(&self.seen).contains('\n'))
            {
                let at = text(&self.seen).find(line).unwrap_or(0) + line.len();
                if text(&self.seen)[at..].starts_with(['\r', '\n']) {
                    return line.to_owned();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(bytes) => self.seen.extend(bytes),
                Err(_) => panic!("no line with {needle:?}; got {:?}", text(&self.seen)),
            }
        }
    }

    pub fn rest(mut self) -> String {
        while let Ok(bytes) = self.rx.recv_timeout(PATIENCE) {
            self.seen.extend(bytes);
        }
        text(&self.seen)
    }
}

/// Runs `cmd` with `stdin` as its input (through a pipe); returns its output, however it ended.
pub fn with_stdin(cmd: &mut Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A jsonl recording of `sh -c script`, which exits with `code`, appended to `log`.
pub fn record(log: &Path, script: &str, code: i32) {
    run(
        teelog()
            .arg("-q")
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args(["--", "sh", "-c", script]),
        code,
    );
}

/// Waits until a process named `name` runs in the session that `leader` leads. Before sending
/// a terminal's Ctrl-C to `sh -c '...; sleep 30'`: dash catches SIGINT when run with -c, and a
/// Ctrl-C that lands between its fork and the child's exec is caught by dash's handler in the
/// child and lost at exec, so `sleep` runs out its time. That race is dash's, not teelog's.
pub fn until_running(leader: &Child, name: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !Command::new("pgrep")
        .args(["-s", &leader.id().to_string(), "-x", name])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "{name} never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `child` to end, at most [`PATIENCE`]; when it does not, shows the processes of its
/// session (`child` is a session leader) to say what was left running, then fails.
pub fn wait_showing_session(child: &mut Child) -> Status {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Status::of(status);
        }
        if Instant::now() >= deadline {
            let ps = Command::new("ps")
                .args(["-o", "pid,ppid,pgid,sid,tpgid,stat,wchan:20,args", "-s"])
                .arg(child.id().to_string())
                .output()
                .map(|o| text(&o.stdout))
                .unwrap_or_default();
            panic!("the session did not end; its processes:\n{ps}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ends a daemon a test started, continued first in case the test left it stopped (SIGSTOP).
pub fn end_stopped_or_not(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `child` to end, at most [`PATIENCE`].
pub fn wait(child: &mut Child) -> Status {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Status::of(status);
        }
        assert!(Instant::now() < deadline, "teelog did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A new pseudo-terminal whose ends are closed on exec, so that the children other tests start
/// meanwhile do not keep it open.
pub fn terminal() -> nix::pty::OpenptyResult {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    let pty = nix::pty::openpty(None, None).unwrap();
    for fd in [&pty.master, &pty.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).unwrap();
    }
    pty
}

/// Runs `command` under teelog as the session leader of a new terminal (setsid -c), so that
/// teelog starts as the terminal's foreground; returns the child, the terminal's master side and
/// what the terminal shows.
pub fn in_a_terminal(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> (Child, File, Collector) {
    let pty = terminal();
    let slave = File::from(pty.slave);
    let child = Command::new("setsid")
        .current_dir(dir)
        .arg("-c")
        .args(args)
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let master = File::from(pty.master);
    let console = Collector::new(master.try_clone().unwrap());
    (child, master, console)
}
