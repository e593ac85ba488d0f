//! Where teelog keeps its own files. Data only.

use std::path::PathBuf;

/// teelog's state directory: `$XDG_STATE_HOME/teelog`, else `~/.local/state/teelog` (empty
/// variables count as unset); `None` without either.
pub fn state_dir() -> Option<PathBuf> {
    var("XDG_STATE_HOME")
        .map(|d| d.join("teelog"))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/teelog")))
}

/// Where the spools of `relp=` and `syslog=tls:` go unless `--spool-dir` says: the system's
/// spool directory for root (a service's runs, shipped by `teelog ship --follow`), else the
/// user's [`state_dir`].
pub fn spool_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/spool/teelog");
    }
    state_dir().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("teelog-{}", nix::unistd::Uid::effective()))
    })
}

/// Where `teelog keygen` writes keys and `teelog verify` finds the ones it trusts:
/// `$XDG_CONFIG_HOME/teelog/keys`, else `~/.config/teelog/keys`; `None` without either.
pub fn key_dir() -> Option<PathBuf> {
    var("XDG_CONFIG_HOME")
        .map(|d| d.join("teelog/keys"))
        .or_else(|| var("HOME").map(|h| h.join(".config/teelog/keys")))
}

/// The variable `name`, unless it is unset or empty.
pub fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}
