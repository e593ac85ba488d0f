//! `--strip-ansi`: ECMA-48 escape sequences (CSI such as colours and cursor moves, OSC such as
//! window titles and hyperlinks, DCS, SOS, PM, APC and the two- and three-byte escapes) taken out
//! of the output on its way to the logs, byte by byte: every byte that is not part of a sequence
//! stays as it came, invalid UTF-8 and 8-bit C1 bytes included (only the 7-bit `ESC` starts a
//! sequence, so `\xc2\x9b` is text). One [`Parser`] per stream, so a sequence cut across two
//! reads is still recognised.
//!
//! A sequence that never ends cannot hide the rest of the output: a string (OSC, DCS, SOS, PM,
//! APC) ends at BEL or ST (`ESC \`) and is given up at `\n`, CAN, SUB, or after [`MAX_STRING`]
//! bytes; any other sequence is given up at a byte that cannot belong to it or after
//! [`MAX_SEQUENCE`] bytes. A sequence given up is dropped up to that byte, which is then read as
//! ordinary output (so the `\n` that cuts an OSC stays, and everything after it). A string cut
//! at its bound inside a UTF-8 character is cut after that character (up to 3 bytes more), so
//! that the text kept after it does not begin with the character's tail.
//! Every byte is classified the moment it is read, so nothing is ever held back.

use super::Filter;
use crate::event::Stream;

/// The longest string sequence (an OSC hyperlink, a DCS sixel image) taken out whole.
pub const MAX_STRING: usize = 64 * 1024;
/// The longest other sequence (a CSI with a long parameter list) taken out whole.
pub const MAX_SEQUENCE: usize = 512;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Text.
    #[default]
    Ground,
    /// After `ESC`.
    Escape,
    /// After `ESC` and intermediate bytes (`ESC ( B`).
    EscapeIntermediate,
    /// After `ESC [` and parameter bytes.
    CsiParameter,
    /// After a CSI's intermediate bytes.
    CsiIntermediate,
    /// Inside OSC, DCS, SOS, PM or APC.
    String,
    /// After an `ESC` inside a string: `\` ends it (ST), anything else starts a new sequence.
    StringEscape,
    /// A string cut at [`MAX_STRING`] by a byte of a UTF-8 character: the character's
    /// continuation bytes still belong to it.
    StringCut,
}

/// Where one stream is in the ECMA-48 grammar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parser {
    state: State,
    /// Bytes of the current sequence so far.
    len: usize,
}

impl Parser {
    /// Whether the parser is between sequences (the next byte is text unless it is `ESC`).
    pub fn is_ground(&self) -> bool {
        self.state == State::Ground
    }

    /// Reads one byte; returns whether it is text (kept), not part of a sequence.
    pub fn text(&mut self, byte: u8) -> bool {
        self.len += 1;
        let next = match self.state {
            State::Ground => return self.ground(byte),
            State::Escape => match byte {
                b'[' => Some(State::CsiParameter),
                b']' | b'P' | b'X' | b'^' | b'_' => Some(State::String),
                0x20..=0x2f => Some(State::EscapeIntermediate),
                0x30..=0x7e => None,
                _ => return self.give_up(byte),
            },
            State::EscapeIntermediate => match byte {
                0x20..=0x2f => Some(State::EscapeIntermediate),
                0x30..=0x7e => None,
                _ => return self.give_up(byte),
            },
            State::CsiParameter => match byte {
                0x30..=0x3f => Some(State::CsiParameter),
                0x20..=0x2f => Some(State::CsiIntermediate),
                0x40..=0x7e => None,
                _ => return self.give_up(byte),
            },
            State::CsiIntermediate => match byte {
                0x20..=0x2f => Some(State::CsiIntermediate),
                0x40..=0x7e => None,
                _ => return self.give_up(byte),
            },
            State::String => match byte {
                BEL => None,
                ESC => Some(State::StringEscape),
                b'\n' | CAN | SUB => return self.give_up(byte),
                _ => Some(State::String),
            },
            State::StringCut => match byte {
                0x80..=0xbf if self.len <= MAX_STRING + 3 => return false,
                _ => return self.give_up(byte),
            },
            State::StringEscape => match byte {
                b'\\' => None,
                // The string is given up; its `ESC` begins a new sequence.
                _ => {
                    self.state = State::Escape;
                    self.len = 1;
                    return self.text(byte);
                }
            },
        };
        match next {
            None => {
                *self = Parser::default();
            }
            Some(state) => {
                let limit = match state {
                    State::String | State::StringEscape => MAX_STRING,
                    _ => MAX_SEQUENCE,
                };
                if self.len >= limit && state == State::String && byte >= 0x80 {
                    // The bound, inside a character: its continuation bytes go with it.
                    self.state = State::StringCut;
                } else if self.len >= limit {
                    // The bound: this byte is the last one dropped.
                    *self = Parser::default();
                } else {
                    self.state = state;
                }
            }
        }
        false
    }

