//! Zero-copy pass-through (`src/sink/splice.rs`): a run whose every sink is plain moves output
//! with tee(2) and splice(2). Every byte must still arrive, compared byte for byte, behind a slow
//! console, into several logs at once, next to another program appending to the same log, where
//! the lease is refused, and where splice does not apply.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::*;

/// `len` bytes drawn from `alphabet` only, so that two streams mixed in one log can be told apart.
fn letters(len: usize, seed: u64, alphabet: &[u8]) -> Vec<u8> {
    noise(len, seed)
        .into_iter()
        .map(|b| alphabet[b as usize % alphabet.len()])
        .collect()
}

/// The bytes of `all` that are in `alphabet`, in order.
fn only(all: &[u8], alphabet: &[u8]) -> Vec<u8> {
    all.iter()
        .copied()
        .filter(|b| alphabet.contains(b))
        .collect()
}

const OUT: &[u8] = b"abcdefghijklm\n";
const ERR: &[u8] = b"nopqrstuvwxyz";

fn plain_logs_and_a_slow_console_get_every_byte_of_both_streams() {
    let dir = tempdir();
    let (out, err) = (letters(3_000_000, 3, OUT), letters(2_000_000, 4, ERR));
    std::fs::write(dir.path().join("out"), &out).unwrap();
    std::fs::write(dir.path().join("err"), &err).unwrap();
    let logs: Vec<_> = (0..3)
        .map(|i| dir.path().join(format!("{i}.log")))
        .collect();
    // stdout and stderr at once; the end written before the command exits (the pipes are full
    // then), or by a process it left behind.
    for (grace, script) in [
        ("0", "cat out & cat err >&2; wait; cat out"),
        ("0.5", "cat out & cat err >&2; wait; cat out & exit 0"),
    ] {
        let mut cmd = teelog();
        for log in &logs {
            cmd.arg("-o").arg(format!("plain={}", log.display()));
        }
        let mut child = cmd
            .args(["--grace", grace, "--", "sh", "-c", script])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || read_slowly(stderr, 4_000_000));
        let console = read_slowly(child.stdout.take().unwrap(), 1_500_000);
        let console_err = errors.join().unwrap();
        assert_eq!(Status::of(child.wait().unwrap()), Status::Code(0));
        let twice = [out.as_slice(), out.as_slice()].concat();
        // The stderr stream carries teelog's own messages too: none are expected.
        assert!(console == twice, "grace {grace}: stdout differs");
        assert!(console_err == err, "grace {grace}: stderr differs");
        for log in &logs {
            let got = read(log);
            assert_eq!(got.len(), twice.len() + err.len(), "grace {grace}: {log:?}");
            assert!(
                only(&got, OUT) == twice,
                "grace {grace}: {log:?}: stdout differs"
            );
            assert!(
                only(&got, ERR) == err,
                "grace {grace}: {log:?}: stderr differs"
            );
            std::fs::remove_file(log).unwrap();
        }
    }
}

