//! Recording the whole session: `--pty`, `--echo` against the real database clients and
//! servers, `--log-input`.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::*;

// --- --pty ---------------------------------------------------------------------------------

fn under_pty_a_program_that_buffers_in_a_pipe_shows_each_line_at_once() {
    // python3 without -u holds its stdout back in a pipe until it exits; here it waits for the
    // test to see its first line before it goes on, so the line must come while it runs.
    let dir = tempdir();
    let go = dir.path().join("go");
    let log = dir.path().join("run.jsonl");
    let script = format!(
        "import os, sys, time\n\
         print('ready', os.isatty(1), os.isatty(2))\n\
         deadline = time.time() + 30\n\
         while not os.path.exists({go:?}) and time.time() < deadline: time.sleep(0.01)\n\
         print('went' if os.path.exists({go:?}) else 'gave up')\n\
         sys.stderr.write('to stderr\\n')\n",
        go = go.display().to_string()
    );
    let mut child = teelog()
        .arg("--pty")
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .args(["--", "python3", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    console.wait_for("ready True False");
    std::fs::write(&go, "").unwrap();
    console.wait_for("went");
    assert_eq!(wait(&mut child), Status::Code(0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(stderr, "to stderr\n", "stderr stays apart, unchanged");
    let records = records(&read(&log));
    check_run(&records);
    assert_eq!(
        messages(&records, "stdout"),
        ["ready True False", "went"],
        "no \\r added"
    );
    assert_eq!(messages(&records, "stderr"), ["to stderr"]);
}

fn under_pty_every_byte_arrives_unchanged_up_to_the_last() {
    // Random bytes hold every control character a terminal would act on (\r, \n, ^C, ^D, ^S,
    // escapes) and lines far over the pty's 4095-byte canonical limit; cat exits right after
    // its last write, which is where a pty loses its tail if the master is not read to EIO.
    let dir = tempdir();
    let input = dir.path().join("input");
    let mut bytes = noise(1_500_000, 10);
    bytes.extend(std::iter::repeat_n(b'x', 200_000));
    bytes.extend_from_slice(b"\nthe very end without a newline");
    std::fs::write(&input, &bytes).unwrap();
    let plain = dir.path().join("p.log");
    let jsonl = dir.path().join("j.jsonl");
    for round in 0..3 {
        let _ = std::fs::remove_file(&plain);
        let _ = std::fs::remove_file(&jsonl);
        let out = run(
            teelog()
                .arg("--pty")
                .arg("-o")
                .arg(format!("plain={}", plain.display()))
                .arg("-o")
                .arg(format!("jsonl={}", jsonl.display()))
                .arg("--")
                .arg("cat")
                .arg(&input),
            0,
        );
        assert!(out.stdout == bytes, "round {round}: console differs");
        assert!(read(&plain) == bytes, "round {round}: plain log differs");
        let records = records(&read(&jsonl));
        check_run(&records);
        assert!(
            rebuild(&records, "stdout") == bytes,
            "round {round}: jsonl differs"
        );
    }
}

fn the_pty_is_only_stdout_the_terminal_stays_the_commands() {
    // In a terminal of 132x50: the command's controlling terminal is teelog's (same tty_nr as
    // the shell's), it reads /dev/tty as mysql -p does, its stdout pty has the terminal's size,
    // and Ctrl-C reaches it.
    let dir = tempdir();
    let teelog = env!("CARGO_BIN_EXE_teelog");
    let script = format!(
        "stty cols 132 rows 50; echo outer $(cut -d' ' -f7 /proc/$$/stat); \
         {teelog} --pty -- sh -c 'echo inner $(cut -d\" \" -f7 /proc/$$/stat); \
         printf \"size \"; stty size <&1; echo ready; read x < /dev/tty; echo \"got $x\"; \
         echo sleeping; sleep 30; echo woke'; echo \"status $?\""
    );
    let (mut child, mut master, mut console) =
        in_a_terminal(dir.path(), &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
    console.wait_for("ready");
    master.write_all(b"secret\n").unwrap();
    console.wait_for("sleeping");
    until_running(&child, "sleep");
    master.write_all(b"\x03").unwrap();
    assert_eq!(
        wait_showing_session(&mut child),
        Status::Signal(2),
        "Ctrl-C stops the script too"
    );
    drop(master);
    let shown = console.rest();
    let field = |word: &str| {
        shown
            .lines()
            .find_map(|l| l.trim().strip_prefix(word))
            .unwrap_or_else(|| panic!("no {word:?} in {shown:?}"))
            .trim()
            .to_owned()
    };
    assert_ne!(field("outer"), "0");
    assert_eq!(field("inner"), field("outer"), "{shown}");
    assert_eq!(field("size"), "50 132", "{shown}");
    assert_eq!(field("got"), "secret", "{shown}");
    assert!(!shown.contains("woke"), "{shown}");
}

fn without_a_terminal_the_pty_is_80_by_24() {
    let out = run(
        teelog().args(["--pty", "--", "sh", "-c", "stty size <&1"]),
        0,
    );
    assert_eq!(text(&out.stdout), "24 80\n");
}

// --- --echo against the real servers -------------------------------------------------------

/// Runs `preset` with `--echo` on `script` `times` times; each time, checks that the log reads
/// the first statement, its result, the second statement, then the error it caused.
#[track_caller]
fn echo_keeps_the_order(preset: &str, extra: &[&str], script: &str, result: &str, times: usize) {
    let dir = tempdir();
    let log = dir.path().join("echo.jsonl");
    for round in 0..times {
        let _ = std::fs::remove_file(&log);
        let out = with_stdin(
            teelog()
                .args(["--preset", preset, "--echo", "-q", "-o"])
                .arg(format!("jsonl={}", log.display()))
                .arg("--")
                .args(extra)
                .env("TEELOG_LOG_DIR", dir.path()),
            script,
        );
        assert_ne!(out.status.code(), Some(0), "the second statement fails");
        let records = records(&read(&log));
        check_run(&records);
        let lines: Vec<(String, String)> = records
            .iter()
            .filter(|r| r["type"] == "output")
            .map(|r| {
                (
                    r["stream"].as_str().unwrap().to_owned(),
                    r["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let find = |stream: &str, what: &dyn Fn(&str) -> bool| {
            lines
                .iter()
                .position(|(s, m)| s == stream && what(m))
                .unwrap_or_else(|| panic!("round {round}: no {stream} line; got {lines:?}"))
        };
        let first = find("stdout", &|m| m.contains("select 1 as a"));
        let answer = find("stdout", &|m| m.trim() == result);
        let second = find("stdout", &|m| m.contains("from nosuch"));
        let error = find("stderr", &|m| m.contains("nosuch") || m.contains("ERROR"));
        assert!(
            first < answer && answer < second && second < error,
            "round {round}: out of order: {lines:?}"
        );
    }
}

const ECHO_SCRIPT: &str = "select 1 as a;\nselect * from nosuch;\n";

fn echo_with_mysql_logs_statement_result_statement_error_every_time() {
    require(&MARIADB);
    echo_keeps_the_order("mysql", &[], ECHO_SCRIPT, "1", 25);
}

fn echo_with_psql_logs_statement_result_statement_error_every_time() {
    require(&POSTGRES);
    echo_keeps_the_order(
        "psql",
        &["-v", "ON_ERROR_STOP=1", "-tA"],
        ECHO_SCRIPT,
        "1",
        25,
    );
}

fn echo_with_sqlite3_logs_statement_result_statement_error_every_time() {
    require(&SQLITE3);
    echo_keeps_the_order("sqlite3", &[], ECHO_SCRIPT, "1", 25);
}

fn echo_needs_a_preset_with_an_echo_flag() {
    let out = run(
        teelog().args(["--preset", "python", "--echo", "--", "-c", ""]),
        125,
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--echo: preset 'python' has no flag"), "{err}");
    let out = run(teelog().args(["--echo", "--", "true"]), 125);
    assert!(
        text(&out.stderr).contains("--preset"),
        "{}",
        text(&out.stderr)
    );
}

// --- --log-input ---------------------------------------------------------------------------

/// Runs `cmd` with `input` on its stdin (from a file, as a script is given).
fn with_input(
    dir: &std::path::Path,
    cmd: &mut Command,
    input: &[u8],
    end: i32,
) -> std::process::Output {
    let path = dir.join("stdin");
    std::fs::write(&path, input).unwrap();
    run(cmd.stdin(std::fs::File::open(&path).unwrap()), end)
}

fn input_is_recorded_and_passed_on_byte_for_byte() {
    let dir = tempdir();
    let input = noise(300_000, 3);
    let jsonl = dir.path().join("in.jsonl");
    let plain = dir.path().join("in.log");
    let out = with_input(
        dir.path(),
        teelog()
            .arg("--log-input")
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .args(["--", "cat"]),
        &input,
        0,
    );
    assert!(out.stdout == input, "the command got every byte");
    assert!(read(&plain) == input, "plain leaves input out");
    let records = records(&read(&jsonl));
    check_run(&records);
    assert!(
        rebuild(&records, "stdin") == input,
        "input recorded exactly"
    );
    assert!(rebuild(&records, "stdout") == input);
}

fn classic_marks_input_with_a_prompt_of_its_own() {
    let dir = tempdir();
    let log = dir.path().join("c.log");
    with_input(
        dir.path(),
        teelog().args(["--log-input", "-q", "-o"]).arg(&log).args([
            "--",
            "sh",
            "-c",
            "read x; echo \"got $x\"",
        ]),
        b"select 1;\n",
        0,
    );
    let log = text(&read(&log));
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[1].ends_with(" stdin]> select 1;"), "{log}");
    assert!(lines[2].ends_with("]> got select 1;"), "{log}");
}

fn teelog_reads_no_more_input_than_the_command_takes_and_leaves_the_rest() {
    // head takes 10 bytes and exits: what teelog read beyond is bounded by its pipe (a page
    // read ahead, and a page the pipe held), and the rest of the file is still there for the
    // next reader, none of it lost or read twice.
    let dir = tempdir();
    let input = noise(1_000_000, 4);
    let file = dir.path().join("input");
    std::fs::write(&file, &input).unwrap();
    let log = dir.path().join("in.jsonl");
    let script = format!(
        "{} --log-input -o jsonl={} -- head -c 10 > head.out; echo \"teelog $?\" >&2; cat > rest",
        env!("CARGO_BIN_EXE_teelog"),
        log.display()
    );
    let out = run(
        Command::new("sh")
            .args(["-c", &script])
            .current_dir(dir.path())
            .stdin(std::fs::File::open(&file).unwrap()),
        0,
    );
    assert_eq!(text(&out.stderr), "teelog 0\n", "EPIPE is no error");
    assert!(read(&dir.path().join("head.out")) == input[..10]);
    let records = records(&read(&log));
    check_run(&records);
    assert!(
        rebuild(&records, "stdin") == input[..10],
        "only what head read is recorded"
    );
    // What teelog read ahead (a page read, a page in the pipe) is gone from the file.
    let rest = read(&dir.path().join("rest"));
    let ahead = input.len() - rest.len();
    assert!((10..=2 * 4096).contains(&ahead), "{ahead}");
    assert!(rest == input[ahead..]);
}

fn a_command_that_never_reads_its_input_ends_the_run_as_usual() {
    let dir = tempdir();
    let input = noise(1_000_000, 5);
    for script in ["exit 3", "exec 0<&-; sleep 0.2; echo done"] {
        let end = if script.starts_with("exit") { 3 } else { 0 };
        let out = with_input(
            dir.path(),
            teelog().args(["--log-input", "--", "sh", "-c", script]),
            &input,
            end,
        );
        assert_eq!(text(&out.stderr), "", "{script}");
        if end == 0 {
            assert_eq!(text(&out.stdout), "done\n");
        }
    }
}

fn redacted_values_are_masked_in_the_input_too_but_reach_the_command() {
    let dir = tempdir();
    let log = dir.path().join("in.jsonl");
    let out = with_input(
        dir.path(),
        teelog()
            .env("API_TOKEN", "tok-ABCDEF-123456")
            .args(["--log-input", "--redact-env", "API_TOKEN", "-o"])
            .arg(format!("jsonl={}", log.display()))
            .args([
                "--",
                "sh",
                "-c",
                "read x; [ \"$x\" = \"token tok-ABCDEF-123456\" ] && echo same",
            ]),
        b"token tok-ABCDEF-123456\n",
        0,
    );
    assert_eq!(text(&out.stdout), "same\n");
    let records = records(&read(&log));
    assert_eq!(messages(&records, "stdin"), ["token ***"]);
}

fn log_input_refuses_a_terminal_on_stdin() {
    let dir = tempdir();
    let teelog = env!("CARGO_BIN_EXE_teelog");
    let script = format!("{teelog} --log-input -- cat; echo \"status $?\"");
    let (mut child, master, console) =
        in_a_terminal(dir.path(), &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
    assert_eq!(wait(&mut child), Status::Code(0));
    drop(master);
    let shown = console.rest();
    assert!(
        shown.contains("teelog: --log-input: standard input is a terminal"),
        "{shown}"
    );
    assert!(shown.contains("status 125"), "{shown}");
}

fn passwords_in_recorded_input_and_echoed_statements_are_masked_but_reach_the_server() {
    require(&MARIADB);
    let dir = tempdir();
    let log = dir.path().join("m.jsonl");
    let _ = Command::new("mysql")
        .args(["-e", "DROP USER IF EXISTS 'teelog_t'@'localhost'"])
        .status();
    let script =
        "CREATE USER 'teelog_t'@'localhost' IDENTIFIED BY 'Pw-4-teelog';\nselect 1 as a;\n";
    let out = with_input(
        dir.path(),
        teelog()
            .env("TEELOG_LOG_DIR", dir.path())
            .args(["--preset", "mysql", "--echo", "--log-input", "-o"])
            .arg(format!("jsonl={}", log.display()))
            .arg("--"),
        script.as_bytes(),
        0,
    );
    let logged = text(&read(&log));
    for (what, shown) in [("log", &logged), ("console", &text(&out.stdout))] {
        assert!(!shown.contains("Pw-4-teelog"), "{what}: {shown}");
    }
    let records = records(&read(&log));
    check_run(&records);
    assert_eq!(
        messages(&records, "stdin")[0],
        "CREATE USER 'teelog_t'@'localhost' IDENTIFIED BY '***';"
    );
    assert!(
        messages(&records, "stdout")
            .contains(&"CREATE USER 'teelog_t'@'localhost' IDENTIFIED BY '***'".to_owned()),
        "{logged}"
    );
    // The server got the real password: the new user logs in with it.
    let login = Command::new("mysql")
        .args([
            "-uteelog_t",
            "-pPw-4-teelog",
            "-h",
            "localhost",
            "-e",
            "select 1",
        ])
        .output()
        .unwrap();
    let _ = Command::new("mysql")
        .args(["-e", "DROP USER 'teelog_t'@'localhost'"])
        .status();
    assert!(login.status.success(), "{}", text(&login.stderr));
}

fn a_secret_assignment_in_a_recorded_script_is_masked() {
    let dir = tempdir();
    let log = dir.path().join("s.log");
    let out = with_input(
        dir.path(),
        teelog()
            .args(["--log-input", "-o"])
            .arg(&log)
            .args(["--", "sh"]),
        b"API_TOKEN=abcdef123456; echo \"len ${#API_TOKEN}\"\n",
        0,
    );
    assert_eq!(text(&out.stdout), "len 12\n");
    let log = text(&read(&log));
    assert!(
        log.contains("stdin]> API_TOKEN=***; echo \"len ${#API_TOKEN}\"\n"),
        "{log}"
    );
    assert!(!log.contains("abcdef123456"), "{log}");
}

fn the_pty_follows_the_terminals_size() {
    // The terminal is resized while the command runs. The command is then the terminal's
    // foreground, so SIGWINCH goes to it, not to teelog: teelog notices when the command writes
    // (first command), or when it gets SIGWINCH itself (second, silent command). The recordings
    // that keep a terminal's size say so before the output written after it: asciicast's "r"
    // event, sudo's window size event in `timing`.
    let dir = tempdir();
    let teelog = env!("CARGO_BIN_EXE_teelog");
    // fd 3 is the pty: inside $(...) stdout is the substitution's pipe.
    let until_resized = "exec 3>&1; while [ \"$(stty size <&3)\" != \"40 100\" ] && [ $n -lt 500 ]; \
                         do n=$((n+1)); sleep 0.02; done; echo \"seen $(stty size <&3)\"";
    for (name, talk) in [("writing", "echo tick;"), ("silent", "")] {
        let until = until_resized.replace("do n=", &format!("do {talk} n="));
        let script = format!(
            "stty cols 80 rows 24; \
             (while [ ! -e resize ]; do sleep 0.02; done; stty cols 100 rows 40; touch resized) \
             < /dev/tty & \
             {teelog} --pty -o asciicast={name}.cast -o sudo-iolog={name}.io \
             -- sh -c 'n=0; echo ready; {until}' & echo \"teelog $!\"; wait $!"
        );
        let _ = std::fs::remove_file(dir.path().join("resize"));
        let _ = std::fs::remove_file(dir.path().join("resized"));
        let (mut child, master, mut console) =
            in_a_terminal(dir.path(), &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
        console.wait_for("ready");
        std::fs::write(dir.path().join("resize"), "").unwrap();
        if talk.is_empty() {
            let deadline = std::time::Instant::now() + PATIENCE;
            while !dir.path().join("resized").exists() {
                assert!(std::time::Instant::now() < deadline, "never resized");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let shown = console.wait_for_line_with("teelog ");
            let pid: i32 = shown
                .trim()
                .strip_prefix("teelog ")
                .unwrap()
                .parse()
                .unwrap();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGWINCH,
            )
            .unwrap();
        }
        assert_eq!(wait_showing_session(&mut child), Status::Code(0), "{name}");
        drop(master);
        let shown = console.rest();
        assert!(shown.contains("seen 40 100"), "{name}: {shown}");
        let cast = text(&read(&dir.path().join(format!("{name}.cast"))));
        let resized = cast.find(r#", "r", "100x40"]"#);
        let seen = cast.find("seen 40 100");
        assert!(
            resized.is_some() && resized < seen,
            "{name}: no resize before the output after it: {cast}"
        );
        let session = dir.path().join(format!("{name}.io/00/00/01"));
        let ttyout = read(&session.join("ttyout"));
        let seen = ttyout
            .windows(11)
            .position(|w| w == b"seen 40 100")
            .unwrap();
        let mut before = 0;
        let mut resized = false;
        for line in text(&read(&session.join("timing"))).lines() {
            let words: Vec<&str> = line.split(' ').collect();
            match words[0] {
                "5" => {
                    assert_eq!(words[2..], ["40", "100"], "{name}: {line}");
                    resized = before <= seen;
                }
                "4" => before += words[2].parse::<usize>().unwrap(),
                _ => {}
            }
        }
        assert!(
            resized,
            "{name}: no window size event before the output after it"
        );
    }
}

crate::trials![
    under_pty_a_program_that_buffers_in_a_pipe_shows_each_line_at_once,
    under_pty_every_byte_arrives_unchanged_up_to_the_last,
    the_pty_is_only_stdout_the_terminal_stays_the_commands,
    without_a_terminal_the_pty_is_80_by_24,
    echo_with_mysql_logs_statement_result_statement_error_every_time[MARIADB],
    echo_with_psql_logs_statement_result_statement_error_every_time[POSTGRES],
    echo_with_sqlite3_logs_statement_result_statement_error_every_time[SQLITE3],
    echo_needs_a_preset_with_an_echo_flag,
    input_is_recorded_and_passed_on_byte_for_byte,
    classic_marks_input_with_a_prompt_of_its_own,
    teelog_reads_no_more_input_than_the_command_takes_and_leaves_the_rest,
    a_command_that_never_reads_its_input_ends_the_run_as_usual,
    redacted_values_are_masked_in_the_input_too_but_reach_the_command,
    log_input_refuses_a_terminal_on_stdin,
    passwords_in_recorded_input_and_echoed_statements_are_masked_but_reach_the_server[MARIADB],
    a_secret_assignment_in_a_recorded_script_is_masked,
    the_pty_follows_the_terminals_size,
];
