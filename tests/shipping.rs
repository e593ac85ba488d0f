//! `-o relp=` against a real rsyslogd (imrelp, tests/collector.rs) that is up, late, killed,
//! stopped or gone for good: every line the command printed arrives at least once, in order of
//! first arrival, and teelog's exit status is the command's in every case. What cannot be
//! acknowledged in time is kept in a spool that `teelog ship` sends later.

use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;

use crate::collector::{Input, Rsyslog};
use crate::shipped::*;
use crate::util::*;

/// How long teelog may wait for the last acknowledgements of a run that should lose nothing:
/// far more than 200,000 lines take on a slow machine, so that reaching it is a failure.
const SHIP_TIMEOUT: u64 = 90;

/// How long such a run may take in all.
const LIMIT: Duration = Duration::from_secs(SHIP_TIMEOUT + 30);

/// 200,000 numbered lines at once.
const NUMBERED: &str = "seq 1 200000";

/// 100,000 lines on stdout and as many on stderr, mixed.
const MIXED: &str = "awk 'BEGIN { for (i = 1; i <= 100000; i++) { print \"out \" i; \
                     print \"err \" i > \"/dev/stderr\" } }'";

/// 200,000 numbered lines in 40 batches, 0.1 s apart: a command that runs ~4 s.
const GRADUAL: &str = "i=0; while [ $i -lt 40 ]; do seq $((i * 5000 + 1)) $((i * 5000 + 5000)); \
                       sleep 0.1; i=$((i + 1)); done";

/// `1`..=`n`, as lines.
fn numbered(n: u64) -> Vec<Vec<u8>> {
    (1..=n).map(|i| i.to_string().into_bytes()).collect()
}

/// Checks that every line of the run arrived (see [`check_arrived`]) once rsyslogd has them all,
/// and that stdout's are `stdout`; returns how many arrived twice.
#[track_caller]
fn check_all_arrived(rsyslog: &mut Rsyslog, ended: &Ended, stdout: &[Vec<u8>]) -> usize {
    let records = ended.records();
    rsyslog.wait_for(records.len(), PATIENCE);
    // What arrived is what jsonl recorded, message for record (a line a pause cut under load is
    // two of each); and what jsonl recorded is what the command printed.
    let doubles = check_arrived(rsyslog.messages(), &records);
    assert!(
        rebuild(&records, "stdout") == joined(stdout),
        "stdout arrived otherwise"
    );
    eprintln!(
        "{} records, {doubles} arrived twice, resent {}",
        records.len(),
        resent(&records)
    );
    doubles
}

fn relp_delivers_every_line_to_a_server_that_is_up() {
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let run = Run::start(&rsyslog.target(), SHIP_TIMEOUT, &[], NUMBERED);
    let ended = run.end(LIMIT);
    ended.assert_clean(0);
    check_all_arrived(&mut rsyslog, &ended, &numbered(200_000));

    let mut rsyslog = Rsyslog::up(Input::Relp);
    let ended = Run::start(&rsyslog.target(), SHIP_TIMEOUT, &[], MIXED).end(LIMIT);
    ended.assert_clean(0);
    let lines = |name: &str| -> Vec<Vec<u8>> {
        (1..=100_000)
            .map(|i| format!("{name} {i}").into_bytes())
            .collect()
    };
    check_all_arrived(&mut rsyslog, &ended, &lines("out"));
    assert!(
        rebuild(&ended.records(), "stderr") == joined(&lines("err")),
        "stderr arrived otherwise"
    );
}

/// `lines`, each with its newline.
fn joined(lines: &[Vec<u8>]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| [&l[..], b"\n"].concat())
        .collect()
}

fn relp_delivers_every_line_to_a_server_that_starts_late() {
    let mut rsyslog = Rsyslog::new(Input::Relp);
    let run = Run::start(&rsyslog.target(), SHIP_TIMEOUT, &[], GRADUAL);
    std::thread::sleep(Duration::from_secs(2));
    rsyslog.start();
    let ended = run.end(LIMIT);
    ended.assert_delivered(0, &rsyslog.target());
    check_all_arrived(&mut rsyslog, &ended, &numbered(200_000));
}

