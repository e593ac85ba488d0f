//! Where teelog keeps its own files. Data only.

use std::path::PathBuf;

/// Where the spools of `relp=` and `syslog=tls:` go unless `--spool-dir` says: the system's
/// spool directory for root (a service's runs, shipped by `teelog ship --follow`), else the
/// user's state directory (`$XDG_STATE_HOME/teelog`, else `~/.local/state/teelog`).
pub fn spool_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/spool/teelog");
    }
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    var("XDG_STATE_HOME")
        .map(|d| d.join("teelog"))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/teelog")))
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("teelog-{}", nix::unistd::Uid::effective()))
        })
}
