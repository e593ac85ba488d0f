//! Passwords typed on stdin at a prompt (`--log-input` without a terminal: cron, CI) are
//! recorded masked in every log, while the command still gets them. The commands run under
//! `setsid -w`, with no controlling terminal, so that they read the password from stdin.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

/// The logs of a run: one of each format that records input.
fn logs(dir: &Path) -> Vec<(String, PathBuf)> {
    ["jsonl", "classic", "asciicast"]
        .into_iter()
        .map(|f| (f.to_owned(), dir.join(format!("run.{f}"))))
        .collect()
}

/// `teelog --log-input -o <each log> -- argv` under `setsid -w`, with `input` on stdin (a file,
/// as cron gives a script); returns the console's stdout and stderr together.
fn record(dir: &Path, argv: &[&str], input: &[u8], end: i32) -> String {
    record_with(dir, &[], argv, input, end)
}

/// [`record`] with teelog's `flags` too.
fn record_with(dir: &Path, flags: &[&str], argv: &[&str], input: &[u8], end: i32) -> String {
    let stdin = dir.join("stdin");
    std::fs::write(&stdin, input).unwrap();
    let mut cmd = Command::new("setsid");
    cmd.arg("-w")
        .arg(env!("CARGO_BIN_EXE_teelog"))
        .arg("--log-input")
        .args(flags)
        .current_dir(dir);
    for (format, path) in logs(dir) {
        let _ = std::fs::remove_file(&path);
        cmd.arg("-o").arg(format!("{format}={}", path.display()));
    }
    cmd.arg("--")
        .args(argv)
        .stdin(std::fs::File::open(&stdin).unwrap());
    let out = run(&mut cmd, end);
    text(&out.stdout) + &text(&out.stderr)
}

/// No log holds `secret` anywhere (each read whole), and the jsonl log is a whole run.
#[track_caller]
fn in_no_log(dir: &Path, secret: &str) {
    for (_, path) in logs(dir) {
        let bytes = read(&path);
        assert!(
            memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
            "{secret:?} is in {}:\n{}",
            path.display(),
            text(&bytes)
        );
    }
    check_run(&records(&read(&dir.join("run.jsonl"))));
}

/// The input the jsonl log recorded.
fn recorded_input(dir: &Path) -> String {
    text(&rebuild(&records(&read(&dir.join("run.jsonl"))), "stdin"))
}

fn a_password_read_after_a_prompt_is_masked_in_every_log() {
    let dir = tempdir();
    let secret = "S3cret-w2-sh";
    for prompt in [
        "Password: ",
        "[sudo] password for alice: ",
        "Enter password:",
        "Enter new password for user \\\"bob\\\": ",
        "Enter passphrase for key '/root/.ssh/id_ed25519': ",
        "Passphrase ",
        "PIN",
    ] {
        // A prompt with no colon ends where its line does: what the command writes after
        // reading the answer starts a line of its own (on a pipe, `PIN` and `done` written
        // either side of the read can arrive as one `PINdone`; see the README).
        let after = if prompt.contains(':') { "" } else { "echo; " };
        for fd in [1, 2] {
            let script = format!(
                "echo starting; printf \"{prompt}\" >&{fd}; read -r p; {after}\
                 printf %s \"$p\" > got; echo done"
            );
            record(
                dir.path(),
                &["sh", "-c", &script],
                format!("{secret}\n").as_bytes(),
                0,
            );
            assert_eq!(text(&read(&dir.path().join("got"))), secret, "{prompt}");
            in_no_log(dir.path(), secret);
            assert_eq!(recorded_input(dir.path()), "***\n", "{prompt} on fd {fd}");
        }
    }
}

fn ordinary_input_after_ordinary_output_is_recorded_as_it_is() {
    let dir = tempdir();
    let script = "echo 'Password changed.'; read -r a; echo \"a=$a\"; read -r b; echo \"b=$b\"";
    let shown = record(dir.path(), &["sh", "-c", script], b"ls -l\nselect 1;\n", 0);
    assert!(shown.contains("a=ls -l\nb=select 1;\n"), "{shown}");
    assert_eq!(recorded_input(dir.path()), "ls -l\nselect 1;\n");
}

