//! Sealed jsonl logs (`--seal`, `teelog keygen`, `teelog verify`; the format is docs/sealing.md)
//! through the real binary: an untouched log verifies, and its every `prev`, Merkle root and
//! signature check again without teelog (Python's hashlib, the openssl command line); each kind
//! of tampering gets its verdict, at its file and line; a killed run, a log never sealed, bad
//! keys and files; and seals shipped to a private rsyslogd and to the journal catch a log whose
//! tail was replaced and sealed again with the same key.
//!
//! The forger and the independent checker are Python, in fixtures/sealing/, run with
//! `python3 -c`; the forger signs with `openssl pkeyutl -sign -rawin`.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::harness::Need;
use crate::util::*;

pub mod off_host;
pub mod refusals;
pub mod shared;
pub mod verdicts;

pub const PYTHON3: Need = Need {
    name: "python3",
    what: "python3",
    check: || {
        Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    },
};

/// Checks a sealed log as docs/sealing.md says, with hashlib alone; writes each seal's signed
/// text and signature for openssl; prints how many seals there were.
const CHECKER: &str = include_str!("../fixtures/sealing/check.py");

/// Rewrites a sealed log with fresh `prev` values and fresh seals signed with a given key.
const FORGER: &str = include_str!("../fixtures/sealing/forge.py");

/// 5000 numbered lines: 5002 records, sealed every 1000.
const NUMBERED: &str = "seq 1 5000";

/// 1500 lines on each stream, each with a byte that is not UTF-8, then a line without newline.
const MIXED: &str = "i=0; while [ $i -lt 1500 ]; do i=$((i+1)); printf 'out %d \\377\\n' $i; \
                     printf 'err %d \\376\\000x\\n' $i >&2; done; printf 'no newline'";

/// What [`MIXED`] prints on stdout and on stderr.
fn mixed() -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for i in 1..=1500 {
        out.extend([format!("out {i} ").as_bytes(), b"\xff\n"].concat());
        err.extend([format!("err {i} ").as_bytes(), b"\xfe\0x\n"].concat());
    }
    out.extend(b"no newline");
    (out, err)
}

/// A directory with a key pair `test` where `teelog verify` looks by default
/// (`$XDG_CONFIG_HOME/teelog/keys`), and the path of a log in it.
struct Sealed {
    dir: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
    log: PathBuf,
}

/// What `teelog verify` said: its verdict is the first line of its stdout.
#[derive(Debug)]
struct Verdict {
    code: Option<i32>,
    first: String,
    stdout: String,
    stderr: String,
}

impl Sealed {
    fn new() -> Sealed {
        let dir = tempdir();
        let keys = dir.path().join("config/teelog/keys");
        std::fs::create_dir_all(&keys).unwrap();
        let (key, public) = keygen(&keys, "test");
        let log = dir.path().join("run.jsonl");
        Sealed {
            dir,
            key,
            public,
            log,
        }
    }

    /// [`NUMBERED`], sealed every 1000 records.
    fn numbered() -> Sealed {
        let sealed = Sealed::new();
        sealed.record(NUMBERED, &["--seal-every", "1000"]);
        sealed
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Records `sh -c script` into the log, sealed with the key, with `flags`; no seal on a
    /// timer, so that where the seals fall depends on the records alone.
    fn record(&self, script: &str, flags: &[&str]) {
        run(
            teelog()
                .arg("-q")
                .arg("--seal")
                .arg(&self.key)
                .args(["--seal-interval", "3600"])
                .args(flags)
                .arg("-o")
                .arg(format!("jsonl={}", self.log.display()))
                .args(["--", "sh", "-c", script]),
            0,
        );
    }

    /// `teelog verify ARGS`, which trusts the key `test` by default.
    fn verify(&self, args: &[&dyn AsRef<OsStr>]) -> Verdict {
        let out = teelog()
            .arg("verify")
            .args(args.iter().map(|a| a.as_ref()))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("HOME", self.dir.path())
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        Verdict {
            code: out.status.code(),
            first: stdout.lines().next().unwrap_or("").to_owned(),
            stdout,
            stderr: text(&out.stderr),
        }
    }

    /// `teelog verify LOG`.
    fn verify_log(&self) -> Verdict {
        self.verify(&[&self.log])
    }

    /// Rewrites the log in place with the forger, signing with `key`.
    fn forge(&self, key: &Path) {
        let forged = self.path("forged.jsonl");
        let out = Command::new("python3")
            .args(["-c", FORGER])
            .args([key, &self.log, &forged])
            .output()
            .unwrap();
        assert!(out.status.success(), "the forger: {}", text(&out.stderr));
        std::fs::rename(forged, &self.log).unwrap();
    }
}

/// `teelog keygen DIR --name NAME`: the signer key (mode 0600) and the verifier key.
#[track_caller]
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    run(teelog().arg("keygen").arg(dir).args(["--name", name]), 0);
    let (key, public) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", key.display());
    assert!(public.is_file(), "{}", public.display());
    (key, public)
}

