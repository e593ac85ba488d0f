//! `--redact-env NAME`: the values of secret environment variables (and their base64 forms)
//! replaced by `***` in everything teelog writes, as CI runners mask secrets.
//!
//! Redaction runs on each stream's bytes before any formatter sees them, so the console and every
//! log in every format get the same redacted output. A value split across two reads, or cut by a
//! pause, is still caught: the end of a chunk that could be the start of a secret is held back,
//! and only as long as it still could be (it goes out with the next chunk, or at the exit).
//! Nothing else waits.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::event::Stream;
use crate::mask::MASK;

/// Where `base64` (coreutils) wraps its output.
const BASE64_COLUMNS: usize = 76;

/// Shorter values are refused: masking them would rewrite ordinary output.
pub const MIN_SECRET: usize = 6;

#[derive(Debug, Default)]
pub struct Redactor {
    /// The byte strings to mask, longest first.
    patterns: Vec<Vec<u8>>,
    /// Per stream: bytes held back because they could begin a secret.
    held: [Vec<u8>; 3],
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
            held: Default::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Appends to `out` what may be written of `stream` after `bytes`: held bytes and `bytes`,
    /// with every secret masked, less an end that could still begin one.
    pub fn chunk(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<u8>) {
        let mut data = std::mem::take(&mut self.held[stream.index()]);
        data.extend_from_slice(bytes);
        let mut cut = data.len() - self.possible_start(&data);
        // A secret that may go on from inside one already found: hold that one too, so that
        // both are masked as one.
        if let Some(&(start, _)) = self
            .spans(&data)
            .iter()
            .find(|&&(start, end)| start < cut && cut < end)
        {
            cut = start;
        }
        let (now, later) = data.split_at(cut);
        self.replace(now, out);
        self.held[stream.index()] = later.to_vec();
    }

    /// Appends everything held for `stream` (the command has ended: nothing can complete it).
    pub fn finish(&mut self, stream: Stream, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held[stream.index()]);
        out.extend_from_slice(&held);
    }

    /// `text` with every secret masked (for the logged command line).
    pub fn text(&self, text: &str) -> String {
        let mut out = Vec::new();
        self.replace(text.as_bytes(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Copies `data` to `out` with every byte that is part of an occurrence of a pattern
    /// masked: overlapping occurrences (of two values, one's end the other's start, or of one
    /// value with itself) become one mask, so no tail of either is left.
    fn replace(&self, data: &[u8], out: &mut Vec<u8>) {
        let mut copied = 0;
        for (start, end) in self.spans(data) {
            out.extend_from_slice(&data[copied..start]);
            out.extend_from_slice(MASK.as_bytes());
            copied = end;
        }
        out.extend_from_slice(&data[copied..]);
    }

    /// Every occurrence of every pattern in `data`, overlapping ones merged, in order.
    fn spans(&self, data: &[u8]) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for p in &self.patterns {
            let finder = memchr::memmem::Finder::new(p);
            let mut from = 0;
            while let Some(at) = finder.find(&data[from..]) {
                found.push((from + at, from + at + p.len()));
                from += at + 1;
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
        merged
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
}
