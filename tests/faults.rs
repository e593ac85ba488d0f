//! Faults provoked for real: a closed console, a full filesystem, lingering descendants, eight
//! writers on one log, `kill -9`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

fn a_closed_console_is_dropped_and_the_logs_get_everything() {
    let dir = tempdir();
    let log = dir.path().join("x.jsonl");
    let mut child = teelog()
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .args(["--", "seq", "1", "200000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -c 10`: read a little, then close the pipe.
    let mut head = [0; 10];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        Status::of(out.status),
        Status::Code(0),
        "a closed console is not a failure"
    );
    assert_eq!(text(&out.stderr), "", "nothing to report");
    let records = records(&read(&log));
    check_run(&records);
    let expected: Vec<String> = (1..=200_000).map(|i| i.to_string()).collect();
    assert_eq!(
        messages(&records, "stdout"),
        expected,
        "the command ran to its end"
    );
    assert_eq!(records.last().unwrap()["code"], 0);
}

fn a_non_blocking_console_that_fills_up_is_waited_for_not_dropped() {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let (mut reader, writer) = std::io::pipe().unwrap();
    // As a program that shares its terminal might leave it: the write end is non-blocking.
    fcntl(&writer, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
    let child = teelog()
        .args(["--", "head", "-c", "3000000", "/dev/zero"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read slowly at first, so that the pipe is full when teelog writes.
    std::thread::sleep(Duration::from_millis(300));
    let mut console = Vec::new();
    reader.read_to_end(&mut console).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stderr), "", "no error for a full console");
    assert!(out.status.success());
    assert_eq!(console.len(), 3_000_000, "every byte reached the console");
}

fn a_log_on_a_filesystem_that_fills_up_is_reported_and_the_rest_goes_on() {
    require(&ROOT);
    let (small, big) = (tempdir(), tempdir());
    let input = big.path().join("input");
    let data = noise(3_000_000, 9);
    std::fs::write(&input, &data).unwrap();
    let expected = [data.as_slice(), b"done\n"].concat();
    let teelog = env!("CARGO_BIN_EXE_teelog");
    // A classic log (written from teelog's memory), then plain logs only (spliced).
    for full in ["", "plain="] {
        // A 64 KiB tmpfs in a mount namespace of its own, gone when the test is.
        let script = format!(
            "mount -t tmpfs -o size=64k teelog-test {small} && exec {teelog} -o {full}{small}/full.log \
             -o plain={big}/ok.log -- sh -c 'cat {input}; echo done'",
            small = small.path().display(),
            big = big.path().display(),
            input = input.display(),
        );
        let out = run(
            Command::new("unshare")
                .args(["-m", "sh", "-c", &script])
                .stdin(Stdio::null()),
            125,
        );
        assert!(out.stdout == expected, "{full}: the console got everything");
        let ok = big.path().join("ok.log");
        assert!(
            read(&ok) == expected,
            "{full}: the other log got everything"
        );
        std::fs::remove_file(ok).unwrap();
        assert_eq!(
            text(&out.stderr),
            format!(
                "teelog: cannot write to log '{}/full.log': No space left on device (os error 28)\n",
                small.path().display()
            )
        );
    }
}

fn a_spool_on_a_filesystem_that_fills_up_is_reported_and_the_rest_goes_on() {
    require(&ROOT);
    let (small, big) = (tempdir(), tempdir());
    // Nothing listens there: every message stays in the spool, which fills its 64 KiB tmpfs.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        "mount -t tmpfs -o size=64k teelog-test {small} && exec {teelog} -q --ship-timeout 0.2 \
         --spool-dir {small} -o relp=127.0.0.1:{port} -o jsonl={big}/ok.jsonl -- seq 1 100000",
        small = small.path().display(),
        big = big.path().display(),
        teelog = env!("CARGO_BIN_EXE_teelog"),
    );
    let out = run(
        Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .stdin(Stdio::null()),
        125,
    );
    let records = records(&read(&big.path().join("ok.jsonl")));
    let expected: String = (1..=100_000).map(|n| format!("{n}\n")).collect();
    assert_eq!(
        text(&rebuild(&records, "stdout")),
        expected,
        "the jsonl log got everything"
    );
    let stderr = text(&out.stderr);
    let full: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("No space left on device"))
        .collect();
    assert_eq!(full.len(), 1, "{stderr}");
    assert!(
        full[0].starts_with(&format!(
            "teelog: cannot write to the spool '{}/",
            small.path().display()
        )) && full[0].contains(&format!(" of relp=127.0.0.1:{port}: ")),
        "{stderr}"
    );
}

