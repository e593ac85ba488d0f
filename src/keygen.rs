//! `teelog keygen [DIR] [--name NAME]`: an Ed25519 key pair for `--seal`, as docs/sealing.md
//! "Keys" says: NAME.key (the signer, 0600, never overwritten) and NAME.pub (the verifier, 0644).

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::cli::KeygenArgs;
use crate::error::{Error, quote};
use crate::seal::SigningKey;

/// Makes the pair and prints where it went and the verifier key.
pub fn keygen(args: &KeygenArgs) -> Result<(), Error> {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => crate::paths::key_dir().ok_or_else(|| {
            Error::Usage(
                "keygen: no key directory (neither XDG_CONFIG_HOME nor HOME is set): give DIR"
                    .into(),
            )
        })?,
    };
    let name = match &args.name {
        Some(name) => name.clone(),
        None => short_host(),
    };
    let (signer, verifier) = SigningKey::generate(&name).map_err(Error::Usage)?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::Usage(format!("cannot create key directory {}: {e}", quote(&dir))))?;
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    for path in [&private, &public] {
        if path.symlink_metadata().is_ok() {
            return Err(Error::Usage(format!(
                "key {} exists already: keygen never overwrites a key (give --name or another DIR)",
                quote(path)
            )));
        }
    }
    create(&private, 0o600, &signer)?;
    if let Err(err) = create(&public, 0o644, &verifier) {
        // Not half a pair: the signer alone would block the next keygen of this name.
        let _ = std::fs::remove_file(&private);
        return Err(err);
    }
    let text = format!(
        "signer key (for --seal): {}\nverifier key (for verify --key): {}\n{verifier}\n",
        private.display(),
        public.display()
    );
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

/// The host name cut at its first '.', as a key name (which holds no space or '+').
fn short_host() -> String {
    let host = whoami::hostname().unwrap_or_else(|_| "localhost".into());
    host.split('.').next().unwrap_or_default().to_owned()
}

/// Writes `line` to the new file `path` with `mode`; never over an existing one (O_EXCL).
fn create(path: &PathBuf, mode: u32, line: &str) -> Result<(), Error> {
    let named = |e: std::io::Error| Error::Usage(format!("cannot write key {}: {e}", quote(path)));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(named)?;
    // The umask may have taken bits off 0644: the verifier key is for others to read.
    set_mode(path, mode).map_err(named)?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(named)
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::VerifierKey;
    use std::os::unix::fs::PermissionsExt as _;

    fn args(dir: &Path, name: &str) -> KeygenArgs {
        KeygenArgs {
            dir: Some(dir.to_path_buf()),
            name: Some(name.into()),
        }
    }

    #[test]
    fn a_pair_is_written_with_its_modes_and_never_overwritten() {
        let tmp = std::env::temp_dir().join(format!("teelog-keygen-{}", std::process::id()));
        let dir = tmp.join("keys");
        keygen(&args(&dir, "db1")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("db1.key")), 0o600);
        assert_eq!(mode(&dir.join("db1.pub")), 0o644);
        let signer = SigningKey::load(&dir.join("db1.key")).unwrap();
        let public = std::fs::read_to_string(dir.join("db1.pub")).unwrap();
        assert_eq!(VerifierKey::parse(&public).unwrap(), signer.verifier());
        let before = std::fs::read(dir.join("db1.key")).unwrap();
        let err = keygen(&args(&dir, "db1")).unwrap_err().to_string();
        assert!(err.contains("exists already"), "{err}");
        assert_eq!(std::fs::read(dir.join("db1.key")).unwrap(), before);
        // A stray .pub of the name blocks it too, and leaves no .key behind.
        std::fs::write(dir.join("ci.pub"), "x").unwrap();
        assert!(keygen(&args(&dir, "ci")).is_err());
        assert!(!dir.join("ci.key").exists());
        assert!(keygen(&args(&dir, "a b")).is_err());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn the_default_name_is_the_short_host_name() {
        let name = short_host();
        assert!(!name.is_empty() && !name.contains('.'), "{name:?}");
    }
}
