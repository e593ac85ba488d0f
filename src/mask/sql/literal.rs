//! How a SQL literal opens (`'`, `E'`, `U&'`, `$tag$`, `_charset'`) and where it ends, byte
//! by byte: the scanner under the clause rules of [`super`].

use super::is_word_byte;

/// How a literal ends.
#[derive(Debug)]
pub(super) enum Close {
    /// At `quote`, not doubled and not after a backslash (MySQL escapes with backslashes, as
    /// PostgreSQL's `E'...'` does; in a standard PostgreSQL string a backslash is a character,
    /// and treating it as an escape can only mask more).
    Quote {
        quote: u8,
        escaped: bool,
        /// The quote was just seen: the literal ends unless another follows (a doubled one).
        pending: bool,
    },
    /// At the `$tag$` it began with (PostgreSQL's dollar quoting); `matched` bytes of it seen.
    Dollar { tag: Vec<u8>, matched: usize },
}

pub(super) enum Opening {
    Done(Close),
    More,
    No,
}

/// Whether `opener` (after a keyword) opens a literal: `E'`, `N'`, `U&'`, `$tag$`, `_charset'`.
pub(super) fn opening(opener: &[u8]) -> Opening {
    let last = opener[opener.len() - 1];
    match (opener[0].to_ascii_lowercase(), opener.len(), last) {
        (b'e' | b'n', 2, b'\'') => Opening::Done(Close::quote(b'\'')),
        (b'u', 2, b'&') => Opening::More,
        (b'u', 3, b'\'') => Opening::Done(Close::quote(b'\'')),
        (b'$', _, b'$') => Opening::Done(Close::Dollar {
            tag: opener.to_vec(),
            matched: 0,
        }),
        (b'$' | b'_', n, b) if n < 64 && is_word_byte(b) => Opening::More,
        (b'_', n, b'\'') if n > 1 => Opening::Done(Close::quote(b'\'')),
        _ => Opening::No,
    }
}

pub(super) enum Step {
    /// A byte of the literal's value.
    In,
    /// A backslash, or a quote that may be the end.
    Skip,
    /// This byte ended the literal.
    Closed,
    /// The byte before ended it; this one is text.
    ClosedBefore,
}

impl Close {
    pub(super) fn quote(quote: u8) -> Close {
        Close::Quote {
            quote,
            escaped: false,
            pending: false,
        }
    }

    pub(super) fn step(&mut self, b: u8) -> Step {
        match self {
            Close::Quote {
                quote,
                escaped,
                pending,
            } => {
                if *pending {
                    *pending = false;
                    // A doubled quote is one quote of the value.
                    return if b == *quote {
                        Step::In
                    } else {
                        Step::ClosedBefore
                    };
                }
                if *escaped {
                    *escaped = false;
                    return Step::In;
                }
                if b == b'\\' {
                    *escaped = true;
                    return Step::Skip;
                }
                if b == *quote {
                    *pending = true;
                    return Step::Skip;
                }
                Step::In
            }
            Close::Dollar { tag, matched } => {
                if b == tag[*matched] {
                    *matched += 1;
                    if *matched == tag.len() {
                        return Step::Closed;
                    }
                } else {
                    *matched = usize::from(b == b'$');
                }
                Step::In
            }
        }
    }

    pub(super) fn write_end(&self, out: &mut Vec<u8>) {
        match self {
            Close::Quote { quote, .. } => out.push(*quote),
            Close::Dollar { tag, .. } => out.extend_from_slice(tag),
        }
    }
}
