//! The walk: every line of every file in order, each given to its run; the problems found, of
//! which the first in file order wins; at the end, each run's verdict.

use std::collections::HashMap;

use super::collected::Collected;
use super::line::{self, Head};
use super::seal;
use super::session::{Fit, Pending, Session, resolve};
use super::verdict::{Code, Finding, Names, Pos, count};
use crate::seal::{Hash, VerifierKey};

/// A line with its SHA-256 and its leaf hash.
type Line<'l> = (&'l [u8], Hash, Hash);

/// What verify prints and how it exits.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The verdict: one line, or one per run when all are OK.
    pub lines: Vec<String>,
    /// Warnings for stderr.
    pub warnings: Vec<String>,
    pub code: Code,
}

impl Outcome {
    fn problem(finding: Finding) -> Outcome {
        Outcome {
            lines: vec![finding.text],
            warnings: Vec::new(),
            code: finding.code,
        }
    }
}

/// The problems found so far, and how many lines wait for their run's next one.
#[derive(Debug, Default)]
struct Report {
    findings: Vec<Finding>,
    pendings: usize,
}

impl Report {
    fn found(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The first in file order.
    fn first(&mut self) -> Option<Finding> {
        let at = (0..self.findings.len()).min_by_key(|&i| self.findings[i].pos)?;
        Some(self.findings.swap_remove(at))
    }
}

/// The walk over a log's files.
pub struct Walk<'k> {
    keys: &'k [VerifierKey],
    names: Names,
    collected: Collected,
    sessions: HashMap<Vec<u8>, Session>,
    /// The runs in the order they were met.
    order: Vec<Vec<u8>>,
    report: Report,
    file: usize,
    line: u64,
    /// Whether the current file has a teelog record, and its first line that is not one.
    has_record: bool,
    first_bad: Option<u64>,
}