fn relp_delivers_every_line_across_a_server_killed_at_half_and_restarted() {
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let run = Run::start(&rsyslog.target(), SHIP_TIMEOUT, &[], GRADUAL);
    rsyslog.wait_for(100_000, LIMIT);
    rsyslog.kill();
    rsyslog.start();
    let ended = run.end(LIMIT);
    ended.assert_delivered(0, &rsyslog.target());
    check_all_arrived(&mut rsyslog, &ended, &numbered(200_000));
}

fn relp_delivers_every_line_across_a_server_stopped_for_ten_seconds() {
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let run = Run::start(&rsyslog.target(), SHIP_TIMEOUT, &[], GRADUAL);
    rsyslog.wait_for(20_000, LIMIT);
    rsyslog.signal(Signal::SIGSTOP);
    std::thread::sleep(Duration::from_secs(10));
    rsyslog.signal(Signal::SIGCONT);
    let ended = run.end(LIMIT);
    ended.assert_delivered(0, &rsyslog.target());
    check_all_arrived(&mut rsyslog, &ended, &numbered(200_000));
}

/// `teelog ship SPOOL`, to its end.
fn ship(spool: &std::path::Path) -> std::process::Output {
    teelog()
        .arg("ship")
        .arg(spool)
        .output()
        .expect("teelog runs")
}

