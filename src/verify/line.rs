//! What verify reads of each line: type, session, seq, and the stamped fields (`part`,
//! `last_seal`, `prev`). A fast scan of the fixed layout the writer makes (`{"type":..,
//! "timestamp":..,"session":..` first, the stamps last, docs/sealing.md); serde only for a line
//! the scan does not recognise (changed, or written by something else).

use crate::seal::{Hash, hash_from_b64};

/// `"seq":`, searched for in every line (the searcher made once).
static SEQ: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"seq\":"));

/// A teelog record, as far as verify needs it.
#[derive(Debug, PartialEq, Eq)]
pub struct Head<'l> {
    pub kind: &'l [u8],
    pub session: &'l [u8],
    pub seq: Option<u64>,
    /// None: the line carries no (readable) `prev`.
    pub prev: Option<Hash>,
    /// `part` and `last_seal`, on a run's first line in a file after its first.
    pub part: Option<(u64, Option<Hash>)>,
}

/// The line `bytes` (newline included) read as a record; `None` when it is not one (not JSON,
/// or no `type` and `session` strings). Serde's reading is returned through `owned` when the
/// fast scan does not apply.
pub fn read<'l>(bytes: &'l [u8], owned: &'l mut Option<Owned>) -> Option<Head<'l>> {
    if let Some(head) = scan(bytes) {
        return Some(head);
    }
    *owned = Some(Owned::parse(bytes)?);
    owned.as_ref().map(Owned::head)
}

/// The layout the writer makes, or None.
fn scan(line: &[u8]) -> Option<Head<'_>> {
    let rest = line.strip_prefix(b"{\"type\":\"")?;
    let (kind, rest) = string(rest)?;
    let rest = rest.strip_prefix(b",\"timestamp\":\"")?;
    let (_, rest) = string(rest)?;
    let rest = rest.strip_prefix(b",\"session\":\"")?;
    let (session, rest) = string(rest)?;
    let (body, prev) = stamp(line, b"prev", b"\"}\n")?;
    let seq = SEQ.find(rest).and_then(|at| number(&rest[at + 6..]));
    let part = match stamp(body, b"last_seal", b"\"") {
        Some((before, last_seal)) => {
            let at = memchr::memmem::rfind(before, b",\"part\":")?;
            Some((number(&before[at + 8..])?, last_seal))
        }
        None => None,
    };
    Some(Head {
        kind,
        session,
        seq,
        prev,
        part,
    })
}

/// A string's bytes up to its closing quote, and what follows it; None if it has an escape (the
/// scan then leaves the line to serde).
fn string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr::memchr2(b'"', b'\\', bytes)?;
    (bytes[end] == b'"').then(|| (&bytes[..end], &bytes[end + 1..]))
}

/// `line` ending `,"NAME":"<44 chars>` and `end`: what comes before, and the hash (None if it
/// does not decode).
fn stamp<'l>(line: &'l [u8], name: &[u8], end: &[u8]) -> Option<(&'l [u8], Option<Hash>)> {
    let body = line.strip_suffix(end)?;
    let (before, b64) = body.split_at_checked(body.len().checked_sub(44)?)?;
    let before = before.strip_suffix(b"\":\"")?.strip_suffix(name)?;
    let before = before.strip_suffix(b",\"")?;
    // 32 bytes are 43 characters and one '=' (base64-simd asserts that they fit).
    let mut hash = [0; 32];
    let hash = (b64[43] == b'=' && b64[42] != b'=')
        .then(|| base64_simd::STANDARD.decode(b64, base64_simd::Out::from_slice(&mut hash)))
        .and_then(Result::ok)
        .and_then(|decoded| Hash::try_from(&*decoded).ok());
    Some((before, hash))
}

