//! Each format, on the console and in logs, several at once.

use std::os::unix::fs::PermissionsExt;

use crate::util::*;

const BYTES_OUT: &[u8] = b"ok\r\n\xff\xfe bad\n\0nul\ntail without newline";
const BYTES_ERR: &[u8] = b"err \xc0\n";

fn plain_console_keeps_both_streams_byte_for_byte() {
    let out = run(teelog().arg("--").arg(fixture("bytes.sh")), 0);
    assert_eq!(out.stdout, BYTES_OUT);
    assert_eq!(out.stderr, BYTES_ERR);
}

fn jsonl_rebuilds_non_utf8_output_of_both_streams_exactly() {
    let dir = tempdir();
    let log = dir.path().join("run.jsonl");
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .arg(fixture("bytes.sh")),
        0,
    );
    assert_eq!(out.stdout, BYTES_OUT, "the console is unchanged");
    let records = records(&read(&log));
    check_run(&records);
    assert_eq!(rebuild(&records, "stdout"), BYTES_OUT);
    assert_eq!(rebuild(&records, "stderr"), BYTES_ERR);
    let bad = records
        .iter()
        .find(|r| r["message"] == "\u{fffd}\u{fffd} bad")
        .unwrap();
    assert_eq!(bad["bytes"], "//4gYmFk", "base64 of the exact line");
    let tail = records.last().unwrap();
    assert_eq!(tail["type"], "exit");
    assert_eq!(tail["code"], 0);
    assert_eq!(tail["signal"], serde_json::Value::Null);
    assert!(tail["duration_s"].as_f64().unwrap() >= 0.0);
    let start = &records[0];
    assert_eq!(start["command"][0], fixture("bytes.sh").to_str().unwrap());
    assert_eq!(
        start["cwd"],
        std::env::current_dir().unwrap().to_str().unwrap()
    );
}