fn relp_keeps_what_a_server_gone_for_good_did_not_acknowledge_for_teelog_ship() {
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let target = rsyslog.target();
    // 1,000 lines; then, once the test says so, 1,000 more, the time of its end, and status 3.
    let script = "seq 1 1000; while [ ! -e go ]; do sleep 0.05; done; seq 1001 2000; \
                  date +%s%N > end; exit 3";
    let run = Run::start(&target, 2, &[], script);
    rsyslog.wait_for(1001, PATIENCE);
    rsyslog.kill();
    std::fs::write(run.dir().join("go"), "").unwrap();
    let dir = run.dir().to_owned();
    let ended = run.end(PATIENCE);
    assert_eq!(ended.status, Status::Code(3), "{}", ended.stderr);
    let end: u128 = std::fs::read_to_string(dir.join("end"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let after = ended
        .at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        - end;
    assert!(
        after <= Duration::from_secs(3).as_nanos(),
        "teelog ended {after} ns after the command"
    );
    eprintln!("{}", ended.stderr.trim_end());
    // The line of what is left, and at most one other about the target (that it was lost).
    let left = unshipped(&ended.stderr, &target).expect("the line of what is left");
    assert!(ended.stderr.lines().count() <= 2, "{}", ended.stderr);
    let prefix = format!("teelog: {target}: ");
    assert!(
        ended.stderr.lines().all(|l| l.starts_with(&prefix)),
        "{}",
        ended.stderr
    );
    let records = ended.records();
    let firsts = first_arrivals(rsyslog.messages());
    let missing = records.len() - firsts.len();
    assert!(
        missing as u64 <= left.count && left.count <= records.len() as u64 && left.count >= 1001,
        "{missing} of {} missing, {} counted",
        records.len(),
        left.count
    );
    assert!(
        left.spool.starts_with(dir.join("spool")),
        "{}",
        ended.stderr
    );
    assert_eq!(ended.spools(), std::slice::from_ref(&left.spool));

    // With the server still gone, `teelog ship` gives up with one line and keeps the spool.
    let started = Instant::now();
    let out = ship(&left.spool);
    eprintln!("{:?}: {}", out.status, text(&out.stderr).trim_end());
    assert!(!out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(5 + 5));
    assert!(left.spool.exists());

    rsyslog.start();
    let out = ship(&left.spool);
    assert!(out.status.success(), "{}", text(&out.stderr));
    rsyslog.wait_for(records.len(), PATIENCE);
    check_arrived(rsyslog.messages(), &records);
    assert!(!left.spool.exists(), "a spool sent whole is removed");
    assert_eq!(ended.spools(), Vec::<std::path::PathBuf>::new());
}

fn a_signal_during_the_wait_for_the_last_acknowledgements_ends_it() {
    // Nothing listens on the port: the messages wait, and teelog would wait --ship-timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempdir();
    let log = dir.path().join("run.jsonl");
    let child = teelog()
        .args(["-q", "--ship-timeout", "60", "--spool-dir"])
        .arg(dir.path().join("spool"))
        .arg("-o")
        .arg(format!("relp=127.0.0.1:{port}"))
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .args(["--", "sh", "-c", "echo one; exit 4"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The command has ended once its exit record is in the log.
    let deadline = Instant::now() + PATIENCE;
    while !String::from_utf8_lossy(&read_or_empty(&log)).contains("\"exit\"") {
        assert!(Instant::now() < deadline, "the command did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "the command's status");
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("not acknowledged"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("3 messages not acknowledged (the wait ended at SIGINT); kept in "),
        "{line}"
    );
}

fn relp_opens_a_new_session_before_the_transaction_numbers_run_out() {
    // librelp refuses a tenth digit, so a session must end before 999,999,999; the tests make
    // teelog renew every 100 transactions to see it happen against the real imrelp.
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let dir = tempdir();
    let log = dir.path().join("run.jsonl");
    let out = run(
        teelog()
            .env("TEELOG_RELP_LAST_TXNR", "100")
            .args(["-q", "--ship-timeout", "60", "--spool-dir"])
            .arg(dir.path().join("spool"))
            .arg("-o")
            .arg(rsyslog.target())
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args(["--", "seq", "1", "2000"]),
        0,
    );
    assert_eq!(text(&out.stderr), "", "no trouble, nothing left");
    let records = records(&read(&log));
    rsyslog.wait_for(records.len(), PATIENCE);
    let doubles = check_arrived(rsyslog.messages(), &records);
    assert_eq!(doubles, 0, "a renewed session sends nothing twice");
    assert!(
        rebuild(&records, "stdout") == joined(&numbered(2000)),
        "stdout arrived otherwise"
    );
}

fn several_collectors_that_are_down_are_waited_for_together() {
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let dir = tempdir();
    let mut cmd = teelog();
    cmd.args(["-q", "--ship-timeout", "2", "--spool-dir"])
        .arg(dir.path());
    for port in &ports {
        cmd.arg("-o").arg(format!("relp=127.0.0.1:{port}"));
    }
    let start = Instant::now();
    let out = run(cmd.args(["--", "sh", "-c", "echo one; exit 3"]), 3);
    let took = start.elapsed();
    // The spec's bound for one: --ship-timeout + 1 s; two waits one after the other take 4 s.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let stderr = text(&out.stderr);
    for port in &ports {
        let left = format!("relp=127.0.0.1:{port}: 3 messages not acknowledged; kept in ");
        assert!(stderr.contains(&left), "{stderr}");
    }
}

/// The file's bytes, or none while it is not there.
fn read_or_empty(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

crate::trials![
    a_signal_during_the_wait_for_the_last_acknowledgements_ends_it,
    several_collectors_that_are_down_are_waited_for_together,
    relp_opens_a_new_session_before_the_transaction_numbers_run_out[RSYSLOG, RSYSLOG_RELP],
    relp_delivers_every_line_to_a_server_that_is_up[RSYSLOG, RSYSLOG_RELP],
    relp_delivers_every_line_to_a_server_that_starts_late[RSYSLOG, RSYSLOG_RELP],
    relp_delivers_every_line_across_a_server_killed_at_half_and_restarted[RSYSLOG, RSYSLOG_RELP],
    relp_delivers_every_line_across_a_server_stopped_for_ten_seconds[RSYSLOG, RSYSLOG_RELP],
    relp_keeps_what_a_server_gone_for_good_did_not_acknowledge_for_teelog_ship[
        RSYSLOG,
        RSYSLOG_RELP
    ],
];
