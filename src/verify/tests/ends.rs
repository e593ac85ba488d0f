//! How a log ends and what it is made of: a cut, text after the end, a run killed, a run never
//! sealed, a file that is not a log, a rotated set.

use super::*;

#[test]
fn a_log_cut_before_its_final_seal_is_truncated() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    lines.pop();
    says(
        verdict("cut", &lines, &verifier),
        Code::Truncated,
        "TRUNCATED: run S's final seal is missing after its exit record (",
    );
    // Cut inside the line.
    let mut lines = Run::new(&key, 450).lines();
    let last = lines.last_mut().unwrap();
    last.truncate(last.len() / 2);
    says(
        verdict("cut-inside", &lines, &verifier),
        Code::Truncated,
        "TRUNCATED: ",
    );
}

#[test]
fn anything_after_the_final_seal_is_broken_at_it() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 50).lines();
    let n = lines.len();
    lines.push(b"and one more thing\n".to_vec());
    says(
        verdict("appended-text", &lines, &verifier),
        Code::Broken,
        &format!("BROKEN at log:{}: not a teelog record", n + 1),
    );
    let mut lines = Run::new(&key, 50).lines();
    let mut forged = record("S", "output", 99);
    forged.truncate(forged.len() - 2);
    forged
        .extend_from_slice(format!(",\"prev\":\"{}\"}}\n", b64(&sha256(&lines[n - 1]))).as_bytes());
    lines.push(forged);
    says(
        verdict("appended-record", &lines, &verifier),
        Code::Broken,
        &format!(
            "BROKEN at log:{}: a line of run S after the run's final seal",
            n + 1
        ),
    );
}

#[test]
fn a_run_that_never_ended_is_ok_with_its_tail_unless_sealed_is_required() {
    let (key, verifier) = pair("db1");
    let run = Run {
        ending: Ending::Killed,
        ..Run::new(&key, 250)
    };
    let lines = run.lines();
    let tail = lines.iter().rev().take_while(|l| !is_seal(l)).count();
    let dir = dir("killed");
    let paths = write(&dir, &[("log", &lines)]);
    let set = Set {
        files: paths,
        missing: None,
    };
    let keys = std::slice::from_ref(&verifier);
    let outcome = crate::verify::walk(&set, &[], keys, false).unwrap();
    assert_eq!(outcome.code, Code::Ok);
    assert!(
        outcome.lines[0].starts_with(&format!("OK with {tail} records after the last seal: S: ")),
        "{:?}",
        outcome.lines
    );
    assert_eq!(outcome.warnings.len(), 1);
    let outcome = crate::verify::walk(&set, &[], keys, true).unwrap();
    assert_eq!(outcome.code, Code::NotSealedToTheEnd);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_without_a_seal_is_unsealed_never_ok() {
    let (key, verifier) = pair("db1");
    let run = Run {
        ending: Ending::Killed,
        ..Run::new(&key, 50)
    };
    says(
        verdict("no-seal-yet", &run.lines(), &verifier),
        Code::Unsealed,
        "UNSEALED: S in ",
    );
    let plain: Vec<Vec<u8>> = (1..=3).map(|seq| record("P", "output", seq)).collect();
    says(
        verdict("plain", &plain, &verifier),
        Code::Unsealed,
        "UNSEALED: P in ",
    );
}

#[test]
fn a_file_without_a_record_is_a_usage_error_and_a_stray_line_is_broken() {
    let (key, verifier) = pair("db1");
    let dir = dir("not-jsonl");
    let paths = write(&dir, &[("text", &[b"hello\n".to_vec()])]);
    let set = Set {
        files: paths,
        missing: None,
    };
    let err = crate::verify::walk(&set, &[], std::slice::from_ref(&verifier), false).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("text' is not a jsonl log (not one teelog record in it)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let mut lines = Run::new(&key, 50).lines();
    lines.insert(0, b"# a comment\n".to_vec());
    says(
        verdict("stray", &lines, &verifier),
        Code::Broken,
        "BROKEN at log:1: not a teelog record",
    );
}

#[test]
fn a_rotated_set_is_ok_and_a_missing_file_is_truncated() {
    let (key, verifier) = pair("db1");
    let run = Run {
        rotate_after: &[120, 260],
        ..Run::new(&key, 400)
    };
    let files = run.files();
    assert_eq!(files.len(), 3);
    let dir = dir("rotated");
    let paths = write(
        &dir,
        &[
            ("log.2", &files[0]),
            ("log.1", &files[1]),
            ("log", &files[2]),
        ],
    );
    let all = verify(paths.clone(), &[], &verifier);
    assert_eq!(all.code, Code::Ok, "{:?}", all.lines);
    assert!(
        all.lines[0].contains(" in 3 files, sealed to the end"),
        "{:?}",
        all.lines
    );
    // Found beside the log, oldest first.
    let set = crate::verify::files::resolve(std::slice::from_ref(&paths[2]));
    assert_eq!(set.files, paths);
    let middle = verify(vec![paths[0].clone(), paths[2].clone()], &[], &verifier);
    assert_eq!(middle.code, Code::Truncated, "{:?}", middle.lines);
    assert!(
        middle.lines[0].starts_with(&format!(
            "TRUNCATED: the file before {} is missing",
            paths[2].display()
        )),
        "{:?}",
        middle.lines
    );
    // The oldest rotated away: accepted, and said.
    let newer = verify(paths[1..].to_vec(), &[], &verifier);
    assert_eq!(newer.code, Code::Ok, "{:?}", newer.lines);
    assert!(
        newer.lines[0].contains(" in 2 files from part 1, sealed"),
        "{:?}",
        newer.lines
    );
    std::fs::remove_file(&paths[1]).unwrap();
    let set = crate::verify::files::resolve(std::slice::from_ref(&paths[2]));
    let outcome = crate::verify::walk(&set, &[], std::slice::from_ref(&verifier), false).unwrap();
    assert_eq!(outcome.code, Code::Truncated, "{:?}", outcome.lines);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rotated_file_must_name_the_last_seal_of_the_file_before() {
    let (key, verifier) = pair("db1");
    let run = Run {
        rotate_after: &[120],
        ..Run::new(&key, 200)
    };
    let mut files = run.files();
    // The new file's first line names another seal (its prev still right).
    let text = String::from_utf8(files[1][0].clone()).unwrap();
    let named = text.split("\"last_seal\":\"").nth(1).unwrap()[..44].to_owned();
    files[1][0] = text
        .replace(&named, &b64(&sha256(b"another seal")))
        .into_bytes();
    rechain(&mut files[1], 1);
    let dir = dir("rotated-last-seal");
    let paths = write(&dir, &[("log.1", &files[0]), ("log", &files[1])]);
    let outcome = verify(paths.clone(), &[], &verifier);
    assert_eq!(outcome.code, Code::Broken, "{:?}", outcome.lines);
    assert!(
        outcome.lines[0].starts_with(&format!(
            "BROKEN at {}:1: its last_seal is not run S's last seal in {}",
            paths[1].display(),
            paths[0].display()
        )),
        "{:?}",
        outcome.lines
    );
    // Files given out of order: the newer file's run has no part before it there.
    let swapped = verify(vec![paths[1].clone(), paths[0].clone()], &[], &verifier);
    assert_ne!(swapped.code, Code::Ok, "{:?}", swapped.lines);
    std::fs::remove_dir_all(&dir).unwrap();
}
