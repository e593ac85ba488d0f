//! `teelog replay`, asciicast (checked with the real asciinema) and `--strip-ansi`.

use std::path::Path;

use crate::util::*;

/// Seconds between the records of `log` whose message is `from` and `to`.
fn gap(records: &[serde_json::Value], from: &str, to: &str) -> f64 {
    let at = |m: &str| {
        let r = records
            .iter()
            .find(|r| r["message"] == m)
            .unwrap_or_else(|| panic!("no {m:?} in {records:?}"));
        chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap()
    };
    (at(to) - at(from)).as_seconds_f64()
}

fn replay_plays_each_stream_byte_for_byte_with_its_timing() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    let noise_file = dir.path().join("noise");
    let noise = noise(200_000, 7);
    std::fs::write(&noise_file, &noise).unwrap();
    record(
        &log,
        &format!(
            "echo first; sleep 0.6; printf 'second\\377\\n' >&2; sleep 0.6; echo third; cat {}",
            noise_file.display()
        ),
        0,
    );
    let mut stdout = b"first\nthird\n".to_vec();
    stdout.extend_from_slice(&noise);
    for args in [&["--no-wait"][..], &["--format", "plain"], &[]] {
        let out = run(teelog().arg("replay").args(args).arg(&log), 0);
        assert!(out.stdout == stdout, "{args:?}: stdout differs");
        assert_eq!(out.stderr, b"second\xff\n", "{args:?}");
    }
    // The replay's own timing, recorded by teelog: the gaps are the recorded ones over the
    // speed, capped by --idle-limit.
    for (args, at_least, at_most) in [
        (&["--speed", "1"][..], 0.55, f64::MAX),
        (&["--speed", "4"], 0.14, 0.5),
        // Each 0.05 s wait is timed by the reading of the outer teelog, which a loaded machine
        // can delay for the first line and not the third.
        (&["--idle-limit", "0.05"], 0.02, 0.45),
    ] {
        let again = dir.path().join("again.jsonl");
        let _ = std::fs::remove_file(&again);
        run(
            teelog()
                .arg("-q")
                .arg("-o")
                .arg(format!("jsonl={}", again.display()))
                .arg("--")
                .arg(env!("CARGO_BIN_EXE_teelog"))
                .arg("replay")
                .args(args)
                .arg(&log),
            0,
        );
        let records = records(&read(&again));
        let seconds = gap(&records, "first", "third");
        assert!(
            seconds >= 2.0 * at_least && seconds <= 2.0 * at_most,
            "{args:?}: {seconds}s from first to third"
        );
    }
}

fn replay_lists_the_runs_and_plays_the_last_or_the_one_asked_for() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo one", 0);
    record(&log, "echo two; exit 3", 3);
    let all = records(&read(&log));
    let sessions: Vec<String> = all
        .iter()
        .filter(|r| r["type"] == "start")
        .map(|r| r["session"].as_str().unwrap().to_owned())
        .collect();
    let out = run(teelog().args(["replay", "--list"]).arg(&log), 0);
    let list = text(&out.stdout);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("SESSION"), "{list}");
    for (line, (session, exit)) in lines[1..].iter().zip(sessions.iter().zip(["0", "3"])) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], session, "{list}");
        assert_eq!(words[2], exit, "{list}");
        assert_eq!(words[4], "3", "three records: {list}");
        assert!(
            line.ends_with(&format!(
                "sh -c 'echo {}",
                if exit == "0" { "one'" } else { "two; exit 3'" }
            )),
            "{list}"
        );
    }
    assert_eq!(
        text(&run(teelog().arg("replay").arg(&log), 0).stdout),
        "two\n"
    );
    let first = run(
        teelog()
            .args(["replay", "--session", &sessions[0]])
            .arg(&log),
        0,
    );
    assert_eq!(text(&first.stdout), "one\n");
    let out = run(
        teelog().args(["replay", "--session", "nope"]).arg(&log),
        125,
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("holds no session 'nope'"), "{err}");
}

