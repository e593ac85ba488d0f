//! Every mistake a user can make: one `teelog: ` line naming it, exit 125, the command not run.

use crate::util::*;

/// Runs teelog with `args` followed by a command that would leave a marker file; checks the exit
/// code, that stderr is one line starting `teelog: ` and containing `needle`, and that the command
/// did not run.
fn rejected(args: &[&str], needle: &str) {
    rejected_in(&tempdir(), args, needle);
}

/// [`rejected`] in `dir`, which the caller has prepared.
#[track_caller]
fn rejected_in(dir: &tempfile::TempDir, args: &[&str], needle: &str) {
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

fn bad_flags_and_formats() {
    rejected(&["--bogus"], "'--bogus'");
    rejected(&["--format", "xml"], "'xml'");
    rejected(&["-f", "xml"], "possible values: plain, classic, jsonl");
    rejected(&["-o", "josnl=x.log"], "unknown log format 'josnl'");
    rejected(&["-o", "jsonl="], "the log path is empty");
    rejected(&["--pause", "soon"], "'soon' is not a number of seconds");
    // Absurd durations are refused up front instead of overflowing the clock later.
    rejected(
        &["--pause", "1e19"],
        "'1e19' seconds is too long (at most 86400 seconds",
    );
    rejected(&["--grace", "1e19"], "'1e19' seconds is too long");
    rejected(&["--grace", "inf"], "'inf' is not a number of seconds");
    rejected(&["--grace", "NaN"], "'NaN' is not a number of seconds");
}

fn the_same_log_given_twice() {
    rejected(
        &["-o", "x.log", "-o", "jsonl=x.log"],
        "log 'x.log' and log 'x.log' are the same file, where their records would mix",
    );
    rejected(
        &["-o", "d.log", "-o", "./d.log"],
        "log 'd.log' and log './d.log' are the same file",
    );
    let dir = tempdir();
    std::os::unix::fs::symlink("real.log", dir.path().join("link.log")).unwrap();
    rejected_in(
        &dir,
        &["-o", "real.log", "-o", "plain=link.log"],
        "are the same file",
    );
}

fn a_log_that_is_also_the_console() {
    let dir = tempdir();
    let log = dir.path().join("out.log");
    let file = std::fs::File::create(&log).unwrap();
    // Private, as teelog would make it (a log open to others gets a warning).
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = run(
        teelog()
            .arg("-o")
            .arg(&log)
            .args(["--", "echo", "x"])
            .stdout(file.try_clone().unwrap()),
        125,
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "teelog: standard output and log '{}' are the same file, where their records would mix\n",
            log.display()
        )
    );
    assert_eq!(read(&log).len(), 0, "nothing written, the command not run");
    // Quiet, the console is not written: then it is allowed.
    run(
        teelog()
            .arg("-q")
            .arg("-o")
            .arg(format!("plain={}", log.display()))
            .args(["--", "echo", "x"])
            .stdout(file),
        0,
    );
    assert_eq!(text(&read(&log)), "x\n");
}

