//! Sealed logs in the setups operators have: rotated by the real logrotate in each of its modes
//! while the run goes on, and shared by several runs appending at once. Each ends OK in
//! `teelog verify`, every run's records whole, and a change in a rotated file is still found.

use std::process::Command;

use super::*;
use crate::harness::needs::LOGROTATE;

/// Rotates the sealed log with the real logrotate (`directives`, its own state file) while
/// `seq` runs in bursts, twice; then verifies the log with what logrotate left beside it.
#[track_caller]
fn rotated_by_logrotate(directives: &str) -> (Sealed, Vec<PathBuf>) {
    let s = Sealed::new();
    let conf = s.path("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  rotate 5\n  missingok\n{directives}\n}}\n",
            s.log.display()
        ),
    )
    .unwrap();
    let mut run = teelog()
        .arg("-q")
        .arg("--seal")
        .arg(&s.key)
        .args(["--seal-every", "7", "-o"])
        .arg(format!("jsonl={}", s.log.display()))
        .args(["--", "sh", "-c"])
        .arg("for i in 1 2 3; do seq $((i*100)) $((i*100+49)); sleep 0.6; done")
        .spawn()
        .unwrap();
    for _ in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let out = Command::new("/usr/sbin/logrotate")
            .args(["-f", "-s"])
            .arg(s.path("logrotate.state"))
            .arg(&conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "logrotate: {}", text(&out.stderr));
    }
    assert!(run.wait().unwrap().success());
    let mut files: Vec<PathBuf> = (1..=5)
        .rev()
        .map(|n| s.path(&format!("run.jsonl.{n}")))
        .filter(|p| p.exists())
        .collect();
    files.push(s.log.clone());
    (s, files)
}

/// Every output line of the run, in order, from the files of the set.
fn printed(files: &[PathBuf]) -> Vec<String> {
    let mut all = Vec::new();
    for file in files {
        let records = records(&read(file));
        all.extend(messages(&records, "stdout"));
    }
    all
}

fn expected() -> Vec<String> {
    (1..=3)
        .flat_map(|i| (i * 100..i * 100 + 50).map(|n| n.to_string()))
        .collect()
}

fn a_sealed_log_renamed_by_logrotate_verifies_across_its_files() {
    let (s, files) = rotated_by_logrotate("  create 0600");
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(printed(&files), expected());
    let v = s.verify_log();
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(
        v.first.starts_with("OK: ") && v.first.contains("in 3 files"),
        "{v:?}"
    );
    // Each file but the last ends with a seal of it, and the next begins a new part.
    for pair in files.windows(2) {
        let old = lines(&pair[0]);
        assert_eq!(parsed(old.last().unwrap())["type"], "seal", "{:?}", pair[0]);
        let new = lines(&pair[1]);
        assert!(
            parsed(&new[0])["part"].as_u64().unwrap() > 0,
            "{:?}",
            pair[1]
        );
    }
    // A changed line in the middle file is found there.
    let mut middle = lines(&files[1]);
    flip_digit(&mut middle[1]);
    write_lines(&files[1], &middle);
    let v = s.verify_log();
    assert!(
        v.first
            .starts_with(&format!("BROKEN at {}:2", files[1].display())),
        "{v:?}"
    );
    assert_eq!(v.code, Some(1));
}

fn a_sealed_log_copied_and_truncated_by_logrotate_verifies() {
    // copytruncate: what was written between the copy and the truncation is lost (logrotate(8)
    // says so), which verify must then say; otherwise the set is OK.
    let (s, files) = rotated_by_logrotate("  copytruncate");
    let v = s.verify_log();
    if printed(&files) == expected() {
        assert_eq!(
            (v.code, v.first.starts_with("OK: ")),
            (Some(0), true),
            "{v:?}"
        );
    } else {
        assert_ne!(v.code, Some(0), "lines were lost, and verify said {v:?}");
    }
}

fn a_sealed_log_compressed_by_logrotate_leaves_a_sealed_current_file() {
    // compress without delaycompress: the old files are gzip'd (verify reads plain files);
    // the current file still verifies, starting from the part it holds.
    let (s, files) = rotated_by_logrotate("  compress\n  create 0600");
    assert_eq!(
        files,
        std::slice::from_ref(&s.log),
        "only the current file stays plain"
    );
    assert!(s.path("run.jsonl.1.gz").exists());
    let v = s.verify_log();
    assert_eq!(v.code, Some(0), "{v:?}");
    assert!(v.first.contains("from part 2"), "{v:?}");
}

fn four_runs_appending_to_one_sealed_log_each_verify() {
    let s = Sealed::new();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            teelog()
                .arg("-q")
                .arg("--seal")
                .arg(&s.key)
                .args(["--seal-every", "50", "-o"])
                .arg(format!("jsonl={}", s.log.display()))
                .args(["--", "seq", "1", "2000"])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
    let v = s.verify_log();
    assert_eq!(v.code, Some(0), "{v:?}");
    let ok: Vec<&str> = v.stdout.lines().filter(|l| l.starts_with("OK: ")).collect();
    assert_eq!(ok.len(), 4, "{v:?}");
    for line in ok {
        assert!(line.contains("2002 records in 1 file"), "{line}");
    }
}

crate::trials![
    a_sealed_log_renamed_by_logrotate_verifies_across_its_files[LOGROTATE],
    a_sealed_log_copied_and_truncated_by_logrotate_verifies[LOGROTATE],
    a_sealed_log_compressed_by_logrotate_leaves_a_sealed_current_file[LOGROTATE],
    four_runs_appending_to_one_sealed_log_each_verify,
];
