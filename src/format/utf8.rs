//! Where UTF-8 text may be cut: shared by the formatters that hold partial lines (classic, jsonl),
//! so that a character split by a read boundary, a pause or a length cap stays whole.

/// How many bytes at the end of `b` are the start of a UTF-8 sequence that is not complete yet.
pub fn incomplete_tail(b: &[u8]) -> usize {
    let from = b.len().saturating_sub(4);
    for i in (from..b.len()).rev() {
        if b[i] & 0xC0 != 0x80 {
            return match std::str::from_utf8(&b[i..]) {
                Err(e) if e.error_len().is_none() => b.len() - i,
                _ => 0,
            };
        }
    }
    0
}

/// Where to cut `b` so the first part has at most `max` bytes and, where possible, does not end
/// inside a UTF-8 character.
pub fn cut_point(b: &[u8], max: usize) -> usize {
    max - incomplete_tail(&b[..max])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_tail_finds_only_unfinished_sequences() {
        assert_eq!(incomplete_tail(b"abc"), 0);
        assert_eq!(incomplete_tail(b"ab\xc3"), 1);
        assert_eq!(incomplete_tail(b"ab\xe2\x82"), 2);
        assert_eq!(incomplete_tail(b"ab\xe2\x82\xac"), 0);
        assert_eq!(incomplete_tail(b"ab\xff"), 0);
        assert_eq!(incomplete_tail(b"\xf0\x9f\x98"), 3);
    }

    #[test]
    fn cut_point_backs_off_to_a_character_boundary() {
        assert_eq!(cut_point("aé".as_bytes(), 2), 1);
        assert_eq!(cut_point("aé".as_bytes(), 3), 3);
        assert_eq!(cut_point(b"\xff\xff\xff", 2), 2);
    }
}
