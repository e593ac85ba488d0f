//! What verify says: a verdict line and its exit code (docs/sealing.md, "What teelog verify
//! says"), and the place in the walk a problem was found at, so that the first one wins.

/// The exit code of each verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    Broken = 1,
    Truncated = 2,
    Gap = 3,
    BadSignature = 4,
    WrongKey = 5,
    Unsealed = 6,
    /// `OK with K records after the last seal` under `--require-sealed`.
    NotSealedToTheEnd = 7,
}

/// A line of a file of the walk: files in the order walked (then the `--seals` files), lines
/// counted from 1. Ordered as the walk meets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub file: usize,
    pub line: u64,
}

/// A problem: where it is (for the order), its verdict line and code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub pos: Pos,
    pub code: Code,
    pub text: String,
}

/// The names of the files, for the verdicts.
#[derive(Debug, Default)]
pub struct Names(pub Vec<String>);

impl Names {
    pub fn file(&self, pos: Pos) -> &str {
        &self.0[pos.file]
    }

    /// `FILE:LINE`.
    pub fn at(&self, pos: Pos) -> String {
        format!("{}:{}", self.file(pos), pos.line)
    }

    pub fn broken(&self, pos: Pos, why: &str) -> Finding {
        let text = format!("BROKEN at {}: {why}", self.at(pos));
        Finding {
            pos,
            code: Code::Broken,
            text,
        }
    }

    /// TRUNCATED, placed at `pos` for the order of the walk.
    pub fn truncated(&self, pos: Pos, why: &str) -> Finding {
        Finding {
            pos,
            code: Code::Truncated,
            text: format!("TRUNCATED: {why}"),
        }
    }

    pub fn gap(&self, pos: Pos, from: u64, to: u64) -> Finding {
        Finding {
            pos,
            code: Code::Gap,
            text: format!("GAP in seq {from}..{to} at {}", self.at(pos)),
        }
    }

    pub fn bad_signature(&self, pos: Pos, key: &str) -> Finding {
        Finding {
            pos,
            code: Code::BadSignature,
            text: format!(
                "BAD SIGNATURE at {}: the signature by {key} does not verify (the seal was changed)",
                self.at(pos)
            ),
        }
    }

    pub fn wrong_key(&self, pos: Pos, signers: &str) -> Finding {
        Finding {
            pos,
            code: Code::WrongKey,
            text: format!(
                "WRONG KEY at {}: signed by {signers}, not a trusted key",
                self.at(pos)
            ),
        }
    }
}

/// `N things`, with the plural when N is not 1.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
