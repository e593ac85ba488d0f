//! Output reaches the console and the logs as it is written, not when the command ends.

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;

/// Generous: the machines are shared and noisy. Only a hang takes this long.
const PATIENCE: Duration = Duration::from_secs(30);

fn a_prompt_without_newline_reaches_console_and_logs_while_the_command_waits() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("p.jsonl"), dir.path().join("p.log"));
    let mut child = teelog()
        .arg("-o")
        .arg(format!("jsonl={}", jsonl.display()))
        .arg("-o")
        .arg(&classic)
        .arg("--")
        .arg(fixture("prompt.sh"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            let _ = tx.send(buf[..n].to_vec());
        }
    });

    // The command is blocked reading stdin, so whatever shows now was shown live.
    let deadline = Instant::now() + PATIENCE;
    let mut console = Vec::new();
    while console != b"Password: " {
        let left = deadline.saturating_duration_since(Instant::now());
        console.extend(
            rx.recv_timeout(left)
                .expect("the prompt reaches the console"),
        );
    }
    let partial = loop {
        let records = records(&std::fs::read(&jsonl).unwrap_or_default());
        if let Some(r) = records.iter().find(|r| r["type"] == "output") {
            break r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the prompt never reached the jsonl log"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(partial["message"], "Password: ");
    assert_eq!(partial["eol"], false);
    assert!(text(&read(&classic)).contains("]> Password: "));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the command still waits for its input"
    );

    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    console.extend(rx.try_iter().flatten());
    assert_eq!(text(&console), "Password: got s3cret\n");
    let records = records(&read(&jsonl));
    check_run(&records);
    assert_eq!(messages(&records, "stdout"), ["Password: ", "got s3cret"]);
    assert_eq!(rebuild(&records, "stdout"), b"Password: got s3cret\n");
}

fn a_line_split_across_reads_is_one_record() {
    // split.sh writes its pieces 0.2 s apart: separate reads. Within a pause of 5 s they join.
    let out = run(
        teelog()
            .args(["-f", "jsonl", "--pause", "5"])
            .arg(fixture("split.sh")),
        0,
    );
    let recs = records(&out.stdout);
    check_run(&recs);
    assert_eq!(messages(&recs, "stdout"), ["hello world", "café"]);
    assert!(
        recs.iter()
            .all(|r| r.get("eol").is_none() && r.get("bytes").is_none())
    );

    // With the default pause of 0.02 s each piece is written when the command pauses; the
    // character split in two ("é") is still never cut.
    let out = run(teelog().args(["-f", "jsonl"]).arg(fixture("split.sh")), 0);
    let recs = records(&out.stdout);
    check_run(&recs);
    assert!(
        recs.iter().any(|r| r["eol"] == false),
        "the pieces were separate reads"
    );
    assert!(
        recs.iter().all(|r| r.get("bytes").is_none()),
        "no UTF-8 character was cut"
    );
    assert_eq!(rebuild(&recs, "stdout"), "hello world\ncafé\n".as_bytes());
}

crate::trials![
    a_prompt_without_newline_reaches_console_and_logs_while_the_command_waits,
    a_line_split_across_reads_is_one_record,
];
