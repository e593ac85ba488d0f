//! The certificates of the TLS tests, made once per run of the test binary with the `openssl`
//! command line, as docs/research/relp-tls.md (section 2.4) shows: a CA, `server.test` (whose
//! SAN also names 127.0.0.1, so that a client may verify the server by its address), the client
//! `client.test` that the servers permit, and a second CA that signed none of them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::util::*;

/// The directory holding `ca.pem`, `server.pem`/`server.key`, `client.pem`/`client.key` and
/// `other-ca.pem`.
#[derive(Debug)]
pub struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// A file of the set, by name (`"ca.pem"`, `"client.key"`...).
    pub fn file(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        assert!(path.exists(), "no certificate file {}", path.display());
        path
    }
}

/// The run's certificates, made on first use. They live in target/tmp: a static is never
/// dropped, so the directory stays after the run, and the next runs remove those a day old.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        require(&OPENSSL);
        remove_old(Path::new(env!("CARGO_TARGET_TMPDIR")));
        let dir = tempfile::Builder::new()
            .prefix("teelog-certs-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("a directory for the certificates");
        make(dir.path());
        Certs { dir }
    })
}

/// Removes the certificate directories of runs a day old or more from `tmp`.
fn remove_old(tmp: &Path) {
    let day = std::time::Duration::from_secs(24 * 3600);
    for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= day));
        if old
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with("teelog-certs-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `openssl ARGS` in `dir`; fails the test with what it said when it fails.
#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
}

/// A self-signed CA named `cn`, as `name.pem` and `name.key`.
fn authority(dir: &Path, name: &str, cn: &str) {
    let (key, pem, subject) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("/CN={cn}"),
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &pem,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

fn make(dir: &Path) {
    authority(dir, "ca", "Test CA");
    authority(dir, "other-ca", "Other CA");
    for name in ["server", "client"] {
        let (key, csr, ext, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN={name}.test");
        openssl(
            dir,
            &[
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", &subject, "-keyout", &key, "-out",
                &csr,
            ],
        );
        std::fs::write(
            dir.join(&ext),
            format!(
                "subjectAltName=DNS:{name}.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
                 extendedKeyUsage=serverAuth,clientAuth\n"
            ),
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
        );
    }
}