fn a_cut_last_line_is_skipped_with_a_warning_and_a_bad_line_is_an_error() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo kept", 0);
    let mut bytes = read(&log);
    let whole = bytes.clone();
    bytes.extend_from_slice(br#"{"type":"output","timest"#);
    std::fs::write(&log, &bytes).unwrap();
    let out = run(teelog().arg("replay").arg(&log), 0);
    assert_eq!(text(&out.stdout), "kept\n");
    assert!(
        text(&out.stderr).contains("rec.jsonl':4: skipped the last line, cut short"),
        "{}",
        text(&out.stderr)
    );
    let mut bad = b"{\"not\":\"a record\"}\n".to_vec();
    bad.extend_from_slice(&whole);
    std::fs::write(&log, &bad).unwrap();
    let out = run(teelog().arg("replay").arg(&log), 125);
    assert!(text(&out.stderr).contains("rec.jsonl':1: not a teelog jsonl record"));
    let out = run(teelog().arg("replay").arg(dir.path().join("missing")), 125);
    assert!(
        text(&out.stderr).contains("cannot read"),
        "{}",
        text(&out.stderr)
    );
}

fn replay_reads_standard_input_and_a_program_called_replay_still_runs() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo piped", 0);
    let out = run(
        teelog()
            .args(["replay", "-"])
            .stdin(std::fs::File::open(&log).unwrap()),
        0,
    );
    assert_eq!(text(&out.stdout), "piped\n");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let program = bin.join("replay");
    std::fs::write(&program, "#!/bin/sh\necho \"program replay $*\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = run(teelog().env("PATH", path).args(["--", "replay", "x"]), 0);
    assert_eq!(text(&out.stdout), "program replay x\n");
}

fn a_converted_classic_log_is_what_the_live_one_was() {
    let dir = tempdir();
    let jsonl = dir.path().join("rec.jsonl");
    let classic = dir.path().join("live.log");
    let script = "echo one; sleep 0.3; printf 'Password: '; sleep 0.3; echo typed; \
                  echo oops >&2; sleep 0.3; printf 'caf\\303\\251 \\377\\n'; exit 4";
    run(
        teelog()
            .arg("-q")
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .args(["--", "sh", "-c", script]),
        4,
    );
    let out = run(
        teelog().args(["replay", "--format", "classic"]).arg(&jsonl),
        0,
    );
    assert_eq!(text(&out.stdout), text(&read(&classic)));
    let out = run(
        teelog().args(["replay", "--format", "jsonl"]).arg(&jsonl),
        0,
    );
    assert!(out.stdout == read(&jsonl), "jsonl converts to itself");
}

// --- asciicast -----------------------------------------------------------------------------