    /// Reads `bytes`, handing what is text to `text`, a run at a time (runs without `ESC` are
    /// found with memchr, not read byte by byte).
    pub fn read(&mut self, bytes: &[u8], mut text: impl FnMut(&[u8])) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.is_ground() {
                let run = memchr::memchr(ESC, rest).unwrap_or(rest.len());
                text(&rest[..run]);
                rest = &rest[run..];
            }
            while let Some((&byte, tail)) = rest.split_first() {
                if self.text(byte) {
                    text(&rest[..1]);
                }
                rest = tail;
                if self.is_ground() {
                    break;
                }
            }
        }
    }

    fn ground(&mut self, byte: u8) -> bool {
        if byte == ESC {
            self.state = State::Escape;
            self.len = 1;
            false
        } else {
            self.len = 0;
            true
        }
    }

    /// Drops the sequence so far and reads `byte` as if no sequence had begun.
    fn give_up(&mut self, byte: u8) -> bool {
        *self = Parser::default();
        self.ground(byte)
    }
}

/// One [`Parser`] per stream, writing what is text.
#[derive(Debug, Default)]
pub struct AnsiStripper {
    parsers: [Parser; 3],
}

impl Filter for AnsiStripper {
    /// Appends to `out` the bytes of `bytes`, read from `stream`, that are not part of an escape
    /// sequence. A sequence cut by the end of `bytes` is taken out as its bytes come: nothing
    /// is held back, so there is nothing to finish.
    fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>) {
        self.parsers[stream.index()].read(bytes, |text| out.extend_from_slice(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(pieces: &[&[u8]]) -> Vec<u8> {
        let mut stripper = AnsiStripper::default();
        let mut out = Vec::new();
        for piece in pieces {
            stripper.chunk(Stream::Stdout, piece, &mut out);
        }
        out
    }

    /// `bytes` stripped whole, checked against the same fed byte by byte and cut in two at
    /// every place.
    #[track_caller]
    fn stripped(bytes: &[u8]) -> Vec<u8> {
        let whole = strip(&[bytes]);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(strip(&singles), whole, "byte by byte");
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(strip(&[a, b]), whole, "cut at {cut}");
        }
        whole
    }

    #[test]
    fn removes_csi_osc_and_other_sequences_and_keeps_text_and_controls() {
        assert_eq!(
            stripped(b"\x1b[1;31mred\x1b[0m\tplain\r\n"),
            b"red\tplain\r\n"
        );
        assert_eq!(
            stripped(b"\x1b]0;title\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n"),
            b"alink\n"
        );
        assert_eq!(
            stripped(b"\x1b(B\x1b[?25lcaf\xc3\xa9\x07\x1b7\x1b=\x1b#8\n"),
            "café\x07\n".as_bytes()
        );
        assert_eq!(
            stripped(b"a\x1bP1;2|data\x1b\\b\x1bXsos\x07c\x1b^pm\x1b\\d\x1b_apc\x1b\\e"),
            b"abcde"
        );
    }

    #[test]
    fn a_sequence_cut_by_a_read_is_still_whole() {
        assert_eq!(
            strip(&[b"a\x1b[3", b"2mb\xc3", b"\xa9\x1b", b"[0m\n"]),
            "abé\n".as_bytes()
        );
        assert_eq!(
            strip(&[b"x\x1b", b"]0;t\x1b", b"\\y"]),
            b"xy",
            "ESC at the end"
        );
    }

    #[test]
    fn bytes_outside_sequences_stay_as_they_came() {
        // C1 controls in UTF-8 (NEL, CSI), invalid UTF-8, a lone C1 byte, DEL.
        let text = b"\xc2\x85 \xc2\x9b31m \xff\xfe \x9b \x85 \x7f \xe2\x82\n";
        assert_eq!(stripped(text), text);
        assert_eq!(stripped(b"\x1b[31m\xc2\x85\xff\x1b[m"), b"\xc2\x85\xff");
    }

    #[test]
    fn an_unterminated_string_ends_at_a_newline_can_or_sub() {
        for intro in [b']', b'P', b'X', b'^', b'_'] {
            let mut bytes = vec![b'a', ESC, intro];
            bytes.extend_from_slice(b"0;never ends\nline 2\n\x1b]x\x18b\x1b]y\x1ac");
            assert_eq!(
                stripped(&bytes),
                b"a\nline 2\n\x18b\x1ac",
                "ESC {}",
                intro as char
            );
        }
    }

    #[test]
    fn an_escape_inside_a_string_that_is_not_st_starts_a_new_sequence() {
        assert_eq!(stripped(b"\x1b]0;t\x1b[31mred\x1b[m"), b"red");
        assert_eq!(stripped(b"\x1b]0;t\x1b\x1b\\x"), b"x");
    }

    #[test]
    fn a_string_longer_than_the_bound_is_cut_there_and_the_rest_kept() {
        let mut bytes = b"\x1b]".to_vec();
        bytes.resize(MAX_STRING, b'z');
        bytes.extend_from_slice(b"after\x07 more");
        assert_eq!(strip(&[&bytes]), b"after\x07 more");
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(strip(&singles), b"after\x07 more");
        // One byte less is still one string.
        let mut bytes = b"\x1b]".to_vec();
        bytes.resize(MAX_STRING - 1, b'z');
        bytes.extend_from_slice(b"\x07after");
        assert_eq!(strip(&[&bytes]), b"after");
    }

    #[test]
    fn a_string_cut_at_the_bound_inside_a_character_is_cut_after_it() {
        // `ESC ] x`, some padding, then two-, three- and four-byte characters past the bound:
        // for some padding the bound falls inside one of them.
        for character in ["é", "€", "𝄞"] {
            for pad in 0..4 {
                let mut bytes = b"\x1b]x".to_vec();
                bytes.extend(std::iter::repeat_n(b'z', pad));
                while bytes.len() < MAX_STRING + 8 {
                    bytes.extend_from_slice(character.as_bytes());
                }
                let end = b"\nafter\xff\x80\n";
                bytes.extend_from_slice(end);
                let kept = strip(&[&bytes]);
                let singles: Vec<&[u8]> = bytes.chunks(1).collect();
                assert_eq!(strip(&singles), kept, "byte by byte");
                let (text, tail) = kept.split_at(kept.len() - end.len());
                assert!(
                    std::str::from_utf8(text).is_ok() && text.len() % character.len() == 0,
                    "{character} after {pad}: {kept:?}"
                );
                assert_eq!(tail, end, "invalid bytes after the string stay");
            }
        }
    }

    #[test]
    fn a_csi_is_given_up_at_a_foreign_byte_or_the_bound() {
        assert_eq!(stripped(b"a\x1b[1;3\nb"), b"a\nb");
        assert_eq!(
            stripped(b"a\x1b[1 2mb"),
            b"a2mb",
            "parameter after intermediate"
        );
        assert_eq!(stripped(b"a\x1b[\xc3\xa9b"), "aéb".as_bytes());
        assert_eq!(stripped(b"a\x1b\x1b[mb"), b"ab", "ESC ESC");
        assert_eq!(stripped(b"a\x1b\nb"), b"a\nb");
        let mut huge = b"\x1b[".to_vec();
        while huge.len() < 4 * MAX_SEQUENCE {
            huge.extend_from_slice(b"1;");
        }
        huge.extend_from_slice(b"mtext\n");
        let kept = strip(&[&huge]);
        assert!(
            kept.ends_with(b"mtext\n"),
            "{:?}",
            String::from_utf8_lossy(&kept)
        );
        assert_eq!(
            kept.len(),
            huge.len() - MAX_SEQUENCE,
            "what is past the bound is kept"
        );
    }

    #[test]
    fn the_streams_are_parsed_apart() {
        let mut stripper = AnsiStripper::default();
        let mut out = Vec::new();
        stripper.chunk(Stream::Stdout, b"\x1b[3", &mut out);
        stripper.chunk(Stream::Stderr, b"1mx", &mut out);
        stripper.chunk(Stream::Stdout, b"1my", &mut out);
        assert_eq!(out, b"1mxy");
    }

    /// A small deterministic generator (xorshift), for the mixed inputs below.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn any_input_cut_anywhere_strips_as_whole_and_leaves_no_escape() {
        let alphabet = b"\x1b\x1b\x1b[[]]P_X^\\\x07\x18\x1a\n\r;0123m ( Bab\xc2\x9b\x85\xff";
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for _ in 0..300 {
            let len = (next(&mut seed) % 200) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[(next(&mut seed) % alphabet.len() as u64) as usize])
                .collect();
            let whole = strip(&[&bytes]);
            assert!(!whole.contains(&ESC), "{bytes:?} -> {whole:?}");
            let mut pieces = Vec::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let n = 1 + (next(&mut seed) % 7) as usize;
                let (a, b) = rest.split_at(n.min(rest.len()));
                pieces.push(a);
                rest = b;
            }
            assert_eq!(strip(&pieces), whole, "{bytes:?}");
        }
    }
}
