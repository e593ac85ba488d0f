//! A seal line checked: its note opened and its signature checked against the trusted keys,
//! its JSON against its note, its tree against the run's lines in the file, its `last` and time
//! against the run's seal before it (docs/sealing.md, "The seal record").

use serde::Deserialize;

use super::session::Session;
use super::verdict::{Finding, Names, Pos};
use crate::seal::note::{self, Signed};
use crate::seal::{Checkpoint, Hash, VerifierKey, hash_from_b64};

/// The fields of a seal record verify reads (serde: a seal is one line in a thousand).
#[derive(Debug, Deserialize)]
pub struct SealRecord {
    pub timestamp: String,
    pub session: String,
    #[serde(default)]
    pub host: String,
    pub seq: u64,
    pub tree_size: u64,
    pub root: String,
    #[serde(rename = "final")]
    pub last_of_run: bool,
    pub note: String,
}

/// A seal's checkpoint, if a trusted key signed it: the key's NAME+HASH; else the finding.
pub fn signed(
    names: &Names,
    pos: Pos,
    record: &SealRecord,
    keys: &[VerifierKey],
) -> Result<(Checkpoint, String), Finding> {
    let unreadable = |why: String| names.broken(pos, &format!("a seal that does not read: {why}"));
    let (text, signatures) = note::open(&record.note).map_err(unreadable)?;
    let checkpoint = Checkpoint::parse(text).map_err(unreadable)?;
    match note::check(text, &signatures, keys) {
        Signed::By(key) => Ok((checkpoint, name_and_hash(&key))),
        Signed::Bad(key) => Err(names.bad_signature(pos, &key)),
        Signed::Untrusted(signers) => Err(names.wrong_key(pos, &signers)),
    }
}

/// `NAME+HASH` of a verifier line `NAME+HASH+KEY`.
fn name_and_hash(key: &str) -> String {
    key.splitn(3, '+').take(2).collect::<Vec<_>>().join("+")
}

/// The field of a seal's JSON that does not say what its note says.
fn disagreement(record: &SealRecord, cp: &Checkpoint) -> Option<&'static str> {
    [
        ("tree_size", record.tree_size == cp.size),
        ("root", hash_from_b64(&record.root) == Some(cp.root)),
        ("seq", record.seq == cp.seq),
        ("final", record.last_of_run == cp.last_of_run),
        ("timestamp", record.timestamp == cp.time),
    ]
    .into_iter()
    .find_map(|(what, agrees)| (!agrees).then_some(what))
}

/// Checks the seal `line` (SHA-256 `hash`) at `pos` of the run `session`, whose tree does not hold it yet;
/// records it in the run when it holds.
pub fn check(
    names: &Names,
    pos: Pos,
    (line, hash): (&[u8], Hash),
    session: &mut Session,
    keys: &[VerifierKey],
) -> Result<(), Finding> {
    let broken = |why: &str| names.broken(pos, why);
    let record: SealRecord = serde_json::from_slice(line)
        .map_err(|e| broken(&format!("a seal that does not read: {e}")))?;
    let (cp, key) = signed(names, pos, &record, keys)?;
    if let Some(what) = disagreement(&record, &cp) {
        return Err(broken(&format!("its {what} is not its note's")));
    }
    if cp.origin != note::origin(&record.host, &session.name) {
        return Err(broken(&format!(
            "its origin {} does not name run {}",
            cp.origin, session.name
        )));
    }
    if cp.part != session.part {
        return Err(broken(&format!(
            "it seals part {} of the run, and this is part {}",
            cp.part, session.part
        )));
    }
    let file = names.file(pos);
    if cp.size != session.tree.size() {
        return Err(broken(&format!(
            "it seals {} of the run's lines in {file}, and {} are before it",
            cp.size,
            session.tree.size()
        )));
    }
    if cp.root != session.tree.root() {
        let from = session.agreed.map_or(session.first_line, |l| l + 1);
        return Err(broken(&format!(
            "its root is not that of the run's lines before it: lines {from}..{} of {file} changed",
            pos.line - 1
        )));
    }
    if cp.last != session.last_seal {
        return Err(broken(&format!(
            "its last is not the hash of run {}'s previous seal (a seal is missing or changed)",
            session.name
        )));
    }
    let time = chrono::DateTime::parse_from_rfc3339(&cp.time)
        .map_err(|_| broken(&format!("its time {:?} is not a time", cp.time)))?;
    if let Some(before) = session.last_seal_time
        && time < before
    {
        return Err(broken(&format!(
            "its time {} is before the previous seal's",
            cp.time
        )));
    }
    if let Some(log) = &session.log
        && *log != cp.log
    {
        return Err(broken(&format!(
            "its log id {} is not that of the run's seals before it ({log})",
            cp.log
        )));
    }
    session.log = Some(cp.log);
    session.key.get_or_insert(key);
    session.last_seal = hash;
    session.last_seal_time = Some(time);
    session.seals += 1;
    session.since_seal = 0;
    session.agreed = Some(pos.line);
    if cp.last_of_run {
        session.final_seal = Some(pos);
    }
    Ok(())
}