fn a_background_descendant_holding_the_pipe_does_not_hold_teelog() {
    let dir = tempdir();
    let log = dir.path().join("x.jsonl");
    let begun = Instant::now();
    run(
        teelog()
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args(["--", "sh", "-c", "sleep 30 & echo started"]),
        0,
    );
    let took = begun.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "teelog waited for the background sleep: {took:?}"
    );
    let first = records(&read(&log));
    check_run(&first);
    assert_eq!(messages(&first, "stdout"), ["started"]);

    // The grace period is the user's to set, and what descendants write within it is logged.
    let begun = Instant::now();
    run(
        teelog()
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args(["--grace", "5", "--", "sh", "-c"])
            .arg("sleep 30 & (sleep 0.3; echo late) & echo started"),
        0,
    );
    assert!(
        begun.elapsed() >= Duration::from_secs(5),
        "the grace period was cut short"
    );
    let all = records(&read(&log));
    let second_run = &all[first.len()..];
    check_run(second_run);
    assert_eq!(messages(second_run, "stdout"), ["started", "late"]);
}

fn eight_teelogs_appending_to_one_log_never_cut_or_mix_records() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("all.jsonl"), dir.path().join("all.log"));
    let lines = 500;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            teelog()
                .arg("-q")
                .arg("-o")
                .arg(format!("jsonl={}", jsonl.display()))
                .arg("-o")
                .arg(&classic)
                .args(["--", "sh", "-c"])
                .arg(format!(
                    "i=0; while [ $i -lt {lines} ]; do echo \"w{w} $i\"; i=$((i+1)); done"
                ))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut w in writers {
        assert!(w.wait().unwrap().success());
    }
    let expected = |w: usize| (0..lines).map(|i| format!("w{w} {i}")).collect::<Vec<_>>();

    let records = records(&read(&jsonl));
    let mut sessions = std::collections::BTreeMap::<String, Vec<serde_json::Value>>::new();
    for r in records {
        sessions
            .entry(r["session"].as_str().unwrap().to_owned())
            .or_default()
            .push(r);
    }
    assert_eq!(sessions.len(), 8);
    for run in sessions.values() {
        check_run(run);
        let out = messages(run, "stdout");
        let w: usize = out[0][1..2].parse().unwrap();
        assert_eq!(out, expected(w));
    }

    // classic: every line is a prompt with a whole line of output, or a whole line of output
    // continuing the prompt above it, or a start/exit line.
    let classic = text(&read(&classic));
    let mut seen = vec![Vec::new(); 8];
    for line in classic.lines() {
        let body = match line.strip_prefix('[') {
            Some(_) => match classic_prompt(line).3.strip_prefix("> ") {
                Some(body) => body.to_owned(),
                None => continue,
            },
            None => line.to_owned(),
        };
        let w: usize = body
            .strip_prefix('w')
            .and_then(|b| b[..1].parse().ok())
            .unwrap_or_else(|| panic!("{line:?}"));
        seen[w].push(body);
    }
    for (w, got) in seen.iter().enumerate() {
        assert_eq!(got, &expected(w), "writer {w}");
    }
    assert_eq!(classic.matches("] start: ").count(), 8);
    assert_eq!(classic.matches("] exit: status 0 after ").count(), 8);
}

