//! verify's verdicts on logs the writer's own [`Sealer`] makes, changed the ways an attacker or a
//! crash would change them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::files::Set;
use super::verdict::Code;
use super::walk::Outcome;
use crate::seal::{Sealer, Sealing, SigningKey, VerifierKey, b64, sha256};

/// A key pair of `name`.
fn pair(name: &str) -> (Arc<SigningKey>, VerifierKey) {
    let (signer, verifier) = SigningKey::generate(name).unwrap();
    (
        Arc::new(SigningKey::parse(&signer).unwrap()),
        VerifierKey::parse(&verifier).unwrap(),
    )
}

fn record(session: &str, kind: &str, seq: u64) -> Vec<u8> {
    let head = format!(
        "{{\"type\":\"{kind}\",\"timestamp\":\"2026-12-04T21:00:00.000000Z\",\"session\":\"{session}\",\"host\":\"db1\",\"user\":\"ops\",\"pid\":7"
    );
    let tail = match kind {
        "start" => format!(",\"seq\":{seq},\"command\":[\"seq\"]}}\n"),
        "exit" => format!(",\"seq\":{seq},\"code\":0,\"signal\":null}}\n"),
        _ => format!(",\"stream\":\"stdout\",\"seq\":{seq},\"message\":\"line {seq}\"}}\n"),
    };
    format!("{head}{tail}").into_bytes()
}

/// How a made run ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// Exit record and final seal.
    Sealed,
    /// Killed: no exit record, no final seal.
    Killed,
}

/// A run of `outputs` output lines sealed every `every` records, as files: a new file after each
/// of the record numbers in `rotate_after` (the writer's seal before a rotation included).
struct Run<'a> {
    session: &'a str,
    key: Arc<SigningKey>,
    every: u64,
    outputs: u64,
    rotate_after: &'a [u64],
    ending: Ending,
}

impl Run<'_> {
    fn new(key: &Arc<SigningKey>, outputs: u64) -> Run<'static> {
        Run {
            session: "S",
            key: key.clone(),
            every: 100,
            outputs,
            rotate_after: &[],
            ending: Ending::Sealed,
        }
    }

    /// Each file's lines.
    fn files(&self) -> Vec<Vec<Vec<u8>>> {
        let sealing = Sealing {
            key: self.key.clone(),
            every: self.every,
            interval: Duration::from_secs(3600),
        };
        let mut sealer = Sealer::new(&sealing, Path::new("run.jsonl"));
        sealer.start(self.session, "db1", "ops", Some(7));
        let mut files = vec![Vec::new()];
        let mut seq = 0;
        let mut stamp = |sealer: &mut Sealer, kind: &str, files: &mut Vec<Vec<u8>>| {
            seq += 1;
            sealer.stamp(&record(self.session, kind, seq), files.last_mut().unwrap());
            seq
        };
        stamp(&mut sealer, "start", &mut files);
        for _ in 0..self.outputs {
            let seq = stamp(&mut sealer, "output", &mut files);
            if self.rotate_after.contains(&seq) {
                sealer.seal(false, files.last_mut().unwrap());
                sealer.new_file();
                files.push(Vec::new());
            }
        }
        if self.ending == Ending::Sealed {
            stamp(&mut sealer, "exit", &mut files);
            sealer.seal(true, files.last_mut().unwrap());
        }
        files.iter().map(|f| split(f)).collect()
    }

    fn lines(&self) -> Vec<Vec<u8>> {
        self.files().remove(0)
    }
}

fn split(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A directory of its own for a test's files.
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("teelog-verify-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes each file's lines as `NAME` in `dir`; returns the paths.
fn write(dir: &Path, files: &[(&str, &[Vec<u8>])]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, lines)| {
            let path = dir.join(name);
            std::fs::write(&path, lines.concat()).unwrap();
            path
        })
        .collect()
}

fn verify(files: Vec<PathBuf>, seals: &[PathBuf], key: &VerifierKey) -> Outcome {
    let set = Set {
        files,
        missing: None,
    };
    super::walk(&set, seals, std::slice::from_ref(key), false).unwrap()
}

