//! Every mistake a user can make: one `teelog: ` line naming it, exit 125, the command not run.

use crate::util::*;

/// Runs teelog with `args` followed by a command that would leave a marker file; checks the exit
/// code, that stderr is one line starting `teelog: ` and containing `needle`, and that the command
/// did not run.
fn rejected(args: &[&str], needle: &str) {
    let dir = tempdir();
    let marker = dir.path().join("ran");
    let out = run(
        teelog()
            .current_dir(dir.path())
            .args(args)
            .args(["--", "touch"])
            .arg(&marker),
        125,
    );
    let err = text(&out.stderr);
    assert!(
        err.starts_with("teelog: ") && err.contains(needle),
        "{args:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(out.stdout.is_empty());
    assert!(!marker.exists(), "{args:?} must not start the command");
}

#[test]
fn bad_flags_and_formats() {
    rejected(&["--bogus"], "'--bogus'");
    rejected(&["--format", "xml"], "'xml'");
    rejected(&["-f", "xml"], "possible values: plain, classic, jsonl");
    rejected(&["-o", "josnl=x.log"], "unknown log format 'josnl'");
    rejected(&["-o", "jsonl="], "the log path is empty");
    rejected(&["--pause", "soon"], "'soon' is not a number of seconds");
}

#[test]
fn logs_that_cannot_be_opened() {
    rejected(
        &["-o", "missing-dir/x.log"],
        "cannot open log 'missing-dir/x.log': No such file or directory",
    );
    rejected(&["-o", "/"], "cannot open log '/': Is a directory");
    // A parent that is a file: not creatable even by root.
    let under_a_file = format!("{}/x.log", fixture("interleave.sh").display());
    rejected(&["-o", &under_a_file], "Not a directory (os error 20)");
    // A good log listed first does not let the command run either.
    rejected(
        &["-o", "ok.log", "-o", "jsonl=/nonexistent/x"],
        "'/nonexistent/x'",
    );
}

#[test]
fn control_characters_in_a_log_name_are_escaped() {
    rejected(&["-o", "no/such\x1b[31m\n"], "'no/such\\u{1b}[31m\\n'");
}

#[test]
fn no_command() {
    for args in [&[][..], &["-o", "x.log"], &["--"]] {
        let out = run(teelog().args(args), 125);
        assert_eq!(
            text(&out.stderr),
            "teelog: no command given: put it after '--', as in: teelog -o run.log -- make\n"
        );
    }
}

#[test]
fn a_log_that_fails_while_writing_is_reported_and_the_rest_goes_on() {
    let dir = tempdir();
    let good = dir.path().join("good.log");
    let out = run(
        teelog()
            .args(["-o", "plain=/dev/full", "-o"])
            .arg(format!("plain={}", good.display()))
            .args(["echo", "kept"]),
        125,
    );
    assert_eq!(text(&out.stdout), "kept\n", "the console goes on");
    assert_eq!(text(&read(&good)), "kept\n", "the other log goes on");
    assert_eq!(
        text(&out.stderr),
        "teelog: cannot write to log '/dev/full': No space left on device (os error 28)\n"
    );
    // The command's own failure wins over teelog's.
    run(teelog().args(["-o", "/dev/full", "sh", "-c", "exit 3"]), 3);
}

#[test]
fn help_and_version() {
    let out = run(teelog().arg("--help"), 0);
    let help = text(&out.stdout);
    assert!(
        help.contains("Usage: teelog [OPTIONS] -- COMMAND [ARG]..."),
        "{help}"
    );
    assert!(
        help.contains("teelog -o run.log -o jsonl=run.jsonl -- make"),
        "examples: {help}"
    );
    let out = run(teelog().arg("-h"), 0);
    assert!(text(&out.stdout).contains("Examples:"));
    let out = run(teelog().arg("-V"), 0);
    assert_eq!(
        text(&out.stdout),
        format!("teelog {}\n", env!("CARGO_PKG_VERSION"))
    );
}
