//! `-o sudo-iolog=DIR` read back by the real sudo tools (sudoreplay lists, replays and follows
//! it; sudo_sendlog ships it to a private sudo_logsrvd), and `teelog replay` of session
//! directories, teelog's own and those the real sudo and sudo_logsrvd write.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::*;

/// What `sudoreplay -d DIR -f STREAM ID` writes when its stdout is not a terminal: a header
/// naming the command (sudo's `Replaying sudo session: COMMAND ARGS`, written by stdio), the
/// stream's bytes as they are, and the header's `\r\n`, which stdio writes out at the end.
#[track_caller]
fn sudoreplay(dir: &Path, id: &str, stream: &str, command: &str) -> Vec<u8> {
    let out = run(
        Command::new("sudoreplay")
            .arg("-d")
            .arg(dir)
            .args(["-f", stream, id])
            .stdin(Stdio::null()),
        0,
    );
    let header = format!("Replaying sudo session: {command}");
    let bytes = out.stdout;
    assert!(
        bytes.starts_with(header.as_bytes()) && bytes.ends_with(b"\r\n"),
        "sudoreplay's header and end: {:?}",
        text(&bytes[..bytes.len().min(200)])
    );
    bytes[header.len()..bytes.len() - 2].to_vec()
}

/// Every timing record of `session` as (event, bytes).
fn timing(session: &Path) -> Vec<(u32, u64)> {
    text(&read(&session.join("timing")))
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            (words[0].parse().unwrap(), words[2].parse().unwrap())
        })
        .collect()
}

/// The mode bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `teelog replay -f jsonl` of a session directory, as the bytes of stdout and stderr.
fn replayed(session: &Path) -> (Vec<u8>, Vec<u8>, Vec<serde_json::Value>) {
    let out = run(teelog().args(["replay", "-f", "jsonl"]).arg(session), 0);
    let records = records(&out.stdout);
    (
        rebuild(&records, "stdout"),
        rebuild(&records, "stderr"),
        records,
    )
}

