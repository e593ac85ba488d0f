//! File logs as an operator finds them: a record an earlier run left cut short, a mode open to
//! other users, more logs than descriptors, `--keep` bounds.

use std::path::Path;
use std::process::Command;

use crate::util::*;

#[test]
fn keep_is_bounded() {
    let out = run(
        teelog().args(["--max-size", "1K", "--keep", "4294967295", "--", "true"]),
        125,
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("teelog: ") && stderr.contains("at most 1000"),
        "{stderr}"
    );
    run(
        teelog().args(["-q", "--max-size", "1K", "--keep", "1000", "--", "true"]),
        0,
    );
}

#[test]
fn a_rotation_renames_only_the_files_there_are() {
    if !available("strace", &["strace", "-V"]) {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("r.log");
    let trace = dir.path().join("trace");
    run(
        Command::new("strace")
            .args(["-f", "-e", "trace=rename,renameat,renameat2", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .args(["-q", "--max-size", "100", "--keep", "1000", "-o"])
            .arg(format!("plain={}", log.display()))
            .args(["--", "seq", "1", "200"]),
        0,
    );
    let rotated = (1..)
        .take_while(|n| Path::new(&format!("{}.{n}", log.display())).exists())
        .count();
    assert!(rotated >= 5, "{rotated} rotations");
    let renames: Vec<String> = text(&read(&trace))
        .lines()
        .filter(|l| l.contains("rename"))
        .map(str::to_owned)
        .collect();
    // The kth rotation renames the k-1 files there are, then the log itself.
    assert_eq!(renames.len(), rotated * (rotated + 1) / 2, "{renames:#?}");
    assert!(renames.iter().all(|l| l.ends_with("= 0")), "{renames:#?}");
}