/// Checks that `v` says `want` (then nothing, or a separator and more) and exits with `code`.
#[track_caller]
fn says(v: &Verdict, want: &str, code: i32) {
    let rest = v.first.strip_prefix(want);
    let said = rest.is_some_and(|r| !r.starts_with(char::is_alphanumeric))
        && !(want == "OK" && v.first.starts_with("OK with"));
    assert!(
        said && v.code == Some(code),
        "want {want:?} and exit {code}, got {:?} and exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        v.first,
        v.code,
        v.stdout,
        v.stderr
    );
}

/// The lines of `path`, each with its newline.
fn lines(path: &Path) -> Vec<Vec<u8>> {
    read(path)
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path, lines.concat()).unwrap();
}

/// Line `n` (from 1) of `lines`, parsed.
#[track_caller]
fn line(lines: &[Vec<u8>], n: usize) -> Value {
    parsed(&lines[n - 1])
}

#[track_caller]
fn parsed(line: &[u8]) -> Value {
    serde_json::from_slice(line).unwrap_or_else(|e| panic!("{e}: {}", text(line)))
}

/// Changes the first digit of the line's message into another: the line stays valid JSON.
#[track_caller]
fn flip_digit(line: &mut [u8]) {
    let key = b"\"message\":\"";
    let start = line.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let at = start + line[start..].iter().position(u8::is_ascii_digit).unwrap();
    line[at] = if line[at] == b'9' { b'0' } else { line[at] + 1 };
}

/// Runs the Python checker on `files` (one run, oldest first) logged as `given`; `Ok(seals)`
/// when it accepts them, with each seal's text and signature in `out`, else what it said.
fn check_in_python(
    public: &Path,
    given: &Path,
    files: &[PathBuf],
    out: &Path,
) -> Result<usize, String> {
    std::fs::create_dir_all(out).unwrap();
    let run = Command::new("python3")
        .args(["-c", CHECKER])
        .args([public, given, out])
        .args(files)
        .output()
        .unwrap();
    match run.status.success() {
        true => Ok(text(&run.stdout).trim().parse().unwrap()),
        false => Err(text(&run.stderr)),
    }
}

/// The verifier key in `public` as a PEM file for openssl: the DER prefix of an Ed25519
/// SubjectPublicKeyInfo, then the raw 32 bytes.
#[track_caller]
fn pem(public: &Path, pem: &Path) -> PathBuf {
    let line = text(&read(public));
    let raw = BASE64
        .decode(line.trim().splitn(3, '+').nth(2).unwrap())
        .unwrap();
    assert_eq!((raw.len(), raw[0]), (33, 1), "{line}");
    let mut der = hex("302a300506032b6570032100");
    der.extend(&raw[1..]);
    let body = BASE64.encode(der);
    std::fs::write(
        pem,
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"),
    )
    .unwrap();
    pem.to_owned()
}