/// What `asciinema cat FILE` prints, run in a terminal (it insists on one).
fn asciinema_cat(dir: &Path, cast: &Path) -> String {
    let script = format!("asciinema cat {}; echo \"status $?\"", cast.display());
    let (mut child, master, console) =
        in_a_terminal(dir, &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
    assert_eq!(wait(&mut child), Status::Code(0));
    drop(master);
    console.rest()
}

fn asciicast_is_a_recording_asciinema_plays() {
    require(&ASCIINEMA);
    let dir = tempdir();
    let cast = dir.path().join("run.cast");
    let jsonl = dir.path().join("run.jsonl");
    for _ in 0..2 {
        run(
            teelog()
                .arg("-q")
                .arg("-o")
                .arg(format!("asciicast={}", cast.display()))
                .arg("-o")
                .arg(format!("jsonl={}", jsonl.display()))
                .args([
                    "--pty",
                    "--",
                    "sh",
                    "-c",
                    "printf 'one\\ntw'; sleep 0.2; printf 'o \\303'; printf '\\251\\n'; echo err >&2; exit 2",
                ]),
            2,
        );
    }
    let lines: Vec<serde_json::Value> = text(&read(&cast))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let header = &lines[0];
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 80);
    assert_eq!(header["height"], 24);
    assert!(header["command"].as_str().unwrap().starts_with("sh -c "));
    assert!(header["timestamp"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        lines.iter().filter(|l| l.get("version").is_some()).count(),
        1,
        "overwritten, not appended"
    );
    let last = lines.last().unwrap();
    assert_eq!((&last[1], &last[2]), (&"x".into(), &"2".into()));
    let times: Vec<f64> = lines[1..].iter().map(|l| l[0].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // Each stream's text, whole (the order between the two streams is the echo tests' business).
    let shown = asciinema_cat(dir.path(), &cast);
    assert!(shown.contains("one\r\ntwo é\r\n"), "{shown:?}");
    assert!(shown.contains("err\r\n"), "{shown:?}");
    assert!(shown.contains("status 0"), "{shown:?}");
    // The same run converted from jsonl plays the same text.
    let converted = dir.path().join("converted.cast");
    let out = run(
        teelog()
            .args(["replay", "--format", "asciicast"])
            .arg(&jsonl),
        0,
    );
    std::fs::write(&converted, &out.stdout).unwrap();
    let shown = asciinema_cat(dir.path(), &converted);
    assert!(shown.contains("one\r\ntwo é\r\n"), "{shown:?}");
    assert!(shown.contains("err\r\n"), "{shown:?}");
}

// --- --strip-ansi --------------------------------------------------------------------------

fn strip_ansi_cleans_every_log_and_leaves_the_console_alone() {
    let dir = tempdir();
    let plain = dir.path().join("p.log");
    let jsonl = dir.path().join("j.jsonl");
    let classic = dir.path().join("c.log");
    // A colour cut across two writes (and so two reads), an OSC window title and hyperlink.
    let script = "printf '\\033[1;3'; sleep 0.1; printf '1mred\\033[0m plain\\n'; \
                  printf '\\033]0;title\\007\\033]8;;http://x\\033\\\\link\\033]8;;\\033\\\\\\n' >&2";
    let out = run(
        teelog()
            .arg("--strip-ansi")
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .args(["--", "sh", "-c", script]),
        0,
    );
    assert_eq!(
        out.stdout, b"\x1b[1;31mred\x1b[0m plain\n",
        "console untouched"
    );
    assert_eq!(
        out.stderr,
        b"\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n"
    );
    assert_eq!(text(&read(&plain)), "red plain\nlink\n");
    let records = records(&read(&jsonl));
    assert_eq!(messages(&records, "stdout"), ["red plain"]);
    assert_eq!(messages(&records, "stderr"), ["link"]);
    let classic = text(&read(&classic));
    assert!(!classic.contains('\x1b'), "{classic}");
    assert!(classic.contains("]> red plain\n"), "{classic}");
}

fn a_replay_into_a_closed_pipe_stops_instead_of_waiting_out_the_recording() {
    // A recording whose last output comes a minute after the first two: `replay | head -1`
    // must end at the second write, to the closed pipe, not a minute later.
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo a; echo b; echo c", 0);
    let mut lines: Vec<serde_json::Value> = records(&read(&log));
    for r in lines.iter_mut().skip(3) {
        let t = chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap()
            + chrono::Duration::seconds(60);
        r["timestamp"] = t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into();
    }
    let edited: String = lines.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&log, edited).unwrap();
    let script = format!(
        "{} replay {} | head -1",
        env!("CARGO_BIN_EXE_teelog"),
        log.display()
    );
    let mut child = std::process::Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(wait_showing_session(&mut child), Status::Code(0));
    let mut shown = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut shown).unwrap();
    assert_eq!(shown, "a\n");
}

