//! Sealed logs (`--seal`, `teelog verify`): the hash chain, the RFC 6962 tree and the signed
//! checkpoints that make a jsonl log tamper-evident. Data and hashing only: the sink stamps and
//! writes, `crate::verify` reads. docs/sealing.md is the format, byte for byte.

pub mod key;
pub mod merkle;
pub mod note;
pub mod sealer;

pub use key::{SigningKey, VerifierKey};
pub use merkle::Tree;
pub use note::Checkpoint;
pub use sealer::{Sealer, Sealing, seq_of};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// What the chain of a run starts from: hashed with the session, it is the first record's
/// `prev` and the first seal's `last`.
pub const CHAIN_V1: &[u8] = b"teelog-chain-v1";

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().try_into().expect("32 bytes")
}

/// The `prev` of a run's first record: SHA-256(`teelog-chain-v1` || session).
pub fn chain_start(session: &str) -> Hash {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(CHAIN_V1);
    ctx.update(session.as_bytes());
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// Standard base64 with padding, as every hash and signature in a sealed log is written.
pub fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// A hash written with [`b64`], read back.
pub fn hash_from_b64(text: &str) -> Option<Hash> {
    let bytes = BASE64.decode(text).ok()?;
    bytes.try_into().ok()
}

/// The `log` id of a seal: the first 16 hex digits of SHA-256 of the log's path as given, so
/// that seals collected elsewhere are matched to the log they seal.
pub fn log_id(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let hash = sha256(path.as_os_str().as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `2012-10-30T22:13:13.000000Z`, as jsonl writes its timestamps.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    use chrono::{DateTime, SecondsFormat, Utc};
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_starts_from_the_session_hashed_after_the_version() {
        // python3 -c 'import hashlib;print(hashlib.sha256(b"teelog-chain-v1S").hexdigest())'
        let hex: String = chain_start("S")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, hex_sha256(b"teelog-chain-v1S"));
        assert_eq!(
            hash_from_b64(&b64(&chain_start("S"))),
            Some(chain_start("S"))
        );
        assert_eq!(hash_from_b64("AAAA"), None);
    }

    /// SHA-256 by the known answer for "abc" (FIPS 180-2), then as hex for the others.
    fn hex_sha256(bytes: &[u8]) -> String {
        assert_eq!(
            sha256(b"abc")[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256 of abc starts ba7816bf"
        );
        sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }
}