/// The decimal number at the start of `bytes`.
fn number(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    bytes[..digits].iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// A record read by serde: fields in any order, escapes in its strings.
#[derive(Debug)]
pub struct Owned {
    kind: String,
    session: String,
    seq: Option<u64>,
    prev: Option<Hash>,
    part: Option<(u64, Option<Hash>)>,
}

impl Owned {
    fn parse(bytes: &[u8]) -> Option<Owned> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let object = value.as_object()?;
        let text = |key: &str| object.get(key).and_then(|v| v.as_str());
        let hash = |key: &str| text(key).and_then(hash_from_b64);
        Some(Owned {
            kind: text("type")?.to_owned(),
            session: text("session")?.to_owned(),
            seq: object.get("seq").and_then(serde_json::Value::as_u64),
            prev: hash("prev"),
            part: object
                .get("part")
                .and_then(serde_json::Value::as_u64)
                .map(|p| (p, hash("last_seal"))),
        })
    }

    fn head(&self) -> Head<'_> {
        Head {
            kind: self.kind.as_bytes(),
            session: self.session.as_bytes(),
            seq: self.seq,
            prev: self.prev,
            part: self.part,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{b64, sha256};

    #[test]
    fn the_scan_reads_what_serde_reads() {
        let prev = b64(&sha256(b"p"));
        let last = b64(&sha256(b"l"));
        let lines = [
            format!(
                "{{\"type\":\"output\",\"timestamp\":\"T\",\"session\":\"S\",\"pid\":1,\"stream\":\"stdout\",\"seq\":12,\"message\":\"\\\"seq\\\":3 prev\",\"prev\":\"{prev}\"}}\n"
            ),
            format!(
                "{{\"type\":\"output\",\"timestamp\":\"T\",\"session\":\"S\",\"seq\":7,\"message\":\"x\",\"part\":2,\"last_seal\":\"{last}\",\"prev\":\"{prev}\"}}\n"
            ),
            "{\"type\":\"exit\",\"timestamp\":\"T\",\"session\":\"S\",\"seq\":9,\"code\":0}\n"
                .into(),
        ];
        for line in &lines {
            let fast = scan(line.as_bytes());
            let slow = Owned::parse(line.as_bytes()).unwrap();
            if line.contains("prev") {
                assert_eq!(fast.as_ref(), Some(&slow.head()), "{line}");
            }
            let mut owned = None;
            assert_eq!(
                read(line.as_bytes(), &mut owned),
                Some(slow.head()),
                "{line}"
            );
        }
        let head = scan(lines[1].as_bytes()).unwrap();
        assert_eq!(head.part, Some((2, Some(sha256(b"l")))));
        assert_eq!(head.seq, Some(7));
        // Escapes and other orders go to serde, and still read.
        let odd = format!(
            "{{\"session\":\"S\\u0041\",\"type\":\"output\",\"seq\":3,\"prev\":\"{prev}\",\"timestamp\":\"T\"}}\n"
        );
        assert_eq!(scan(odd.as_bytes()), None);
        let mut owned = None;
        let head = read(odd.as_bytes(), &mut owned).unwrap();
        assert_eq!((head.session, head.seq), (&b"SA"[..], Some(3)));
        assert_eq!(head.prev, Some(sha256(b"p")));
        for not in ["hello\n", "[1]\n", "{\"type\":\"x\"}\n", ""] {
            assert_eq!(read(not.as_bytes(), &mut None), None, "{not}");
        }
    }

    #[test]
    fn a_prev_that_does_not_decode_reads_as_none() {
        let line = format!(
            "{{\"type\":\"output\",\"timestamp\":\"T\",\"session\":\"S\",\"seq\":1,\"prev\":\"{}\"}}\n",
            "!".repeat(44)
        );
        assert_eq!(scan(line.as_bytes()).unwrap().prev, None);
        for b64 in [
            "A".repeat(44),
            format!("{}==", "A".repeat(42)),
            format!("{}!=", "A".repeat(42)),
        ] {
            let line = line.replace(&"!".repeat(44), &b64);
            assert_eq!(scan(line.as_bytes()).unwrap().prev, None, "{b64}");
        }
        assert_eq!(number(b"99999999999999999999"), None);
    }
}
