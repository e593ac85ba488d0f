//! Every verdict of `teelog verify` but OK, each from a log changed the way its row of the
//! table in docs/sealing.md says: a changed, deleted, moved or forged line (BROKEN at the line
//! where the chain first fails), a log sealed again with another key (WRONG KEY) or with the
//! same key but a record gone (GAP), a changed signature, a cut final seal or a missing middle
//! file (TRUNCATED), a record after the final seal, a killed run (OK with K records after the
//! last seal) and a log never sealed (UNSEALED).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// Records [`NUMBERED`], changes its lines with `tamper` around line 2500 (all output records),
/// and expects `BROKEN at LOG:broken`, exit 1.
#[track_caller]
fn broken_at(tamper: impl FnOnce(&mut Vec<Vec<u8>>), broken: usize) {
    let s = Sealed::numbered();
    let mut all = lines(&s.log);
    for n in 2499..=2502 {
        assert_eq!(line(&all, n)["type"], "output", "line {n}");
    }
    tamper(&mut all);
    write_lines(&s.log, &all);
    says(
        &s.verify_log(),
        &format!("BROKEN at {}:{broken}", s.log.display()),
        1,
    );
}

fn a_flipped_byte_in_line_2500_is_broken_at_2500() {
    // Line 2500 itself still parses; line 2501's prev no longer matches it, while line 2502's
    // matches line 2501: the damage is line 2500's, and that is where it is said to be.
    broken_at(|all| flip_digit(&mut all[2499]), 2500);
}

fn a_deleted_line_is_broken_where_it_was() {
    broken_at(
        |all| {
            all.remove(2499);
        },
        2500,
    );
}

fn two_swapped_lines_are_broken_at_the_first() {
    broken_at(|all| all.swap(2499, 2500), 2500);
}

fn a_forged_line_with_a_right_prev_is_broken_at_it() {
    // A copy of line 2500 with another number, inserted before it: its prev is right (line
    // 2499's hash), the next line's no longer is, and the one after that chains to that one:
    // the forged line is the one that does not belong.
    broken_at(
        |all| {
            let mut forged = all[2499].clone();
            flip_digit(&mut forged);
            all.insert(2499, forged);
        },
        2500,
    );
}

fn a_log_rewritten_and_sealed_with_another_key_is_wrong_key() {
    let s = Sealed::numbered();
    let elsewhere = s.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let (other_key, other_public) = keygen(&elsewhere, "other");
    let mut all = lines(&s.log);
    flip_digit(&mut all[2499]);
    write_lines(&s.log, &all);
    s.forge(&other_key);
    // A sound forgery: with the other key trusted, teelog, Python and openssl accept it.
    says(&s.verify(&[&"--key", &other_public, &s.log]), "OK", 0);
    check_independently(&s, &other_public, std::slice::from_ref(&s.log));
    says(&s.verify_log(), "WRONG KEY", 5);
    says(&s.verify(&[&"--key", &s.public, &s.log]), "WRONG KEY", 5);
}

fn a_rebuilt_chain_with_a_record_missing_is_a_gap() {
    let s = Sealed::numbered();
    let mut all = lines(&s.log);
    let gone = line(&all, 2500)["seq"].as_u64().unwrap();
    all.remove(2499);
    write_lines(&s.log, &all);
    s.forge(&s.key);
    let v = s.verify_log();
    says(&v, "GAP in seq", 3);
    assert!(
        v.first.contains(&gone.to_string()),
        "seq {gone} is missing: {v:?}"
    );
}

fn a_changed_signature_is_bad_signature() {
    let s = Sealed::numbered();
    let mut all = lines(&s.log);
    let last = all.last_mut().unwrap();
    // A character of the final seal's signature, past the key hash's (its first 6).
    let at = last.windows(6).rposition(|w| w == b" test ").unwrap() + 6 + 20;
    last[at] = if last[at] == b'A' { b'B' } else { b'A' };
    write_lines(&s.log, &all);
    says(&s.verify_log(), "BAD SIGNATURE", 4);
}

fn a_cut_final_seal_is_truncated() {
    let s = Sealed::numbered();
    let mut all = lines(&s.log);
    let cut = all.pop().unwrap();
    assert_eq!(parsed(&cut)["final"], true);
    assert_eq!(line(&all, all.len())["type"], "exit");
    write_lines(&s.log, &all);
    says(&s.verify_log(), "TRUNCATED", 2);
}

