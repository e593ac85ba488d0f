//! A seal's note: a C2SP signed note (https://c2sp.org/signed-note) whose text is a
//! tlog-checkpoint (https://c2sp.org/tlog-checkpoint) with teelog's extension lines, in the order
//! docs/sealing.md gives them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Hash, SigningKey, VerifierKey, b64, hash_from_b64};

/// What a seal says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// `HOST/teelog/SESSION`.
    pub origin: String,
    /// The run's lines in this file before the seal.
    pub size: u64,
    pub root: Hash,
    /// The seal's `seq`: that of the record before it.
    pub seq: u64,
    /// The seal's `timestamp`.
    pub time: String,
    /// The log's id ([`super::log_id`]) and the part (0 for the run's first file).
    pub log: String,
    pub part: u64,
    /// SHA-256 of the run's previous seal line, or its chain start.
    pub last: Hash,
    /// Written at the run's end, after its exit record.
    pub last_of_run: bool,
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub hash: u32,
    pub signature: Vec<u8>,
}

/// The origin of a run's seals.
pub fn origin(host: &str, session: &str) -> String {
    // An origin holds no space and no '+'; a host name never does, but say so for any.
    let clean = |s: &str| s.replace(|c: char| c.is_whitespace() || c == '+', "_");
    format!("{}/teelog/{}", clean(host), clean(session))
}

impl Checkpoint {
    /// The note's text, each line with its newline.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\nseq {}\ntime {}\nlog {} {}\nlast {}\nfinal {}\n",
            self.origin,
            self.size,
            b64(&self.root),
            self.seq,
            self.time,
            self.log,
            self.part,
            b64(&self.last),
            if self.last_of_run { "yes" } else { "no" }
        )
    }

    /// The whole signed note: the text, an empty line, the signature line.
    pub fn sign(&self, key: &SigningKey) -> String {
        let text = self.text();
        let mut sig = key.hash.to_be_bytes().to_vec();
        sig.extend_from_slice(&key.sign(text.as_bytes()));
        format!("{text}\n\u{2014} {} {}\n", key.name, BASE64.encode(sig))
    }

    /// A note's text read back; the error says which line is wrong.
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .collect();
        let [origin, size, root, seq, time, log, last, last_of_run] = lines[..] else {
            return Err(format!("a seal's note has 8 lines, not {}", lines.len()));
        };
        let field = |line: &'static str, got: &str| format!("a seal's {line} line is {got:?}");
        fn after<'t>(line: &'t str, key: &'static str) -> Result<&'t str, String> {
            line.strip_prefix(key)
                .and_then(|l| l.strip_prefix(' '))
                .ok_or_else(|| format!("a seal's {key} line is {line:?}"))
        }
        let number = |text: &str, what: &'static str| {
            text.parse::<u64>()
                .ok()
                .filter(|_| !text.starts_with('+'))
                .ok_or_else(|| field(what, text))
        };
        let (log, part) = after(log, "log")?
            .split_once(' ')
            .ok_or_else(|| field("log", log))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: number(size, "size")?,
            root: hash_from_b64(root).ok_or_else(|| field("root", root))?,
            seq: number(after(seq, "seq")?, "seq")?,
            time: after(time, "time")?.to_owned(),
            log: log.to_owned(),
            part: number(part, "part")?,
            last: hash_from_b64(after(last, "last")?).ok_or_else(|| field("last", last))?,
            last_of_run: match after(last_of_run, "final")? {
                "yes" => true,
                "no" => false,
                other => return Err(field("final", other)),
            },
        })
    }
}

/// A signed note split into its text and its signatures; the error says what is malformed.
pub fn open(note: &str) -> Result<(&str, Vec<Signature>), String> {
    let Some(split) = note.rfind("\n\n") else {
        return Err("a seal's note has no signature".into());
    };
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    let mut signatures = Vec::new();
    for line in sigs.strip_suffix('\n').unwrap_or(sigs).split('\n') {
        let bad = || format!("a seal's signature line is {line:?}");
        let rest = line.strip_prefix("\u{2014} ").ok_or_else(bad)?;
        let (name, sig) = rest.split_once(' ').ok_or_else(bad)?;
        let bytes = BASE64.decode(sig).map_err(|_| bad())?;
        if bytes.len() < 5 {
            return Err(bad());
        }
        signatures.push(Signature {
            name: name.to_owned(),
            hash: u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes")),
            signature: bytes[4..].to_vec(),
        });
    }
    Ok((text, signatures))
}

/// How a note's signatures stand against the trusted keys.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    /// A trusted key signed it.
    By(String),
    /// A signature claims a trusted key's name and hash but does not verify.
    Bad(String),
    /// No signature is by a trusted key: the names and hashes it has.
    Untrusted(String),
}

/// Checks `note`'s signatures against `keys`.
pub fn check(text: &str, signatures: &[Signature], keys: &[VerifierKey]) -> Signed {
    let mut bad = None;
    for sig in signatures {
        for key in keys {
            if key.name == sig.name && key.hash == sig.hash {
                if key.verify(text.as_bytes(), &sig.signature) {
                    return Signed::By(key.text());
                }
                bad = Some(format!("{}+{:08x}", key.name, key.hash));
            }
        }
    }
    match bad {
        Some(key) => Signed::Bad(key),
        None => Signed::Untrusted(
            signatures
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.hash))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_notes_example_is_opened_and_its_signature_checked() {
        // golang.org/x/mod/sumdb/note, note_test.go: TestOpen's note, signed by PeterNeumann.
        let note = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\
                    \n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let key = VerifierKey::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        let (text, sigs) = open(note).unwrap();
        assert!(text.ends_with("problem is.\n"));
        assert_eq!(sigs[0].hash, 0xc74f20a3);
        assert!(matches!(
            check(text, &sigs, std::slice::from_ref(&key)),
            Signed::By(_)
        ));
        let forged = text.replace("think", "thunk");
        assert_eq!(
            check(&forged, &sigs, &[key]),
            Signed::Bad("PeterNeumann+c74f20a3".into())
        );
    }

    #[test]
    fn a_checkpoint_signs_and_reads_back() {
        let (signer, verifier) = SigningKey::generate("db1").unwrap();
        let signer = SigningKey::parse(&signer).unwrap();
        let verifier = VerifierKey::parse(&verifier).unwrap();
        let cp = Checkpoint {
            origin: origin("db1", "0193-S"),
            size: 1000,
            root: [7; 32],
            seq: 1000,
            time: "2026-12-04T21:00:00.000001Z".into(),
            log: "0123456789abcdef".into(),
            part: 2,
            last: [9; 32],
            last_of_run: true,
        };
        let note = cp.sign(&signer);
        let (text, sigs) = open(&note).unwrap();
        assert_eq!(Checkpoint::parse(text).unwrap(), cp);
        assert!(matches!(check(text, &sigs, &[verifier]), Signed::By(_)));
        let (_, other) = SigningKey::generate("db1").unwrap();
        let other = VerifierKey::parse(&other).unwrap();
        assert!(matches!(check(text, &sigs, &[other]), Signed::Untrusted(_)));
        assert!(Checkpoint::parse(&text.replace("final yes", "final maybe")).is_err());
        assert!(Checkpoint::parse(&text.replace("\n1000\n", "\n+1000\n")).is_err());
    }
}
