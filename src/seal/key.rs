//! Ed25519 keys in the text form of Go's `golang.org/x/mod/sumdb/note`: a verifier key
//! `NAME+HASH+BASE64(0x01 || public key)` and a signer key `PRIVATE+KEY+NAME+HASH+BASE64(0x01 ||
//! seed)`, HASH being the first 4 bytes of SHA-256(NAME || "\n" || 0x01 || public key). ring does
//! the signing (the crate rustls already builds, so sealing adds no build time).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

/// The algorithm byte of Ed25519 in signed notes.
const ALG_ED25519: u8 = 0x01;

/// What signs the seals (`--seal KEYFILE`).
pub struct SigningKey {
    pub name: String,
    pub hash: u32,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What checks them (`teelog verify --key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub hash: u32,
    pub public: [u8; 32],
}

/// The key hash of a signed note's Ed25519 key.
pub fn key_hash(name: &str, public: &[u8; 32]) -> u32 {
    let mut data = Vec::with_capacity(name.len() + 34);
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(ALG_ED25519);
    data.extend_from_slice(public);
    let hash = super::sha256(&data);
    u32::from_be_bytes(hash[..4].try_into().expect("4 bytes"))
}

/// Whether `name` can name a key: not empty, no space of any kind, no `+` (signed-note's rule).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace())
}

impl SigningKey {
    /// A fresh key named `name`: its signer line and its verifier line, each without a newline.
    pub fn generate(name: &str) -> Result<(String, String), String> {
        use ring::rand::SecureRandom as _;
        if !valid_name(name) {
            return Err(format!(
                "cannot name a key {name:?}: a key name is not empty and has no space or '+'"
            ));
        }
        let mut seed = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| "cannot get random bytes for a key".to_owned())?;
        let key = SigningKey::from_seed(name, &seed)?;
        let mut encoded = vec![ALG_ED25519];
        encoded.extend_from_slice(&seed);
        let signer = format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            key.name,
            key.hash,
            BASE64.encode(encoded)
        );
        Ok((signer, key.verifier().text()))
    }

    fn from_seed(name: &str, seed: &[u8]) -> Result<SigningKey, String> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| "not an Ed25519 seed".to_owned())?;
        let public: [u8; 32] = pair.public_key().as_ref().try_into().expect("32 bytes");
        Ok(SigningKey {
            name: name.to_owned(),
            hash: key_hash(name, &public),
            pair,
        })
    }

    /// A signer line (`PRIVATE+KEY+NAME+HASH+BASE64`); the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<SigningKey, String> {
        let text = text.trim_end_matches(['\n', '\r']);
        let Some(rest) = text.strip_prefix("PRIVATE+KEY+") else {
            return Err(if VerifierKey::parse(text).is_ok() {
                "it is a verifier key (NAME.pub); --seal takes the signer key (NAME.key)".into()
            } else {
                "not a teelog signer key (PRIVATE+KEY+NAME+HASH+KEY, as teelog keygen writes)"
                    .into()
            });
        };
        let (name, hash, bytes) = split_key(rest)?;
        if bytes.len() != 33 || bytes[0] != ALG_ED25519 {
            return Err("not an Ed25519 key (algorithm 1, 32 bytes)".into());
        }
        let key = SigningKey::from_seed(name, &bytes[1..])?;
        if key.hash != hash {
            return Err(format!(
                "its hash {hash:08x} is not that of its key ({:08x})",
                key.hash
            ));
        }
        Ok(key)
    }

    /// Reads the signer key file `path`; refuses one that others can read, as ssh does.
    pub fn load(path: &Path) -> Result<SigningKey, String> {
        use std::os::unix::fs::PermissionsExt;
        let named = |what: String| format!("key {}: {what}", crate::error::quote(path));
        let text = std::fs::read_to_string(path).map_err(|e| named(e.to_string()))?;
        let mode = std::fs::metadata(path)
            .map_err(|e| named(e.to_string()))?
            .permissions()
            .mode();
        let key = SigningKey::parse(text.lines().next().unwrap_or_default()).map_err(named)?;
        if mode & 0o077 != 0 {
            return Err(named(format!(
                "others can read it (mode {:04o}): chmod 600 it",
                mode & 0o7777
            )));
        }
        Ok(key)
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.pair
            .sign(message)
            .as_ref()
            .try_into()
            .expect("64 bytes")
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            hash: self.hash,
            public: self
                .pair
                .public_key()
                .as_ref()
                .try_into()
                .expect("32 bytes"),
        }
    }
}

/// NAME+HASH+BASE64 split, with the base64 decoded.
fn split_key(text: &str) -> Result<(&str, u32, Vec<u8>), String> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("not a key: it should be NAME+HASH+KEY".into());
    };
    if !valid_name(name) {
        return Err(format!("{name:?} cannot name a key"));
    }
    let hash = (hash.len() == 8)
        .then(|| u32::from_str_radix(hash, 16).ok())
        .flatten()
        .ok_or_else(|| format!("{hash:?} is not a key hash (8 hex digits)"))?;
    let bytes = BASE64
        .decode(key)
        .map_err(|_| "its key is not base64".to_owned())?;
    Ok((name, hash, bytes))
}

impl VerifierKey {
    /// A verifier line (`NAME+HASH+BASE64`); the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<VerifierKey, String> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.starts_with("PRIVATE+KEY+") {
            return Err(
                "it is a signer key (NAME.key), which must stay secret; give the verifier key (NAME.pub)"
                    .into(),
            );
        }
        let (name, hash, bytes) = split_key(text)?;
        if bytes.len() != 33 || bytes[0] != ALG_ED25519 {
            return Err("not an Ed25519 key (algorithm 1, 32 bytes)".into());
        }
        let public: [u8; 32] = bytes[1..].try_into().expect("32 bytes");
        if key_hash(name, &public) != hash {
            return Err(format!("its hash {hash:08x} is not that of its key"));
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            hash,
            public,
        })
    }

    /// `--key`: a verifier key string, or a file holding one or more (one per line, blank lines
    /// and `#` comments allowed).
    pub fn load_all(arg: &str) -> Result<Vec<VerifierKey>, String> {
        if !Path::new(arg).exists()
            && let Ok(key) = VerifierKey::parse(arg)
        {
            return Ok(vec![key]);
        }
        let path = Path::new(arg);
        let named = |what: String| format!("key {}: {what}", crate::error::quote(path));
        let text = std::fs::read_to_string(path).map_err(|e| named(e.to_string()))?;
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(VerifierKey::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(named)?;
        if keys.is_empty() {
            return Err(named("holds no key".into()));
        }
        Ok(keys)
    }

    /// The verifier line, without a newline.
    pub fn text(&self) -> String {
        let mut encoded = vec![ALG_ED25519];
        encoded.extend_from_slice(&self.public);
        format!("{}+{:08x}+{}", self.name, self.hash, BASE64.encode(encoded))
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(message, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Go's note package (golang.org/x/mod/sumdb/note, note_test.go).
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

    #[test]
    fn go_notes_example_keys_are_read_and_agree() {
        let signer = SigningKey::parse(PETER_SKEY).unwrap();
        let verifier = VerifierKey::parse(PETER_VKEY).unwrap();
        assert_eq!(signer.verifier(), verifier);
        assert_eq!(verifier.text(), PETER_VKEY);
        assert_eq!(signer.hash, 0xc74f20a3);
    }

    #[test]
    fn a_generated_key_signs_what_its_verifier_accepts() {
        let (signer, verifier) = SigningKey::generate("db1").unwrap();
        let signer = SigningKey::parse(&signer).unwrap();
        let verifier = VerifierKey::parse(&verifier).unwrap();
        let sig = signer.sign(b"hello\n");
        assert!(verifier.verify(b"hello\n", &sig));
        assert!(!verifier.verify(b"hello!\n", &sig));
        assert!(SigningKey::generate("a+b").is_err());
        assert!(SigningKey::generate("a b").is_err());
        assert!(SigningKey::generate("").is_err());
    }

    #[test]
    fn each_kind_of_wrong_key_says_what_it_is() {
        let err = SigningKey::parse(PETER_VKEY).unwrap_err();
        assert!(err.contains("verifier key"), "{err}");
        let err = VerifierKey::parse(PETER_SKEY).unwrap_err();
        assert!(err.contains("signer key"), "{err}");
        let err = VerifierKey::parse("-----BEGIN PUBLIC KEY-----").unwrap_err();
        assert!(err.contains("not a key"), "{err}");
        let bad_hash = PETER_VKEY.replace("c74f20a3", "c74f20a4");
        assert!(VerifierKey::parse(&bad_hash).unwrap_err().contains("hash"));
    }
}
