//! The suite's own harness (libtest-mimic, which looks and behaves like libtest): each module lists
//! its tests with `trials!`, with what each needs from the machine beyond teelog itself (a real
//! MariaDB, rsyslogd, root...). A test whose need is missing is not run and shows as *ignored*,
//! with the need in its name and in a list at the end, so that `cargo test` on a bare machine says
//! what it did not prove instead of counting it as passed. With `CI=true` nothing is ignored: a
//! missing need fails the test, since `.ci/run` installs and starts everything.
//!
//! A test function that is not listed is dead code, which `cargo clippy -D warnings` refuses: no
//! test can be left out by mistake.

use std::sync::Mutex;

use libtest_mimic::{Arguments, Failed, Trial};

/// Something a test needs that a bare machine may lack, and how to tell it is there.
#[derive(Debug)]
pub struct Need {
    /// Its short name, shown beside an ignored test.
    pub name: &'static str,
    /// What to install or start, as the list of ignored tests says it.
    pub what: &'static str,
    pub(crate) check: fn() -> bool,
}

/// What tests can need: `trials![test [MARIADB]]`, `require(&ROOT)`.
pub mod needs {
    use super::Need;
    use std::process::{Command, Stdio};

    /// Whether `program ARGS` runs and succeeds.
    fn succeeds(command: &[&str]) -> bool {
        Command::new(command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    pub const ROOT: Need = Need {
        name: "root",
        what: "root (CI runs as root)",
        check: || nix::unistd::Uid::effective().is_root(),
    };
    pub const MARIADB: Need = Need {
        name: "mariadb",
        what: "a MariaDB server and client (mysql -e 'select 1')",
        check: || succeeds(&["mysql", "-e", "select 1"]),
    };
    pub const POSTGRES: Need = Need {
        name: "postgresql",
        what: "a PostgreSQL server and psql, with a role for this user",
        check: || succeeds(&["psql", "-tAc", "select 1"]),
    };
    pub const SQLITE3: Need = Need {
        name: "sqlite3",
        what: "sqlite3",
        check: || succeeds(&["sqlite3", "-version"]),
    };
    pub const JOURNALD: Need = Need {
        name: "journald",
        what: "a running systemd-journald",
        check: || std::path::Path::new("/run/systemd/journal/socket").exists(),
    };
    pub const RSYSLOG: Need = Need {
        name: "rsyslogd",
        what: "rsyslogd",
        check: || succeeds(&["rsyslogd", "-v"]),
    };
    /// Whether rsyslog has the module `file` (`imrelp.so`) where Debian, Fedora or Arch put it.
    fn rsyslog_module(file: &str) -> bool {
        let dirs = std::fs::read_dir("/usr/lib")
            .into_iter()
            .flatten()
            .flatten()
            .map(|arch| arch.path().join("rsyslog"))
            .chain(["/usr/lib/rsyslog", "/usr/lib64/rsyslog"].map(Into::into));
        dirs.into_iter().any(|dir| dir.join(file).exists())
    }
    /// `-o relp=` (tests/shipping.rs): imrelp, which rsyslog-relp installs.
    pub const RSYSLOG_RELP: Need = Need {
        name: "rsyslog-relp",
        what: "rsyslog's imrelp (rsyslog-relp)",
        check: || rsyslog_module("imrelp.so"),
    };
    /// `-o syslog=tls:` (tests/shipping_tls.rs): imtcp's openssl driver, from rsyslog-openssl.
    pub const RSYSLOG_TLS: Need = Need {
        name: "rsyslog-openssl",
        what: "rsyslog's openssl stream driver (rsyslog-openssl)",
        check: || rsyslog_module("lmnsd_ossl.so"),
    };
    pub const OPENSSL: Need = Need {
        name: "openssl",
        what: "the openssl command line (openssl)",
        check: || succeeds(&["openssl", "version"]),
    };
    pub const JQ: Need = Need {
        name: "jq",
        what: "jq",
        check: || succeeds(&["jq", "--version"]),
    };
    pub const LNAV: Need = Need {
        name: "lnav",
        what: "lnav",
        check: || succeeds(&["lnav", "-V"]),
    };
    pub const LOGROTATE: Need = Need {
        name: "logrotate",
        what: "logrotate",
        check: || succeeds(&["/usr/sbin/logrotate", "--version"]),
    };
    pub const STRACE: Need = Need {
        name: "strace",
        what: "strace",
        check: || succeeds(&["strace", "-V"]),
    };
    pub const ASCIINEMA: Need = Need {
        name: "asciinema",
        what: "asciinema",
        check: || succeeds(&["asciinema", "--version"]),
    };
    pub const BASH: Need = Need {
        name: "bash",
        what: "bash",
        check: || succeeds(&["bash", "--version"]),
    };
    pub const BASH_COMPLETION: Need = Need {
        name: "bash-completion",
        what: "bash-completion",
        check: || std::path::Path::new("/usr/share/bash-completion/bash_completion").exists(),
    };
    pub const ZSH: Need = Need {
        name: "zsh",
        what: "zsh, with its zpty module",
        check: || succeeds(&["zsh", "-fc", "zmodload zsh/zpty"]),
    };
    pub const FISH: Need = Need {
        name: "fish",
        what: "fish",
        check: || succeeds(&["fish", "--version"]),
    };
    /// sudo's I/O log tools (the Debian package `sudo`), for tests/sudo_iolog.rs.
    pub const SUDOREPLAY: Need = Need {
        name: "sudoreplay",
        what: "sudoreplay (sudo)",
        check: || succeeds(&["sudoreplay", "-V"]),
    };
    pub const SUDO_SENDLOG: Need = Need {
        name: "sudo_sendlog",
        what: "sudo_sendlog and sudo_logsrvd (sudo)",
        check: || {
            succeeds(&["/usr/sbin/sudo_sendlog", "-V"])
                && succeeds(&["/usr/sbin/sudo_logsrvd", "-V"])
        },
    };
    /// sudo itself, run with a test sudo.conf bound over /etc/sudo.conf in a mount namespace of
    /// the test's own (so that the machine's sudo is left alone).
    pub const SUDO: Need = Need {
        name: "sudo",
        what: "sudo, and root to run it in a private mount namespace (unshare -m)",
        check: || succeeds(&["sudo", "-V"]) && succeeds(&["unshare", "-m", "true"]),
    };
    pub const DEB: Need = Need {
        name: "deb",
        what: "the Debian package in target/debian (cargo build --release && cargo deb --no-build)",
        check: || crate::package::package().is_some(),
    };
}

impl Need {
    /// Whether it is there, asked once per run.
    fn present(&'static self) -> bool {
        static SEEN: Mutex<Vec<(&'static str, bool)>> = Mutex::new(Vec::new());
        if let Some(&(_, present)) = SEEN.lock().unwrap().iter().find(|(w, _)| *w == self.what) {
            return present;
        }
        let present = (self.check)();
        SEEN.lock().unwrap().push((self.what, present));
        present
    }
}

/// One test: its name (`module::function`, as libtest names it), its body, its needs.
pub struct Test {
    pub name: String,
    pub body: fn(),
    pub needs: &'static [&'static Need],
}

/// `trials![a, b [MARIADB], c [ROOT, STRACE]]` at the end of a test module lists its tests.
#[macro_export]
macro_rules! trials {
    ($($test:ident $([$($need:expr),* $(,)?])?),* $(,)?) => {
        pub fn trials() -> Vec<$crate::harness::Test> {
            let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
            vec![$($crate::harness::Test {
                name: format!("{module}::{}", stringify!($test)),
                body: $test,
                needs: &[$($(&$need),*)?],
            }),*]
        }
    };
}

/// Runs `tests` as libtest would (same flags, same output), then lists what was ignored and why.
pub fn main(tests: Vec<Test>) -> ! {
    let (args, filters) = arguments();
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let tests = tests.into_iter().filter(|test| {
        filters.is_empty()
            || filters.iter().any(|f| match args.exact {
                true => test.name == *f,
                false => test.name.contains(f.as_str()),
            })
    });
    let mut missing = Vec::new();
    let trials = tests
        .map(|test| {
            let absent: Vec<&Need> = test
                .needs
                .iter()
                .copied()
                .filter(|need| !need.present())
                .collect();
            let body = test.body;
            let run = move || {
                body();
                Ok(())
            };
            if absent.is_empty() {
                return Trial::test(test.name, run);
            }
            let list = |part: fn(&Need) -> &'static str| {
                absent
                    .iter()
                    .map(|n| part(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (names, whats) = (list(|n| n.name), list(|n| n.what));
            if ci {
                return Trial::test(test.name, move || {
                    Err(Failed::from(format!(
                        "needs {whats}, which is missing: .ci/run must install and start it"
                    )))
                });
            }
            missing.push((test.name.clone(), whats));
            // `--include-ignored` still runs it, and it then fails as it would under CI.
            Trial::test(test.name, run)
                .with_kind(format!("needs {names}"))
                .with_ignored_flag(true)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !missing.is_empty() && !args.list {
        eprintln!(
            "\n{} tests ignored for what this machine lacks (.ci/run installs and starts it all; \
             CI=true makes them fail instead):",
            missing.len()
        );
        for (name, needs) in &missing {
            eprintln!("    {name}: needs {needs}");
        }
    }
    conclusion.exit()
}

/// libtest's arguments, and its filters: libtest takes several (`cargo test -- a:: b::` runs
/// both), libtest-mimic one, so they are taken out here and applied to the list of tests.
fn arguments() -> (Arguments, Vec<String>) {
    const TAKES_A_VALUE: &[&str] = &[
        "--test-threads",
        "--logfile",
        "--skip",
        "--color",
        "--format",
        "-Z",
    ];
    let mut rest = Vec::new();
    let mut filters = Vec::new();
    let mut args = std::env::args();
    rest.extend(args.next());
    while let Some(arg) = args.next() {
        if TAKES_A_VALUE.contains(&arg.as_str()) {
            rest.push(arg);
            rest.extend(args.next());
        } else if arg.starts_with('-') {
            rest.push(arg);
        } else {
            filters.push(arg);
        }
    }
    (Arguments::from_iter(rest), filters)
}

/// Inside a test: fails at once when `need` is missing. For needs the test's `trials!` entry
/// does not declare (a helper used by several tests checks its own), so that a missing program
/// is a clear failure, never a silent pass.
#[track_caller]
pub fn require(need: &'static Need) {
    assert!(
        need.present(),
        "needs {}, which is missing: declare it in the test's trials! entry (then a machine \
         without it shows the test as ignored), and .ci/run must install it",
        need.what
    );
}
