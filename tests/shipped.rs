//! A teelog run that ships to a collector (tests/collector.rs), and the checks of what arrived
//! against what the run logged locally: every line at least once, in order of first arrival, each
//! copy the same.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::collector::Message;
use crate::util::*;

/// A teelog run of `sh -c SCRIPT` with one network destination, a jsonl log and a spool
/// directory of its own (never teelog's state directory).
#[derive(Debug)]
pub struct Run {
    child: Child,
    dir: tempfile::TempDir,
}

/// How a [`Run`] ended, and what it left.
#[derive(Debug)]
pub struct Ended {
    pub status: Status,
    pub stderr: String,
    /// When teelog was seen to have ended.
    pub at: SystemTime,
    dir: tempfile::TempDir,
}

impl Run {
    /// `teelog -q -o TARGET --ship-timeout SECS FLAGS -o jsonl=.. --spool-dir .. -- sh -c SCRIPT`,
    /// run in its own directory (the script may use relative paths there).
    pub fn start(target: &str, ship_timeout: u64, flags: &[OsString], script: &str) -> Run {
        let dir = tempdir();
        std::fs::create_dir(dir.path().join("spool")).unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
        let child = teelog()
            .current_dir(dir.path())
            .args([
                "-q",
                "-o",
                target,
                "--ship-timeout",
                &ship_timeout.to_string(),
            ])
            .args(flags)
            .arg("-o")
            .arg(format!("jsonl={}", dir.path().join("run.jsonl").display()))
            .arg("--spool-dir")
            .arg(dir.path().join("spool"))
            .args(["--", "sh", "-c", script])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Run { child, dir }
    }

    /// The run's directory, where the script runs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Waits for teelog's end, at most `limit` (then kills it and fails).
    #[track_caller]
    pub fn end(mut self, limit: Duration) -> Ended {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Status::of(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let err = std::fs::read_to_string(self.dir.path().join("stderr"));
                panic!("teelog did not end within {limit:?}; its stderr: {err:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let at = SystemTime::now();
        let stderr = std::fs::read_to_string(self.dir.path().join("stderr")).unwrap();
        Ended {
            status,
            stderr,
            at,
            dir: self.dir,
        }
    }
}

impl Ended {
    /// The run's jsonl log, checked whole (start first, exit last, seq from 1).
    #[track_caller]
    pub fn records(&self) -> Vec<Value> {
        let records = records(&read(&self.dir.path().join("run.jsonl")));
        check_run(&records);
        records
    }

    /// The `*.spool` files left in the spool directory.
    pub fn spools(&self) -> Vec<PathBuf> {
        let mut spools: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("spool"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "spool"))
            .collect();
        spools.sort();
        spools
    }

    /// Checks that it ended with `status`, said nothing, and left no spool file.
    #[track_caller]
    pub fn assert_clean(&self, status: impl Into<Status>) {
        assert_eq!(self.status, status.into(), "{}", self.stderr);
        assert_eq!(self.stderr, "", "nothing to say when all was acknowledged");
        assert_eq!(self.spools(), Vec::<PathBuf>::new(), "{}", self.stderr);
    }

    /// Checks that it ended with `status` and left no spool file, having said at most one line,
    /// about `target` (that it could not reach it, or lost it for a while).
    #[track_caller]
    pub fn assert_delivered(&self, status: impl Into<Status>, target: &str) {
        assert_eq!(self.status, status.into(), "{}", self.stderr);
        assert!(self.stderr.lines().count() <= 1, "{}", self.stderr);
        let prefix = format!("teelog: {target}: ");
        assert!(
            self.stderr.lines().all(|l| l.starts_with(&prefix)),
            "{}",
            self.stderr
        );
        assert!(unshipped(&self.stderr, target).is_none(), "{}", self.stderr);
        assert_eq!(self.spools(), Vec::<PathBuf>::new(), "{}", self.stderr);
    }
}

/// What teelog's last line says it could not ship.
#[derive(Debug)]
pub struct Unshipped {
    pub count: u64,
    pub spool: PathBuf,
}

/// The line `teelog: TARGET: N messages not acknowledged; kept in SPOOL; send them with: teelog
/// ship SPOOL` in `stderr`, if there is one (there must be one at most).
#[track_caller]
pub fn unshipped(stderr: &str, target: &str) -> Option<Unshipped> {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("not acknowledged"))
        .collect();
    assert!(lines.len() <= 1, "one such line at most: {stderr}");
    let line = lines.first()?;
    let prefix = format!("teelog: {target}: ");
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{line}"));
    let (count, rest) = rest
        .split_once(" messages not acknowledged; kept in ")
        .unwrap_or_else(|| panic!("{line}"));
    let (spool, command) = rest
        .split_once("; send them with: teelog ship ")
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(spool, command, "{line}");
    Some(Unshipped {
        count: count.parse().unwrap_or_else(|e| panic!("{e}: {line}")),
        spool: PathBuf::from(spool),
    })
}

/// The first copy of each seq that arrived, in the order they arrived; checks that first
/// arrivals come in the order of their seq and that every copy of a message is the same.
#[track_caller]
pub fn first_arrivals(received: &[Message]) -> Vec<Message> {
    firsts_or_why_not(received).unwrap_or_else(|why| panic!("{why}"))
}