/// The base64 SHA-256 of `bytes`, by Python's hashlib.
#[track_caller]
fn sha256(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let code = "import base64, hashlib, sys; \
                print(base64.b64encode(hashlib.sha256(bytes.fromhex(sys.argv[1])).digest()).decode())";
    let out = Command::new("python3")
        .args(["-c", code, &hex])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn a_record_appended_after_the_final_seal_is_broken_there() {
    let s = Sealed::numbered();
    let mut all = lines(&s.log);
    // The run's last output record again, another number and the next seq, chained to the
    // final seal as the writer would chain it: only "nothing after the final seal" catches it.
    let output = all.iter().rev().find(|l| parsed(l)["type"] == "output");
    let mut extra = text(output.unwrap());
    let (seq, next) = (
        parsed(output.unwrap())["seq"].clone(),
        line(&all, all.len())["seq"].as_u64().unwrap() + 1,
    );
    extra = extra.replacen(&format!("\"seq\":{seq},"), &format!("\"seq\":{next},"), 1);
    let mut extra = extra.into_bytes();
    flip_digit(&mut extra);
    let cut = extra
        .windows(9)
        .rposition(|w| w == b",\"prev\":\"")
        .unwrap();
    extra.truncate(cut);
    extra.extend(format!(",\"prev\":\"{}\"}}\n", sha256(all.last().unwrap())).as_bytes());
    assert_eq!(parsed(&extra)["seq"], next);
    all.push(extra);
    write_lines(&s.log, &all);
    says(
        &s.verify_log(),
        &format!("BROKEN at {}:{}", s.log.display(), all.len()),
        1,
    );
}

fn a_missing_middle_file_of_a_rotated_set_is_truncated() {
    let s = Sealed::new();
    let flags = ["--seal-every", "100", "--max-size", "20K", "--keep", "10"];
    s.record("seq 1 500", &flags);
    let old = |n: usize| PathBuf::from(format!("{}.{n}", s.log.display()));
    let mut set: Vec<PathBuf> = (1..=10).rev().map(old).filter(|p| p.exists()).collect();
    set.push(s.log.clone());
    // Several files, none dropped by --keep: the oldest holds the start record.
    assert!(old(3).exists(), "{set:?}");
    assert_eq!(line(&lines(&set[0]), 1)["type"], "start");
    says(&s.verify_log(), "OK", 0);
    // Every old file ends with a seal, and each new one names it (Python checks part and
    // last_seal); every seal of every file checks.
    for file in &set[..set.len() - 1] {
        assert_eq!(
            parsed(lines(file).last().unwrap())["type"],
            "seal",
            "{}",
            file.display()
        );
    }
    assert!(check_independently(&s, &s.public, &set) >= set.len());
    std::fs::remove_file(old(2)).unwrap();
    says(&s.verify_log(), "TRUNCATED", 2);
}

/// The pids of the children of `pid`.
fn children(pid: u32) -> Vec<i32> {
    let out = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn a_killed_run_is_ok_with_its_unsealed_tail_and_an_error_when_sealing_is_required() {
    use nix::sys::signal::{Signal, kill};
    let s = Sealed::new();
    let mut teelog = teelog()
        .args(["-q", "--seal"])
        .arg(&s.key)
        .args(["--seal-every", "1000", "--seal-interval", "3600", "-o"])
        .arg(format!("jsonl={}", s.log.display()))
        .args(["--", "sh", "-c", "seq 1 1500; exec sleep 30"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    // The last line is whole, and it is the last line of the output.
    let logged = |log: &Path| {
        let bytes = std::fs::read(log).unwrap_or_default();
        let last = bytes
            .split_inclusive(|b| *b == b'\n')
            .next_back()
            .unwrap_or_default();
        last.ends_with(b"\n") && parsed(last)["message"] == "1500"
    };
    while !logged(&s.log) {
        assert!(Instant::now() < deadline, "teelog never logged 1500");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sleep = children(teelog.id());
    teelog.kill().unwrap();
    teelog.wait().unwrap();
    for pid in sleep {
        let _ = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
    }
    let all = lines(&s.log);
    let sealed = all
        .iter()
        .rposition(|l| parsed(l)["type"] == "seal")
        .expect("a seal");
    let tail = all.len() - 1 - sealed;
    assert!(tail > 0, "records after the last seal");
    let v = s.verify_log();
    says(
        &v,
        &format!("OK with {tail} records after the last seal"),
        0,
    );
    assert!(!v.stderr.trim().is_empty(), "a warning: {v:?}");
    says(
        &s.verify(&[&"--require-sealed", &s.log]),
        &format!("OK with {tail} records after the last seal"),
        7,
    );
}

fn a_log_never_sealed_is_unsealed() {
    let s = Sealed::new();
    record(&s.log, "seq 1 10", 0);
    assert!(
        records(&read(&s.log))
            .iter()
            .all(|r| r.get("prev").is_none())
    );
    says(&s.verify_log(), "UNSEALED", 6);
    says(&s.verify(&[&"--key", &s.public, &s.log]), "UNSEALED", 6);
    // A sealed run, then an unsealed one appended to the same file: still not OK.
    std::fs::remove_file(&s.log).unwrap();
    s.record("seq 1 10", &[]);
    says(&s.verify_log(), "OK", 0);
    record(&s.log, "seq 1 10", 0);
    says(&s.verify_log(), "UNSEALED", 6);
}

crate::trials![
    a_flipped_byte_in_line_2500_is_broken_at_2500,
    a_deleted_line_is_broken_where_it_was,
    two_swapped_lines_are_broken_at_the_first,
    a_forged_line_with_a_right_prev_is_broken_at_it,
    a_log_rewritten_and_sealed_with_another_key_is_wrong_key[PYTHON3, OPENSSL],
    a_rebuilt_chain_with_a_record_missing_is_a_gap[PYTHON3, OPENSSL],
    a_changed_signature_is_bad_signature,
    a_cut_final_seal_is_truncated,
    a_record_appended_after_the_final_seal_is_broken_there[PYTHON3],
    a_missing_middle_file_of_a_rotated_set_is_truncated[PYTHON3, OPENSSL],
    a_killed_run_is_ok_with_its_unsealed_tail_and_an_error_when_sealing_is_required,
    a_log_never_sealed_is_unsealed,
];
