//! verify's verdicts on logs the writer's own [`Sealer`] makes, changed the ways an attacker or a
//! crash would change them.

mod chain;
mod ends;
mod seals;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::verdict::Code;
use super::walk::Outcome;
use crate::seal::{Sealer, Sealing, SigningKey, VerifierKey, b64, sha256};
use crate::verify::files::Set;

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
    crate::verify::walk(&set, seals, std::slice::from_ref(key), false).unwrap()
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
