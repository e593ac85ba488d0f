//! One run's state in the walk: its chain, its seq, its tree in the current file, its seals;
//! and how a break in its chain is placed on the line that caused it (docs/sealing.md and the
//! brief of issue 23: a changed line, a deleted one, two swapped, a forged one inserted).

use super::collected::Expect;
use super::line::Head;
use super::verdict::{Finding, Names, Pos};
use crate::seal::{Hash, Tree, chain_start};

/// What the walk knows of one run.
#[derive(Debug)]
pub struct Session {
    pub name: String,
    /// Its lines carry `prev`; false for a run written without `--seal`.
    pub sealed: bool,
    /// SHA-256 of its last line, and where that line is.
    pub prev: Hash,
    pub last_line: Option<Pos>,
    pub last_seq: u64,
    /// Its lines in the current file, and which file that is.
    pub tree: Tree,
    pub file: usize,
    /// Where its lines in the current file start; the last line a seal agreed with there.
    pub first_line: u64,
    pub agreed: Option<u64>,
    pub files: u64,
    pub part: u64,
    /// The part of its first line in the walk (> 0: older files were rotated away).
    pub first_part: u64,
    pub records: u64,
    pub seals: u64,
    /// Records since its last seal.
    pub since_seal: u64,
    pub last_seal: Hash,
    pub last_seal_time: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// The `log` id of its seals, once one is seen.
    pub log: Option<String>,
    /// NAME+HASH of the key that signed its seals.
    pub key: Option<String>,
    pub final_seal: Option<Pos>,
    pub exit: Option<Pos>,
    pub pending: Option<Pending>,
    /// The seals `--seals` collected of this run.
    pub expect: Expect,
}

/// A line whose chain or seq is off, waiting for the run's next line to say which line is at
/// fault.
#[derive(Debug, Clone, Copy)]
pub enum Pending {
    /// Its `prev` is not the hash of the run's line before it (`before`).
    Chain {
        at: Pos,
        before: Option<Pos>,
        /// Its seq is ahead of the one due: lines are missing before it.
        missing: bool,
        /// It is a seal whose every check passed: itself genuine.
        good_seal: bool,
    },
    /// Its chain holds, its seq does not follow.
    Seq { at: Pos, after: u64, seq: u64 },
}

/// How a line of a run fits its chain.
pub enum Fit {
    /// In order: take it.
    Next,
    /// Off, to be decided by the next line: take it.
    Pending(Pending),
    /// A problem now.
    Found(Finding),
}

impl Session {
    /// A run first met at `pos` with the line `head`: a fresh one, or (in the oldest file
    /// walked) one whose older parts were rotated away.
    pub fn new(name: &str, head: &Head, pos: Pos, expect: Expect) -> Session {
        let start = chain_start(name);
        let (part, last_seal) = match head.part {
            Some((part, last_seal)) if pos.file == 0 => (part, last_seal.unwrap_or(start)),
            _ => (0, start),
        };
        Session {
            name: name.to_owned(),
            sealed: head.prev.is_some(),
            prev: start,
            last_line: None,
            last_seq: 0,
            tree: Tree::new(),
            file: pos.file,
            first_line: pos.line,
            agreed: None,
            files: 1,
            part,
            first_part: part,
            records: 0,
            seals: 0,
            since_seal: 0,
            last_seal,
            last_seal_time: None,
            log: None,
            key: None,
            final_seal: None,
            exit: None,
            pending: None,
            expect,
        }
    }