/// The verdict on `lines` as the one file `log` of a test's directory.
fn verdict(test: &str, lines: &[Vec<u8>], key: &VerifierKey) -> (String, Code) {
    let dir = dir(test);
    let paths = write(&dir, &[("log", lines)]);
    let outcome = verify(paths, &[], key);
    std::fs::remove_dir_all(&dir).unwrap();
    let text = outcome.lines.join("\n");
    (
        text.replace(&format!("{}/", dir.display()), ""),
        outcome.code,
    )
}

#[track_caller]
fn says(got: (String, Code), code: Code, start: &str) {
    assert_eq!(got.1, code, "{}", got.0);
    assert!(
        got.0.starts_with(start),
        "{:?} does not start {start:?}",
        got.0
    );
}

/// Sets the `prev` of `line` (the last 44 characters before `"}\n`).
fn set_prev(line: &mut [u8], hash: &[u8; 32]) {
    let end = line.len() - 3;
    line[end - 44..end].copy_from_slice(b64(hash).as_bytes());
}

/// Rebuilds the chain from line `from` on, as an attacker who knows the format can.
fn rechain(lines: &mut [Vec<u8>], from: usize) {
    for i in from.max(1)..lines.len() {
        let hash = sha256(&lines[i - 1]);
        set_prev(&mut lines[i], &hash);
    }
}

fn is_seal(line: &[u8]) -> bool {
    line.starts_with(b"{\"type\":\"seal\"")
}

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
    let seq = |line: &[u8]| super::line::read(line, &mut None).unwrap().seq.unwrap();
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
    // The signature's last base64 character before "\n" (of the JSON string), changed.
    let end = memchr::memmem::rfind(line, b"\\n\",\"prev\"").unwrap();
    line[end - 2] = if line[end - 2] == b'A' { b'B' } else { b'A' };
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
    let outcome = super::walk(&set, &[], keys, false).unwrap();
    assert_eq!(outcome.code, Code::Ok);
    assert!(
        outcome.lines[0].starts_with(&format!("OK with {tail} records after the last seal: S: ")),
        "{:?}",
        outcome.lines
    );
    assert_eq!(outcome.warnings.len(), 1);
    let outcome = super::walk(&set, &[], keys, true).unwrap();
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
    let err = super::walk(&set, &[], std::slice::from_ref(&verifier), false).unwrap_err();
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
    let set = super::files::resolve(std::slice::from_ref(&paths[2]));
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
    let set = super::files::resolve(std::slice::from_ref(&paths[2]));
    let outcome = super::walk(&set, &[], std::slice::from_ref(&verifier), false).unwrap();
    assert_eq!(outcome.code, Code::Truncated, "{:?}", outcome.lines);
    std::fs::remove_dir_all(&dir).unwrap();
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

/// Not a test: writes a sealed log for measuring verify's speed, as the writer would, to
/// `$TEELOG_SEALED_LOG` (`$TEELOG_SEALED_MB` megabytes, default 500) with its key beside it
/// (`.pub`). `TEELOG_SEALED_LOG=/tmp/big.jsonl cargo test --lib -- --ignored big_sealed_log`.
#[test]
#[ignore = "makes a benchmark's input"]
fn big_sealed_log() {
    use std::io::Write as _;
    let path = PathBuf::from(std::env::var_os("TEELOG_SEALED_LOG").expect("TEELOG_SEALED_LOG"));
    let megabytes: u64 = std::env::var("TEELOG_SEALED_MB").map_or(500, |m| m.parse().unwrap());
    let (key, verifier) = pair("bench");
    let sealing = Sealing {
        key,
        every: 1000,
        interval: Duration::from_secs(3600),
    };
    let mut sealer = Sealer::new(&sealing, &path);
    sealer.start("S", "db1", "ops", Some(7));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut out = Vec::new();
    let (mut seq, mut written) = (0, 0);
    while written < megabytes << 20 {
        seq += 1;
        let kind = if seq == 1 { "start" } else { "output" };
        sealer.stamp(&record("S", kind, seq), &mut out);
        written += out.len() as u64;
        file.write_all(&out).unwrap();
        out.clear();
    }
    sealer.stamp(&record("S", "exit", seq + 1), &mut out);
    sealer.seal(true, &mut out);
    file.write_all(&out).unwrap();
    file.flush().unwrap();
    let mut public = path.into_os_string();
    public.push(".pub");
    std::fs::write(public, format!("{}\n", verifier.text())).unwrap();
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