impl<'k> Walk<'k> {
    pub fn new(keys: &'k [VerifierKey], names: Names, collected: Collected) -> Walk<'k> {
        Walk {
            keys,
            names,
            collected,
            sessions: HashMap::new(),
            order: Vec::new(),
            report: Report::default(),
            file: 0,
            line: 0,
            has_record: false,
            first_bad: None,
        }
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The next lines are file `index`'s.
    pub fn open_file(&mut self, index: usize) {
        self.file = index;
        self.line = 0;
        self.has_record = false;
        self.first_bad = None;
    }

    /// Whether the file ended without one teelog record in it.
    pub fn file_had_no_record(&self) -> bool {
        !self.has_record
    }

    /// A problem found outside the lines (a file missing from a rotated set).
    pub fn found(&mut self, finding: Finding) {
        self.report.found(finding);
    }

    /// Whether the verdict is known: a problem found, and no line waits to be placed.
    pub fn done(&self) -> bool {
        !self.report.findings.is_empty() && self.report.pendings == 0
    }

    /// The file's next line, `bytes` with its newline, with its SHA-256 and its leaf hash.
    pub fn line(&mut self, bytes: &[u8], hash: Hash, leaf: Hash) {
        self.line += 1;
        let pos = Pos {
            file: self.file,
            line: self.line,
        };
        if !bytes.ends_with(b"\n") {
            let why = format!(
                "{} is cut short: its last line ({}) has no newline",
                self.names.file(pos),
                pos.line
            );
            self.report.found(self.names.truncated(pos, &why));
            return;
        }
        let mut owned = None;
        let Some(head) = line::read(bytes, &mut owned) else {
            if self.has_record {
                self.report
                    .found(self.names.broken(pos, "not a teelog record"));
            } else {
                self.first_bad.get_or_insert(pos.line);
            }
            return;
        };
        if !self.has_record {
            self.has_record = true;
            if let Some(line) = self.first_bad.take() {
                let at = Pos { line, ..pos };
                self.report
                    .found(self.names.broken(at, "not a teelog record"));
            }
        }
        let session = match self.sessions.get_mut(head.session) {
            Some(session) => session,
            None => {
                let name = String::from_utf8_lossy(head.session).into_owned();
                if let Some((part, _)) = head.part
                    && pos.file > 0
                {
                    let why = format!(
                        "the file before {} is missing (run {name}'s part {} is not there)",
                        self.names.file(pos),
                        part - 1
                    );
                    self.report.found(self.names.truncated(pos, &why));
                }
                let expect = self.collected.take(&name);
                self.order.push(head.session.to_vec());
                self.sessions
                    .entry(head.session.to_vec())
                    .or_insert(Session::new(&name, &head, pos, expect))
            }
        };
        let step = Step {
            names: &self.names,
            keys: self.keys,
            report: &mut self.report,
        };
        step.take(session, pos, (bytes, hash, leaf), &head);
    }

    /// The verdict, once the walk is over (at the end, or at [`Walk::done`]).
    pub fn finish(mut self, require_sealed: bool) -> Outcome {
        for key in &self.order {
            let session = self.sessions.get_mut(key).expect("a run met");
            if let Some(pending) = session.pending.take() {
                self.report.found(resolve(&self.names, pending, None));
            }
        }
        if let Some(first) = self.report.first() {
            return Outcome::problem(first);
        }
        for key in &self.order {
            let session = self.sessions.get_mut(key).expect("a run met");
            let log = session.log.clone().or_else(|| session.expect.only_log());
            if let Some(log) = log {
                for finding in session.expect.of_log(&log) {
                    self.report.found(finding);
                }
            }
        }
        if let Some(first) = self.report.first() {
            return Outcome::problem(first);
        }
        let mut outcome = Outcome {
            lines: Vec::new(),
            warnings: Vec::new(),
            code: Code::Ok,
        };
        for key in &self.order {
            let session = self.sessions.get_mut(key).expect("a run met");
            match end(&self.names, session) {
                End::Problem(finding) => return Outcome::problem(finding),
                End::Sealed(line) => outcome.lines.push(line),
                End::Tail(line, warning) => {
                    outcome.lines.push(line);
                    outcome.warnings.push(warning);
                    if require_sealed {
                        outcome.code = Code::NotSealedToTheEnd;
                    }
                }
            }
        }
        outcome
    }
}

/// A run's verdict at the end of the walk.
enum End {
    Problem(Finding),
    Sealed(String),
    /// Records after the last seal: the verdict and the warning.
    Tail(String, String),
}

fn end(names: &Names, session: &mut Session) -> End {
    let here = Pos {
        file: session.file,
        line: u64::MAX,
    };
    if let Some(problem) = session.expect.problem.take() {
        return End::Problem(problem);
    }
    if !session.sealed || session.seals == 0 {
        return End::Problem(Finding {
            pos: here,
            code: Code::Unsealed,
            text: format!(
                "UNSEALED: {} in {} has no seal",
                session.name, names.0[session.file]
            ),
        });
    }
    let log = session.log.clone().unwrap_or_default();
    let size = session.tree.size();
    if let Some((at, part, sealed)) = session.expect.past_the_end(&log, session.part, size) {
        let why = format!(
            "the collected seals go on past the log's end: {} seals {sealed} lines of run {}'s part {part}, and {} holds {size} of part {}",
            names.at(at),
            session.name,
            names.0[session.file],
            session.part
        );
        return End::Problem(names.truncated(here, &why));
    }
    if session.final_seal.is_none()
        && let Some(exit) = session.exit
    {
        let why = format!(
            "run {}'s final seal is missing after its exit record ({}): the log was cut",
            session.name,
            names.at(exit)
        );
        return End::Problem(names.truncated(here, &why));
    }
    let from = match session.first_part {
        0 => String::new(),
        part => format!(" from part {part}"),
    };
    let what = format!(
        "{}: {} in {}{from}",
        session.name,
        count(session.records, "record", "records"),
        count(session.files, "file", "files"),
    );
    let seals = format!(
        "{}, key {}",
        count(session.seals, "seal", "seals"),
        session.key.as_deref().unwrap_or("?")
    );
    if session.final_seal.is_some() {
        return End::Sealed(format!("OK: {what}, sealed to the end ({seals})"));
    }
    let tail = count(session.since_seal, "record", "records");
    End::Tail(
        format!("OK with {tail} after the last seal: {what} ({seals})"),
        format!(
            "warning: run {} has {tail} after its last seal: it did not end (killed, or crashed), or the log was cut there",
            session.name
        ),
    )
}

/// What a line needs to be taken by its run.
struct Step<'w> {
    names: &'w Names,
    keys: &'w [VerifierKey],
    report: &'w mut Report,
}

impl Step<'_> {
    fn take(self, session: &mut Session, pos: Pos, line: Line, head: &Head) {
        let (bytes, hash, leaf) = line;
        let names = self.names;
        if let Some(seal) = session.final_seal {
            let why = format!(
                "a line of run {} after the run's final seal ({})",
                session.name,
                names.at(seal)
            );
            return self.report.found(names.broken(pos, &why));
        }
        let is_seal = head.kind == b"seal";
        if !session.sealed {
            // A run written without --seal: counted, for its verdict (UNSEALED).
            session.records += u64::from(!is_seal);
            return;
        }
        if pos.file != session.file {
            if let Some(finding) = session.open_file(names, pos, head) {
                return self.report.found(finding);
            }
        } else if head.part.is_some() && session.last_line.is_some() {
            let why = "it carries a part, and is not the run's first line in its file";
            return self.report.found(names.broken(pos, why));
        }
        if let Some(pending) = session.pending.take() {
            self.report.pendings -= 1;
            let chain = head.prev == Some(session.prev);
            return self.report.found(resolve(names, pending, Some(chain)));
        }
        let mut pending = match session.fit(names, pos, head, is_seal) {
            Fit::Found(finding) => return self.report.found(finding),
            Fit::Pending(pending) => Some(pending),
            Fit::Next => None,
        };
        if is_seal {
            match seal::check(names, pos, (bytes, hash), session, self.keys) {
                Ok(()) => {
                    if let Some(Pending::Chain { good_seal, .. }) = &mut pending {
                        *good_seal = true;
                    }
                }
                // A line already off decides for itself when the next line comes (a seal that
                // does not hold after a line deleted before it: "a line is missing").
                Err(_) if pending.is_some() => {}
                Err(finding) => self.report.found(finding),
            }
        } else {
            session.records += 1;
            session.since_seal += 1;
            if head.kind == b"exit" {
                session.exit = Some(pos);
            }
        }
        if let Some(pending) = pending {
            session.pending = Some(pending);
            self.report.pendings += 1;
        }
        session.take(pos, head, hash, leaf);
        let from = session.agreed.map_or(session.first_line, |l| l + 1);
        session
            .expect
            .reached(session.part, &session.tree, pos, from, names);
        if session.expect.disagrees()
            && let Some(log) = &session.log
        {
            for finding in session.expect.of_log(log) {
                self.report.found(finding);
            }
        }
    }
}
