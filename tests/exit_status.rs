//! teelog returns the command's status; its own failures use 125/126/127.

use std::io::Write;
use std::process::Stdio;

use crate::util::*;

fn the_commands_exit_code_passes_through() {
    for code in [0, 3, 255] {
        let dir = tempdir();
        let log = dir.path().join("x.jsonl");
        run(
            teelog()
                .arg("-o")
                .arg(format!("jsonl={}", log.display()))
                .args(["sh", "-c", &format!("exit {code}")]),
            code,
        );
        let records = records(&read(&log));
        check_run(&records);
        assert_eq!(records.last().unwrap()["code"], code);
    }
}

fn a_signal_death_is_logged_and_teelog_dies_of_the_same_signal() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("x.jsonl"), dir.path().join("x.log"));
    run(
        teelog()
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .args(["sh", "-c", "echo before; kill -TERM $$"]),
        Status::Signal(15),
    );
    let records = records(&read(&jsonl));
    check_run(&records);
    let exit = records.last().unwrap();
    assert_eq!(exit["code"], serde_json::Value::Null);
    assert_eq!(exit["signal"], "SIGTERM");
    assert_eq!(messages(&records, "stdout"), ["before"]);
    let classic = text(&read(&classic));
    assert!(
        classic.contains("] exit: killed by SIGTERM (signal 15) after "),
        "{classic}"
    );
}

fn a_shell_sees_128_plus_n_and_no_core_is_dumped() {
    // The command dumps its own core where it runs (elsewhere); teelog must not dump one in its
    // own directory, even with core dumps allowed.
    let (teelogs, commands) = (tempdir(), tempdir());
    let teelog = env!("CARGO_BIN_EXE_teelog");
    let script = format!(
        "ulimit -c unlimited; {teelog} -- sh -c 'cd {}; kill -QUIT $$'; echo \"status $?\"",
        commands.path().display()
    );
    let out = run(
        std::process::Command::new("sh")
            .current_dir(teelogs.path())
            .args(["-c", &script]),
        0,
    );
    assert_eq!(text(&out.stdout), "status 131\n");
    assert_eq!(
        std::fs::read_dir(teelogs.path()).unwrap().count(),
        0,
        "teelog dumped core"
    );
}

/// Runs a command that cannot start with a jsonl and a classic log; checks teelog's status and
/// error line, and returns the two logs.
fn not_started(program: &std::path::Path, code: i32) -> (Vec<serde_json::Value>, String, String) {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("x.jsonl"), dir.path().join("x.log"));
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .arg("--")
            .arg(program)
            .arg("an argument"),
        code,
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    (records(&read(&jsonl)), text(&read(&classic)), err)
}

fn a_missing_program_is_127_and_on_record() {
    let (records, classic, err) = not_started("teelog-no-such-program".as_ref(), 127);
    assert_eq!(
        err,
        "teelog: cannot run 'teelog-no-such-program': No such file or directory (os error 2)\n"
    );
    check_run(&records);
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0]["command"],
        serde_json::json!(["teelog-no-such-program", "an argument"])
    );
    assert_eq!(records[0]["pid"], serde_json::Value::Null);
    assert_eq!(records[1]["code"], 127);
    assert_eq!(
        records[1]["error"],
        "not found: No such file or directory (os error 2)"
    );
    let lines: Vec<&str> = classic.lines().collect();
    assert_eq!(lines.len(), 2, "{classic}");
    assert!(
        lines[0].ends_with("] start: teelog-no-such-program 'an argument' (not started, cwd ")
            || lines[0]
                .contains("] start: teelog-no-such-program 'an argument' (not started, cwd "),
        "{classic}"
    );
    assert!(
        lines[1].contains(
            "] exit: status 127 (not found: No such file or directory (os error 2)) after "
        ),
        "{classic}"
    );
}

fn a_program_that_cannot_be_executed_is_126_and_on_record() {
    let (records, classic, err) = not_started(&fixture("not-executable"), 126);
    assert!(
        err.starts_with("teelog: cannot run '")
            && err.contains("not-executable': Permission denied"),
        "{err}"
    );
    check_run(&records);
    assert_eq!(records[1]["code"], 126);
    assert_eq!(
        records[1]["error"],
        "cannot execute: Permission denied (os error 13)"
    );
    assert!(
        classic.contains(
            "] exit: status 126 (cannot execute: Permission denied (os error 13)) after "
        ),
        "{classic}"
    );
}

fn a_script_without_a_shebang_runs_with_sh_as_env_runs_it() {
    let out = run(
        teelog()
            .arg("--")
            .arg(fixture("no-shebang"))
            .args(["a", "b"]),
        0,
    );
    let direct = run(
        std::process::Command::new("env")
            .arg(fixture("no-shebang"))
            .args(["a", "b"]),
        0,
    );
    assert_eq!(text(&out.stdout), "no shebang: a b\n");
    assert_eq!(out.stdout, direct.stdout);
    // Found through PATH as well.
    let path = format!(
        "{}:{}",
        fixture("").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(
        teelog().env("PATH", path).args(["--", "no-shebang", "c"]),
        0,
    );
    assert_eq!(text(&out.stdout), "no shebang: c\n");
}

fn stdin_passes_through_to_the_command() {
    let dir = tempdir();
    let log = dir.path().join("in.log");
    let mut child = teelog()
        .arg("-o")
        .arg(format!("plain={}", log.display()))
        .args(["--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = noise(200_000, 3);
    let mut stdin = child.stdin.take().unwrap();
    let feeder = {
        let input = input.clone();
        std::thread::spawn(move || stdin.write_all(&input))
    };
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, input);
    assert_eq!(read(&log), input);
}

crate::trials![
    the_commands_exit_code_passes_through,
    a_signal_death_is_logged_and_teelog_dies_of_the_same_signal,
    a_shell_sees_128_plus_n_and_no_core_is_dumped,
    a_missing_program_is_127_and_on_record,
    a_program_that_cannot_be_executed_is_126_and_on_record,
    a_script_without_a_shebang_runs_with_sh_as_env_runs_it,
    stdin_passes_through_to_the_command,
];
