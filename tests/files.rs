//! File logs as an operator finds them: a record an earlier run left cut short, a mode open to
//! other users, more logs than descriptors, `--keep` bounds.

use crate::util::*;

use std::os::unix::fs::PermissionsExt;
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
    // The limit can fall just after a newline (the records' lengths vary with the pid and the
    // clock); then one byte less makes the cut mid-record, as a torn write leaves it.
    for path in [&jsonl, &classic] {
        let cut = read(path);
        assert!(!cut.is_empty(), "the first run wrote something");
        if cut.ends_with(b"\n") {
            let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            file.set_len(cut.len() as u64 - 1).unwrap();
        }
    }
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
    require(&JQ);
    let jq = run(
        Command::new("jq")
            .args(["-R", "-c", "fromjson? | .seq"])
            .arg(&jsonl),
        0,
    );
    assert_eq!(text(&jq.stdout).lines().count(), lines.len() - 1);
    // replay: the last run, with a warning naming the cut line.
    let replayed = run(teelog().arg("replay").arg(&jsonl), 0);
    assert_eq!(text(&replayed.stdout), "second run\n");
    assert!(
        text(&replayed.stderr).contains(&format!(":{}: skipped a record cut short", cut_at + 1)),
        "{}",
        text(&replayed.stderr)
    );
}

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

/// The lines of `stderr` that are teelog's warnings about `log`'s mode.
fn mode_warnings(stderr: &[u8], log: &Path) -> Vec<String> {
    text(stderr)
        .lines()
        .filter(|l| l.contains(&format!("'{}'", log.display())) && l.contains("mode"))
        .map(str::to_owned)
        .collect()
}

fn a_log_other_users_can_read_is_said_once_and_left_as_it_is() {
    let dir = tempdir();
    let open = dir.path().join("open.log");
    let private = dir.path().join("private.log");
    let fresh = dir.path().join("fresh.jsonl");
    std::fs::write(&open, "").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&private, "").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(
        teelog()
            .arg("-o")
            .arg(&open)
            .arg("-o")
            .arg(&private)
            .arg("-o")
            .arg(format!("jsonl={}", fresh.display()))
            .args(["--", "echo", "hi"]),
        0,
    );
    let warned = mode_warnings(&out.stderr, &open);
    assert_eq!(warned.len(), 1, "{}", text(&out.stderr));
    assert!(
        warned[0].starts_with("teelog: warning: ") && warned[0].contains("mode 0644"),
        "{}",
        warned[0]
    );
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "nothing about the others"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&open), 0o644, "not changed");
    assert_eq!(mode(&fresh), 0o600);
}

fn too_few_descriptors_for_every_log_creates_none_and_starts_nothing() {
    let dir = tempdir();
    let started = dir.path().join("started");
    let kept = dir.path().join("kept.log");
    std::fs::write(&kept, "an earlier run\n").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut args: Vec<std::ffi::OsString> = vec!["-q".into(), "-o".into(), kept.clone().into()];
    for n in 0..200 {
        args.push("-o".into());
        args.push(dir.path().join(format!("{n}.log")).into());
    }
    args.extend(["--".into(), "touch".into(), started.clone().into()]);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run(&mut limited("-n 16", &args), 125);
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("teelog: cannot open log '")
            && stderr.contains(".log': Too many open files (os error 24)"),
        "{stderr}"
    );
    assert!(!started.exists(), "the command did not run");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["kept.log"], "created none");
    assert_eq!(
        text(&read(&kept)),
        "an earlier run\n",
        "the existing log untouched"
    );
}

fn a_run_refused_after_its_logs_opened_leaves_no_file_it_made_and_empties_no_recording() {
    let dir = tempdir();
    let new = dir.path().join("new.log");
    let cast = dir.path().join("old.cast");
    std::fs::write(&cast, "an earlier recording\n").unwrap();
    // The same file twice: refused once both are open.
    let out = run(
        teelog()
            .arg("-o")
            .arg(&new)
            .arg("-o")
            .arg(format!("asciicast={}", cast.display()))
            .arg("-o")
            .arg(format!("plain={}/./new.log", dir.path().display()))
            .args(["--", "echo", "hi"]),
        125,
    );
    assert!(
        text(&out.stderr).contains("are the same file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!new.exists(), "the log it created is removed");
    assert_eq!(text(&read(&cast)), "an earlier recording\n", "not emptied");
}

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

fn a_rotation_renames_only_the_files_there_are() {
    require(&STRACE);
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
    let trace = text(&read(&trace));
    let lines: Vec<&str> = trace.lines().filter(|l| l.contains("rename")).collect();
    // With -f, strace splits a call another thread interrupts into `rename(... <unfinished
    // ...>` and `<... rename resumed>) = 0`: one call, begun on one line, ended on another.
    let begun = lines.iter().filter(|l| !l.contains("resumed>")).count();
    let ended: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.ends_with("<unfinished ...>"))
        .collect();
    // The kth rotation renames the k-1 files there are, then the log itself.
    assert_eq!(begun, rotated * (rotated + 1) / 2, "{lines:#?}");
    assert_eq!(ended.len(), begun, "{lines:#?}");
    assert!(ended.iter().all(|l| l.ends_with("= 0")), "{lines:#?}");
}

crate::trials![
    a_record_cut_short_is_ended_before_the_next_run_appends_its_own[JQ],
    a_plain_log_keeps_its_bytes_when_the_last_run_ended_without_a_newline,
    a_log_other_users_can_read_is_said_once_and_left_as_it_is,
    too_few_descriptors_for_every_log_creates_none_and_starts_nothing,
    a_run_refused_after_its_logs_opened_leaves_no_file_it_made_and_empties_no_recording,
    keep_is_bounded,
    a_rotation_renames_only_the_files_there_are[STRACE],
];
