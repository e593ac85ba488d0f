//! A SQL client's error line quoting the statement it failed on, which is not SQL: MariaDB's
//! `ERROR 1064 (42000) at line 3: ... near 'REPLACE 'old'' at line 1` wraps the rest of the
//! statement in quotes without doubling those inside, and psql's `LINE 1: ...` may cut a
//! literal. A literal is never left open past such a line (else it would swallow the next
//! statement and show its password), and the `'` of a password literal followed by the
//! client's closing `' at line N` ends the literal, where SQL would read a doubled quote.

use super::{SqlMasker, State};
use crate::mask::sql::literal::Close;

/// The beginnings of a client's error line: mysql's `ERROR 1064 (42000)...`, psql's `LINE 1:`.
const HEADS: &[&[u8]] = &[b"ERROR ", b"LINE "];

/// What the client writes after its closing quote: ` at line <digits>` and the line's end.
const AT_LINE: &[u8] = b" at line ";

/// Digits of a line number read at most.
const MAX_DIGITS: usize = 20;

/// Where the masker is in the lines it reads: the head of the current one, up to a verdict.
#[derive(Debug, Default)]
pub(super) struct Line {
    head: Vec<u8>,
    /// The current line is a client's error line.
    pub(super) error: bool,
}

impl Line {
    /// Reads `b`, a byte of the current line (a newline ends it).
    fn see(&mut self, b: u8) {
        if b == b'\n' {
            *self = Line::default();
        } else if !self.error && self.head.len() < 8 {
            self.head.push(b);
            self.error = HEADS.iter().any(|h| self.head == *h);
        }
    }
}

/// In an error line, a `'` just after the `'` that may have ended a literal is held until
/// what follows shows whether the client closed its quote there or the value goes on.
pub(super) fn holds_doubled(error_line: bool, close: &Close, b: u8) -> bool {
    error_line
        && b == b'\''
        && matches!(
            close,
            Close::Quote {
                quote: b'\'',
                pending: true,
                ..
            }
        )
}

/// Whether the bytes after a doubled quote in an error line are the client's ending.
pub(super) enum NearEnd {
    More,
    Done,
    No,
}

/// `held` (what followed `''`) against ` at line N` and the line's end.
pub(super) fn near_end(held: &[u8]) -> NearEnd {
    let n = held.len().min(AT_LINE.len());
    if held[..n] != AT_LINE[..n] {
        return NearEnd::No;
    }
    if held.len() <= AT_LINE.len() {
        return NearEnd::More;
    }
    let rest = &held[AT_LINE.len()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match &rest[digits..] {
        [] if digits <= MAX_DIGITS => NearEnd::More,
        [b'\r'] if digits > 0 => NearEnd::More,
        [b'\n'] | [b'\r', b'\n'] if digits > 0 => NearEnd::Done,
        _ => NearEnd::No,
    }
}

impl SqlMasker {
    /// After the masker read `b`: at the end of an error line, whatever it quoted is over.
    pub(super) fn after(&mut self, b: u8, out: &mut Vec<u8>) {
        if b == b'\n' && self.line.error {
            match self.state {
                State::Literal { .. } => {
                    out.push(b'\n');
                    self.secret.clear();
                    self.state = State::Text;
                }
                State::ForUser { .. } => self.state = State::Text,
                _ => {}
            }
            self.identified = false;
            self.before = super::Before::Nothing;
        }
        self.line.see(b);
    }

    /// A byte after `''` in an error line, `held` the ones before it.
    pub(super) fn near(&mut self, mut held: Vec<u8>, b: u8, out: &mut Vec<u8>) {
        let State::NearEnd { learn, .. } = self.state else {
            unreachable!("called in State::NearEnd only");
        };
        held.push(b);
        match near_end(&held) {
            NearEnd::More => {
                if let State::NearEnd { held: h, .. } = &mut self.state {
                    *h = held;
                }
            }
            NearEnd::Done => {
                out.extend_from_slice(b"''");
                out.extend_from_slice(&held);
                self.learn(learn);
                self.state = State::Text;
            }
            NearEnd::No => {
                let State::NearEnd { len, .. } = self.state else {
                    unreachable!("matched above");
                };
                // It was a doubled quote: one quote of the value, and the value goes on.
                self.secret.push(b'\'');
                self.state = State::Literal {
                    close: Close::quote(b'\''),
                    len,
                    learn,
                };
                for &b in &held {
                    self.step(b, out);
                }
            }
        }
    }
}