fn replay_speed_takes_a_bounded_number_and_refuses_the_rest_in_one_line() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo a; echo b", 0);
    for bad in [
        "1e-300", "4.9e-324", "0.0009", "0", "-0", "-1", "-inf", "1e7", "1000001", "1e400", "inf",
        "NaN", "", "fast",
    ] {
        let out = run(teelog().args(["replay", "--speed", bad]).arg(&log), 125);
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(
            err.starts_with("teelog: ")
                && err.contains("--speed takes a number from 0.001 to 1000000, not '"),
            "{bad:?}: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{bad:?}: nothing run, nothing played"
        );
    }
    for good in [
        &["--speed", "0.001", "--idle-limit", "0.01"][..],
        &["--speed", "1000000"],
        &["--speed", " 1e6 "],
        &["--speed=2"],
    ] {
        let out = run(teelog().arg("replay").args(good).arg(&log), 0);
        assert_eq!(text(&out.stdout), "a\nb\n", "{good:?}");
    }
    // Two outputs 7000 years apart at the slowest speed: the wait is capped, nothing overflows.
    let mut lines = records(&read(&log));
    lines[2]["timestamp"] = "9000-01-01T00:00:00.000000Z".into();
    lines[3]["timestamp"] = "9000-01-01T00:00:00.000001Z".into();
    let edited: String = lines.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&log, edited).unwrap();
    let out = run(
        teelog()
            .args(["replay", "--speed", "0.001", "--idle-limit", "0.01"])
            .arg(&log),
        0,
    );
    assert_eq!(text(&out.stdout), "a\nb\n");
}

fn replay_reads_a_fifo_and_a_pipe_once_and_plays_what_they_held() {
    let dir = tempdir();
    let log = dir.path().join("rec.jsonl");
    record(&log, "echo one", 0);
    record(&log, "echo two; echo err >&2; exit 3", 3);
    let whole = read(&log);
    // A real FIFO, written by another thread: replay (the last run), --list, --format classic.
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for args in [&[][..], &["--list"], &["--format", "jsonl", "--session"]] {
        let writer = {
            let (fifo, whole) = (fifo.clone(), whole.clone());
            std::thread::spawn(move || std::fs::write(fifo, whole).unwrap())
        };
        let mut cmd = teelog();
        cmd.arg("replay").args(args);
        if args.last() == Some(&"--session") {
            let first = &records(&whole)[0];
            cmd.arg(first["session"].as_str().unwrap());
        }
        let out = run(cmd.arg(&fifo), 0);
        writer.join().unwrap();
        let stdout = text(&out.stdout);
        match args.first() {
            None => {
                assert_eq!(stdout, "two\n");
                assert_eq!(text(&out.stderr), "err\n");
            }
            Some(&"--list") => assert_eq!(stdout.lines().count(), 3, "{stdout}"),
            Some(_) => {
                let first: Vec<u8> = whole
                    .split_inclusive(|b| *b == b'\n')
                    .take(3)
                    .flatten()
                    .copied()
                    .collect();
                assert!(
                    out.stdout == first,
                    "the first run, converted to itself: {stdout}"
                );
            }
        }
    }
    // `<(...)`: a /dev/fd/N that is a pipe; and a pipe as /dev/stdin and as `-`.
    require(&BASH);
    let bin = env!("CARGO_BIN_EXE_teelog");
    for script in [
        format!("{bin} replay <(cat {})", log.display()),
        format!(
            "{bin} replay --format plain <(cat {}) 2>/dev/null",
            log.display()
        ),
        format!("cat {} | {bin} replay /dev/stdin", log.display()),
        format!("cat {} | {bin} replay -", log.display()),
    ] {
        let out = run(std::process::Command::new("bash").args(["-c", &script]), 0);
        assert_eq!(text(&out.stdout), "two\n", "{script}");
    }
}

// --- replay rebuilds the live classic log (issue 20, item 16) -------------------------------

/// Runs `script` with a live classic log and a jsonl recording; returns both.
#[track_caller]
fn live_classic_and_jsonl(dir: &Path, pause: &str, script: &str) -> (Vec<u8>, Vec<u8>) {
    let jsonl = dir.join("rec.jsonl");
    let classic = dir.join("live.log");
    let _ = std::fs::remove_file(&jsonl);
    let _ = std::fs::remove_file(&classic);
    run(
        teelog()
            .args(["-q", "--pause", pause, "-o"])
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(format!("classic={}", classic.display()))
            .args(["--", "bash", "-c", script]),
        0,
    );
    (read(&classic), read(&jsonl))
}