fn sudoreplay_lists_the_run_and_gives_each_stream_byte_for_byte() {
    let dir = tempdir();
    let io = dir.path().join("io");
    let script = "printf out; printf err >&2; exit 3";
    run(
        teelog()
            .current_dir(dir.path())
            .arg("-o")
            .arg(format!("sudo-iolog={}", io.display()))
            .args(["--", "sh", "-c", script]),
        3,
    );
    let list = run(Command::new("sudoreplay").arg("-d").arg(&io).arg("-l"), 0);
    let list = text(&list.stdout);
    let user = whoami::username().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    assert_eq!(list.lines().count(), 1, "{list}");
    for part in [
        format!(" : {user} : "),
        format!("CWD={}", cwd.display()),
        format!("USER={user}"),
        "TSID=000001".into(),
        "COMMAND=sh -c ".into(),
        "printf out; printf err >&2; exit 3".into(),
    ] {
        assert!(list.contains(&part), "{part:?} in {list}");
    }
    let command = format!("sh -c {script}");
    assert_eq!(sudoreplay(&io, "000001", "stdout", &command), b"out");
    assert_eq!(sudoreplay(&io, "00/00/01", "stderr", &command), b"err");
    let session = io.join("00/00/01");
    let json: serde_json::Value = serde_json::from_slice(&read(&session.join("log.json"))).unwrap();
    assert_eq!(json["exit_value"], 3);
    assert!(json["run_time"]["seconds"].is_u64() && json["run_time"]["nanoseconds"].is_u64());
    assert_eq!(json["runargv"], serde_json::json!(["sh", "-c", script]));
    assert_eq!(json["submitcwd"], cwd.to_str().unwrap());
    assert_eq!(text(&read(&io.join("seq"))), "000001\n");
    for path in [&io, &io.join("00"), &io.join("00/00"), &session] {
        assert_eq!(mode(path), 0o700, "{}", path.display());
    }
    for file in ["log", "log.json", "stdout", "stderr"] {
        assert_eq!(mode(&session.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&session.join("timing")), 0o400, "done: no write bits");
    // A second run takes the next id.
    run(
        teelog()
            .arg("-o")
            .arg(format!("sudo-iolog={}", io.display()))
            .args(["--", "true"]),
        0,
    );
    assert!(io.join("00/00/02/log.json").exists());
}

fn twenty_megabytes_of_binary_mixed_output_replay_byte_for_byte() {
    let dir = tempdir();
    let io = dir.path().join("io");
    // NUL bytes, invalid UTF-8, no final newline; pieces alternating between the streams.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut script = String::from("printf 'a\\000\\377b' >&2; printf '\\000\\303('; ");
    out.extend_from_slice(b"\0\xc3(");
    err.extend_from_slice(b"a\0\xffb");
    for i in 0..20 {
        let piece = noise(1_000_000 + i * 777, i as u64 + 1);
        let path = dir.path().join(format!("p{i}"));
        std::fs::write(&path, &piece).unwrap();
        let to_err = i % 2 == 1;
        script.push_str(&format!(
            "cat {}{}; ",
            path.display(),
            if to_err { " >&2" } else { "" }
        ));
        if to_err { &mut err } else { &mut out }.extend_from_slice(&piece);
    }
    let done = run(
        teelog()
            .arg("-o")
            .arg(format!("sudo-iolog={}", io.display()))
            .args(["--", "sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        0,
    );
    drop(done);
    let session = io.join("00/00/01");
    let command = format!("sh -c {script}");
    assert!(
        sudoreplay(&io, "000001", "stdout", &command) == out,
        "stdout"
    );
    assert!(
        sudoreplay(&io, "000001", "stderr", &command) == err,
        "stderr"
    );
    // No timing record over 1 MiB (sudo_sendlog sends each as one message), and together
    // they cover each file exactly.
    let records = timing(&session);
    assert!(
        records.iter().all(|&(_, n)| n <= 1 << 20),
        "a record over 1 MiB"
    );
    for (event, bytes) in [(1, &out), (2, &err)] {
        let sum: u64 = records.iter().filter(|r| r.0 == event).map(|r| r.1).sum();
        assert_eq!(sum, bytes.len() as u64, "event {event}");
    }
    let (stdout, stderr, _) = replayed(&session);
    assert!(
        stdout == out && stderr == err,
        "teelog replay rebuilds both"
    );
}

/// Large chunks of a run whose logs all take the output as it is go by splice(2) into the
/// session's stream files (`src/sink/splice.rs`), beside a plain log and a second session (fed
/// from a tee(2) copy): every byte still arrives, and the timing lines, written after the bytes,
/// cover each file exactly in records sudoreplay reads whole.
fn spliced_sessions_beside_a_plain_log_get_every_byte_and_their_timing() {
    let dir = tempdir();
    let (out, err) = (noise(6_000_000, 41), noise(3_000_000, 42));
    std::fs::write(dir.path().join("out"), &out).unwrap();
    std::fs::write(dir.path().join("err"), &err).unwrap();
    let trace = dir.path().join("trace");
    let script = "cat out; cat err >&2; cat out";
    run(
        Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=splice", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .arg("-o")
            .arg(format!("plain={}", dir.path().join("plain.log").display()))
            .arg("-o")
            .arg(format!("sudo-iolog={}", dir.path().join("a").display()))
            .arg("-o")
            .arg(format!("sudo-iolog={}", dir.path().join("b").display()))
            .args(["--", "sh", "-c", script])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        0,
    );
    let spliced = text(&read(&trace))
        .lines()
        .filter(|line| line.contains("splice(") && !line.contains("= -1"))
        .count();
    assert!(spliced > 0, "no splice(2) call succeeded");
    let twice = [out.as_slice(), out.as_slice()].concat();
    assert_eq!(
        read(&dir.path().join("plain.log")).len(),
        twice.len() + err.len()
    );
    let command = format!("sh -c {script}");
    for name in ["a", "b"] {
        let io = dir.path().join(name);
        assert!(
            sudoreplay(&io, "000001", "stdout", &command) == twice,
            "{name}: stdout"
        );
        assert!(
            sudoreplay(&io, "000001", "stderr", &command) == err,
            "{name}: stderr"
        );
        let records = timing(&io.join("00/00/01"));
        assert!(
            records.iter().all(|&(_, n)| n <= 64 * 1024),
            "{name}: a record over 64 KiB"
        );
        for (event, bytes) in [(1, &twice), (2, &err)] {
            let sum: u64 = records.iter().filter(|r| r.0 == event).map(|r| r.1).sum();
            assert_eq!(sum, bytes.len() as u64, "{name}: event {event}");
        }
    }
}

fn sudoreplay_follows_a_running_command_and_ends_when_teelog_does() {
    let dir = tempdir();
    let io = dir.path().join("io");
    let script = "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 1; done";
    let mut teelog = teelog()
        .arg("-o")
        .arg(format!("sudo-iolog={}", io.display()))
        .args(["--", "sh", "-c", script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let session = io.join("00/00/01");
    while !session.join("log.json").exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut follow = Command::new("sudoreplay")
        .arg("-d")
        .arg(&io)
        .args(["-F", "000001"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Collector::new(follow.stdout.take().unwrap());
    seen.wait_for("tick 2\n");
    assert!(
        teelog.try_wait().unwrap().is_none(),
        "tick 2 was followed while the command ran"
    );
    assert_eq!(mode(&session.join("timing")), 0o600, "running: writable");
    assert_eq!(wait(&mut teelog), Status::Code(0));
    // sudoreplay stops following once timing has lost its write bits.
    assert_eq!(wait(&mut follow), Status::Code(0));
    let rest = seen.rest();
    let ticks: String = (1..=10).map(|i| format!("tick {i}\n")).collect();
    assert!(rest.ends_with(&format!("{ticks}\r\n")), "{rest:?}");
}

/// A private sudo_logsrvd on 127.0.0.1 with its own configuration, store and pid file,
/// killed (by its own pid) when dropped.
struct Logsrvd {
    child: Child,
    port: u16,
    store: PathBuf,
    /// What it says of each connection (`server_log = stderr`).
    log: PathBuf,
}

impl Logsrvd {
    fn start(dir: &Path) -> Logsrvd {
        // A port the kernel just gave out, free again for the server to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = dir.join("store");
        let conf = dir.join("sudo_logsrvd.conf");
        std::fs::write(
            &conf,
            format!(
                "[server]\nlisten_address = 127.0.0.1:{port}\npid_file = {dir}/logsrvd.pid\n\
                 server_log = stderr\n[iolog]\niolog_dir = {store}\niolog_file = %{{seq}}\n\
                 iolog_compress = true\n[eventlog]\nlog_type = logfile\nlog_format = json\n\
                 [logfile]\npath = {dir}/events.json\n",
                dir = dir.display(),
                store = store.display(),
            ),
        )
        .unwrap();
        let log = dir.join("logsrvd.stderr");
        let child = Command::new("/usr/sbin/sudo_logsrvd")
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Logsrvd {
            child,
            port,
            store,
            log,
        };
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Logsrvd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sudo_sendlog_ships_the_directory_and_the_servers_copy_replays_byte_for_byte() {
    let dir = tempdir();
    let io = dir.path().join("io");
    let out = noise(300_000, 11);
    let err = noise(200_000, 12);
    std::fs::write(dir.path().join("out"), &out).unwrap();
    std::fs::write(dir.path().join("err"), &err).unwrap();
    let script = "cat out; cat err >&2; printf 'x\\000'; exit 7";
    run(
        teelog()
            .current_dir(dir.path())
            .arg("-o")
            .arg(format!("sudo-iolog={}", io.display()))
            .args(["--", "sh", "-c", script])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        7,
    );
    let server = Logsrvd::start(dir.path());
    run(
        Command::new("/usr/sbin/sudo_sendlog")
            .args(["-h", "127.0.0.1", "-p", &server.port.to_string()])
            .arg(io.join("00/00/01")),
        0,
    );
    // The server's copy: its own session directory, compressed (iolog_compress).
    let copy = server.store.join("00/00/01");
    assert_eq!(read(&copy.join("stdout"))[..2], [0x1f, 0x8b], "gzip'd");
    let command = format!("sh -c {script}");
    let mut all_out = out.clone();
    all_out.extend_from_slice(b"x\0");
    assert!(sudoreplay(&server.store, "000001", "stdout", &command) == all_out);
    assert!(sudoreplay(&server.store, "000001", "stderr", &command) == err);
    let json: serde_json::Value = serde_json::from_slice(&read(&copy.join("log.json"))).unwrap();
    assert_eq!(json["exit_value"], 7, "the exit, as the server stored it");
    assert_eq!(mode(&copy.join("timing")) & 0o222, 0, "complete");
    let said = text(&read(&server.log));
    assert!(
        !said.contains("error"),
        "the server took every message: {said}"
    );
    // teelog replay reads sudo_logsrvd's compressed copy.
    let (stdout, stderr, records) = replayed(&copy);
    assert!(stdout == all_out && stderr == err);
    let exit = records.last().unwrap();
    assert_eq!(
        (exit["type"].as_str(), exit["code"].as_i64()),
        (Some("exit"), Some(7))
    );
}

fn a_directory_the_real_sudo_wrote_converts_to_jsonl_with_the_same_bytes() {
    let dir = tempdir();
    let d = dir.path();
    let io = d.join("io");
    std::fs::write(
        d.join("sudoers"),
        format!(
            "Defaults log_output\nDefaults iolog_dir={}\nDefaults !lecture\n\
             root ALL=(ALL:ALL) NOPASSWD: ALL\n",
            io.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(d.join("sudoers"), std::fs::Permissions::from_mode(0o440)).unwrap();
    let sudoers = d.join("sudoers");
    std::fs::write(
        d.join("sudo.conf"),
        format!(
            "Plugin sudoers_policy sudoers.so sudoers_file={0}\n\
             Plugin sudoers_io sudoers.so sudoers_file={0}\n",
            sudoers.display()
        ),
    )
    .unwrap();
    let out = noise(100_000, 21);
    std::fs::write(d.join("out"), &out).unwrap();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(d.join("out"), std::fs::Permissions::from_mode(0o644)).unwrap();
    // The test's sudo.conf over /etc/sudo.conf, in a mount namespace of this command alone.
    let inner = format!(
        "mount --bind {conf} /etc/sudo.conf && sudo -u nobody sh -c \
         'cat {out}; printf \"e\\000\\377\" >&2; printf tail'",
        conf = d.join("sudo.conf").display(),
        out = d.join("out").display()
    );
    let ran = run(
        Command::new("unshare")
            .args(["-m", "sh", "-c", &inner])
            .stdin(Stdio::null()),
        0,
    );
    let mut all_out = out.clone();
    all_out.extend_from_slice(b"tail");
    assert!(ran.stdout == all_out, "sudo ran it");
    let session = io.join("00/00/01");
    assert_eq!(
        read(&session.join("stdout"))[..2],
        [0x1f, 0x8b],
        "sudo's gzip"
    );
    let (stdout, stderr, records) = replayed(&session);
    assert!(stdout == all_out, "stdout rebuilt");
    assert_eq!(stderr, b"e\0\xff");
    assert_eq!(records[0]["user"], "root");
    assert_eq!(
        records[0]["command"],
        serde_json::json!([
            "sh",
            "-c",
            "cat ".to_owned()
                + d.join("out").to_str().unwrap()
                + "; printf \"e\\000\\377\" >&2; printf tail"
        ])
    );
}

fn the_pty_goes_to_ttyout_and_input_to_stdin() {
    let dir = tempdir();
    let io = dir.path().join("io");
    let log = dir.path().join("run.jsonl");
    let out = with_stdin(
        teelog()
            .arg("--pty")
            .arg("--log-input")
            .arg("-o")
            .arg(format!("sudo-iolog={}", io.display()))
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args(["--", "sh", "-c", "read x; echo got $x"]),
        "hello\n",
    );
    assert_eq!(Status::of(out.status), Status::Code(0));
    let session = io.join("00/00/01");
    let events: Vec<u32> = timing(&session).iter().map(|r| r.0).collect();
    assert!(events.contains(&4) && events.contains(&0), "{events:?}");
    assert!(!events.contains(&1), "{events:?}");
    let logged = records(&read(&log));
    assert!(read(&session.join("ttyout")) == rebuild(&logged, "stdout"));
    assert_eq!(read(&session.join("stdin")), b"hello\n");
    let shown = sudoreplay(&io, "000001", "ttyout", "sh -c read x; echo got $x");
    assert!(
        shown == read(&session.join("ttyout")),
        "sudoreplay plays ttyout"
    );
}

fn secrets_are_masked_in_every_file_of_the_session() {
    let dir = tempdir();
    let io = dir.path().join("io");
    let log = dir.path().join("run.jsonl");
    let secret = "s3cr3t-t0ken-value";
    run(
        teelog()
            .env("TOKEN", secret)
            .args(["--redact-env", "TOKEN", "-o"])
            .arg(format!("sudo-iolog={}", io.display()))
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .args([
                "--",
                "sh",
                "-c",
                &format!("echo {secret}; echo {secret} >&2"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        0,
    );
    let session = io.join("00/00/01");
    let mut files = 0;
    for entry in std::fs::read_dir(&session).unwrap() {
        let path = entry.unwrap().path();
        let bytes = read(&path);
        assert!(
            !text(&bytes).contains(secret),
            "{} holds it",
            path.display()
        );
        files += 1;
    }
    assert_eq!(files, 5, "log, log.json, timing, stdout, stderr");
    // Redacted as in every other destination: the jsonl log of the same run.
    let logged = records(&read(&log));
    assert!(
        !rebuild(&logged, "stdout").is_empty(),
        "the output is there, redacted"
    );
    assert_eq!(read(&session.join("stdout")), rebuild(&logged, "stdout"));
    assert_eq!(read(&session.join("stderr")), rebuild(&logged, "stderr"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&read(&session.join("log.json"))).unwrap()["runargv"],
        logged[0]["command"]
    );
}

fn a_directory_that_cannot_be_made_is_refused_before_the_command_starts() {
    let dir = tempdir();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let marker = dir.path().join("ran");
    let bad = file.join("io");
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("sudo-iolog={}", bad.display()))
            .args(["--", "touch"])
            .arg(&marker),
        125,
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    assert!(!marker.exists(), "the command did not run");
    let out = run(teelog().args(["-o", "sudo-iolog=", "--", "true"]), 125);
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert!(text(&out.stderr).contains("sudo-iolog"));
}

crate::trials![
    sudoreplay_lists_the_run_and_gives_each_stream_byte_for_byte [SUDOREPLAY],
    twenty_megabytes_of_binary_mixed_output_replay_byte_for_byte [SUDOREPLAY],
    spliced_sessions_beside_a_plain_log_get_every_byte_and_their_timing [SUDOREPLAY, STRACE],
    sudoreplay_follows_a_running_command_and_ends_when_teelog_does [SUDOREPLAY],
    sudo_sendlog_ships_the_directory_and_the_servers_copy_replays_byte_for_byte [SUDOREPLAY, SUDO_SENDLOG],
    a_directory_the_real_sudo_wrote_converts_to_jsonl_with_the_same_bytes [SUDO, ROOT],
    the_pty_goes_to_ttyout_and_input_to_stdin [SUDOREPLAY],
    secrets_are_masked_in_every_file_of_the_session,
    a_directory_that_cannot_be_made_is_refused_before_the_command_starts,
];
