//! Presets: the table, the user's file, default logs, secrets; and the real clients against real
//! servers (started by .ci/run).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// teelog with its log directory and config home in `dir`.
fn teelog_in(dir: &std::path::Path) -> Command {
    let mut cmd = teelog();
    cmd.env("TEELOG_LOG_DIR", dir.join("logs"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .current_dir(dir);
    cmd
}

fn list_presets_shows_every_preset_with_its_command_and_default_log() {
    let dir = tempdir();
    let out = run(teelog_in(dir.path()).arg("--list-presets"), 0);
    let list = text(&out.stdout);
    let logs = dir.path().join("logs");
    for (name, command) in [
        (
            "mysql",
            "mysql --batch --skip-tee --skip-pager --unbuffered",
        ),
        (
            "mariadb",
            "mariadb --batch --skip-tee --skip-pager --unbuffered",
        ),
        ("psql", "psql --no-psqlrc '--pset=pager=off'"),
        ("sqlite3", "sqlite3 -batch (stdout on a pty)"),
        ("python", "python3 -u"),
    ] {
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{list}"));
        assert!(line.contains(command), "{line}");
        let user = whoami::username().unwrap();
        assert!(
            line.contains(&format!("{}/{name}-{user}.log", logs.display())),
            "{line}"
        );
    }
}

fn a_preset_runs_its_program_with_its_flags_then_the_arguments() {
    let dir = tempdir();
    // --program: the preset's flags with another executable (here one that shows its argv).
    let out = run(
        teelog_in(dir.path()).args([
            "--preset",
            "mysql",
            "--program",
            "echo",
            "-f",
            "plain",
            "--",
            "-u",
            "app",
            "shop",
        ]),
        0,
    );
    assert_eq!(
        text(&out.stdout),
        "--batch --skip-tee --skip-pager --unbuffered -u app shop\n"
    );
    // The default log went to the log directory, created private.
    let user = whoami::username().unwrap();
    let log = dir.path().join("logs").join(format!("mysql-{user}.log"));
    let logged = text(&read(&log));
    assert!(logged.contains("]> --batch --skip-tee"), "{logged}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("logs"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

fn a_preset_sets_the_console_format_unless_format_is_given_and_o_replaces_its_log() {
    let dir = tempdir();
    let mine = dir.path().join("mine.jsonl");
    let out = run(
        teelog_in(dir.path())
            .args(["--preset", "mysql", "--program", "echo", "-o"])
            .arg(format!("jsonl={}", mine.display()))
            .args(["--", "x"]),
        0,
    );
    assert!(
        text(&out.stdout).contains("]> --batch"),
        "classic is mysql's console format"
    );
    check_run(&records(&read(&mine)));
    assert!(
        !dir.path().join("logs").exists(),
        "-o replaces the default log"
    );
}

fn user_presets_come_from_the_config_home_or_presets_file_and_may_override() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("config/teelog")).unwrap();
    std::fs::write(
        dir.path().join("config/teelog/presets.toml"),
        "[presets.shout]\nprogram = \"echo\"\nargs = [\"LOUD\"]\nformat = \"classic\"\nlog = \"jsonl=shout-{user}.jsonl\"\n",
    )
    .unwrap();
    let out = run(
        teelog_in(dir.path()).args(["--preset", "shout", "--", "more"]),
        0,
    );
    assert!(
        text(&out.stdout).contains("]> LOUD more"),
        "{}",
        text(&out.stdout)
    );
    let user = whoami::username().unwrap();
    let records = records(&read(
        &dir.path().join("logs").join(format!("shout-{user}.jsonl")),
    ));
    assert_eq!(messages(&records, "stdout"), ["LOUD more"]);

    let file = dir.path().join("other.toml");
    std::fs::write(
        &file,
        "[presets.python]\nprogram = \"echo\"\nargs = [\"overridden\"]\n",
    )
    .unwrap();
    let out = run(
        teelog_in(dir.path())
            .arg("--presets-file")
            .arg(&file)
            .args(["-q", "--preset", "python"]),
        0,
    );
    assert!(out.stdout.is_empty());
    let python = dir.path().join("logs").join(format!("python-{user}.log"));
    assert!(
        !python.exists(),
        "a user row replaces the built-in one, default log included"
    );
}

fn unknown_presets_and_bad_presets_files_are_clear_errors() {
    let dir = tempdir();
    let out = run(
        teelog_in(dir.path()).args(["--preset", "mysqll", "--", "x"]),
        125,
    );
    assert_eq!(
        text(&out.stderr),
        "teelog: unknown preset 'mysqll' (known: mariadb, mysql, psql, python, sqlite3)\n"
    );
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[presets.x]\nprogram = \"echo\"\nprogam = \"typo\"\n",
    )
    .unwrap();
    let out = run(
        teelog_in(dir.path())
            .arg("--presets-file")
            .arg(&file)
            .args(["--preset", "x"]),
        125,
    );
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "teelog: bad presets file '{}': line 3 (progam = \"typo\"): unknown field `progam`",
            file.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let out = run(
        teelog_in(dir.path()).args(["--presets-file", "/nonexistent.toml", "--preset", "x"]),
        125,
    );
    assert!(text(&out.stderr).contains("bad presets file '/nonexistent.toml': No such file"));
    let out = run(
        teelog_in(dir.path()).args(["--presets-file", "/", "--list-presets"]),
        125,
    );
    assert!(
        text(&out.stderr).contains("bad presets file '/': Is a directory"),
        "{}",
        text(&out.stderr)
    );
}

fn secrets_never_reach_a_log_or_the_console() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("s.jsonl"), dir.path().join("s.log"));
    // `true` stands in for mysql: only the logged command line matters here.
    run(
        teelog_in(dir.path())
            .args([
                "--preset",
                "mysql",
                "--program",
                "true",
                "-f",
                "jsonl",
                "-o",
            ])
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .args([
                "--",
                "-u",
                "app",
                "-pHUNTER2",
                "--password=HUNTER3",
                "-p",
                "shop",
                "mysql://u:HUNTER4@h/db",
            ]),
        0,
    );
    let start = &records(&read(&jsonl))[0];
    assert_eq!(
        start["command"],
        serde_json::json!([
            "true",
            "--batch",
            "--skip-tee",
            "--skip-pager",
            "--unbuffered",
            "-u",
            "app",
            "-p***",
            "--password=***",
            "-p",
            "shop",
            "mysql://u:***@h/db"
        ])
    );
    let out = run(
        teelog_in(dir.path())
            .args(["-f", "classic", "-o"])
            .arg(&classic)
            .args([
                "--",
                "true",
                "--token",
                "HUNTER5",
                "--api-key=HUNTER6",
                "host=h password=HUNTER7 dbname=d",
            ])
            .args(["postgresql://app:HUNTER8@db/app"]),
        0,
    );
    for place in [read(&jsonl), read(&classic), out.stdout] {
        assert!(!text(&place).contains("HUNTER"), "{}", text(&place));
    }
    assert!(text(&read(&classic)).contains("start: true --token '***' '--api-key=***' 'host=h password=*** dbname=d' 'postgresql://app:***@db/app'"));
}