/// Whether `openssl pkeyutl -verify -rawin` accepts `sig` over `text` with the key in `pem`.
fn openssl_accepts(pem: &Path, text: &Path, sig: &Path) -> bool {
    Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(pem)
        .arg("-rawin")
        .arg("-in")
        .arg(text)
        .arg("-sigfile")
        .arg(sig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// Checks `files` with Python and every seal's signature with openssl; returns the seals' count.
#[track_caller]
fn check_independently(sealed: &Sealed, public: &Path, files: &[PathBuf]) -> usize {
    let out = sealed.path("notes");
    let seals = check_in_python(public, &sealed.log, files, &out)
        .unwrap_or_else(|e| panic!("python rejects {files:?}: {e}"));
    let pem = pem(public, &sealed.path("pub.pem"));
    for n in 0..seals {
        let (text, sig) = (
            out.join(format!("seal-{n}.txt")),
            out.join(format!("seal-{n}.sig")),
        );
        assert!(
            openssl_accepts(&pem, &text, &sig),
            "openssl rejects seal {n}: {}",
            self::text(&read(&text))
        );
    }
    seals
}

fn an_untouched_sealed_log_is_ok() {
    let (out, err) = mixed();
    let numbered: Vec<u8> = (1..=5000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    for (script, stdout, stderr) in [(NUMBERED, numbered, Vec::new()), (MIXED, out, err)] {
        let s = Sealed::new();
        s.record(script, &["--seal-every", "1000"]);
        let all = records(&read(&s.log));
        let (seals, rest): (Vec<Value>, Vec<Value>) =
            all.iter().cloned().partition(|r| r["type"] == "seal");
        // The seals aside, the log is a whole run of what the command printed, every byte.
        check_run(&rest);
        assert!(rebuild(&rest, "stdout") == stdout, "{script}: stdout");
        assert!(rebuild(&rest, "stderr") == stderr, "{script}: stderr");
        // A seal after at most 1000 records, and the final one last, after the exit record.
        let mut unsealed = 0;
        for r in &all {
            assert!(r["prev"].is_string(), "{r}");
            match r["type"] == "seal" {
                true => unsealed = 0,
                false => unsealed += 1,
            }
            assert!(unsealed <= 1000, "{script}: 1001 records without a seal");
        }
        assert!(
            seals.len() > rest.len() / 1000,
            "{script}: {} seals",
            seals.len()
        );
        let finals: Vec<&Value> = seals.iter().filter(|r| r["final"] == true).collect();
        assert_eq!(
            finals,
            [all.last().unwrap()],
            "{script}: one final seal, last"
        );
        assert_eq!(all[all.len() - 2]["type"], "exit");
        // Trusted by default, by --key FILE and by --key STRING alike.
        let string = text(&read(&s.public)).trim().to_owned();
        says(&s.verify_log(), "OK", 0);
        says(&s.verify(&[&"--require-sealed", &s.log]), "OK", 0);
        says(&s.verify(&[&"--key", &s.public, &s.log]), "OK", 0);
        says(&s.verify(&[&"--key", &string, &s.log]), "OK", 0);
    }
}

fn every_seal_checks_with_python_and_openssl() {
    for script in [NUMBERED, MIXED] {
        let s = Sealed::new();
        s.record(script, &["--seal-every", "1000"]);
        let seals = check_independently(&s, &s.public, std::slice::from_ref(&s.log));
        let in_log = records(&read(&s.log))
            .iter()
            .filter(|r| r["type"] == "seal")
            .count();
        assert_eq!(seals, in_log, "{script}");
        // Neither check accepts everything: openssl refuses a changed text, Python a changed line.
        let (notes, pem) = (s.path("notes"), s.path("pub.pem"));
        let mut note = read(&notes.join("seal-0.txt"));
        note[0] ^= 1;
        std::fs::write(notes.join("changed.txt"), note).unwrap();
        assert!(!openssl_accepts(
            &pem,
            &notes.join("changed.txt"),
            &notes.join("seal-0.sig")
        ));
        let mut changed = lines(&s.log);
        flip_digit(&mut changed[1500]);
        let tampered = s.path("tampered.jsonl");
        write_lines(&tampered, &changed);
        let said = check_in_python(&s.public, &s.log, &[tampered], &notes).unwrap_err();
        assert!(said.contains("tampered.jsonl:1502"), "{said}");
    }
}

/// The bytes of hex `digits`.
fn hex(digits: &str) -> Vec<u8> {
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

crate::trials![
    an_untouched_sealed_log_is_ok,
    every_seal_checks_with_python_and_openssl[PYTHON3, OPENSSL],
];
