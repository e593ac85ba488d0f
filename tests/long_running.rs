//! Long-running commands: size-based rotation (`--max-size`, `--keep`) and logs that logrotate
//! renames or removes while the command runs.

use std::process::Stdio;

use crate::util::*;

/// PATH.N ... PATH.1, PATH: the files of a rotated log, oldest first.
fn generations(path: &std::path::Path, keep: u32) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = (1..=keep)
        .rev()
        .map(|n| std::path::PathBuf::from(format!("{}.{n}", path.display())))
        .collect();
    files.push(path.to_owned());
    files
}

fn max_size_rotates_between_records_and_keeps_the_contiguous_tail() {
    let dir = tempdir();
    let jsonl = dir.path().join("r.jsonl");
    let classic = dir.path().join("r.log");
    let plain = dir.path().join("p.log");
    // About 110 KB of output per log, files of 4 KiB, 3 kept.
    run(
        teelog()
            .args(["-q", "--max-size", "4K", "--keep", "3", "-o"])
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .args(["--", "seq", "1", "20000"]),
        0,
    );
    for log in [&jsonl, &classic, &plain] {
        let files = generations(log, 3);
        assert!(
            !std::path::Path::new(&format!("{}.4", log.display())).exists(),
            "older files are deleted"
        );
        for file in &files {
            let bytes = read(file);
            assert!(
                !bytes.is_empty() && bytes.len() <= 4096,
                "{}: {}",
                file.display(),
                bytes.len()
            );
            assert!(
                bytes.ends_with(b"\n"),
                "{} ends with a whole record",
                file.display()
            );
        }
    }
    // jsonl: every file parses as whole records, and together they are the run's last records,
    // seq contiguous up to the exit record.
    let mut seqs = Vec::new();
    for file in generations(&jsonl, 3) {
        for record in records(&read(&file)) {
            seqs.push(record["seq"].as_u64().unwrap());
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(
        *seqs.last().unwrap(),
        20002,
        "the exit record ends the last file"
    );
    // plain: the kept files are the tail of the output, exactly.
    let kept: Vec<u8> = generations(&plain, 3)
        .iter()
        .flat_map(|f| read(f))
        .collect();
    let all: String = (1..=20000).map(|i| format!("{i}\n")).collect();
    assert!(all.as_bytes().ends_with(&kept), "the contiguous tail");
    // classic: each line whole, the last one the exit line.
    let last = text(&read(&classic));
    assert!(
        last.lines()
            .last()
            .unwrap()
            .contains(" exit: status 0 after "),
        "{last}"
    );
}

fn a_log_renamed_while_the_command_runs_is_reopened_and_nothing_is_lost() {
    // As logrotate without copytruncate does: rename the log, then expect later output in a new
    // file at the path (teelog looks at most once a second, at the next output).
    let dir = tempdir();
    let log = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let go = dir.path().join("go");
    let script = format!(
        "echo before; while [ ! -e {go} ]; do sleep 0.05; done; sleep 1.2; echo after",
        go = go.display()
    );
    let mut child = teelog()
        .arg("-o")
        .arg(format!("plain={}", log.display()))
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    console.wait_for("before");
    // The console gets a chunk before the logs do: rename only once "before" is in the log.
    while read(&log).is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::fs::rename(&log, &moved).unwrap();
    std::fs::write(&go, "").unwrap();
    assert_eq!(wait(&mut child), Status::Code(0));
    assert_eq!(text(&read(&moved)), "before\n");
    assert_eq!(text(&read(&log)), "after\n", "reopened at the path");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600,
        "with the mode of the first open"
    );
}

crate::trials![
    max_size_rotates_between_records_and_keeps_the_contiguous_tail,
    a_log_renamed_while_the_command_runs_is_reopened_and_nothing_is_lost,
];