// --- The real clients against real servers -------------------------------------------------

fn mariadb_results_are_logged_while_the_batch_still_runs() {
    require(&MARIADB);
    let dir = tempdir();
    let log = dir.path().join("m.jsonl");
    let mut child = teelog_in(dir.path())
        .args(["--preset", "mysql", "-o"])
        .arg(format!("jsonl={}", log.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT 1 AS first; SELECT SLEEP(2) AS slept; SELECT 2 AS second;\n")
        .unwrap();
    // The first result must be in the log while SLEEP(2) still runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = records(&std::fs::read(&log).unwrap_or_default());
        if messages(&records, "stdout").contains(&"1".to_owned()) {
            assert!(
                !messages(&records, "stdout").contains(&"second".to_owned()),
                "not live: {records:?}"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "mysql already finished"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first result never reached the log"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let console = text(&out.stdout);
    assert!(
        console.contains("]> first\n1\n") && console.contains("second\n2\n"),
        "{console}"
    );
    let records = records(&read(&log));
    check_run(&records);
    assert_eq!(
        messages(&records, "stdout"),
        ["first", "1", "slept", "0", "second", "2"]
    );
    assert_eq!(records.last().unwrap()["code"], 0);
}

fn a_mariadb_error_is_logged_as_stderr_and_its_status_returned() {
    require(&MARIADB);
    let dir = tempdir();
    let log = dir.path().join("e.jsonl");
    let out = with_stdin(
        teelog_in(dir.path())
            .args(["--preset", "mysql", "-o"])
            .arg(format!("jsonl={}", log.display())),
        "SELECT 1;\nSELECT no_such_column;\n",
    );
    assert_eq!(out.status.code(), Some(1), "mysql's status");
    let records = records(&read(&log));
    check_run(&records);
    let errors = messages(&records, "stderr");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("ERROR 1054") && e.contains("no_such_column")),
        "{errors:?}"
    );
    assert_eq!(records.last().unwrap()["code"], 1);
    // mysql echoes the failed statement between dashes, then the error, all on stderr: the
    // error sits in the stderr burst of the classic console, before the exit line.
    let console = text(&out.stdout);
    let burst = console.split(" stderr]> ").nth(1).expect("a stderr prompt");
    let burst = burst.split("] exit: ").next().unwrap();
    assert!(burst.contains("ERROR 1054"), "{console}");
}

fn psql_results_arrive_per_statement_in_jsonl() {
    require(&POSTGRES);
    let dir = tempdir();
    let out = with_stdin(
        teelog_in(dir.path()).args(["--preset", "psql", "-f", "jsonl", "--", "-A", "-t"]),
        "select 'first';\nselect pg_sleep(2);\nselect 'second';\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = records(&out.stdout);
    check_run(&records);
    let lines: Vec<_> = records.iter().filter(|r| r["type"] == "output").collect();
    let at = |m: &str| {
        let r = lines
            .iter()
            .find(|r| r["message"] == m)
            .unwrap_or_else(|| panic!("{m}: {records:?}"));
        chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap()
    };
    let gap = at("second") - at("first");
    assert!(
        gap >= chrono::Duration::milliseconds(1500),
        "results held back until the end: {gap}"
    );
}

fn psql_output_that_shows_pgpassword_is_redacted_by_the_preset() {
    require(&POSTGRES);
    let dir = tempdir();
    let secret = "pg-S3cret-value";
    // psql prints its own password, read from its environment with \getenv.
    let out = with_stdin(
        teelog_in(dir.path())
            .env("PGPASSWORD", secret)
            .args(["--preset", "psql", "-o"])
            .arg(format!("jsonl={}", dir.path().join("p.jsonl").display()))
            .args(["--", "-A", "-t"]),
        "\\getenv pw PGPASSWORD\nselect 'pw is ' || :'pw';\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let console = text(&out.stdout);
    assert!(console.contains("pw is ***"), "{console}");
    assert!(!console.contains("S3cret"));
    assert!(!text(&read(&dir.path().join("p.jsonl"))).contains("S3cret"));
}

fn sqlite3_results_arrive_per_statement() {
    require(&SQLITE3);
    let dir = tempdir();
    // A query that takes a while: sqlite3 has no sleep().
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c;";
    let out = with_stdin(
        teelog_in(dir.path())
            .args(["--preset", "sqlite3", "-f", "jsonl", "--"])
            .arg(dir.path().join("t.db")),
        &format!("SELECT 'first';\n{slow}\n{slow}\nSELECT 'second';\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = records(&out.stdout);
    check_run(&records);
    assert_eq!(
        messages(&records, "stdout"),
        ["first", "3000000", "3000000", "second"]
    );
    let at = |m: &str| {
        let r = records.iter().find(|r| r["message"] == m).unwrap();
        chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap()
    };
    let gap = at("second") - at("first");
    assert!(
        gap >= chrono::Duration::milliseconds(200),
        "results held back until the end: {gap}"
    );
}

/// A row the presets file cannot mean: the error is the file's, with the line and the preset,
/// never a flag the user did not type, nor a "not found" from running nothing.
fn a_preset_that_cannot_run_is_an_error_of_its_presets_file() {
    let dir = tempdir();
    let marker = dir.path().join("ran");
    for (row, needle) in [
        (
            "program = \"touch\"\nformat = \"journal\"",
            "line 3 (format = \"journal\"): preset 'p': `format = \"journal\"`: journal is a \
             destination, not a console format (for a default log there, write `log = \"journal\"`)",
        ),
        (
            "program = \"touch\"\nformat = \"syslog\"",
            "line 3 (format = \"syslog\"): preset 'p': `format = \"syslog\"`: syslog is a destination",
        ),
        (
            "program = \"\"",
            "line 2 (program = \"\"): preset 'p': `program` is empty",
        ),
        (
            "program = \" \\t \"",
            "line 2 (program = \" \\t \"): preset 'p': `program` is empty",
        ),
        (
            "program = \"tou\\u0000ch\"",
            "line 2 (program = \"tou\\u0000ch\"): preset 'p': 'tou\\u{0}ch' holds a NUL byte",
        ),
        (
            "program = \"touch\"\nargs = [\"-c\", \"x\\u0000\"]",
            "line 3 (args = [\"-c\", \"x\\u0000\"]): preset 'p': 'x\\u{0}' holds a NUL byte",
        ),
    ] {
        let file = dir.path().join("presets.toml");
        std::fs::write(&file, format!("[presets.p]\n{row}\n")).unwrap();
        for mode in [&["--preset", "p", "--"][..], &["--list-presets"]] {
            let mut cmd = teelog_in(dir.path());
            cmd.arg("--presets-file").arg(&file).args(mode);
            if mode[0] == "--preset" {
                cmd.arg(&marker);
            }
            let out = run(&mut cmd, 125);
            assert!(
                text(&out.stderr).starts_with(&format!(
                    "teelog: bad presets file '{}': {needle}",
                    file.display()
                )),
                "{row}: {}",
                text(&out.stderr)
            );
            assert_eq!(text(&out.stderr).lines().count(), 1);
            assert!(
                !text(&out.stderr).contains("--format"),
                "blames a flag not typed"
            );
            assert!(!marker.exists(), "{row}: ran");
        }
    }
}

crate::trials![
    list_presets_shows_every_preset_with_its_command_and_default_log,
    a_preset_runs_its_program_with_its_flags_then_the_arguments,
    a_preset_sets_the_console_format_unless_format_is_given_and_o_replaces_its_log,
    user_presets_come_from_the_config_home_or_presets_file_and_may_override,
    unknown_presets_and_bad_presets_files_are_clear_errors,
    secrets_never_reach_a_log_or_the_console,
    mariadb_results_are_logged_while_the_batch_still_runs[MARIADB],
    a_mariadb_error_is_logged_as_stderr_and_its_status_returned[MARIADB],
    psql_results_arrive_per_statement_in_jsonl[POSTGRES],
    psql_output_that_shows_pgpassword_is_redacted_by_the_preset[POSTGRES],
    sqlite3_results_arrive_per_statement[SQLITE3],
    a_preset_that_cannot_run_is_an_error_of_its_presets_file,
];
