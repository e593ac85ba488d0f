//! File logs as an operator finds them: a record an earlier run left cut short, a mode open to
//! other users, more logs than descriptors, `--keep` bounds.

use crate::util::*;

use std::path::Path;
use std::process::Command;

/// `teelog ARGS` under `sh -c 'ulimit LIMIT; exec ...'`.
fn limited(limit: &str, args: &[&std::ffi::OsStr]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit {limit}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_teelog"))
        .args(args)
        .stdin(std::process::Stdio::null());
    cmd
}

#[test]
fn a_record_cut_short_is_ended_before_the_next_run_appends_its_own() {
    let dir = tempdir();
    let jsonl = dir.path().join("r.jsonl");
    let classic = dir.path().join("r.log");
    let logs = |cmd: &mut Command| {
        cmd.arg("-q")
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic);
    };
    // The first run's logs are cut at the file size limit, mid-record (a full disk alike).
    let mut first = limited("-f 2", &[]);
    logs(&mut first);
    first.args(["--", "seq", "1", "1000"]);
    let out = run(&mut first, 125);
    assert!(
        text(&out.stderr).contains("File too large"),
        "{}",
        text(&out.stderr)
    );
    let cut_jsonl = read(&jsonl);
    let cut_classic = read(&classic);
    for cut in [&cut_jsonl, &cut_classic] {
        assert!(!cut.is_empty() && !cut.ends_with(b"\n"), "cut mid-record");
    }
    let mut second = teelog();
    logs(&mut second);
    second.args(["--", "echo", "second run"]);
    run(&mut second, 0);
    // Both logs: the cut record as it was, ended by a newline, then the second run's own lines.
    let (after_jsonl, after_classic) = (read(&jsonl), read(&classic));
    for (after, cut) in [(&after_jsonl, &cut_jsonl), (&after_classic, &cut_classic)] {
        assert!(after.starts_with(cut), "nothing before the cut changed");
        assert_eq!(after[cut.len()], b'\n', "the cut record ended");
    }
    let rest = text(&after_classic[cut_classic.len() + 1..]);
    assert!(
        rest.starts_with('[') && rest.contains("] start: echo 'second run'"),
        "{rest}"
    );
    // serde: every line but the cut one is a record, and the second run is whole.
    let lines: Vec<&str> = std::str::from_utf8(&after_jsonl).unwrap().lines().collect();
    let cut_at = text(&cut_jsonl).lines().count() - 1;
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != cut_at)
        .map(|(_, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let second_run: Vec<serde_json::Value> = parsed
        .iter()
        .skip_while(|r| r["session"] == parsed[0]["session"])
        .cloned()
        .collect();
    check_run(&second_run);
    assert_eq!(messages(&second_run, "stdout"), ["second run"]);
    // jq: the same, line by line.
    if available("jq", &["jq", "--version"]) {
        let jq = run(
            Command::new("jq")
                .args(["-R", "-c", "fromjson? | .seq"])
                .arg(&jsonl),
            0,
        );
        assert_eq!(text(&jq.stdout).lines().count(), lines.len() - 1);
    }
    // replay: the last run, with a warning naming the cut line.
    let replayed = run(teelog().arg("replay").arg(&jsonl), 0);
    assert_eq!(text(&replayed.stdout), "second run\n");
    assert!(
        text(&replayed.stderr).contains(&format!(":{}: skipped a record cut short", cut_at + 1)),
        "{}",
        text(&replayed.stderr)
    );
}

#[test]
fn a_plain_log_keeps_its_bytes_when_the_last_run_ended_without_a_newline() {
    // plain is the output itself: a last line without its newline is what the command printed.
    let dir = tempdir();
    let log = dir.path().join("p.log");
    for word in ["one", "two"] {
        run(
            teelog()
                .args(["-q", "-o"])
                .arg(format!("plain={}", log.display()))
                .args(["--", "printf", word]),
            0,
        );
    }
    assert_eq!(text(&read(&log)), "onetwo");
}

#[test]
fn keep_is_bounded() {
    let out = run(
        teelog().args(["--max-size", "1K", "--keep", "4294967295", "--", "true"]),
        125,
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("teelog: ") && stderr.contains("at most 1000"),
        "{stderr}"
    );
    run(
        teelog().args(["-q", "--max-size", "1K", "--keep", "1000", "--", "true"]),
        0,
    );
}

#[test]
fn a_rotation_renames_only_the_files_there_are() {
    if !available("strace", &["strace", "-V"]) {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("r.log");
    let trace = dir.path().join("trace");
    run(
        Command::new("strace")
            .args(["-f", "-e", "trace=rename,renameat,renameat2", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .args(["-q", "--max-size", "100", "--keep", "1000", "-o"])
            .arg(format!("plain={}", log.display()))
            .args(["--", "seq", "1", "200"]),
        0,
    );
    let rotated = (1..)
        .take_while(|n| Path::new(&format!("{}.{n}", log.display())).exists())
        .count();
    assert!(rotated >= 5, "{rotated} rotations");
    let renames: Vec<String> = text(&read(&trace))
        .lines()
        .filter(|l| l.contains("rename"))
        .map(str::to_owned)
        .collect();
    // The kth rotation renames the k-1 files there are, then the log itself.
    assert_eq!(renames.len(), rotated * (rotated + 1) / 2, "{renames:#?}");
    assert!(renames.iter().all(|l| l.ends_with("= 0")), "{renames:#?}");
}