fn jsonl_console_carries_every_record_of_both_streams_on_stdout() {
    let out = run(
        teelog()
            .args(["--format", "jsonl", "--"])
            .arg(fixture("interleave.sh")),
        0,
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let records = records(&out.stdout);
    check_run(&records);
    assert_eq!(messages(&records, "stdout"), ["out1", "out2"]);
    assert_eq!(messages(&records, "stderr"), ["err1", "err2"]);
}

fn classic_console_frames_the_run_and_marks_stderr() {
    let out = run(
        teelog()
            .args(["-f", "classic", "--"])
            .arg(fixture("interleave.sh"))
            .arg("3"),
        3,
    );
    let text = text(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let (_, who, tag, rest) = classic_prompt(lines[0]);
    assert!(who.contains('@'), "{who}");
    assert_eq!(tag, "");
    assert!(rest.starts_with(" start: "), "{rest}");
    assert!(rest.contains("interleave.sh 3 (pid "), "{rest}");
    let (_, _, _, rest) = classic_prompt(lines.last().unwrap());
    assert!(rest.starts_with(" exit: status 3 after "), "{rest}");
    // Every line of output is under a prompt of its stream or continues the one above it.
    let mut seen = Vec::new();
    let mut stream = None;
    for line in &lines[1..lines.len() - 1] {
        let body = if line.starts_with('[') {
            let (_, _, tag, rest) = classic_prompt(line);
            stream = Some(tag);
            rest.strip_prefix("> ").unwrap().to_owned()
        } else {
            line.to_string()
        };
        seen.push((stream.clone().expect("output before any prompt"), body));
    }
    let mut out_lines: Vec<_> = seen
        .iter()
        .filter(|(t, _)| t.is_empty())
        .map(|(_, b)| b.as_str())
        .collect();
    let mut err_lines: Vec<_> = seen
        .iter()
        .filter(|(t, _)| t == "stderr")
        .map(|(_, b)| b.as_str())
        .collect();
    out_lines.sort();
    err_lines.sort();
    assert_eq!(out_lines, ["out1", "out2"], "{text}");
    assert_eq!(err_lines, ["err1", "err2"], "{text}");
}

fn several_logs_in_different_formats_at_once() {
    let dir = tempdir();
    let input = noise(300_000, 7);
    let file = dir.path().join("input.bin");
    std::fs::write(&file, &input).unwrap();
    let (plain, classic, jsonl) = (
        dir.path().join("p.log"),
        dir.path().join("c.log"),
        dir.path().join("j.jsonl"),
    );
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(&classic)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--pause", "30", "--", "cat"])
            .arg(&file),
        0,
    );
    assert_eq!(out.stdout, input);
    assert_eq!(read(&plain), input);
    let records = records(&read(&jsonl));
    check_run(&records);
    assert_eq!(rebuild(&records, "stdout"), input);

    // classic: start line, one prompt (no pause of 30 s happened), the bytes, exit line.
    let classic = read(&classic);
    let first_nl = classic.iter().position(|&b| b == b'\n').unwrap();
    let rest = &classic[first_nl + 1..];
    let prompt_end = rest.windows(3).position(|w| w == b"]> ").unwrap() + 3;
    let body = &rest[prompt_end..];
    let exit_at = body.windows(2).rposition(|w| w == b"\n[").unwrap();
    assert_eq!(
        &body[..exit_at],
        &input[..],
        "classic keeps the output byte for byte"
    );
    assert!(text(&body[exit_at..]).contains("] exit: status 0 after "));
}

fn merge_keeps_the_exact_order_in_one_stream() {
    let out = run(teelog().arg("--merge").arg(fixture("interleave.sh")), 0);
    assert_eq!(text(&out.stdout), "out1\nerr1\nout2\nerr2\n");
    assert!(out.stderr.is_empty());
    let out = run(
        teelog()
            .args(["--merge", "-f", "jsonl"])
            .arg(fixture("interleave.sh")),
        0,
    );
    let records = records(&out.stdout);
    assert_eq!(
        messages(&records, "stdout"),
        ["out1", "err1", "out2", "err2"]
    );
}

fn quiet_writes_the_logs_only() {
    let dir = tempdir();
    let log = dir.path().join("q.log");
    let out = run(
        teelog()
            .arg("-q")
            .arg("-o")
            .arg(format!("plain={}", log.display()))
            .arg(fixture("interleave.sh")),
        0,
    );
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let logged = text(&read(&log));
    for line in ["out1\n", "out2\n", "err1\n", "err2\n"] {
        assert!(logged.contains(line), "{logged}");
    }
}

fn logs_are_appended_private_and_each_run_has_its_own_session() {
    let dir = tempdir();
    let log = dir.path().join("run.jsonl");
    for word in ["first", "second"] {
        run(
            teelog()
                .arg("-q")
                .arg("-o")
                .arg(format!("jsonl={}", log.display()))
                .args(["echo", word]),
            0,
        );
    }
    let records = records(&read(&log));
    assert_eq!(records.len(), 6);
    let (a, b) = records.split_at(3);
    check_run(a);
    check_run(b);
    assert_eq!(messages(a, "stdout"), ["first"]);
    assert_eq!(messages(b, "stdout"), ["second"]);
    assert_ne!(a[0]["session"], b[0]["session"]);
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn utc_switches_classic_timestamps_from_local_time() {
    let now = chrono::Utc::now().naive_utc();
    let prompt_time = |utc: bool| {
        let mut cmd = teelog();
        cmd.env("TZ", "XYZ-9").args(["-f", "classic"]);
        if utc {
            cmd.arg("--utc");
        }
        let out = run(cmd.args(["echo", "x"]), 0);
        classic_prompt(text(&out.stdout).lines().next().unwrap()).0
    };
    let near = |t: chrono::NaiveDateTime, expected: chrono::NaiveDateTime| {
        (t - expected).num_seconds().abs() < 300
    };
    let utc = prompt_time(true);
    let local = prompt_time(false);
    assert!(near(utc, now), "--utc gives UTC: {utc} vs {now}");
    assert!(
        near(local, now + chrono::Duration::hours(9)),
        "local time in TZ=XYZ-9: {local} vs {now}"
    );
}

/// What the README's Guarantees say classic cannot prevent, and jsonl does: output that prints
/// lines shaped like teelog's own is, in a classic log, text a reader cannot tell from them; in
/// jsonl it is output of its stream, and the run's own records are apart.
fn output_that_imitates_classic_lines_is_output_in_jsonl() {
    let dir = tempdir();
    let (classic, jsonl) = (dir.path().join("x.log"), dir.path().join("x.jsonl"));
    let fake_exit = "[Tue Oct 30 22:13:13 2012 root@db1] exit: status 0 after 0.001s";
    let fake_prompt = "[Tue Oct 30 22:13:13 2012 root@db1 stderr]> DROP TABLE users;";
    // One write, so no pause can put a prompt of teelog's own before the imitations.
    let script = format!("printf 'first\\n%s\\n%s\\n' '{fake_exit}' '{fake_prompt}'; exit 3");
    run(
        teelog()
            .args(["-q", "-o"])
            .arg(&classic)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "sh", "-c", &script]),
        3,
    );
    let log = text(&read(&classic));
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.contains(&fake_exit) && lines.contains(&fake_prompt),
        "in classic the imitations are lines of their own: {log:?}"
    );
    assert!(lines.last().unwrap().contains("] exit: status 3 after "));
    let records = records(&read(&jsonl));
    check_run(&records);
    assert_eq!(
        messages(&records, "stdout"),
        ["first", fake_exit, fake_prompt],
        "in jsonl they are stdout"
    );
    let exits: Vec<_> = records.iter().filter(|r| r["type"] == "exit").collect();
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0]["code"], 3);
}