fn firsts_or_why_not(received: &[Message]) -> Result<Vec<Message>, String> {
    let mut firsts: Vec<Message> = Vec::new();
    let mut at: HashMap<u64, usize> = HashMap::new();
    for message in received {
        if let Some(&i) = at.get(&message.seq) {
            if firsts[i] != *message {
                return Err(format!("a copy differs: {:?}, {message:?}", firsts[i]));
            }
            continue;
        }
        if let Some(last) = firsts.last().filter(|last| last.seq >= message.seq) {
            return Err(format!(
                "seq {} arrived first after seq {}",
                message.seq, last.seq
            ));
        }
        at.insert(message.seq, firsts.len());
        firsts.push(message.clone());
    }
    Ok(firsts)
}

/// The texts of `stream`'s messages among `firsts`, in order.
pub fn texts(firsts: &[Message], stream: &str) -> Vec<Vec<u8>> {
    firsts
        .iter()
        .filter(|m| m.stream.as_deref() == Some(stream))
        .map(|m| m.text.clone())
        .collect()
}

/// The bytes of one output record's line (without its newline).
fn record_bytes(record: &Value) -> Vec<u8> {
    match record.get("bytes") {
        Some(b) => BASE64.decode(b.as_str().unwrap()).unwrap(),
        None => record["message"].as_str().unwrap().as_bytes().to_vec(),
    }
}

/// Checks that what arrived is what the run logged: each record of the log (start, every line,
/// exit) arrived at least once, in order of first arrival, with its session, stream and text,
/// and nothing else arrived. Returns how many messages arrived more than once.
#[track_caller]
pub fn check_arrived(received: &[Message], records: &[Value]) -> usize {
    arrived_or_why_not(received, records).unwrap_or_else(|why| panic!("{why}"))
}

fn arrived_or_why_not(received: &[Message], records: &[Value]) -> Result<usize, String> {
    let firsts = firsts_or_why_not(received)?;
    let session = records[0]["session"].as_str().unwrap();
    for (message, record) in firsts.iter().zip(records) {
        let stream = match record["type"] == "output" {
            true => record["stream"].as_str(),
            false => None,
        };
        let same = message.seq == record["seq"].as_u64().unwrap()
            && message.session == session
            && message.stream.as_deref() == stream
            && (record["type"] != "output" || message.text == record_bytes(record));
        if !same {
            return Err(format!(
                "{record} arrived as {message:?} ({:?})",
                text(&message.text)
            ));
        }
    }
    if firsts.len() != records.len() {
        return Err(format!(
            "{} of {} records arrived (the last that did: {:?})",
            firsts.len(),
            records.len(),
            firsts.last().map(|m| m.seq)
        ));
    }
    Ok(received.len() - firsts.len())
}

/// The exit record's `resent` (0 when it has none); it is never written as 0.
#[track_caller]
pub fn resent(records: &[Value]) -> u64 {
    let exit = records.last().unwrap();
    match exit.get("resent") {
        None => 0,
        Some(n) => {
            let n = n.as_u64().unwrap_or_else(|| panic!("{exit}"));
            assert!(n > 0, "resent is left out when 0: {exit}");
            n
        }
    }
}

fn the_arrival_check_finds_a_lost_a_reordered_and_a_changed_message() {
    let log = "{\"type\":\"start\",\"seq\":1,\"session\":\"S\"}\n\
               {\"type\":\"output\",\"seq\":2,\"session\":\"S\",\"stream\":\"stdout\",\"message\":\"a\"}\n\
               {\"type\":\"output\",\"seq\":3,\"session\":\"S\",\"stream\":\"stderr\",\"bytes\":\"/w==\"}\n\
               {\"type\":\"exit\",\"seq\":4,\"session\":\"S\"}\n";
    let records = records(log.as_bytes());
    let message = |seq: u64, stream: Option<&str>, text: &[u8]| Message {
        session: "S".into(),
        seq,
        stream: stream.map(Into::into),
        text: text.to_vec(),
    };
    let all = vec![
        message(1, None, b"start: sh"),
        message(2, Some("stdout"), b"a"),
        message(3, Some("stderr"), b"\xff"),
        message(4, None, b"exit: status 0"),
    ];
    let twice = [&all[..3], &all[1..]].concat();
    assert_eq!(
        arrived_or_why_not(&twice, &records),
        Ok(2),
        "two arrived twice"
    );
    let fails = |received: &[Message]| arrived_or_why_not(received, &records).is_err();
    let lost = [&all[..2], &all[3..]].concat();
    assert!(fails(&lost), "lost");
    let reordered = vec![
        all[0].clone(),
        all[2].clone(),
        all[1].clone(),
        all[3].clone(),
    ];
    assert!(fails(&reordered), "reordered");
    let mut changed = all.clone();
    changed[2].text = b"\xfe".to_vec();
    assert!(fails(&changed), "changed");
    let mut moved = all.clone();
    moved[1].stream = Some("stderr".into());
    assert!(fails(&moved), "on the wrong stream");
    let copy_differs = [&all[..], &[message(2, Some("stdout"), b"b")]].concat();
    assert!(fails(&copy_differs), "a copy");
}

crate::trials![the_arrival_check_finds_a_lost_a_reordered_and_a_changed_message];
