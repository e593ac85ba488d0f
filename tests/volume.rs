//! Megabytes of output, long lines and random bytes, kept exactly.

use crate::util::*;

fn long_lines_are_split_into_bounded_records_and_rebuilt() {
    let dir = tempdir();
    let mut input = Vec::new();
    for i in 0..20_000 {
        input.extend(
            format!("line {i} of some ordinary text output, about eighty bytes long ...\n").bytes(),
        );
    }
    input.extend("é".repeat(150_000).bytes()); // a 300 kB line, then no newline at the end
    let file = dir.path().join("input.txt");
    std::fs::write(&file, &input).unwrap();
    // No pause cuts a line here (a busy machine can stall `cat` for more than the default).
    let out = run(
        teelog()
            .args(["-f", "jsonl", "--pause", "86400", "cat"])
            .arg(&file),
        0,
    );
    let records = records(&out.stdout);
    check_run(&records);
    let output: Vec<_> = records.iter().filter(|r| r["type"] == "output").collect();
    assert_eq!(
        output.len() - 20_000,
        5,
        "300 kB in records of at most 64 KiB"
    );
    for r in &output {
        let message = r["message"].as_str().unwrap();
        assert!(message.len() <= 64 * 1024);
        assert!(!message.contains('\u{fffd}'), "a character was cut");
    }
    assert_eq!(output.last().unwrap()["eol"], false);
    assert!(rebuild(&records, "stdout") == input);
}

/// Runs `cmd` with its stdout to /dev/null, sampling its peak RSS (`VmHWM`, a high-water mark
/// of its own address space) until it ends; returns how it ended, its stderr and the peak in KiB.
fn run_sampling_peak_rss(cmd: &mut std::process::Command) -> (Status, String, i64) {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").parse::<i64>().ok())
            });
        peak = peak.max(hwm.unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    (Status::of(status), errors.join().unwrap(), peak)
}

const FLAT_MEMORY_KIB: i64 = 16 * 1024;

fn two_gib_in_plain_and_jsonl_with_flat_memory() {
    for format in ["plain", "jsonl"] {
        let script = "yes 'a line of ordinary text output, about eighty bytes long ..................' | head -c 2G";
        let (end, errors, peak) = run_sampling_peak_rss(
            teelog()
                .args(["-f", format, "-o"])
                .arg(format!("{format}=/dev/null"))
                .args(["--", "sh", "-c", script]),
        );
        assert_eq!((end, errors.as_str()), (Status::Code(0), ""));
        eprintln!("peak RSS over 2 GiB in {format}: {peak} KiB");
        assert!(peak > 0 && peak < FLAT_MEMORY_KIB, "{format}: {peak} KiB");
    }
}

fn a_stalled_console_slows_the_command_instead_of_growing_teelog() {
    use std::io::Read;
    let mut child = teelog()
        .args([
            "-f",
            "jsonl",
            "--",
            "sh",
            "-c",
            "head -c 100000000 /dev/zero; echo finished >&2",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads the console for a while: the command must be held up, not buffered.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let rss_kib: i64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap();
    assert!(
        rss_kib < FLAT_MEMORY_KIB,
        "teelog grew to {rss_kib} KiB behind a stalled console"
    );
    assert!(child.try_wait().unwrap().is_none());
    let mut console = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut console)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let records = records(&console);
    check_run(&records);
    assert_eq!(messages(&records, "stderr"), ["finished"]);
    assert_eq!(rebuild(&records, "stdout").len(), 100_000_000);
}

fn a_single_one_gib_line_becomes_bounded_records_that_rebuild_exactly() {
    use std::io::BufRead;
    let dir = tempdir();
    let log = dir.path().join("line.jsonl");
    let (end, errors, peak) = run_sampling_peak_rss(
        teelog()
            // No pause cuts the line (a busy machine can stall `tr` for more than the default).
            .args(["-q", "--pause", "86400", "-o"])
            .arg(format!("jsonl={}", log.display()))
            .args([
                "--",
                "sh",
                "-c",
                "head -c 1073741824 /dev/zero | tr '\\0' x",
            ]),
    );
    assert_eq!((end, errors.as_str()), (Status::Code(0), ""));
    assert!(
        peak > 0 && peak < FLAT_MEMORY_KIB,
        "a 1 GiB line: {peak} KiB"
    );
    // Streamed: the log is over a gigabyte.
    let (mut total, mut outputs) = (0, 0);
    for line in std::io::BufReader::new(std::fs::File::open(&log).unwrap()).lines() {
        let r: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if r["type"] != "output" {
            continue;
        }
        let message = r["message"].as_str().unwrap();
        assert!(message.len() <= 64 * 1024 && message.bytes().all(|b| b == b'x'));
        assert_eq!(r["eol"], false, "no newline anywhere");
        total += message.len();
        outputs += 1;
    }
    assert_eq!(total, 1 << 30);
    assert_eq!(outputs, (1 << 30) / (64 * 1024));
}

fn a_hundred_megabytes_of_random_bytes_are_kept_exactly_on_the_console_and_in_every_log() {
    let dir = tempdir();
    let input = noise(100_000_000, 99);
    let file = dir.path().join("random.bin");
    std::fs::write(&file, &input).unwrap();
    let (plain, jsonl) = (dir.path().join("r.log"), dir.path().join("r.jsonl"));
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("cat")
            .arg(&file),
        0,
    );
    assert!(out.stdout == input, "the console differs");
    assert!(read(&plain) == input, "plain differs");
    let records = records(&read(&jsonl));
    check_run(&records);
    assert!(
        rebuild(&records, "stdout") == input,
        "jsonl does not rebuild the input"
    );
}

fn output_that_stops_inside_a_utf8_character_is_kept() {
    let out = run(
        teelog().args(["-f", "jsonl", "--", "sh", "-c", "printf 'euro \\342\\202'"]),
        0,
    );
    let records = records(&out.stdout);
    check_run(&records);
    assert_eq!(rebuild(&records, "stdout"), b"euro \xe2\x82");
    let last = &records[records.len() - 2];
    assert_eq!(last["eol"], false);
    assert!(
        last.get("bytes").is_some(),
        "an incomplete character is not valid UTF-8"
    );
}

crate::trials![
    long_lines_are_split_into_bounded_records_and_rebuilt,
    two_gib_in_plain_and_jsonl_with_flat_memory,
    a_stalled_console_slows_the_command_instead_of_growing_teelog,
    a_single_one_gib_line_becomes_bounded_records_that_rebuild_exactly,
    a_hundred_megabytes_of_random_bytes_are_kept_exactly_on_the_console_and_in_every_log,
    output_that_stops_inside_a_utf8_character_is_kept,
];
