//! SQL's password clauses, masked in a stream of statements: the keywords a password follows
//! and what may stand between them and it (the clause rules); how each kind of literal opens
//! and where it closes is in [`literal`].
//!
//! The SQL part masks a statement, not a line: its state (a keyword waiting for its literal, a
//! literal that goes on) is kept from one chunk to the next, per stream, so a password on the
//! line after `IDENTIFIED BY`, a literal over several lines, or one cut by a read or a length
//! bound is still masked. It holds back only what could still begin a clause (a word that may
//! be a keyword, the blanks after one); a literal's contents are dropped as they come.

use super::*;

mod error_line;
mod literal;

use literal::{Close, Opening, Step, opening};

/// Words after which a literal is a password: `IDENTIFIED BY 'x'` (and `BY PASSWORD`, `WITH
/// plugin BY`), `PASSWORD 'x'`, `PASSWORD = 'x'`, `PASSWORD('x')`, `OLD_PASSWORD('x')`,
/// `MASTER_PASSWORD = 'x'`, `ENCRYPTED PASSWORD 'x'`, `SET PASSWORD FOR u = 'x'`, and MySQL's
/// `REPLACE 'old'` (only when a literal follows at once: `REPLACE(...)` is a function).
const KEYWORDS: &[&str] = &[
    "by",
    "password",
    "old_password",
    "master_password",
    "replace",
];

/// Words read as they come for what follows: `identified` (its `BY` literal is a password, worth
/// learning) and, after `PASSWORD`, `for`.
const CONTEXT_WORDS: &[&str] = &["identified", "for"];

/// Where a literal is given up on: a password is never this long, and a quote never closed
/// must not swallow the rest of the output. The literal then ends at the next newline.
const MAX_LITERAL: usize = crate::format::MAX_LINE;

/// Blanks after a keyword held at most (then it is not followed by a literal).
const MAX_BLANKS: usize = 4096;

/// What the statement masker is in the middle of.
#[derive(Debug, Default)]
enum State {
    /// Text; `held` is the word being read while it could be a keyword.
    #[default]
    Text,
    /// Inside a word that is no keyword: copied to its end.
    Word,
    /// After a keyword: `held` has the blanks (and the one `=` or `(` allowed) seen since.
    Clause { keyword: Keyword, sign: bool },
    /// After a keyword and its blanks, `opener` is the start of a literal's opening
    /// (`E`, `U&`, `$tag`, `_utf8mb4`), not complete yet.
    Opener { keyword: Keyword, opener: Vec<u8> },
    /// Inside a password literal: dropped up to its end.
    Literal {
        close: Close,
        len: usize,
        learn: bool,
    },
    /// In a client's error line, after a password literal's `''`: `held` is what followed,
    /// while it may be the client's ` at line N` (see [`error_line`]).
    NearEnd {
        len: usize,
        learn: bool,
        held: Vec<u8>,
    },
    /// `SET PASSWORD FOR <user>`: copied up to the `=` (outside quotes) that the password follows.
    ForUser { quote: Option<u8>, len: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    /// `PASSWORD` and its kin: `FOR user =` may follow instead of the literal.
    Password,
    /// `REPLACE`: a literal only right after blanks.
    Replace,
    /// `BY`, after `IDENTIFIED` in the same statement (`learn`) or not (`ORDER BY 'x'`).
    By { learn: bool },
    /// After `SET PASSWORD FOR user =`.
    Assigned,
}

/// What came just before, for the words that are keywords only after something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Before {
    #[default]
    Nothing,
    /// `PASSWORD` not followed by a literal: `FOR user =` may come.
    Password,
}

/// Masks password literals in one stream of SQL (or of a client's output quoting SQL): each
/// becomes its opening, [`MASK`] and its closing (`'***'`, `E'***'`, `$t$***$t$`).
#[derive(Debug, Default)]
pub struct SqlMasker {
    state: State,
    held: Vec<u8>,
    before: Before,
    /// `IDENTIFIED` was seen in this statement (up to its `;`).
    identified: bool,
    /// The contents of the literal being dropped, kept to learn it (up to [`MAX_LEARNED`]).
    secret: Vec<u8>,
    /// Secrets seen in masked literals, for [`LineMasker`] to mask wherever they show again.
    pub(super) learned: Vec<Vec<u8>>,
    line: error_line::Line,
}

/// Longest literal learned as a secret; shortest one (shorter ones would mask ordinary words).
const MAX_LEARNED: usize = 1024;
const MIN_LEARNED: usize = 4;