fn a_line_that_arrives_in_pieces_around_the_pause_replays_as_the_live_classic_log() {
    let dir = tempdir();
    // Pieces of lines on both streams with silences just under, at and over --pause 0.05 (the
    // recorded gaps and the live pause disagree there: replay must not guess), a character
    // cut between two writes, a 200000-byte line written at once (cut into 64 KiB pieces), and
    // a long line written slowly while stderr goes on between its pieces.
    let big = "head -c 200000 /dev/zero | tr '\\0' x; echo";
    let slow = "for i in 1 2 3; do head -c 30000 /dev/zero | tr '\\0' y; echo \"err $i\" >&2; \
                sleep 0.01; done; echo";
    let mut runs = 0;
    for sleep in ["0.03", "0.045", "0.05", "0.055", "0.07"] {
        for script in [
            format!(
                "printf a; sleep {sleep}; printf 'b\\n'; printf 'c' >&2; sleep {sleep}; echo d >&2"
            ),
            format!(
                "printf 'caf\\303'; sleep {sleep}; printf '\\251 x'; echo; printf 'Password: '; \
                 sleep {sleep}; echo typed; echo out; sleep {sleep}; echo more; printf end"
            ),
            format!("{big}; sleep {sleep}; {slow}; printf tail; sleep {sleep}; exit 0"),
        ] {
            let (classic, jsonl) = live_classic_and_jsonl(dir.path(), "0.05", &script);
            let out = run(
                teelog()
                    .args(["replay", "--format", "classic"])
                    .arg(dir.path().join("rec.jsonl")),
                0,
            );
            assert!(
                out.stdout == classic,
                "{script}:\n--- live\n{}\n--- replayed\n{}",
                text(&classic).chars().take(4000).collect::<String>(),
                text(&out.stdout).chars().take(4000).collect::<String>()
            );
            let out = run(
                teelog()
                    .args(["replay", "--format", "jsonl"])
                    .arg(dir.path().join("rec.jsonl")),
                0,
            );
            assert!(out.stdout == jsonl, "{script}: jsonl converts to itself");
            runs += 1;
        }
    }
    assert_eq!(runs, 15);
}

fn the_record_after_each_pause_says_so_and_the_start_says_the_recording_marks_them() {
    let dir = tempdir();
    let (_, jsonl) = live_classic_and_jsonl(
        dir.path(),
        "0.1",
        "printf one; sleep 0.5; echo ' two'; echo three; sleep 0.5; echo four >&2",
    );
    let records = records(&jsonl);
    assert_eq!(records[0]["marks_pauses"], true);
    let marked: Vec<(&str, bool)> = records[1..records.len() - 1]
        .iter()
        .map(|r| {
            (
                r["message"].as_str().unwrap(),
                r.get("after_pause") == Some(&serde_json::Value::Bool(true)),
            )
        })
        .collect();
    assert_eq!(
        marked,
        [
            ("one", false),
            (" two", true),
            ("three", false),
            ("four", true)
        ]
    );
}

/// A recording cut by rotation: `rec.jsonl` (the latest file, no start record) and the older
/// `rec.jsonl.1`, `rec.jsonl.2`, which hold the start.
fn rotated(dir: &Path) -> Vec<Vec<u8>> {
    run(
        teelog()
            .args(["-q", "--max-size", "4K", "-o"])
            .arg(format!("jsonl={}", dir.join("rec.jsonl").display()))
            .args(["--", "seq", "1", "60"]),
        0,
    );
    let files: Vec<Vec<u8>> = ["rec.jsonl.2", "rec.jsonl.1", "rec.jsonl"]
        .iter()
        .map(|name| read(&dir.join(name)))
        .collect();
    assert_eq!(records(&files[0])[0]["type"], "start");
    assert_eq!(records(&files[2])[0]["type"], "output");
    files
}

