//! `--redact-env NAME`: the values of secret environment variables (and their base64 forms)
//! replaced by `***` in everything teelog writes, as CI runners mask secrets.
//!
//! Redaction runs on each stream's bytes before any formatter sees them, so the console and every
//! log in every format get the same redacted output. A value split across two reads, or cut by a
//! pause, is still caught: the end of a chunk that could be the start of a secret is held back,
//! and only as long as it still could be (it goes out with the next chunk, or at the exit).
//! Nothing else waits.
//!
//! A value the program coloured in part (`grep --color=always` puts escape sequences inside it)
//! is caught too: each stream's text without its escape sequences (as `--strip-ansi` reads them,
//! [`Parser`]) is searched as well as its bytes, and an occurrence there is masked from
//! its first byte to its last, with the sequences between them. A value inside a sequence (an
//! OSC 8 hyperlink) is found in the bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::Filter;
use crate::event::Stream;
use crate::filter::strip::Parser;
use crate::mask::MASK;

/// Where `base64` (coreutils) wraps its output.
const BASE64_COLUMNS: usize = 76;

/// Shorter values are refused: masking them would rewrite ordinary output.
pub const MIN_SECRET: usize = 6;

/// How far back a value coloured in part may begin (its text, with the escape sequences between
/// its bytes): an end of output held back for longer than this goes out. Colour codes take a
/// few dozen bytes; the bound keeps the rescanning of what is held small.
const MAX_HOLD: usize = 4096;

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// The byte strings to mask, longest first.
    patterns: Vec<Vec<u8>>,
    /// Per stream: bytes held back because they could begin a secret.
    held: [Vec<u8>; 3],
    /// Per stream: where the escape-sequence grammar stands at the start of `held`.
    parsers: [Parser; 3],
}

/// The text of some output: its bytes that are not part of an escape sequence, and where each
/// one is in the output.
struct Text {
    bytes: Vec<u8>,
    at: Vec<usize>,
    /// Where the output's complete CSI sequences (colours, erasing) are.
    csi: Vec<(usize, usize)>,
}

/// What to mask in some output.
#[derive(Default)]
struct Masks {
    /// Every occurrence of a secret, overlapping ones merged, in order.
    spans: Vec<(usize, usize)>,
    /// The CSI sequences inside the spans that no occurrence touches: they are written after
    /// the mask, so that a colour that began or ended inside a value still ends where the
    /// program ended it.
    codes: Vec<(usize, usize)>,
}

impl Text {
    /// The text of `data`, read from `parser`'s state; `None` when that is all of `data`.
    fn of(mut parser: Parser, data: &[u8]) -> Option<Text> {
        if parser.is_ground() && memchr::memchr(0x1b, data).is_none() {
            return None;
        }
        let mut text = Text {
            bytes: Vec::with_capacity(data.len()),
            at: Vec::with_capacity(data.len()),
            csi: Vec::new(),
        };
        // Where the sequence being read began, when that is in `data`.
        let mut begun = None;
        for (i, &byte) in data.iter().enumerate() {
            let ground = parser.is_ground();
            if parser.text(byte) {
                text.bytes.push(byte);
                text.at.push(i);
                continue;
            }
            if ground {
                begun = Some(i);
            }
            if parser.is_ground()
                && let Some(start) = begun.take()
                && data.get(start + 1) == Some(&b'[')
                && i > start + 1
                && (0x40..=0x7e).contains(&byte)
            {
                text.csi.push((start, i + 1));
            }
        }
        Some(text)
    }
}