impl SqlMasker {
    /// Appends to `out` what may be written of `bytes`: every password literal masked, less an
    /// end that could still begin a clause (held for the next call or [`SqlMasker::finish`]).
    pub fn chunk(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            self.step(b, out);
            self.after(b, out);
        }
    }

    /// Appends what is held (the stream has ended) and starts afresh.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match std::mem::take(&mut self.state) {
            State::Opener { opener, .. } => {
                out.append(&mut self.held);
                out.extend_from_slice(&opener);
            }
            State::Literal {
                close:
                    Close::Quote {
                        quote,
                        pending: true,
                        ..
                    },
                learn,
                ..
            } => {
                out.push(quote);
                self.learn(learn);
            }
            State::Literal { learn, .. } => self.learn(learn),
            State::NearEnd { held, learn, .. } => {
                out.extend_from_slice(b"''");
                out.extend_from_slice(&held);
                self.learn(learn);
            }
            _ => {}
        }
        out.append(&mut self.held);
        self.before = Before::Nothing;
        self.identified = false;
        self.line = error_line::Line::default();
    }

    /// One byte, read in the state the bytes before it left.
    fn step(&mut self, b: u8, out: &mut Vec<u8>) {
        match &mut self.state {
            State::Text => self.text(b, out),
            State::Word => self.word(b, out),
            State::Clause { keyword, sign } => {
                let (keyword, seen_sign) = (*keyword, *sign);
                self.clause(keyword, seen_sign, b, out);
            }
            State::Opener { keyword, opener } => {
                let keyword = *keyword;
                let opener = std::mem::take(opener);
                self.opener(keyword, opener, b, out);
            }
            State::Literal { .. } => self.literal(b, out),
            State::ForUser { .. } => self.for_user(b, out),
            State::NearEnd { held, .. } => {
                let held = std::mem::take(held);
                self.near(held, b, out);
            }
        }
    }

    /// A byte in a word that is no keyword: copied; its end is read as text.
    fn word(&mut self, b: u8, out: &mut Vec<u8>) {
        if is_word_byte(b) {
            out.push(b);
        } else {
            self.state = State::Text;
            self.text(b, out);
        }
    }

    /// A byte after `keyword` and the blanks (and sign) held since: more of them, the start
    /// of a literal, or the proof that no literal follows.
    fn clause(&mut self, keyword: Keyword, seen_sign: bool, b: u8, out: &mut Vec<u8>) {
        if b.is_ascii_whitespace() && self.held.len() < MAX_BLANKS {
            self.held.push(b);
        } else if matches!(b, b'=' | b'(') && !seen_sign && keyword != Keyword::Replace {
            self.held.push(b);
            self.state = State::Clause {
                keyword,
                sign: true,
            };
        } else if matches!(b, b'\'' | b'"') {
            self.open(keyword, &[b], Close::quote(b), out);
        } else if matches!(b, b'e' | b'E' | b'n' | b'N' | b'u' | b'U' | b'$' | b'_') {
            self.state = State::Opener {
                keyword,
                opener: vec![b],
            };
        } else {
            self.not_a_clause(keyword, &[b], out);
        }
    }

    /// A byte of a literal's opening (`E'`, `U&'`, `$tag$`, `_charset'`), begun after `keyword`.
    fn opener(&mut self, keyword: Keyword, mut opener: Vec<u8>, b: u8, out: &mut Vec<u8>) {
        opener.push(b);
        match opening(&opener) {
            Opening::Done(close) => self.open(keyword, &opener, close, out),
            Opening::More => self.state = State::Opener { keyword, opener },
            Opening::No => self.not_a_clause(keyword, &opener, out),
        }
    }

    /// A byte inside a password literal: dropped (and kept to learn the secret), unless it
    /// closes the literal; past [`MAX_LITERAL`], a newline closes it too.
    fn literal(&mut self, b: u8, out: &mut Vec<u8>) {
        let error_line = self.line.error;
        let State::Literal { close, len, learn } = &mut self.state else {
            unreachable!("called in State::Literal only");
        };
        let learn = *learn;
        if error_line::holds_doubled(error_line, close, b) {
            let len = *len + 1;
            self.state = State::NearEnd {
                len,
                learn,
                held: Vec::new(),
            };
            return;
        }
        *len += 1;
        let too_long = *len > MAX_LITERAL;
        match close.step(b) {
            Step::In => {
                if self.secret.len() <= MAX_LEARNED {
                    self.secret.push(b);
                }
                if too_long && b == b'\n' {
                    out.push(b);
                    self.secret.clear();
                    self.state = State::Text;
                }
            }
            Step::Skip => {}
            Step::Closed => {
                close.write_end(out);
                if let Close::Dollar { tag, .. } = close {
                    let partial = tag.len() - 1;
                    self.secret
                        .truncate(self.secret.len().saturating_sub(partial));
                }
                self.learn(learn);
                self.state = State::Text;
            }
            Step::ClosedBefore => {
                close.write_end(out);
                self.learn(learn);
                self.state = State::Text;
                self.step(b, out);
            }
        }
    }

    /// A byte of `SET PASSWORD FOR <user>`: copied; an `=` outside quotes is the clause's sign.
    fn for_user(&mut self, b: u8, out: &mut Vec<u8>) {
        let State::ForUser { quote, len } = &mut self.state else {
            unreachable!("called in State::ForUser only");
        };
        out.push(b);
        *len += 1;
        match *quote {
            Some(q) if b == q => *quote = None,
            Some(_) => {}
            None if matches!(b, b'\'' | b'"' | b'`') => *quote = Some(b),
            None if b == b'=' => {
                self.state = State::Clause {
                    keyword: Keyword::Assigned,
                    sign: true,
                }
            }
            None if b == b';' || *len > MAX_BLANKS => self.state = State::Text,
            None => {}
        }
    }

    /// A byte in text: words that may be keywords are held until they end.
    fn text(&mut self, b: u8, out: &mut Vec<u8>) {
        if is_word_byte(b) {
            self.held.push(b);
            let held = &self.held;
            let may_be = |w: &&str| {
                w.len() >= held.len() && w.as_bytes()[..held.len()].eq_ignore_ascii_case(held)
            };
            if !(KEYWORDS.iter().any(may_be) || CONTEXT_WORDS.iter().any(may_be)) {
                out.append(&mut self.held);
                self.before = Before::Nothing;
                self.state = State::Word;
            }
            return;
        }
        if !self.held.is_empty() {
            let word = std::mem::take(&mut self.held);
            out.extend_from_slice(&word);
            let before = std::mem::take(&mut self.before);
            let keyword = match word.to_ascii_lowercase().as_slice() {
                b"password" | b"old_password" | b"master_password" => Some(Keyword::Password),
                b"replace" => Some(Keyword::Replace),
                b"by" => Some(Keyword::By {
                    learn: self.identified,
                }),
                b"identified" => {
                    self.identified = true;
                    None
                }
                b"for" if before == Before::Password => {
                    self.state = State::ForUser {
                        quote: None,
                        len: 0,
                    };
                    return self.step(b, out);
                }
                _ => None,
            };
            if let Some(keyword) = keyword {
                self.state = State::Clause {
                    keyword,
                    sign: false,
                };
                return self.step(b, out);
            }
        }
        if b == b';' {
            self.identified = false;
        }
        if !b.is_ascii_whitespace() {
            self.before = Before::Nothing;
        }
        out.push(b);
    }

    /// The held blanks and `opening` go out with the mask: a literal begins.
    fn open(&mut self, keyword: Keyword, opening: &[u8], close: Close, out: &mut Vec<u8>) {
        out.append(&mut self.held);
        out.extend_from_slice(opening);
        out.extend_from_slice(MASK.as_bytes());
        self.secret.clear();
        let learn = !matches!(keyword, Keyword::By { learn: false });
        self.state = State::Literal {
            close,
            len: 0,
            learn,
        };
    }

    /// What followed `keyword` is no literal: the held blanks go out, `bytes` are read again
    /// as text (after `PASSWORD`, a `FOR` may begin there).
    fn not_a_clause(&mut self, keyword: Keyword, bytes: &[u8], out: &mut Vec<u8>) {
        out.append(&mut self.held);
        self.state = State::Text;
        if keyword == Keyword::Password {
            self.before = Before::Password;
        }
        for &b in bytes {
            self.step(b, out);
        }
    }

    fn learn(&mut self, learn: bool) {
        let secret = std::mem::take(&mut self.secret);
        if learn
            && (MIN_LEARNED..=MAX_LEARNED).contains(&secret.len())
            && !self.learned.contains(&secret)
        {
            self.learned.push(secret);
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `line` with its password literals masked (a statement that fits on it: no state carried).
pub(super) fn mask_sql(line: &str) -> String {
    let mut masker = SqlMasker::default();
    let mut out = Vec::with_capacity(line.len());
    masker.chunk(line.as_bytes(), &mut out);
    masker.finish(&mut out);
    // Only whole literals between ASCII quotes are taken out: still UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
pub(super) mod tests;