fn a_fifo_with_no_reader_is_refused_at_once() {
    let dir = tempdir();
    let fifo = dir.path().join("pipe");
    run(std::process::Command::new("mkfifo").arg(&fifo), 0);
    let begun = std::time::Instant::now();
    rejected_in(
        &dir,
        &["-o", "pipe"],
        "refusing log 'pipe': it is a FIFO that no process is reading",
    );
    assert!(
        begun.elapsed() < std::time::Duration::from_secs(20),
        "it waited"
    );

    // With a reader there, it is a log like any other.
    let reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader must have the FIFO open before teelog opens it: retry until it has.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = teelog()
            .current_dir(dir.path())
            .args(["-q", "-o", "plain=pipe", "--", "echo", "through the fifo"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            text(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = reader.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "through the fifo\n");
}

fn logs_in_a_sticky_world_writable_directory_that_another_user_chose() {
    use std::os::unix::fs::PermissionsExt;
    require(&ROOT);
    let dir = tempdir();
    let sticky = dir.path().join("tmp");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let nobody = 65534;
    // Another user's file, and another user's symlink to a file of root's.
    let planted = sticky.join("planted.log");
    std::fs::write(&planted, "").unwrap();
    std::os::unix::fs::chown(&planted, Some(nobody), Some(nobody)).unwrap();
    let target = dir.path().join("root-only.conf");
    std::fs::write(&target, "precious\n").unwrap();
    let link = sticky.join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(nobody), Some(nobody)).unwrap();

    rejected_in(
        &dir,
        &["-o", "tmp/planted.log"],
        "refusing log 'tmp/planted.log': it belongs to uid 65534 in the sticky world-writable directory 'tmp'",
    );
    rejected_in(
        &dir,
        &["-o", "tmp/link.log"],
        "refusing log 'tmp/link.log': it is a symlink owned by uid 65534 in the sticky world-writable directory 'tmp'",
    );
    assert_eq!(
        text(&read(&target)),
        "precious\n",
        "the link's target is untouched"
    );
    assert_eq!(read(&planted).len(), 0);

    // A new log of one's own there, and one's own symlink, are fine.
    let own_link = sticky.join("own-link.log");
    std::os::unix::fs::symlink(dir.path().join("own-target.log"), &own_link).unwrap();
    run(
        teelog().current_dir(dir.path()).args([
            "-o",
            "plain=tmp/new.log",
            "-o",
            "plain=tmp/own-link.log",
            "--",
            "echo",
            "mine",
        ]),
        0,
    );
    assert_eq!(text(&read(&sticky.join("new.log"))), "mine\n");
    assert_eq!(text(&read(&dir.path().join("own-target.log"))), "mine\n");
}

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

fn control_characters_in_a_log_name_are_escaped() {
    rejected(&["-o", "no/such\x1b[31m\n"], "'no/such\\u{1b}[31m\\n'");
}

fn no_command() {
    for args in [&[][..], &["-o", "x.log"], &["--"]] {
        let out = run(teelog().args(args), 125);
        assert_eq!(
            text(&out.stderr),
            "teelog: no command given: put it after '--', as in: teelog -o run.log -- make\n"
        );
    }
}

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

/// Flags that clap would take and teelog ignore: each is one line naming what does not go
/// together, and the command does not run.
fn flags_that_would_be_ignored_are_refused() {
    rejected(
        &["-V"],
        "-V/--version takes no other argument, and 'touch' was given",
    );
    rejected(
        &["--list-presets"],
        "--list-presets takes no other argument but --presets-file, and 'touch' was given",
    );
    rejected(
        &["--list-presets", "-o", "x.log"],
        "--list-presets takes no other argument but --presets-file, and -o/--log was given",
    );
    rejected(
        &["-q", "-f", "jsonl"],
        "the argument '--quiet' cannot be used with '--format <FORMAT>'",
    );
    rejected(
        &["--preset", "mysql", "--program", ""],
        "the program's path is empty",
    );
    rejected(
        &["--preset", "mysql", "--program", "  "],
        "the program's path is empty",
    );
    // The services are destinations: `--format` neither takes nor offers them.
    rejected(
        &["--format", "journal"],
        "--format journal: journal is a destination, not a console format (use -o journal)",
    );
    rejected(&["-f", "syslog"], "syslog is a destination");
    let out = run(teelog().args(["-V", "extra"]), 125);
    assert_eq!(out.stdout, b"", "no version printed");
    // Alone, they still do their job.
    let out = run(teelog().arg("--version"), 0);
    assert_eq!(
        text(&out.stdout),
        format!("teelog {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run(
        teelog().args(["-q", "-o", "/dev/null", "--", "echo", "x"]),
        0,
    );
    assert_eq!(out.stdout, b"");
    let out = run(
        teelog().args(["replay", "--format", "journal", "x.jsonl"]),
        125,
    );
    assert_eq!(
        text(&out.stderr),
        "teelog: --format journal: journal is a destination, and replay writes to standard \
         output (see 'teelog --help')\n"
    );
}

/// A negative number is the flag's own mistake, said by its own parser in one line: not clap's
/// tip to write `-- -1`, which would then run `-1` as the command.
fn a_negative_number_is_refused_by_the_flag_that_takes_it() {
    for (flag, needle) in [
        ("--grace", "is not a number of seconds"),
        ("--pause", "is not a number of seconds"),
        ("--ship-timeout", "is not a number of seconds"),
        ("--keep", "is not a number of files"),
        ("--max-size", "is not a size"),
        ("--max-message", "is not a size"),
        ("--seal-every", "'--seal-every <N>'"),
        ("--seal-interval", "is not a number of seconds"),
    ] {
        rejected(&[flag, "-1", "-o", "x.log"], needle);
        rejected(
            &[flag, "-1", "-o", "x.log"],
            &format!("invalid value '-1' for '{flag}"),
        );
    }
    for flag in ["--pause", "--idle-limit"] {
        let out = run(teelog().args(["replay", flag, "-1", "x.jsonl"]), 125);
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{flag}: {err}");
        assert!(err.contains("is not a number of seconds"), "{flag}: {err}");
    }
}

crate::trials![
    a_negative_number_is_refused_by_the_flag_that_takes_it,
    bad_flags_and_formats,
    the_same_log_given_twice,
    a_log_that_is_also_the_console,
    a_fifo_with_no_reader_is_refused_at_once,
    logs_in_a_sticky_world_writable_directory_that_another_user_chose[ROOT],
    logs_that_cannot_be_opened,
    control_characters_in_a_log_name_are_escaped,
    no_command,
    a_log_that_fails_while_writing_is_reported_and_the_rest_goes_on,
    help_and_version,
    flags_that_would_be_ignored_are_refused,
];