impl Redactor {
    /// Masks each of `values` and its base64 form (without padding, which only the end of an
    /// encoding has).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Redactor {
        let mut patterns = Vec::new();
        for value in values {
            patterns.push(value.to_vec());
            let encoded = BASE64.encode(value);
            let encoded = encoded.trim_end_matches('=').as_bytes();
            patterns.push(encoded.to_vec());
            if encoded.len() > BASE64_COLUMNS {
                // As `base64` prints it: a newline every 76 columns.
                let lines: Vec<&[u8]> = encoded.chunks(BASE64_COLUMNS).collect();
                patterns.push(lines.join(&b'\n'));
            }
        }
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        patterns.dedup();
        Redactor {
            patterns,
            ..Redactor::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every secret masked (for the logged command line and teelog's own messages).
    pub fn text(&self, text: &str) -> String {
        let mut out = Vec::new();
        let data = text.as_bytes();
        self.masks(data, Text::of(Parser::default(), data).as_ref())
            .replace(data, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Every occurrence of every pattern in `data`, and in its `text` (an occurrence there
    /// spans the escape sequences between its bytes), overlapping ones merged, in order.
    fn masks(&self, data: &[u8], text: Option<&Text>) -> Masks {
        let mut found = Vec::new();
        self.occurrences(data, |start, end| found.push((start, end)));
        let mut codes = Vec::new();
        if let Some(text) = text {
            let raw = found.len();
            self.occurrences(&text.bytes, |start, end| {
                found.push((text.at[start], text.at[end - 1] + 1));
            });
            if found.len() > raw {
                let (raw, seen) = found.split_at(raw);
                codes = text
                    .csi
                    .iter()
                    .copied()
                    .filter(|&(s, e)| seen.iter().any(|&(start, end)| start < s && e < end))
                    .filter(|&(s, e)| !raw.iter().any(|&(start, end)| s < end && start < e))
                    .collect();
            }
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Masks {
            spans: merged,
            codes,
        }
    }

    /// Calls `found(start, end)` for every occurrence of every pattern in `data`.
    fn occurrences(&self, data: &[u8], mut found: impl FnMut(usize, usize)) {
        for p in &self.patterns {
            let finder = memchr::memmem::Finder::new(p);
            let mut from = 0;
            while let Some(at) = finder.find(&data[from..]) {
                found(from + at, from + at + p.len());
                from += at + 1;
            }
        }
    }

    /// How many bytes at the end of `data` are a proper prefix of some pattern (but end no
    /// complete match, which `replace` takes care of).
    fn possible_start(&self, data: &[u8]) -> usize {
        let longest = self.patterns.first().map_or(0, Vec::len);
        let from = data.len().saturating_sub(longest.saturating_sub(1));
        (from..data.len())
            .find(|&i| {
                let tail = &data[i..];
                self.patterns
                    .iter()
                    .any(|p| p.len() > tail.len() && p.starts_with(tail))
            })
            .map_or(0, |i| data.len() - i)
    }
}

impl Filter for Redactor {
    /// Appends to `out` what may be written of `stream` after `bytes`: held bytes and `bytes`,
    /// with every secret masked, less an end that could still begin one.
    fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>) {
        let mut data = std::mem::take(&mut self.held[stream.index()]);
        data.extend_from_slice(bytes);
        let parser = self.parsers[stream.index()];
        let text = Text::of(parser, &data);
        let mut masks = self.masks(&data, text.as_ref());
        let mut cut = data.len() - self.possible_start(&data);
        if let Some(text) = &text {
            let begun = self.possible_start(&text.bytes);
            if begun > 0 {
                let at = text.at[text.bytes.len() - begun];
                if data.len() - at <= MAX_HOLD {
                    cut = cut.min(at);
                }
            }
        }
        // A secret that may go on from inside one already found: hold that one too, so that
        // both are masked as one.
        if let Some(&(start, _)) = masks
            .spans
            .iter()
            .find(|&&(start, end)| start < cut && cut < end)
        {
            cut = start;
        }
        let (now, later) = data.split_at(cut);
        masks.spans.retain(|&(_, end)| end <= cut);
        masks.replace(now, out);
        self.parsers[stream.index()].read(now, |_| {});
        self.held[stream.index()] = later.to_vec();
    }

    /// Appends everything held for `stream` (the command has ended: nothing can complete it).
    fn finish(&mut self, stream: Stream, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held[stream.index()]);
        out.extend_from_slice(&held);
        self.parsers[stream.index()] = Parser::default();
    }
}

impl Masks {
    /// Copies `data` to `out` with each span replaced by one mask and the codes inside it:
    /// overlapping occurrences (of two values, one's end the other's start, or of one value
    /// with itself) were merged into one span, so no tail of either is left.
    fn replace(&self, data: &[u8], out: &mut Vec<u8>) {
        let mut copied = 0;
        for &(start, end) in &self.spans {
            out.extend_from_slice(&data[copied..start]);
            out.extend_from_slice(MASK.as_bytes());
            for &(s, e) in self.codes.iter().filter(|&&(s, e)| start <= s && e <= end) {
                out.extend_from_slice(&data[s..e]);
            }
            copied = end;
        }
        out.extend_from_slice(&data[copied..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Stream::*;

    fn redactor() -> Redactor {
        Redactor::new([&b"hunter22"[..]])
    }

    #[test]
    fn masks_the_value_and_its_base64_form() {
        let mut r = redactor();
        let mut out = Vec::new();
        r.chunk(Stdout, b"pw=hunter22 enc=aHVudGVyMjI= end\n", &mut out);
        assert_eq!(out, b"pw=*** enc=***= end\n");
    }

    #[test]
    fn a_value_split_across_chunks_and_pauses_is_still_masked() {
        let text = b"connect hunter22 now\n";
        for cut in 0..=text.len() {
            let mut r = redactor();
            let mut out = Vec::new();
            r.chunk(Stdout, &text[..cut], &mut out);
            r.chunk(Stdout, &text[cut..], &mut out);
            r.finish(Stdout, &mut out);
            assert_eq!(out, b"connect *** now\n", "cut at {cut}");
        }
    }

    #[test]
    fn only_what_could_begin_a_secret_waits() {
        let mut r = redactor();
        let mut out = Vec::new();
        r.chunk(Stdout, b"Password: hun", &mut out);
        assert_eq!(out, b"Password: ", "'hun' could begin the secret");
        r.chunk(Stdout, b"gry\n", &mut out);
        assert_eq!(out, b"Password: hungry\n", "it did not");
        out.clear();
        r.chunk(Stdout, b"Password: ", &mut out);
        assert_eq!(out, b"Password: ", "nothing held");
    }

    #[test]
    fn streams_are_held_apart_and_the_rest_goes_out_at_the_end() {
        let mut r = redactor();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        r.chunk(Stdout, b"a hunt", &mut out);
        r.chunk(Stderr, b"er22 b", &mut err);
        r.finish(Stdout, &mut out);
        r.finish(Stderr, &mut err);
        assert_eq!(
            (out.as_slice(), err.as_slice()),
            (&b"a hunt"[..], &b"er22 b"[..])
        );
    }

    #[test]
    fn the_base64_form_wrapped_as_base64_prints_it_is_masked() {
        let value = b"a-long-secret-value-whose-base64-form-wraps-at-76-columns-xyz";
        let encoded = BASE64.encode(value);
        let wrapped = format!("{}\n{}\n", &encoded[..76], &encoded[76..]);
        let mut r = Redactor::new([&value[..]]);
        let mut out = Vec::new();
        r.chunk(Stdout, wrapped.as_bytes(), &mut out);
        r.finish(Stdout, &mut out);
        assert_eq!(
            text_of(&out),
            "***==\n",
            "{wrapped}: padding stays, as unwrapped"
        );
    }

    fn text_of(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn overlapping_secrets_leave_no_tail_at_any_cut() {
        let text = b"x abcdef1234ghijkl y aaaaaaa z\n";
        for cut in 0..=text.len() {
            let mut r = Redactor::new([&b"abcdef1234"[..], b"1234ghijkl", b"aaaaaa"]);
            let mut out = Vec::new();
            r.chunk(Stdout, &text[..cut], &mut out);
            r.chunk(Stdout, &text[cut..], &mut out);
            r.finish(Stdout, &mut out);
            assert_eq!(out, b"x *** y *** z\n", "cut at {cut}");
        }
    }

    #[test]
    fn the_command_line_is_masked_too() {
        assert_eq!(
            redactor().text("curl -u me:hunter22 https://x"),
            "curl -u me:*** https://x"
        );
    }

    #[test]
    fn a_value_coloured_in_part_is_masked_with_the_codes_inside_it_at_any_cut() {
        // As `grep --color=always` prints it (the match inside the value, at its start), with
        // an OSC title in the middle, with a colour that ends inside it. The colour codes
        // inside go after the mask, so that what the program coloured stays coloured.
        let cases: [(&[u8], &[u8]); 4] = [
            (
                b"x ab\x1b[01;31m\x1b[Kcdef\x1b[m\x1b[Kgh y\n",
                b"x ***\x1b[01;31m\x1b[K\x1b[m\x1b[K y\n",
            ),
            (
                b"x \x1b[01;31m\x1b[Kabcd\x1b[m\x1b[Kefgh y\n",
                b"x \x1b[01;31m\x1b[K***\x1b[m\x1b[K y\n",
            ),
            (b"x a\x1b]0;t\x07bcdefgh y\n", b"x *** y\n"),
            (b"x \x1b[1mab\x1b[0mcdefgh y\n", b"x \x1b[1m***\x1b[0m y\n"),
        ];
        for (text, want) in cases {
            for cut in 0..=text.len() {
                let mut r = Redactor::new([&b"abcdefgh"[..]]);
                let mut out = Vec::new();
                r.chunk(Stdout, &text[..cut], &mut out);
                r.chunk(Stdout, &text[cut..], &mut out);
                r.finish(Stdout, &mut out);
                assert_eq!(
                    text_of(&out),
                    text_of(want),
                    "{} cut at {cut}",
                    text_of(text)
                );
            }
        }
    }

    #[test]
    fn a_code_that_holds_part_of_a_secret_is_not_written_again() {
        let mut r = Redactor::new([&b"123456"[..], b"abcdefgh"]);
        let mut out = Vec::new();
        r.chunk(Stdout, b"ab\x1b[123456mcdefgh\n", &mut out);
        r.finish(Stdout, &mut out);
        assert_eq!(text_of(&out), "***\n");
    }

    #[test]
    fn a_value_inside_an_escape_sequence_is_masked_too() {
        let mut r = Redactor::new([&b"abcdefgh"[..]]);
        let mut out = Vec::new();
        r.chunk(
            Stdout,
            b"\x1b]8;;http://h/abcdefgh\x1b\\link\x1b]8;;\x1b\\\n",
            &mut out,
        );
        r.finish(Stdout, &mut out);
        assert_eq!(
            text_of(&out),
            "\x1b]8;;http://h/***\x1b\\link\x1b]8;;\x1b\\\n"
        );
    }

    #[test]
    fn text_after_escape_codes_is_not_held_for_ever() {
        let mut r = Redactor::new([&b"abcdefgh"[..]]);
        let mut out = Vec::new();
        r.chunk(Stdout, b"ab", &mut out);
        assert!(out.is_empty(), "'ab' could begin the value");
        for _ in 0..=(MAX_HOLD / 4) {
            r.chunk(Stdout, b"\x1b[0m", &mut out);
        }
        assert!(out.starts_with(b"ab\x1b[0m"), "past the bound it goes out");
        r.chunk(Stdout, b"x", &mut out);
        r.finish(Stdout, &mut out);
        assert!(out.ends_with(b"\x1b[0mx"));
    }

    #[test]
    fn a_value_with_codes_anywhere_inside_never_comes_out_whole_at_any_cut() {
        let secret = b"s3cr3t-value";
        let codes: [&[u8]; 4] = [b"\x1b[01;31m", b"\x1b[m", b"\x1b[K", b"\x1b]0;t\x07"];
        let mut next = crate::format::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut text = b"a ".to_vec();
            for &byte in secret {
                if next().is_multiple_of(3) {
                    text.extend_from_slice(codes[(next() % 4) as usize]);
                }
                text.push(byte);
            }
            text.extend_from_slice(b" b\n");
            let cut = (next() % (text.len() as u64 + 1)) as usize;
            let mut r = Redactor::new([&secret[..]]);
            let mut out = Vec::new();
            r.chunk(Stdout, &text[..cut], &mut out);
            r.chunk(Stdout, &text[cut..], &mut out);
            r.finish(Stdout, &mut out);
            let mut stripped = Vec::new();
            crate::filter::strip::AnsiStripper::default().chunk(Stdout, &out, &mut stripped);
            assert_eq!(
                text_of(&stripped),
                "a *** b\n",
                "{} cut at {cut}",
                text_of(&text)
            );
        }
    }
}
