//! The seals: keys, signatures, their agreement with the lines and with each other, and the
//! seals collected elsewhere (`--seals`).

use super::*;

#[test]
fn a_log_rewritten_and_sealed_with_another_key_is_the_wrong_key() {
    let (_, verifier) = pair("db1");
    let (other, _) = pair("db1");
    let lines = Run::new(&other, 450).lines();
    let first_seal = lines.iter().position(|l| is_seal(l)).unwrap() + 1;
    let (text, code) = verdict("wrong-key", &lines, &verifier);
    assert_eq!(code, Code::WrongKey, "{text}");
    assert!(text.starts_with("WRONG KEY at "), "{text}");
    assert!(
        text.contains(&format!(
            "log:{first_seal}: signed by db1+{:08x}",
            other.hash
        )),
        "{text}"
    );
}

#[test]
fn a_seal_whose_signature_was_changed_is_a_bad_signature() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    let at = lines.iter().position(|l| is_seal(l)).unwrap();
    let line = &mut lines[at];
    // A base64 character of the signature, ten before its end ("\n" of the JSON string):
    // every bit of it is the signature's (the last one before the "=" pad has two bits that must
    // be zero, and changing those makes the line unreadable, not the signature bad).
    let end = memchr::memmem::rfind(line, b"\\n\",\"prev\"").unwrap();
    line[end - 10] = if line[end - 10] == b'A' { b'B' } else { b'A' };
    rechain(&mut lines, at + 1);
    says(
        verdict("bad-signature", &lines, &verifier),
        Code::BadSignature,
        &format!("BAD SIGNATURE at log:{}: the signature by db1+", at + 1),
    );
}

