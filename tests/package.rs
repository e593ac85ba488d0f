//! The Debian package that .ci/run builds with `cargo deb`: installed with dpkg on the CI
//! machine, looked at, and removed again.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// The package built for this version, if any.
pub fn package() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debian");
    let prefix = format!("teelog_{}", env!("CARGO_PKG_VERSION"));
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
}

fn the_debian_package_installs_the_binary_man_pages_and_completions() {
    require(&DEB);
    let deb = package().unwrap();
    require(&ROOT);
    let sh = |script: &str| run(Command::new("sh").args(["-c", script]), 0);
    sh(&format!("dpkg -i {}", deb.display()));
    let removed = scopeguard(|| {
        let _ = Command::new("dpkg").args(["-r", "teelog"]).status();
    });
    let version = text(&sh("/usr/bin/teelog --version").stdout);
    assert_eq!(version, format!("teelog {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        text(&sh("man -w teelog").stdout).trim(),
        "/usr/share/man/man1/teelog.1.gz"
    );
    assert_eq!(
        text(&sh("man -w 5 teelog-jsonl").stdout).trim(),
        "/usr/share/man/man5/teelog-jsonl.5.gz"
    );
    for file in [
        "/usr/share/bash-completion/completions/teelog",
        "/usr/share/zsh/vendor-completions/_teelog",
        "/usr/share/fish/vendor_completions.d/teelog.fish",
        "/usr/share/doc/teelog/README.md",
        "/usr/share/doc/teelog/copyright",
    ] {
        assert!(Path::new(file).exists(), "{file}");
    }
    let completed = sh(
        "bash --norc -c 'source /usr/share/bash-completion/completions/teelog; \
         COMP_WORDS=(teelog --preset \"\"); COMP_CWORD=2; _teelog teelog \"\" --preset; \
         printf \"%s\\n\" \"${COMPREPLY[@]}\"'",
    );
    assert!(
        text(&completed.stdout).contains("mysql\n"),
        "{}",
        text(&completed.stdout)
    );
    drop(removed);
    assert!(!Path::new("/usr/bin/teelog").exists(), "removed again");
}

/// Runs `f` when dropped: the package is removed even when an assertion fails.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

crate::trials![
    the_debian_package_installs_the_binary_man_pages_and_completions [ROOT, DEB],
];
