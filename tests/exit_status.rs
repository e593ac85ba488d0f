//! teelog returns the command's status; its own failures use 125/126/127.

use std::io::Write;
use std::process::Stdio;

use crate::util::*;

#[test]
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

#[test]
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
        End::Signal(15),
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

#[test]
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

#[test]
fn a_missing_program_is_127() {
    let out = run(teelog().args(["--", "teelog-no-such-program"]), 127);
    assert_eq!(
        text(&out.stderr),
        "teelog: cannot run 'teelog-no-such-program': No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_program_that_cannot_be_executed_is_126() {
    let out = run(teelog().arg("--").arg(fixture("not-executable")), 126);
    let err = text(&out.stderr);
    assert!(
        err.starts_with("teelog: cannot run '")
            && err.contains("not-executable': Permission denied"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
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