fn a_later_file_of_a_rotation_plays_with_one_warning_and_is_not_converted_with_an_invented_start() {
    let dir = tempdir();
    let files = rotated(dir.path());
    let latest = dir.path().join("rec.jsonl");
    let first_seq = records(&files[2])[0]["seq"].clone();
    let first = records(&files[2])[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    // Played: its output, byte for byte, and one line saying the start is elsewhere.
    let out = run(teelog().arg("replay").arg(&latest), 0);
    let expected: String = (first.parse::<u32>().unwrap()..=60)
        .map(|n| format!("{n}\n"))
        .collect();
    assert_eq!(text(&out.stdout), expected);
    let warning = text(&out.stderr);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.starts_with("teelog: warning: ")
            && warning.contains("no start record")
            && warning.contains(&format!("from seq {first_seq}")),
        "{warning}"
    );
    // Converted: refused in one line, nothing written (a made-up start would lie about the run).
    for format in ["jsonl", "classic", "asciicast"] {
        let out = run(
            teelog().args(["replay", "--format", format]).arg(&latest),
            125,
        );
        assert!(out.stdout.is_empty(), "{format}: {}", text(&out.stdout));
        let error = text(&out.stderr);
        assert_eq!(error.lines().count(), 1, "{format}: {error}");
        assert!(
            error.contains("no start record") && error.contains(&format!("convert it to {format}")),
            "{format}: {error}"
        );
    }
    // The files together, oldest first, are the whole recording again.
    let whole = files.concat();
    let out = run(
        teelog().args(["replay", "--format", "jsonl", "-"]).stdin(
            std::fs::File::open({
                let path = dir.path().join("whole.jsonl");
                std::fs::write(&path, &whole).unwrap();
                path
            })
            .unwrap(),
        ),
        0,
    );
    assert!(
        out.stdout == whole,
        "the rotated files convert to themselves"
    );
    let list = run(teelog().args(["replay", "--list"]).arg(&latest), 0);
    assert!(
        text(&list.stdout).contains("no start record"),
        "{}",
        text(&list.stdout)
    );
}

/// A recording made by a released teelog (fixtures/recording-0.1.0: stdout, stderr, a pause
/// mid-line, bytes that are not UTF-8, a line over 64 KiB, recorded input, exit 3) replays to
/// the same bytes in every format as that release's replay made.
fn a_recording_made_by_release_0_1_0_replays_identically_in_every_format() {
    let dir = fixture("recording-0.1.0");
    let recording = dir.join("recording.jsonl");
    let replay = |args: &[&str]| {
        run(
            teelog()
                .env("SHELL", "/bin/sh")
                .env("TERM", "xterm-256color")
                .arg("replay")
                .args(args)
                .arg(&recording),
            0,
        )
    };
    let plain = replay(&["--format", "plain"]);
    assert!(
        plain.stdout == read(&dir.join("plain.stdout")),
        "plain stdout"
    );
    assert!(
        plain.stderr == read(&dir.join("plain.stderr")),
        "plain stderr"
    );
    for (args, expected) in [
        (&["--utc", "--format", "classic"][..], "classic.log"),
        (&["--format", "asciicast"][..], "asciicast.cast"),
        (&["--format", "jsonl"][..], "recording.jsonl"),
    ] {
        let out = replay(args);
        assert!(
            out.stdout == read(&dir.join(expected)),
            "{args:?} != {expected}"
        );
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}

crate::trials![
    a_recording_made_by_release_0_1_0_replays_identically_in_every_format,
    replay_plays_each_stream_byte_for_byte_with_its_timing,
    replay_lists_the_runs_and_plays_the_last_or_the_one_asked_for,
    a_cut_last_line_is_skipped_with_a_warning_and_a_bad_line_is_an_error,
    replay_reads_standard_input_and_a_program_called_replay_still_runs,
    a_converted_classic_log_is_what_the_live_one_was,
    asciicast_is_a_recording_asciinema_plays[ASCIINEMA],
    strip_ansi_cleans_every_log_and_leaves_the_console_alone,
    a_replay_into_a_closed_pipe_stops_instead_of_waiting_out_the_recording,
    replay_speed_takes_a_bounded_number_and_refuses_the_rest_in_one_line,
    replay_reads_a_fifo_and_a_pipe_once_and_plays_what_they_held[BASH],
    a_line_that_arrives_in_pieces_around_the_pause_replays_as_the_live_classic_log,
    the_record_after_each_pause_says_so_and_the_start_says_the_recording_marks_them,
    a_later_file_of_a_rotation_plays_with_one_warning_and_is_not_converted_with_an_invented_start,
];
