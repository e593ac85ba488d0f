//! The chain: an untouched log, and each way of changing its lines placed on the line changed.

use super::*;

#[test]
fn an_untouched_log_is_ok_with_its_records_seals_and_key() {
    let (key, verifier) = pair("db1");
    let lines = Run::new(&key, 450).lines();
    let seals = lines.iter().filter(|l| is_seal(l)).count();
    let records = lines.len() - seals;
    let (text, code) = verdict("untouched", &lines, &verifier);
    assert_eq!(code, Code::Ok, "{text}");
    assert_eq!(
        text,
        format!(
            "OK: S: {records} records in 1 file, sealed to the end ({seals} seals, key db1+{:08x})",
            verifier.hash
        )
    );
}

#[test]
fn a_changed_line_is_broken_at_that_line_wherever_the_byte_is() {
    let (key, verifier) = pair("db1");
    let lines = Run::new(&key, 450).lines();
    // In the message, in the seq, in the prev, in the type.
    for (what, find, by) in [
        ("message", &b"line 250"[..], &b"line 25O"[..]),
        ("seq", b"\"seq\":250", b"\"seq\":259"),
        ("type", b"output", b"outpUt"),
    ] {
        let mut changed = lines.clone();
        let at = changed
            .iter()
            .position(|l| memchr::memmem::find(l, find).is_some())
            .unwrap();
        let line = &mut changed[at];
        let i = memchr::memmem::find(line, find).unwrap();
        line.splice(i..i + find.len(), by.iter().copied());
        let (text, code) = verdict(what, &changed, &verifier);
        assert_eq!(code, Code::Broken, "{what}: {text}");
        assert!(text.starts_with(&format!("BROKEN at {}", "")), "{text}");
        assert!(
            text.contains(&format!("log:{}: ", at + 1)),
            "{what}: {text}"
        );
    }
    let mut changed = lines.clone();
    let mut other = sha256(b"x");
    other[0] ^= 1;
    set_prev(&mut changed[300], &other);
    let (text, code) = verdict("prev", &changed, &verifier);
    assert_eq!(code, Code::Broken);
    assert!(text.contains(":301: "), "{text}");
}

#[test]
fn a_deleted_line_is_broken_at_the_line_after_it() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    lines.remove(200);
    let (text, code) = verdict("deleted", &lines, &verifier);
    assert_eq!(code, Code::Broken);
    assert!(
        text.ends_with(":201: a line is missing before it"),
        "{text}"
    );
    // The run's first line deleted: its next does not start the chain.
    let mut lines = Run::new(&key, 10).lines();
    lines.remove(0);
    let (text, code) = verdict("deleted-start", &lines, &verifier);
    assert_eq!(code, Code::Broken);
    assert!(
        text.contains("log:1: it does not start run S's chain"),
        "{text}"
    );
}

#[test]
fn two_swapped_lines_are_broken_at_the_first() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    lines.swap(200, 201);
    let (text, code) = verdict("swapped", &lines, &verifier);
    assert_eq!(code, Code::Broken);
    assert!(text.contains("log:201: "), "{text}");
}

#[test]
fn a_forged_line_is_broken_at_it_whatever_its_prev() {
    let (key, verifier) = pair("db1");
    let lines = Run::new(&key, 450).lines();
    // Its prev right (the hash of the line before), its seq the next one's, or its prev wrong.
    for (test, fits) in [("forged-fits", true), ("forged", false)] {
        let mut forged = lines.clone();
        let mut line = forged[200].clone();
        let i = memchr::memmem::find(&line, b"line ").unwrap();
        line.splice(i..i + 5, b"LINE ".iter().copied());
        if fits {
            let hash = sha256(&forged[199]);
            set_prev(&mut line, &hash);
        }
        forged.insert(200, line);
        let (text, code) = verdict(test, &forged, &verifier);
        assert_eq!(code, Code::Broken, "{test}");
        assert!(text.contains("log:201: "), "{test}: {text}");
    }
}

#[test]
fn lines_deleted_with_the_chain_rebuilt_are_a_gap() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    let seq = |line: &[u8]| {
        crate::verify::line::read(line, &mut None)
            .unwrap()
            .seq
            .unwrap()
    };
    let (first, last) = (seq(&lines[200]), seq(&lines[202]));
    lines.drain(200..203);
    rechain(&mut lines, 200);
    says(
        verdict("gap", &lines, &verifier),
        Code::Gap,
        &format!("GAP in seq {first}..{last} at "),
    );
}

#[test]
fn two_runs_in_one_file_each_get_their_verdict() {
    let (key, verifier) = pair("db1");
    let a = Run::new(&key, 150).lines();
    let b = Run {
        session: "T",
        ..Run::new(&key, 120)
    }
    .lines();
    // Interleaved, a line of each in turn.
    let mut lines = Vec::new();
    for i in 0..a.len().max(b.len()) {
        lines.extend(a.get(i).cloned());
        lines.extend(b.get(i).cloned());
    }
    let dir = dir("two-runs");
    let paths = write(&dir, &[("log", &lines)]);
    let outcome = verify(paths, &[], &verifier);
    assert_eq!(outcome.code, Code::Ok, "{:?}", outcome.lines);
    assert_eq!(outcome.lines.len(), 2);
    assert!(outcome.lines[0].starts_with("OK: S: ") && outcome.lines[1].starts_with("OK: T: "));
    // One of T's lines changed: found there, among S's.
    let at = lines
        .iter()
        .position(|l| {
            let has = |s: &[u8]| memchr::memmem::find(l, s).is_some();
            has(b"\"session\":\"T\"") && has(b"\"line 60\"")
        })
        .unwrap();
    let i = memchr::memmem::find(&lines[at], b"line 60").unwrap();
    lines[at][i] = b'L';
    let (text, code) = verdict("two-runs-changed", &lines, &verifier);
    assert_eq!(code, Code::Broken);
    assert!(text.contains(&format!("log:{}: ", at + 1)), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