/// A fresh name for a throwaway account.
fn throwaway(kind: &str) -> String {
    format!("teelog_{kind}_{}", std::process::id())
}

fn psql(sql: &str) -> bool {
    Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "postgres",
            "-c",
            sql,
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn psql_backslash_password_is_masked_and_still_changes_the_password() {
    require(&POSTGRES);
    let dir = tempdir();
    let role = throwaway("pw");
    let secret = "Pw-w2-Psql-9q";
    assert!(psql(&format!(
        "create role {role} login password 'old-one'"
    )));
    let input = format!("select 41;\n\\password {role}\n{secret}\n{secret}\nselect 42;\n");
    let shown = record(
        dir.path(),
        &["psql", "-X", "-d", "postgres"],
        input.as_bytes(),
        0,
    );
    // The new password works: psql got it twice.
    let login = Command::new("psql")
        .args(["-X", "-h", "localhost", "-U", &role, "-d", "postgres"])
        .args(["-tAc", "select current_user"])
        .env("PGPASSWORD", secret)
        .output()
        .unwrap();
    psql(&format!("drop role {role}"));
    assert!(shown.contains("42"), "{shown}");
    assert_eq!(text(&login.stdout).trim(), role, "{}", text(&login.stderr));
    in_no_log(dir.path(), secret);
    let recorded = recorded_input(dir.path());
    assert!(recorded.contains("***\n***\n"), "{recorded}");
}

fn mysql_dash_p_reading_stdin_is_masked_and_still_logs_in() {
    require(&MARIADB);
    let dir = tempdir();
    let user = throwaway("my");
    let secret = "Pw-w2-Mysql-7z";
    let admin = |sql: &str| {
        Command::new("mysql")
            .args(["-e", sql])
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(admin(&format!(
        "create user '{user}'@'localhost' identified by '{secret}'"
    )));
    let shown = record(
        dir.path(),
        &[
            "mysql",
            "-u",
            &user,
            "-h",
            "localhost",
            "-p",
            "-e",
            "select current_user()",
        ],
        format!("{secret}\n").as_bytes(),
        0,
    );
    admin(&format!("drop user '{user}'@'localhost'"));
    assert!(shown.contains(&format!("{user}@localhost")), "{shown}");
    in_no_log(dir.path(), secret);
    assert_eq!(recorded_input(dir.path()), "***\n");
}

/// The prompt comes before teelog has the input (typed late, as a slow pipe gives it): the
/// line read after it is masked, the next one, after the command's answer, is not.
fn only_the_line_after_the_prompt_is_masked_when_the_input_comes_late() {
    use std::io::Write;
    let dir = tempdir();
    let log = dir.path().join("run.jsonl");
    let script = "printf 'Password: ' >&2; read -r p; echo \"got ${#p}\"; read -r q; echo \"q=$q\"";
    let mut child = Command::new("setsid")
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_teelog"))
        .args(["--log-input", "-o"])
        .arg(format!("jsonl={}", log.display()))
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = crate::util::Collector::new(child.stdout.take().unwrap());
    let mut err = crate::util::Collector::new(child.stderr.take().unwrap());
    err.wait_for("Password: ");
    stdin.write_all(b"S3cret-late\n").unwrap();
    out.wait_for("got 11");
    stdin.write_all(b"ls -l\n").unwrap();
    drop(stdin);
    out.wait_for("q=ls -l");
    assert_eq!(crate::util::wait(&mut child), 0.into());
    let bytes = read(&log);
    assert!(memchr::memmem::find(&bytes, b"S3cret-late").is_none());
    let records = records(&bytes);
    check_run(&records);
    assert_eq!(text(&rebuild(&records, "stdin")), "***\nls -l\n");
}

/// A password asked twice, with nothing between the prompts (nothing echoes the answer), as
/// passwd and psql's `\password` do: both answers are masked, and the command gets both.
fn a_password_asked_twice_is_masked_twice() {
    let dir = tempdir();
    let secret = "Tw1ce-w2-pw";
    let script = "printf 'New password: ' >&2; read -r a; printf 'Enter it again: ' >&2; \
                  read -r b; [ \"$a\" = \"$b\" ] && printf %s \"$a\" > got";
    record(
        dir.path(),
        &["sh", "-c", script],
        format!("{secret}\n{secret}\n").as_bytes(),
        0,
    );
    assert_eq!(text(&read(&dir.path().join("got"))), secret);
    in_no_log(dir.path(), secret);
    assert_eq!(recorded_input(dir.path()), "***\n***\n");
}

/// `psql -W` asks before it connects, then reads the script from the same buffer.
fn psql_dash_w_is_masked_and_the_script_after_it_runs() {
    require(&POSTGRES);
    let dir = tempdir();
    let role = throwaway("w");
    let secret = "Pw-w2-DashW-4k";
    assert!(psql(&format!(
        "create role {role} login password '{secret}'"
    )));
    let shown = record(
        dir.path(),
        &[
            "psql",
            "-X",
            "-W",
            "-h",
            "localhost",
            "-U",
            &role,
            "-d",
            "postgres",
        ],
        format!("{secret}\nselect 40 + 2;\n").as_bytes(),
        0,
    );
    psql(&format!("drop role {role}"));
    assert!(shown.contains("42"), "{shown}");
    in_no_log(dir.path(), secret);
}

/// The prompt on a pty (`--pty`), or merged into stdout (`--merge`), is seen as well.
fn a_prompt_on_a_pty_or_merged_output_masks_the_password() {
    let dir = tempdir();
    let secret = "Pty-w2-secret";
    let script = "printf 'Password: ' >&2; read -r p; printf %s \"$p\" > got; echo done";
    for flags in [&["--pty"][..], &["--merge"][..]] {
        let shown = record_with(
            dir.path(),
            flags,
            &["sh", "-c", script],
            format!("{secret}\n").as_bytes(),
            0,
        );
        assert!(shown.contains("done"), "{flags:?}: {shown}");
        assert_eq!(text(&read(&dir.path().join("got"))), secret, "{flags:?}");
        in_no_log(dir.path(), secret);
        assert_eq!(recorded_input(dir.path()), "***\n", "{flags:?}");
    }
}

/// A prompt behind more output than one read takes (teelog reads 128 KiB a time, a pipe holds
/// 1 MiB) is still seen in the round the answer is taken in.
fn a_prompt_behind_megabytes_of_output_still_masks_the_password() {
    let dir = tempdir();
    for _ in 0..5 {
        let console = record(
            dir.path(),
            &[
                "sh",
                "-c",
                "head -c 2000000 /dev/zero | tr '\\0' x; printf 'Password: '; read -r p; \
                 echo \"got ${#p}\"",
            ],
            b"hunter2-Qx\n",
            0,
        );
        assert!(
            console.ends_with("Password: got 10\n"),
            "the command got it"
        );
        in_no_log(dir.path(), "hunter2-Qx");
    }
}

crate::trials![
    a_prompt_behind_megabytes_of_output_still_masks_the_password,
    a_password_read_after_a_prompt_is_masked_in_every_log,
    ordinary_input_after_ordinary_output_is_recorded_as_it_is,
    psql_backslash_password_is_masked_and_still_changes_the_password[POSTGRES],
    mysql_dash_p_reading_stdin_is_masked_and_still_logs_in[MARIADB],
    only_the_line_after_the_prompt_is_masked_when_the_input_comes_late,
    a_password_asked_twice_is_masked_twice,
    psql_dash_w_is_masked_and_the_script_after_it_runs[POSTGRES],
    a_prompt_on_a_pty_or_merged_output_masks_the_password,
];