fn a_program_appending_to_the_log_meanwhile_loses_nothing_and_neither_does_teelog() {
    require(&STRACE);
    let dir = tempdir();
    let (log, trace, input) = (
        dir.path().join("x.log"),
        dir.path().join("trace"),
        dir.path().join("input"),
    );
    let data = letters(60_000_000, 5, b"abcdefghij\n");
    std::fs::write(&input, &data).unwrap();
    let mut child = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=splice,fcntl", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_teelog"))
        .args(["-q", "-o"])
        .arg(format!("plain={}", log.display()))
        .args(["--", "cat"])
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Another program appends markers to the same log, opening it each time (as `>>` does),
    // as long as teelog runs.
    let done = Arc::new(AtomicBool::new(false));
    let appender = {
        let (done, log) = (Arc::clone(&done), log.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::Acquire) {
                if let Ok(mut f) = OpenOptions::new().append(true).open(&log) {
                    f.write_all(format!("#{n:05}#").as_bytes()).unwrap();
                    n += 1;
                }
            }
            n
        })
    };
    assert_eq!(Status::of(child.wait().unwrap()), Status::Code(0));
    done.store(true, Ordering::Release);
    let markers = appender.join().unwrap();
    let got = read(&log);
    let trace = text(&read(&trace));
    let leased = trace
        .lines()
        .filter(|l| l.contains("F_SETLEASE, F_WRLCK)") && l.ends_with("= 0"))
        .count();
    let spliced = trace.lines().filter(|l| l.contains("splice(")).count();
    assert!(
        leased > 0 && spliced > 0,
        "teelog spliced ({spliced}) under a lease ({leased})"
    );
    // The kernel tells the holder of a lease that someone opens the file with SIGIO: the
    // appender did open the log while teelog was splicing into it (and waited for that).
    assert!(trace.contains("--- SIGIO"), "an open met a lease");
    // Every marker whole, once, in order; with them taken out, the output exactly.
    let text_of = String::from_utf8(got).unwrap();
    let mut rest = String::with_capacity(data.len());
    let mut found = Vec::new();
    let mut parts = text_of.split('#');
    rest.push_str(parts.next().unwrap());
    while let (Some(marker), Some(after)) = (parts.next(), parts.next()) {
        found.push(marker.parse::<usize>().unwrap());
        rest.push_str(after);
    }
    assert!(markers > 10, "the appender ran along: {markers}");
    assert_eq!(
        found,
        (0..markers).collect::<Vec<_>>(),
        "every marker, once"
    );
    assert!(rest.as_bytes() == data, "teelog's output, whole");
}

fn a_log_someone_holds_open_is_copied_into_instead() {
    let dir = tempdir();
    let (log, input) = (dir.path().join("x.log"), dir.path().join("input"));
    let data = noise(5_000_000, 6);
    std::fs::write(&input, &data).unwrap();
    File::create(&log).unwrap();
    // Private, as teelog would make it (a log open to others gets a warning).
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // A reader (a `tail -f`) has the log open: the kernel refuses teelog the lease.
    let reader = File::open(&log).unwrap();
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("plain={}", log.display()))
            .arg("--")
            .arg("cat")
            .arg(&input)
            .stdin(Stdio::null()),
        0,
    );
    drop(reader);
    assert_eq!(text(&out.stderr), "");
    assert!(out.stdout == data, "the console got every byte");
    assert!(read(&log) == data, "the log got every byte");
}

fn a_console_that_is_a_file_gets_every_byte_appended_or_not() {
    let dir = tempdir();
    let (log, input, console) = (
        dir.path().join("x.log"),
        dir.path().join("input"),
        dir.path().join("console"),
    );
    let data = noise(5_000_000, 7);
    std::fs::write(&input, &data).unwrap();
    // `>>` (O_APPEND: splice refuses it) and `>`.
    for append in [true, false] {
        std::fs::write(&console, b"before\n").unwrap();
        let to = OpenOptions::new()
            .append(append)
            .write(!append)
            .open(&console)
            .unwrap();
        if !append {
            use std::io::Seek;
            (&to).seek(std::io::SeekFrom::End(0)).unwrap();
        }
        let status = teelog()
            .arg("-o")
            .arg(format!("plain={}", log.display()))
            .arg("--")
            .arg("cat")
            .arg(&input)
            .stdin(Stdio::null())
            .stdout(to)
            .status()
            .unwrap();
        assert!(status.success());
        let expected = [b"before\n".as_slice(), &data].concat();
        assert!(
            read(&console) == expected,
            "append {append}: the console file"
        );
        assert!(read(&log) == data, "append {append}: the log");
        std::fs::remove_file(&log).unwrap();
    }
}

crate::trials![
    plain_logs_and_a_slow_console_get_every_byte_of_both_streams,
    a_program_appending_to_the_log_meanwhile_loses_nothing_and_neither_does_teelog[STRACE],
    a_log_someone_holds_open_is_copied_into_instead,
    a_console_that_is_a_file_gets_every_byte_appended_or_not,
];