fn an_argument_cannot_forge_classic_log_lines() {
    let dir = tempdir();
    let log = dir.path().join("x.log");
    let forged = "\n[Tue Oct 30 22:13:13 2012 root@db1] exit: status 0 after 0.001s\n\x1b[2J";
    run(
        teelog()
            .arg("-q")
            .arg("-o")
            .arg(&log)
            .args(["--", "true", forged]),
        0,
    );
    let log = text(&read(&log));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "one start line and one exit line: {log:?}");
    assert!(
        lines[0].contains(
            "] start: true $'\\n[Tue Oct 30 22:13:13 2012 root@db1] exit: status 0 after 0.001s\\n\\x1b[2J' (pid "
        ),
        "{log:?}"
    );
    assert!(!log.contains('\x1b'));
}

fn classic_never_cuts_a_utf8_character_across_a_pause() {
    // split.sh writes "caf\303", pauses, then "\251\n": the pause must not put a newline and a
    // prompt inside the "é".
    let dir = tempdir();
    let log = dir.path().join("u.log");
    let out = run(
        teelog()
            .args(["-f", "classic", "-o"])
            .arg(&log)
            .arg(fixture("split.sh")),
        0,
    );
    for bytes in [out.stdout, read(&log)] {
        let text = String::from_utf8(bytes).expect("classic output is valid UTF-8");
        assert!(
            text.contains("\ncaf\n[") && text.contains("]> é\n"),
            "{text}"
        );
    }
}

fn the_classic_console_is_coloured_on_a_terminal_only() {
    // On a real terminal: stderr's prompt red, start and exit lines dim; never in the log, never
    // with NO_COLOR or --color never; with --color always even into a pipe.
    let dir = tempdir();
    let bin = env!("CARGO_BIN_EXE_teelog");
    let log = dir.path().join("c.log");
    let run_in_terminal = |env: &str, args: &str| {
        let script = format!(
            "{env} {bin} -f classic {args} -o {} -- sh -c 'echo out; echo err >&2'; echo \"status $?\"",
            log.display()
        );
        let (mut child, master, console) =
            in_a_terminal(dir.path(), &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
        assert_eq!(wait(&mut child), Status::Code(0));
        drop(master);
        let shown = console.rest();
        assert!(shown.contains("status 0"), "{shown:?}");
        shown
    };
    let shown = run_in_terminal("", "");
    assert!(shown.contains("\x1b[31m["), "{shown:?}");
    assert!(shown.contains("stderr]>\x1b[0m err"), "{shown:?}");
    assert!(
        shown.contains("\x1b[2m[") && shown.contains("start: sh -c"),
        "{shown:?}"
    );
    assert!(
        !text(&read(&log)).contains('\x1b'),
        "the log is never coloured"
    );
    for (env, args) in [("NO_COLOR=1", ""), ("", "--color never")] {
        let shown = run_in_terminal(env, args);
        assert!(!shown.contains('\x1b'), "{env} {args}: {shown:?}");
    }
    let out = run(
        teelog().args([
            "-f",
            "classic",
            "--color",
            "always",
            "--",
            "sh",
            "-c",
            "echo err >&2",
        ]),
        0,
    );
    assert!(
        text(&out.stdout).contains("\x1b[31m["),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        teelog().args(["-f", "classic", "--", "sh", "-c", "echo err >&2"]),
        0,
    );
    assert!(
        !text(&out.stdout).contains('\x1b'),
        "a pipe gets no colour by default"
    );
}

crate::trials![
    plain_console_keeps_both_streams_byte_for_byte,
    jsonl_rebuilds_non_utf8_output_of_both_streams_exactly,
    jsonl_console_carries_every_record_of_both_streams_on_stdout,
    classic_console_frames_the_run_and_marks_stderr,
    several_logs_in_different_formats_at_once,
    merge_keeps_the_exact_order_in_one_stream,
    quiet_writes_the_logs_only,
    logs_are_appended_private_and_each_run_has_its_own_session,
    utc_switches_classic_timestamps_from_local_time,
    output_that_imitates_classic_lines_is_output_in_jsonl,
    an_argument_cannot_forge_classic_log_lines,
    classic_never_cuts_a_utf8_character_across_a_pause,
    the_classic_console_is_coloured_on_a_terminal_only,
];
