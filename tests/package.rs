//! The Debian package that .ci/run builds with `cargo deb`: installed with dpkg on the CI
//! machine, looked at, and removed again; its service unit checked by systemd's own tools, and
//! the package by lintian as Debian checks packages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use crate::harness::Need;
use crate::util::*;

/// Where the package puts the unit of `teelog ship --follow /var/spool/teelog`.
const UNIT: &str = "/usr/lib/systemd/system/teelog-ship.service";

/// systemd's offline tools: they read unit files without systemd running as PID 1.
const SYSTEMD_TOOLS: Need = Need {
    name: "systemd-analyze",
    what: "systemd's systemctl and systemd-analyze",
    check: || {
        ["systemctl", "systemd-analyze"].iter().all(|tool| {
            Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    },
};

const LINTIAN: Need = Need {
    name: "lintian",
    what: "lintian",
    check: || {
        Command::new("lintian")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    },
};

/// One installation at a time: the tests that install the package run in parallel threads.
static INSTALLED: Mutex<()> = Mutex::new(());

/// Installs the package, runs `f` with it installed, and removes it again, also when `f` fails.
fn installed(f: impl FnOnce()) {
    require(&DEB);
    require(&ROOT);
    let deb = package().unwrap();
    let _alone = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    sh(&format!("dpkg -i {}", deb.display()));
    let removed = scopeguard(|| {
        let _ = Command::new("dpkg").args(["-r", "teelog"]).status();
    });
    f();
    drop(removed);
    assert!(!Path::new("/usr/bin/teelog").exists(), "removed again");
    assert!(!Path::new(UNIT).exists(), "removed again");
}

#[track_caller]
fn sh(script: &str) -> Output {
    run(Command::new("sh").args(["-c", script]), 0)
}

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
    installed(|| {
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
    });
}

/// The service is shipped, not enabled: the unit is there as committed, no maintainer script
/// came with it (none could enable it), and nothing links it into a target.
fn the_debian_package_ships_the_service_unit_disabled() {
    installed(|| {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("debian/teelog-ship.service");
        assert_eq!(read(Path::new(UNIT)), read(&committed));
        let unit = text(&read(Path::new(UNIT)));
        assert!(
            unit.contains("\nExecStart=/usr/bin/teelog ship --follow /var/spool/teelog\n"),
            "{unit}"
        );
        for script in ["preinst", "postinst", "prerm", "postrm"] {
            let path = format!("/var/lib/dpkg/info/teelog.{script}");
            assert!(!Path::new(&path).exists(), "{path}");
        }
        let wants = "/etc/systemd/system/multi-user.target.wants/teelog-ship.service";
        assert!(!Path::new(wants).exists(), "{wants}");
    });
}

/// systemd reads the installed unit without a complaint (its commands exist, its man page is
/// there), and takes it as disabled.
fn systemd_accepts_the_service_unit_and_finds_it_disabled() {
    installed(|| {
        let verified = run(Command::new("systemd-analyze").args(["verify", UNIT]), 0);
        assert_eq!(text(&verified.stderr), "", "systemd-analyze verify");
        let enabled = run(
            Command::new("systemctl").args(["is-enabled", "teelog-ship.service"]),
            1,
        );
        assert_eq!(text(&enabled.stdout).trim(), "disabled");
    });
}

/// lintian as .ci/run runs it: no error and no warning (the overrides in debian/lintian-overrides
/// are the package's own).
fn lintian_finds_no_error_or_warning_in_the_package() {
    require(&DEB);
    let deb = package().unwrap();
    let checked = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--info"])
        .arg(&deb)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
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
    the_debian_package_ships_the_service_unit_disabled [ROOT, DEB],
    systemd_accepts_the_service_unit_and_finds_it_disabled [ROOT, DEB, SYSTEMD_TOOLS],
    lintian_finds_no_error_or_warning_in_the_package [DEB, LINTIAN],
];
