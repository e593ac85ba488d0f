//! `verify --seals FILE`: seal lines collected elsewhere (a collector's log, the journal's
//! export), each the JSON after the first `{` of a line. Every collected seal of a run in the
//! log must agree with the log's lines, and the log must not end before them.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::PathBuf;

use super::seal::{SealRecord, signed};
use super::verdict::{Finding, Names, Pos};
use crate::error::{Error, quote};
use crate::seal::{Hash, Tree, VerifierKey};

/// A collected seal, by a trusted key.
#[derive(Debug, Clone)]
pub struct Seal {
    log: String,
    part: u64,
    size: u64,
    root: Hash,
    at: Pos,
}

/// The seals of every run the `--seals` files hold.
#[derive(Debug, Default)]
pub struct Collected {
    by_session: HashMap<String, Vec<Seal>>,
    /// The first collected seal of each run that is not by a trusted key.
    problems: HashMap<String, Finding>,
}

impl Collected {
    /// Reads `files`, named in `names` from `first` on.
    pub fn load(
        files: &[PathBuf],
        first: usize,
        names: &Names,
        keys: &[VerifierKey],
    ) -> Result<Collected, Error> {
        let mut collected = Collected::default();
        for (i, path) in files.iter().enumerate() {
            let named = |e: std::io::Error| {
                Error::Usage(format!("cannot read seals file {}: {e}", quote(path)))
            };
            let file = std::fs::File::open(path).map_err(named)?;
            let mut reader = std::io::BufReader::new(file);
            let mut buf = Vec::new();
            let mut line = 0;
            while {
                buf.clear();
                reader.read_until(b'\n', &mut buf).map_err(named)? > 0
            } {
                line += 1;
                let pos = Pos {
                    file: first + i,
                    line,
                };
                collected.line(&buf, pos, names, keys);
            }
        }
        for seals in collected.by_session.values_mut() {
            seals.sort_by_key(|s| (s.part, s.size));
        }
        Ok(collected)
    }

    fn line(&mut self, bytes: &[u8], pos: Pos, names: &Names, keys: &[VerifierKey]) {
        let Some(at) = memchr::memchr(b'{', bytes) else {
            return;
        };
        let Some(Ok(value)) = serde_json::Deserializer::from_slice(&bytes[at..])
            .into_iter::<serde_json::Value>()
            .next()
        else {
            return;
        };
        if value.get("type").and_then(|t| t.as_str()) != Some("seal") {
            return;
        }
        let Ok(record) = serde_json::from_value::<SealRecord>(value) else {
            return;
        };
        match signed(names, pos, &record, keys) {
            Ok((cp, _)) => self
                .by_session
                .entry(record.session)
                .or_default()
                .push(Seal {
                    log: cp.log,
                    part: cp.part,
                    size: cp.size,
                    root: cp.root,
                    at: pos,
                }),
            Err(problem) => {
                self.problems.entry(record.session).or_insert(problem);
            }
        }
    }

    /// What the run `session` is to agree with.
    pub fn take(&mut self, session: &str) -> Expect {
        Expect {
            seals: self.by_session.remove(session).unwrap_or_default(),
            next: 0,
            disagree: Vec::new(),
            problem: self.problems.remove(session),
        }
    }
}

/// The collected seals of one run, in the order of its tree (part, size).
#[derive(Debug, Default)]
pub struct Expect {
    seals: Vec<Seal>,
    next: usize,
    /// The collected seals the log disagrees with, by their log id: the run may write several
    /// sealed logs, and only the seals of this one count (known from its own seals).
    disagree: Vec<(String, Finding)>,
    /// A collected seal that a trusted key did not sign.
    pub problem: Option<Finding>,
}

impl Expect {
    /// The run's tree in part `part` reached its size with the line at `pos`; `from` is the
    /// first line since the tree last agreed with a seal.
    pub fn reached(&mut self, part: u64, tree: &Tree, pos: Pos, from: u64, names: &Names) {
        let here = (part, tree.size());
        while self
            .seals
            .get(self.next)
            .is_some_and(|s| (s.part, s.size) < here)
        {
            self.next += 1;
        }
        let mut root = None;
        while let Some(seal) = self
            .seals
            .get(self.next)
            .filter(|s| (s.part, s.size) == here)
        {
            let root = *root.get_or_insert_with(|| tree.root());
            if root != seal.root {
                let why = format!(
                    "lines {from}..{} differ from the seal collected in {}",
                    pos.line,
                    names.at(seal.at)
                );
                let at = Pos { line: from, ..pos };
                self.disagree
                    .push((seal.log.clone(), names.broken(at, &why)));
            }
            self.next += 1;
        }
    }

    /// Whether some collected seal disagrees, whichever log it is of.
    pub fn disagrees(&self) -> bool {
        !self.disagree.is_empty()
    }

    /// The disagreements of the log `log` (the rest are another log's), taken.
    pub fn of_log(&mut self, log: &str) -> Vec<Finding> {
        std::mem::take(&mut self.disagree)
            .into_iter()
            .filter(|(l, _)| l == log)
            .map(|(_, f)| f)
            .collect()
    }

    /// The log id the collected seals are of when the run's own seals did not say: the one id
    /// they all have.
    pub fn only_log(&self) -> Option<String> {
        let first = &self.seals.first()?.log;
        self.seals
            .iter()
            .all(|s| s.log == *first)
            .then(|| first.clone())
    }

    /// A collected seal of `log` past the end of the run's lines in the log (the tree is at its
    /// end): where it was collected, and what it seals.
    pub fn past_the_end(&self, log: &str, part: u64, size: u64) -> Option<(Pos, u64, u64)> {
        self.seals[self.next.min(self.seals.len())..]
            .iter()
            .find(|s| s.log == log && (s.part, s.size) > (part, size))
            .map(|s| (s.at, s.part, s.size))
    }
}
