//! `--strip-ansi`: ANSI escape sequences (CSI such as colours and cursor moves, OSC such as window
//! titles and hyperlinks, DCS and the rest) taken out of the output on its way to the logs. The
//! parsing is vte's (the parser of Alacritty), one state machine per stream, so a sequence cut
//! across two reads is still recognised. Text and control characters (`\n`, `\r`, `\t`, BEL)
//! stay; vte decodes UTF-8, so an invalid byte becomes U+FFFD.

use vte::{Parser, Perform};

use crate::event::Stream;

#[derive(Default)]
pub struct AnsiStripper {
    parsers: [Parser; 3],
}

impl std::fmt::Debug for AnsiStripper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnsiStripper")
    }
}

/// Collects what is not part of an escape sequence.
struct Text<'a>(&'a mut Vec<u8>);

impl Perform for Text<'_> {
    fn print(&mut self, c: char) {
        let mut buf = [0; 4];
        self.0.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn execute(&mut self, byte: u8) {
        self.0.push(byte);
    }
}

impl AnsiStripper {
    /// Appends to `out` the text of `bytes`, read from `stream`, without escape sequences.
    pub fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>) {
        self.parsers[stream.index()].advance(&mut Text(out), bytes);
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

    #[test]
    fn removes_csi_osc_and_other_sequences_and_keeps_text_and_controls() {
        assert_eq!(
            strip(&[b"\x1b[1;31mred\x1b[0m\tplain\r\n"]),
            b"red\tplain\r\n"
        );
        assert_eq!(
            strip(&[b"\x1b]0;title\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n"]),
            b"alink\n"
        );
        assert_eq!(
            strip(&[b"\x1b(B\x1b[?25lcaf\xc3\xa9\x07\n"]),
            "café\x07\n".as_bytes()
        );
    }

    #[test]
    fn a_sequence_or_a_character_cut_by_a_read_is_still_whole() {
        assert_eq!(
            strip(&[b"a\x1b[3", b"2mb\xc3", b"\xa9\x1b", b"[0m\n"]),
            "abé\n".as_bytes()
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
}
