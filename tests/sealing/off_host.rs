//! Seals that leave the host: a run shipping to a private rsyslogd (plain TCP syslog and RELP)
//! or to the journal puts every seal there too; `teelog verify --seals COPY` takes that copy,
//! accepts the untouched log, and catches the log once its tail is replaced and sealed again
//! with the same key, which the log alone cannot show.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Sealed, flip_digit, lines, says, write_lines};
use crate::collector::{free_port, relp_by_hand};
use crate::util::*;

/// An rsyslogd of the test's own with an imtcp and an imrelp input, each writing every message
/// raw, one a line, to a file of its own (`tcp.log`, `relp.log`).
struct Rsyslog {
    child: Child,
    dir: tempfile::TempDir,
    tcp: u16,
    relp: u16,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        end_stopped_or_not(&mut self.child);
    }
}

impl Rsyslog {
    /// Started, once a probe sent to each input is in its file.
    fn up() -> Rsyslog {
        let dir = tempdir();
        let (tcp, relp, d) = (free_port(), free_port(), dir.path().display());
        let conf = format!(
            "global(workDirectory=\"{d}\" maxMessageSize=\"64k\" \
             parser.escapeControlCharactersOnReceive=\"off\")\n\
             main_queue(queue.type=\"Direct\")\n\
             template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n\
             ruleset(name=\"tcp\") {{ action(type=\"omfile\" file=\"{d}/tcp.log\" template=\"raw\") }}\n\
             ruleset(name=\"relp\") {{ action(type=\"omfile\" file=\"{d}/relp.log\" template=\"raw\") }}\n\
             module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\" ruleset=\"tcp\")\n\
             module(load=\"imrelp\")\n\
             input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{relp}\" ruleset=\"relp\")\n"
        );
        std::fs::write(dir.path().join("rs.conf"), conf).unwrap();
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(dir.path().join("rs.conf"))
            .arg("-i")
            .arg(dir.path().join("pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let rsyslog = Rsyslog {
            child,
            dir,
            tcp,
            relp,
        };
        let deadline = Instant::now() + PATIENCE;
        let has = |name: &str| {
            std::fs::read_to_string(rsyslog.dir.path().join(name))
                .is_ok_and(|s| s.contains("probe"))
        };
        while !(has("tcp.log") && has("relp.log")) {
            let _ = std::net::TcpStream::connect(("127.0.0.1", tcp))
                .and_then(|mut s| std::io::Write::write_all(&mut s, b"<13>probe: tcp\n"));
            let _ = relp_by_hand(relp, b"<13>1 - - probe - - - relp");
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not start: {}",
                std::fs::read_to_string(rsyslog.dir.path().join("stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        rsyslog
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The notes of the seals in `bytes`: each line whose rest, from its first `{`, is a seal.
fn notes(bytes: &[u8]) -> Vec<String> {
    text(bytes)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(&l[l.find('{')?..]).ok())
        .filter(|r| r["type"] == "seal")
        .map(|r| r["note"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `copy()` has written every seal of the log, then says where it is.
#[track_caller]
fn wait_for_seals(sealed: &Sealed, copy: impl Fn() -> PathBuf) -> PathBuf {
    let want = notes(&read(&sealed.log));
    assert!(want.len() >= 4, "{} seals", want.len());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let path = copy();
        let got = notes(&std::fs::read(&path).unwrap_or_default());
        let missing = want.iter().filter(|n| !got.contains(n)).count();
        if missing == 0 {
            return path;
        }
        assert!(
            Instant::now() < deadline,
            "{} lacks {missing} seals",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Each copy accepts the untouched log; then the log's tail, from line 250 (past the second of
/// its seals), is changed and sealed again with the same key: the log alone still says OK, and
/// each copy catches it.
#[track_caller]
fn caught_with(sealed: &Sealed, copies: &[PathBuf]) {
    for copy in copies {
        says(&sealed.verify(&[&"--seals", copy, &sealed.log]), "OK", 0);
    }
    let mut all = lines(&sealed.log);
    flip_digit(&mut all[249]);
    write_lines(&sealed.log, &all);
    sealed.forge(&sealed.key);
    says(&sealed.verify_log(), "OK", 0);
    for copy in copies {
        let v = sealed.verify(&[&"--seals", copy, &sealed.log]);
        assert!(
            v.code.is_some_and(|c| c != 0)
                && (v.first.starts_with("BROKEN") || v.first.starts_with("TRUNCATED")),
            "{} misses the replaced tail: {v:?}",
            copy.display()
        );
    }
}

/// Records 300 numbered lines sealed every 100 (four seals) with `flags`.
fn shipped(flags: &[&str]) -> Sealed {
    let sealed = Sealed::new();
    let mut all = vec!["--seal-every", "100"];
    all.extend(flags);
    sealed.record("seq 1 300", &all);
    sealed
}

fn seals_shipped_to_rsyslog_over_tcp_and_relp_catch_a_replaced_tail() {
    let rsyslog = Rsyslog::up();
    let tcp = format!("syslog=tcp:127.0.0.1:{}", rsyslog.tcp);
    let relp = format!("relp=127.0.0.1:{}", rsyslog.relp);
    let sealed = shipped(&["-o", &tcp, "-o", &relp]);
    let copies = ["tcp.log", "relp.log"].map(|name| wait_for_seals(&sealed, || rsyslog.file(name)));
    caught_with(&sealed, &copies);
}

fn seals_in_the_journal_catch_a_replaced_tail() {
    let sealed = shipped(&["-o", "journal"]);
    let session = super::line(&lines(&sealed.log), 1)["session"]
        .as_str()
        .unwrap()
        .to_owned();
    let copy = sealed.path("journal.txt");
    let journal = |path: &Path| {
        let out = Command::new("journalctl")
            .args(["-o", "cat", "--all", "--no-pager"])
            .arg(format!("TEELOG_SESSION={session}"))
            .output()
            .unwrap();
        std::fs::write(path, out.stdout).unwrap();
        path.to_owned()
    };
    let copy = wait_for_seals(&sealed, || journal(&copy));
    caught_with(&sealed, &[copy]);
}

crate::trials![
    seals_shipped_to_rsyslog_over_tcp_and_relp_catch_a_replaced_tail[
        RSYSLOG, RSYSLOG_RELP, super::PYTHON3, OPENSSL
    ],
    seals_in_the_journal_catch_a_replaced_tail[JOURNALD, super::PYTHON3, OPENSSL],
];
