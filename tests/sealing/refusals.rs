//! What teelog refuses, in one line naming the thing and exit 125, before it records or
//! verifies anything: keys missing, unreadable or of the wrong kind, a file that is not a jsonl
//! log, a signer key that others can read; and the key pair `teelog keygen` writes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// Checks that teelog refused in one line naming `what`, with 125.
#[track_caller]
fn refused(code: Option<i32>, stderr: &str, what: &Path) {
    let name = what.display().to_string();
    assert!(
        code == Some(125)
            && stderr.lines().count() == 1
            && stderr.starts_with("teelog: ")
            && stderr.contains(&name),
        "want one line naming {name} and 125, got {code:?}: {stderr}"
    );
}

/// An RSA private key in PEM, by openssl, mode 0600.
#[track_caller]
fn rsa_key(path: &Path) -> PathBuf {
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.to_owned()
}

fn verify_refuses_bad_keys_and_files_in_one_line_with_125() {
    let s = Sealed::new();
    s.record("seq 1 10", &[]);
    let (file, empty) = (s.path("file"), s.path("empty.pub"));
    std::fs::write(&file, "x\n").unwrap();
    std::fs::create_dir(&empty).unwrap();
    let rsa = rsa_key(&s.path("rsa.pem"));
    // A key missing, one that cannot be read (a directory; a path under a file: root reads
    // any mode), one of the wrong kind (the signer key, an RSA key).
    for key in [
        s.path("missing.pub"),
        empty,
        file.join("under.pub"),
        s.key.clone(),
        rsa,
    ] {
        let v = s.verify(&[&"--key", &key, &s.log]);
        refused(v.code, &v.stderr, &key);
    }
    let plain = s.path("plain.log");
    std::fs::write(&plain, "just text\nnot json\n").unwrap();
    let v = s.verify(&[&plain]);
    refused(v.code, &v.stderr, &plain);
}

fn seal_refuses_bad_keys_in_one_line_with_125() {
    let s = Sealed::new();
    let (file, dir) = (s.path("file"), s.path("dir.key"));
    std::fs::write(&file, "x\n").unwrap();
    std::fs::create_dir(&dir).unwrap();
    // The verifier key and a signer key others can read, each copied: only one thing wrong.
    let (public, open) = (s.path("public.key"), s.path("open.key"));
    for (from, to, mode) in [(&s.public, &public, 0o600), (&s.key, &open, 0o644)] {
        std::fs::copy(from, to).unwrap();
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let rsa = rsa_key(&s.path("rsa.pem"));
    let ran = s.path("ran");
    for key in [
        s.path("missing.key"),
        dir,
        file.join("under.key"),
        public,
        rsa,
        open,
    ] {
        let out = teelog()
            .arg("--seal")
            .arg(&key)
            .arg("-o")
            .arg(format!("jsonl={}", s.log.display()))
            .arg("--")
            .arg("touch")
            .arg(&ran)
            .output()
            .unwrap();
        refused(out.status.code(), &text(&out.stderr), &key);
        assert!(
            !ran.exists(),
            "the command ran with --seal {}",
            key.display()
        );
    }
}

fn keygen_writes_a_matching_pair_and_never_overwrites_it() {
    let s = Sealed::new();
    let (key, public) = (read(&s.key), text(&read(&s.public)));
    assert_eq!(
        std::fs::metadata(&s.public).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // The signer's seed, as openssl's PKCS#8, gives the verifier key's public key.
    let key_line = text(&key);
    let fields: Vec<&str> = key_line.trim().splitn(5, '+').collect();
    assert_eq!(fields[..3], ["PRIVATE", "KEY", "test"], "{}", text(&key));
    assert_eq!(
        public.trim().splitn(3, '+').take(2).collect::<Vec<_>>(),
        ["test", fields[3]]
    );
    let seed = BASE64.decode(fields[4]).unwrap();
    assert_eq!((seed.len(), seed[0]), (33, 1));
    let mut der = hex("302e020100300506032b657004220420");
    der.extend(&seed[1..]);
    let private = s.path("private.pem");
    let pem_text = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        BASE64.encode(der)
    );
    std::fs::write(&private, pem_text).unwrap();
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&private)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raw = BASE64
        .decode(public.trim().splitn(3, '+').nth(2).unwrap())
        .unwrap();
    assert!(
        out.stdout.ends_with(&raw[1..]) && raw[0] == 1,
        "the pair does not match"
    );
    // Asked again, keygen refuses and leaves both files as they were.
    let keys = s.key.parent().unwrap();
    let again = teelog()
        .arg("keygen")
        .arg(keys)
        .args(["--name", "test"])
        .output()
        .unwrap();
    refused(again.status.code(), &text(&again.stderr), &s.key);
    assert!(read(&s.key) == key && text(&read(&s.public)) == public);
}

crate::trials![
    verify_refuses_bad_keys_and_files_in_one_line_with_125[OPENSSL],
    seal_refuses_bad_keys_in_one_line_with_125[OPENSSL],
    keygen_writes_a_matching_pair_and_never_overwrites_it[OPENSSL],
];