/// A run that starts while another is writing a long jsonl record (one write(2) that crosses
/// pages, so the file grows page by page while the kernel copies it) must not take the record in
/// progress for one cut short and end it with a newline of its own: that made an empty line.
fn runs_starting_while_another_writes_a_long_record_add_no_empty_line() {
    let dir = tempdir();
    let log = dir.path().join("all.jsonl");
    let line = "a".repeat(9000);
    let mut writer = teelog()
        .arg("-q")
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .args(["--", "sh", "-c"])
        .arg(format!(
            "i=0; while [ $i -lt 4000 ]; do echo {line}; i=$((i+1)); done"
        ))
        .spawn()
        .unwrap();
    let mut starts = 0;
    while writer.try_wait().unwrap().is_none() || starts == 0 {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                teelog()
                    .args(["-q", "-o"])
                    .arg(format!("jsonl={}", log.display()))
                    .args(["--", "true"])
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut run in runs {
            assert!(run.wait().unwrap().success());
        }
        starts += 4;
    }
    assert!(writer.wait().unwrap().success());
    let bytes = read(&log);
    let empty = text(&bytes).lines().filter(|l| l.is_empty()).count();
    assert_eq!(empty, 0, "{starts} runs started beside the writer");
    let records = records(&bytes);
    let expected = format!("{line}\n").repeat(4000);
    assert!(
        rebuild(&records, "stdout") == expected.as_bytes(),
        "the long records"
    );
    let count = |kind: &str| records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!((count("start"), count("exit")), (starts + 1, starts + 1));
}

fn kill_9_leaves_every_record_whole_but_perhaps_the_last() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("k.jsonl"), dir.path().join("k.log"));
    let mut child = teelog()
        .arg("-q")
        .arg("-o")
        .arg(format!("jsonl={}", jsonl.display()))
        .arg("-o")
        .arg(&classic)
        .args(["--", "yes", "a line of output that goes on and on"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&jsonl).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(Instant::now() < deadline, "no output logged");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let log = read(&jsonl);
    let lines: Vec<&[u8]> = log.split_inclusive(|&b| b == b'\n').collect();
    let (last, whole) = lines.split_last().unwrap();
    assert!(whole.len() > 1000);
    for (i, line) in whole.iter().enumerate() {
        let r: serde_json::Value =
            serde_json::from_slice(line).unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(r["seq"], i as u64 + 1);
        if i > 0 {
            assert_eq!(r["message"], "a line of output that goes on and on");
        }
    }
    assert!(last.ends_with(b"\n") || serde_json::from_slice::<serde_json::Value>(last).is_err());

    // classic: after the start line, every line is the output line under a prompt or alone; only
    // the very last piece, when it has no newline, may be cut short.
    let classic = text(&read(&classic));
    let mut lines: Vec<&str> = classic.split_inclusive('\n').collect();
    if lines.last().is_some_and(|l| !l.ends_with('\n')) {
        lines.pop();
    }
    assert!(lines.len() > 1000);
    for line in &lines[1..] {
        let body = match line.strip_prefix('[') {
            Some(_) => classic_prompt(line)
                .3
                .strip_prefix("> ")
                .unwrap()
                .to_owned(),
            None => line.to_string(),
        };
        assert_eq!(body, "a line of output that goes on and on\n");
    }
}

crate::trials![
    a_closed_console_is_dropped_and_the_logs_get_everything,
    a_non_blocking_console_that_fills_up_is_waited_for_not_dropped,
    a_log_on_a_filesystem_that_fills_up_is_reported_and_the_rest_goes_on[ROOT],
    a_spool_on_a_filesystem_that_fills_up_is_reported_and_the_rest_goes_on[ROOT],
    a_background_descendant_holding_the_pipe_does_not_hold_teelog,
    eight_teelogs_appending_to_one_log_never_cut_or_mix_records,
    runs_starting_while_another_writes_a_long_record_add_no_empty_line,
    kill_9_leaves_every_record_whole_but_perhaps_the_last,
];