    /// The run's next line opens file `pos.file`: it must be the next part, right after the
    /// file before, and name the run's last seal.
    pub fn open_file(&mut self, names: &Names, pos: Pos, head: &Head) -> Option<Finding> {
        let here = names.file(pos);
        let missing = || {
            names.truncated(
                pos,
                &format!(
                    "the file before {here} is missing (run {}'s part {} is not there)",
                    self.name,
                    self.part + 1
                ),
            )
        };
        if pos.file != self.file + 1 {
            return Some(missing());
        }
        let Some((part, last_seal)) = head.part else {
            return Some(names.broken(
                pos,
                &format!(
                    "run {}'s first line in {here} has no part (a line of it is missing or changed)",
                    self.name
                ),
            ));
        };
        if part > self.part + 1 {
            return Some(missing());
        }
        if part != self.part + 1 {
            return Some(names.broken(
                pos,
                &format!("its part {part} does not follow part {}", self.part),
            ));
        }
        if last_seal != Some(self.last_seal) {
            return Some(names.broken(
                pos,
                &format!(
                    "its last_seal is not run {}'s last seal in {}",
                    self.name, names.0[self.file]
                ),
            ));
        }
        self.tree = Tree::new();
        self.file = pos.file;
        self.first_line = pos.line;
        self.agreed = None;
        self.files += 1;
        self.part = part;
        None
    }

    /// How the line `head` at `pos` fits the chain (a seal's `seq` is the record's before it).
    pub fn fit(&self, names: &Names, pos: Pos, head: &Head, seal: bool) -> Fit {
        let Some(prev) = head.prev else {
            return Fit::Found(names.broken(pos, "it has no prev: a line of a sealed run changed"));
        };
        let Some(seq) = head.seq else {
            return Fit::Found(names.broken(pos, "it has no seq"));
        };
        let rotated_away = self.last_line.is_none() && self.first_part > 0;
        if rotated_away {
            // Its line before is in a file no longer there: nothing to check it against.
            return Fit::Next;
        }
        let expected = if seal {
            self.last_seq
        } else {
            self.last_seq + 1
        };
        let chain = prev == self.prev;
        match (chain, seq == expected) {
            (true, true) => Fit::Next,
            (false, _) if self.last_line.is_none() => Fit::Found(names.broken(
                pos,
                &format!(
                    "it does not start run {}'s chain (a line is missing before it, or it changed)",
                    self.name
                ),
            )),
            (false, _) => Fit::Pending(Pending::Chain {
                at: pos,
                before: self.last_line,
                missing: seq > expected,
                good_seal: false,
            }),
            (true, false) => Fit::Pending(Pending::Seq {
                at: pos,
                after: self.last_seq,
                seq,
            }),
        }
    }

    /// Takes the line (its SHA-256 `hash`, its `leaf` hash) into the run: the chain, the seq,
    /// the tree.
    pub fn take(&mut self, pos: Pos, head: &Head, hash: Hash, leaf: Hash) {
        self.prev = hash;
        self.last_line = Some(pos);
        if let Some(seq) = head.seq {
            self.last_seq = seq;
        }
        self.tree.push_hash(leaf);
    }
}

/// What `pending` means, now that the run's next line has `prev` (`chain`: the hash of the
/// pending line), or (None) the walk ended without one.
pub fn resolve(names: &Names, pending: Pending, chain: Option<bool>) -> Finding {
    let changed = "this line changed: the next line's prev is not its hash";
    match pending {
        Pending::Seq { at, after, seq } => match chain {
            Some(false) => names.broken(at, changed),
            _ if seq > after + 1 => names.gap(at, after + 1, seq - 1),
            _ => names.broken(at, &format!("its seq {seq} does not follow {after}")),
        },
        Pending::Chain {
            at,
            before,
            missing,
            good_seal,
        } => {
            // The next line agrees with this one, so this one is as written; the break is
            // before it: a line missing (its seq is ahead) or the line before changed (or was
            // put there, with a prev that fits the chain before it).
            let agrees = chain.unwrap_or(good_seal);
            match (agrees, missing, before) {
                (true, true, _) => names.broken(at, "a line is missing before it"),
                (true, false, Some(before)) => names.broken(
                    before,
                    "this line changed or was put here: the next line's prev is not its hash",
                ),
                _ => names.broken(at, "this line changed or was put here: its prev is not the hash of the line before it"),
            }
        }
    }
}
