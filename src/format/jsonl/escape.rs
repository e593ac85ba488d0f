//! The JSON string codec of the jsonl writer's fast path: text appended as a JSON string exactly
//! as serde_json escapes it, a branch-free check for the plain ASCII most log lines are, and the
//! one-pass lossy rendering of a line that is not UTF-8. Unit tests hold each to serde's output.

use serde::Serialize;

/// Appends `text` as a JSON string, escaped as serde_json escapes it. Most log text needs no
/// escaping (serde_json escapes only control characters, `"` and `\\`): a branch-free scan,
/// which the compiler vectorises, finds that out and the text is copied as it is.
pub(super) fn push_str(out: &mut Vec<u8>, text: &str) {
    let needs_escape = text.bytes().fold(false, |needs, b| {
        needs | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        push_json_value(out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether `bytes` is ASCII that a JSON string holds as it is (no control character, `"` or
/// `\`), so that neither UTF-8 validation nor escaping is needed. Each block of 32 bytes is
/// checked without a branch, which the compiler turns into a few vector compares: on 80-byte log
/// lines, validating and then scanning for escapes took about three times as many instructions
/// (callgrind, issue 13).
pub(super) fn is_plain_ascii(bytes: &[u8]) -> bool {
    const BLOCK: usize = 32;
    fn plain(block: &[u8; BLOCK]) -> bool {
        // As i8, exactly the bytes 0x20 to 0x7F are at least 0x20.
        let bad = block.iter().fold(0u8, |bad, &b| {
            bad | u8::from((b as i8) < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
        });
        bad == 0
    }
    let (blocks, rest) = bytes.as_chunks::<BLOCK>();
    if !blocks.iter().all(plain) {
        return false;
    }
    // The rest as one more block: the last 32 bytes (some seen already), or the rest padded
    // with spaces. A byte-by-byte loop over it cost more than all the blocks before.
    let last = match bytes.len().checked_sub(BLOCK) {
        Some(start) if !rest.is_empty() => bytes[start..].try_into().ok(),
        Some(_) => None,
        None => {
            let mut padded = [b' '; BLOCK];
            padded[..rest.len()].copy_from_slice(rest);
            Some(padded)
        }
    };
    last.is_none_or(|block| plain(&block))
}

/// Appends, as a JSON string, what `serde_json` writes for `String::from_utf8_lossy(bytes)`, in
/// one pass: each ill-formed sequence (a maximal subpart, as std replaces it) becomes U+FFFD and
/// control characters, `"` and `\\` are escaped. Two passes (std's lossy decoding, then serde's
/// escaping) cost three times as much on binary output; a unit test holds this to their result.
///
/// The output is written into room made once for the worst case (every byte a six-byte `\u00XX`
/// escape, plus a word of slack) and cut to size at the end. Every byte but a UTF-8 lead byte
/// becomes a fixed piece of at most six bytes from [`PIECES`], stored as one eight-byte word: on
/// binary output, where ill-formed bytes and control characters come every few bytes, choosing
/// between three kinds of byte and appending each piece cost far more (branches the CPU cannot
/// predict on random bytes; see issue 13's note).
pub(super) fn push_lossy(out: &mut Vec<u8>, bytes: &[u8]) {
    /// Bytes decoded per pass: the room made for them stays in the CPU's nearest cache.
    const BLOCK: usize = 4096;
    out.push(b'"');
    let mut i = 0;
    while i < bytes.len() {
        let end = (i + BLOCK).min(bytes.len());
        let start = out.len();
        // Six bytes for each (an escape), and a word of slack for the last store.
        out.resize(start + (end - i) * 6 + 8, 0);
        let to = &mut out[start..];
        let mut o = 0;
        // A UTF-8 sequence may run past `end`: it is decoded whole, and the next pass starts
        // after it.
        while i < end {
            let (piece, len) = PIECES[usize::from(bytes[i])];
            if len > 0 {
                to[o..o + 8].copy_from_slice(&piece);
                o += usize::from(len);
                i += 1;
                continue;
            }
            // A lead byte: a whole sequence is copied, an ill-formed one replaced.
            match utf8_sequence(&bytes[i..]) {
                Ok(len) => {
                    to[o..o + len].copy_from_slice(&bytes[i..i + len]);
                    o += len;
                    i += len;
                }
                Err(len) => {
                    to[o..o + 8].copy_from_slice(&PIECES[0x80].0);
                    o += 3;
                    i += len;
                }
            }
        }
        out.truncate(start + o);
    }
    out.push(b'"');
}

/// For each byte, what [`push_lossy`] writes for it, padded to eight bytes, and how long that is;
/// length 0 for a byte that may start a well-formed UTF-8 sequence (0xC2 to 0xF4). ASCII is
/// itself or serde_json's escape; any other byte is ill-formed wherever it stands: U+FFFD.
const PIECES: [([u8; 8], u8); 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut pieces = [([0; 8], 0); 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        pieces[b] = match byte {
            b'"' | b'\\' => ([b'\\', byte, 0, 0, 0, 0, 0, 0], 2),
            0x08 => ([b'\\', b'b', 0, 0, 0, 0, 0, 0], 2),
            0x0C => ([b'\\', b'f', 0, 0, 0, 0, 0, 0], 2),
            b'\n' => ([b'\\', b'n', 0, 0, 0, 0, 0, 0], 2),
            b'\r' => ([b'\\', b'r', 0, 0, 0, 0, 0, 0], 2),
            b'\t' => ([b'\\', b't', 0, 0, 0, 0, 0, 0], 2),
            0x00..=0x1F => (
                [b'\\', b'u', b'0', b'0', HEX[b >> 4], HEX[b & 0xF], 0, 0],
                6,
            ),
            0x20..=0x7F => ([byte, 0, 0, 0, 0, 0, 0, 0], 1),
            0xC2..=0xF4 => ([0; 8], 0),
            _ => ([0xEF, 0xBF, 0xBD, 0, 0, 0, 0, 0], 3),
        };
        b += 1;
    }
    pieces
};

/// The length of the well-formed UTF-8 sequence that `b` starts with (`b[0] >= 0x80`), or
/// `Err` with the length of the ill-formed part to replace (Unicode table 3-7).
fn utf8_sequence(b: &[u8]) -> Result<usize, usize> {
    let (len, second) = match b[0] {
        0xC2..=0xDF => (2, 0x80..=0xBF),
        0xE0 => (3, 0xA0..=0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80..=0xBF),
        0xED => (3, 0x80..=0x9F),
        0xF0 => (4, 0x90..=0xBF),
        0xF1..=0xF3 => (4, 0x80..=0xBF),
        0xF4 => (4, 0x80..=0x8F),
        _ => return Err(1),
    };
    if !b.get(1).is_some_and(|c| second.contains(c)) {
        return Err(1);
    }
    for k in 2..len {
        if !b.get(k).is_some_and(|c| (0x80..=0xBF).contains(c)) {
            return Err(k);
        }
    }
    Ok(len)
}

pub(super) fn push_json_value(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    // Serializing strings, numbers and these structs (no maps with non-string keys) into a Vec
    // cannot fail.
    serde_json::to_writer(&mut *out, value).expect("a jsonl value always serializes");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::testing::xorshift;

    #[test]
    fn push_lossy_writes_what_serde_writes_for_the_lossy_string() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        // Random bytes, and random picks from bytes that make UTF-8 edge cases likely.
        let edges: &[u8] = b"\x00\x08\x0c\x1f\"\\a\x7f\x80\xbf\xc0\xc1\xc2\xdf\xe0\xa0\x9f\xed\xef\xf0\x90\x8f\xf4\xf5\xff";
        for round in 0..20_000 {
            // Long lines too, which push_lossy decodes in blocks a sequence may straddle.
            let len = match round % 100 {
                0 | 1 => (next() % 20_000) as usize,
                _ => (next() % 24) as usize,
            };
            let line: Vec<u8> = (0..len)
                .map(|_| match round % 2 {
                    0 => next() as u8,
                    _ => edges[(next() % edges.len() as u64) as usize],
                })
                .collect();
            let mut fast = Vec::new();
            push_lossy(&mut fast, &line);
            let slow = serde_json::to_vec(&String::from_utf8_lossy(&line)).unwrap();
            assert_eq!(fast, slow, "{line:x?}");
        }
    }
}