#[test]
fn a_seal_whose_record_and_note_disagree_is_broken_at_it() {
    let (key, verifier) = pair("db1");
    let mut lines = Run::new(&key, 450).lines();
    let at = lines.iter().position(|l| is_seal(l)).unwrap();
    let text = String::from_utf8(lines[at].clone()).unwrap();
    let size = text
        .split("\"tree_size\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    lines[at] = text
        .replace(&format!("\"tree_size\":{size}"), "\"tree_size\":1")
        .into_bytes();
    rechain(&mut lines, at + 1);
    says(
        verdict("disagree", &lines, &verifier),
        Code::Broken,
        &format!("BROKEN at log:{}: its tree_size is not its note's", at + 1),
    );
}

/// The seal `line` signed again by `key` after `change` to its checkpoint (its JSON's
/// timestamp following the note's time).
fn resign(
    line: &[u8],
    key: &SigningKey,
    change: impl FnOnce(&mut crate::seal::Checkpoint),
) -> Vec<u8> {
    let value: serde_json::Value = serde_json::from_slice(line).unwrap();
    let note = value["note"].as_str().unwrap();
    let (text, _) = crate::seal::note::open(note).unwrap();
    let mut checkpoint = crate::seal::Checkpoint::parse(text).unwrap();
    let time = checkpoint.time.clone();
    change(&mut checkpoint);
    let json = |s: &str| serde_json::to_string(s).unwrap();
    String::from_utf8(line.to_vec())
        .unwrap()
        .replace(&json(note), &json(&checkpoint.sign(key)))
        .replace(
            &format!("\"timestamp\":\"{time}\""),
            &format!("\"timestamp\":\"{}\"", checkpoint.time),
        )
        .into_bytes()
}

#[test]
fn seals_must_go_forward_in_time_and_chain_to_each_other() {
    let (key, verifier) = pair("db1");
    let lines = Run::new(&key, 450).lines();
    let seals: Vec<usize> = (0..lines.len()).filter(|&i| is_seal(&lines[i])).collect();
    // The second seal dated before the first, signed again by the key itself.
    let mut back = lines.clone();
    back[seals[1]] = resign(&back[seals[1]], &key, |cp| {
        cp.time = "2000-01-01T00:00:00.000000Z".into();
    });
    rechain(&mut back, seals[1] + 1);
    says(
        verdict("time-back", &back, &verifier),
        Code::Broken,
        &format!(
            "BROKEN at log:{}: its time 2000-01-01T00:00:00.000000Z is before the previous seal's",
            seals[1] + 1
        ),
    );
    // The first seal gone, the chain rebuilt: the second no longer covers the lines before it.
    let mut gone = lines.clone();
    gone.remove(seals[0]);
    rechain(&mut gone, seals[0]);
    says(
        verdict("seal-gone", &gone, &verifier),
        Code::Broken,
        &format!("BROKEN at log:{}: it seals ", seals[1]),
    );
    // Its last pointing elsewhere, signed again: the seals no longer chain.
    let mut last = lines.clone();
    last[seals[1]] = resign(&last[seals[1]], &key, |cp| cp.last = sha256(b"elsewhere"));
    rechain(&mut last, seals[1] + 1);
    says(
        verdict("seal-last", &last, &verifier),
        Code::Broken,
        &format!(
            "BROKEN at log:{}: its last is not the hash of run S's previous seal",
            seals[1] + 1
        ),
    );
}

#[test]
fn collected_seals_find_a_replaced_tail_and_a_cut_one() {
    let (key, verifier) = pair("db1");
    let lines = Run::new(&key, 450).lines();
    let dir = dir("collected");
    // The collector's copy: a syslog line each, the JSON after the first '{'.
    let copy: Vec<Vec<u8>> = lines
        .iter()
        .filter(|l| is_seal(l))
        .map(|l| [&b"Dec  4 21:00:00 db1 teelog[7]: "[..], l].concat())
        .collect();
    let seals = write(&dir, &[("collected", &copy)]);
    let log = write(&dir, &[("log", &lines)]);
    let ok = verify(log.clone(), &seals, &verifier);
    assert_eq!(ok.code, Code::Ok, "{:?}", ok.lines);
    // The tail after the second seal replaced by other records, chained and unsealed.
    let second = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_seal(l))
        .nth(1)
        .unwrap()
        .0;
    let mut replaced = lines[..=second].to_vec();
    for line in lines[second + 1..lines.len() - 2]
        .iter()
        .filter(|l| !is_seal(l))
    {
        let text = String::from_utf8(line.clone())
            .unwrap()
            .replace("line ", "LINE ");
        replaced.push(text.into_bytes());
    }
    rechain(&mut replaced, second + 1);
    let log = write(&dir, &[("log", &replaced)]);
    let outcome = verify(log.clone(), &seals, &verifier);
    assert_eq!(outcome.code, Code::Broken, "{:?}", outcome.lines);
    let first = second + 2;
    assert!(
        outcome.lines[0].starts_with(&format!(
            "BROKEN at {}:{first}: lines {first}..",
            log[0].display()
        )),
        "{:?}",
        outcome.lines
    );
    assert!(
        outcome.lines[0].contains("differ from the seal collected in"),
        "{:?}",
        outcome.lines
    );
    // Without the copy, the same log passes as a crash tail: what --seals is for.
    assert_eq!(verify(log, &[], &verifier).code, Code::Ok);
    let log = write(&dir, &[("log", &lines[..=second])]);
    let cut = verify(log, &seals, &verifier);
    assert_eq!(cut.code, Code::Truncated, "{:?}", cut.lines);
    assert!(cut.lines[0].starts_with("TRUNCATED: the collected seals go on past the log's end"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_collected_seal_by_another_key_is_the_wrong_key_there() {
    let (key, verifier) = pair("db1");
    let (other, _) = pair("db1");
    let lines = Run::new(&key, 150).lines();
    let forged = Run {
        key: other,
        ..Run::new(&key, 150)
    }
    .lines();
    let dir = dir("collected-other-key");
    let copy: Vec<Vec<u8>> = forged.into_iter().filter(|l| is_seal(l)).collect();
    let seals = write(&dir, &[("collected", &copy)]);
    let log = write(&dir, &[("log", &lines)]);
    let outcome = verify(log, &seals, &verifier);
    assert_eq!(outcome.code, Code::WrongKey, "{:?}", outcome.lines);
    assert!(
        outcome.lines[0].starts_with(&format!("WRONG KEY at {}:1: ", seals[0].display())),
        "{:?}",
        outcome.lines
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
