//! What the walk of an argv knows about programs: the wrappers and how their options look, the
//! clients with rules of their own, and their short options.

use std::ops::Range;

/// How a wrapper program's own arguments look: which options take a value, and how many
/// positional arguments (a duration, a directory) come before the wrapped command.
pub(super) struct Wrapper {
    pub names: &'static [&'static str],
    /// Options whose value is the next word (when not given as `--opt=value` or `-oVALUE`).
    pub valued: &'static [&'static str],
    pub positionals: usize,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        names: &["sudo", "doas"],
        valued: &[
            "-u",
            "--user",
            "-g",
            "--group",
            "-C",
            "--close-from",
            "-D",
            "--chdir",
            "-h",
            "--host",
            "-p",
            "--prompt",
            "-r",
            "--role",
            "-t",
            "--type",
            "-T",
            "--command-timeout",
            "-U",
            "--other-user",
        ],
        positionals: 0,
    },
    Wrapper {
        names: &["nice"],
        valued: &["-n", "--adjustment"],
        positionals: 0,
    },
    Wrapper {
        names: &["ionice"],
        valued: &[
            "-c",
            "--class",
            "-n",
            "--classdata",
            "-p",
            "--pid",
            "-P",
            "--pgid",
            "-u",
        ],
        positionals: 0,
    },
    Wrapper {
        names: &["timeout"],
        valued: &["-k", "--kill-after", "-s", "--signal"],
        positionals: 1,
    },
    Wrapper {
        names: &["stdbuf"],
        valued: &["-i", "--input", "-o", "--output", "-e", "--error"],
        positionals: 0,
    },
    Wrapper {
        names: &["xargs"],
        valued: &[
            "-a",
            "--arg-file",
            "-d",
            "--delimiter",
            "-E",
            "-I",
            "-L",
            "-n",
            "--max-args",
            "-P",
            "--max-procs",
            "-s",
            "--max-chars",
        ],
        positionals: 0,
    },
    Wrapper {
        names: &["strace", "ltrace"],
        valued: &[
            "-a", "-b", "-e", "-E", "-I", "-o", "--output", "-O", "-p", "-P", "-s", "-S", "-u",
            "-X",
        ],
        positionals: 0,
    },
    Wrapper {
        names: &[
            "nohup",
            "setsid",
            "time",
            "command",
            "exec",
            "unbuffer",
            "busybox",
            "nsenter",
            "chrt",
            "taskset",
            "ssh-agent",
            "dbus-run-session",
        ],
        valued: &[],
        positionals: 0,
    },
    Wrapper {
        names: &["chroot"],
        valued: &["--userspec", "--groups"],
        positionals: 1,
    },
];

/// Programs whose arguments get rules of their own (besides the generic ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Client {
    /// Every other program: secret-looking options; looks for known programs in its arguments.
    Generic,
    Mysql,
    Postgres,
    /// `-u user:X`, `-U user:X`, `--user`, `--proxy-user`.
    Curl,
    /// `-a X`.
    Redis,
    /// mongosh, mongo, mongodump...: `-p X` (`-p` before an option or at the end prompts).
    Mongo,
    /// ldapsearch, ldapmodify...: `-w X`; ldappasswd also `-a OLD`, `-s NEW`.
    Ldap,
    Ldappasswd,
    /// `sshpass -p X command...`.
    Sshpass,
    /// `docker|podman|nerdctl|helm ... login -p X`.
    Registry,
}

impl Client {
    pub(super) fn of(base: &str) -> Option<Client> {
        Some(match base {
            "mysql" | "mariadb" | "mysqldump" | "mysqladmin" | "mysqlimport" | "mysqlcheck"
            | "mysqlshow" | "mysqlbinlog" | "mysqlslap" | "mysqlpump" | "mysqlsh" => Client::Mysql,
            b if b.starts_with("mariadb-") || b.starts_with("mysql_") => Client::Mysql,
            "psql" | "pg_dump" | "pg_dumpall" | "pg_restore" | "pg_basebackup" | "createdb"
            | "dropdb" | "createuser" | "dropuser" | "pgbench" | "vacuumdb" | "reindexdb"
            | "clusterdb" | "pg_isready" => Client::Postgres,
            "curl" => Client::Curl,
            "redis-cli" | "valkey-cli" | "keydb-cli" => Client::Redis,
            "mongosh" | "mongo" | "mongodump" | "mongorestore" | "mongoexport" | "mongoimport"
            | "mongostat" | "mongotop" => Client::Mongo,
            "ldappasswd" => Client::Ldappasswd,
            b if b.starts_with("ldap") => Client::Ldap,
            "sshpass" => Client::Sshpass,
            "docker" | "podman" | "nerdctl" | "buildah" | "skopeo" | "helm" | "oras" => {
                Client::Registry
            }
            _ => return None,
        })
    }

    /// Its short options that take a value, and those of them whose value is secret.
    pub(super) fn short_options(self) -> (&'static str, &'static str) {
        match self {
            Client::Generic | Client::Postgres => ("", ""),
            Client::Mysql => ("DehPSuOTrwWcp", "p"),
            Client::Curl => ("AbcCdDeEFHKmoOPQrtTuUwxXyYz", "uU"),
            Client::Redis => ("hpsauinrdD", "a"),
            Client::Mongo => ("uphdcof", "p"),
            Client::Ldap => ("abDeEfHhlOoPpRsTUwXYyz", "w"),
            Client::Ldappasswd => ("abDeEfHhlOoPpRsTUwXYyz", "was"),
            Client::Sshpass => ("fdpP", "p"),
            Client::Registry => ("pu", "p"),
        }
    }

    /// Whether this option of its prompts for a password when given no value (`mysql
    /// --password db`, `psql --password app`): the next word stays.
    pub(super) fn prompts(self, option: &str) -> bool {
        match self {
            Client::Mysql => is_mysql_password(option),
            Client::Postgres => option == "--password",
            _ => false,
        }
    }
}

/// What a program is, as far as finding the commands inside an argv goes.
pub(super) enum Program {
    Wrapper(&'static Wrapper),
    /// sh, bash, zsh...: `-c SCRIPT`.
    Shell,
    /// su, runuser: `-c SCRIPT`, `--command=SCRIPT`; runuser `-u USER COMMAND...`.
    Su,
    /// The words after the destination are one script for the remote shell.
    Ssh,
    /// Assignments, `-S STRING`, then a command.
    Env,
    /// Its words are one script.
    Eval,
    Client(Client),
}

impl Program {
    pub(super) fn of(base: &str) -> Option<Program> {
        if let Some(w) = WRAPPERS.iter().find(|w| w.names.contains(&base)) {
            return Some(Program::Wrapper(w));
        }
        Some(match base {
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "fish" | "yash" => {
                Program::Shell
            }
            "su" | "runuser" => Program::Su,
            "ssh" => Program::Ssh,
            "env" => Program::Env,
            "eval" => Program::Eval,
            _ => Program::Client(Client::of(base)?),
        })
    }
}

/// Words a shell takes before the command (reserved words, `time`, `!`).
pub(super) fn is_keyword(word: &str) -> bool {
    [
        "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "for", "in", "case",
        "esac", "select", "function", "!", "{", "}", "[[", "]]", "time", "coproc",
    ]
    .contains(&word)
}

/// `NAME=value` with a valid variable name.
pub(super) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// A bundle of short options (`-abc`): the first letter of `valued` in it, and where its value
/// starts in the word when glued to it (`-uroot`, `-vpSECRET`).
pub(super) fn short_valued(word: &str, valued: &str) -> Option<(char, Option<usize>)> {
    let body = word.strip_prefix('-').filter(|b| !b.starts_with('-'))?;
    for (i, c) in body.char_indices() {
        if !c.is_ascii_alphanumeric() {
            return None;
        }
        if valued.contains(c) {
            let at = 2 + i;
            return Some((c, (at < word.len()).then_some(at)));
        }
    }
    None
}

/// `--password`, `--loose-password` or an unambiguous prefix of `--password` (`--pas`...).
pub(super) fn is_mysql_password(name: &str) -> bool {
    let Some(name) = name.strip_prefix("--") else {
        return false;
    };
    let name = name.strip_prefix("loose-").unwrap_or(name);
    name.len() >= 3 && "password".starts_with(name)
}

/// mysqlsh's `user:SECRET@host[:port]` (no scheme).
pub(super) fn user_at_host(arg: &str) -> Option<Range<usize>> {
    if arg.starts_with('-') || arg.contains("://") {
        return None;
    }
    match (arg.find(':'), arg.rfind('@')) {
        (Some(colon), Some(at)) if colon < at && !arg[..colon].contains(['/', '@', ' ']) => {
            Some(colon + 1..at)
        }
        _ => None,
    }
}

/// What follows the first `:` of curl's `user:SECRET` (nothing without one: curl prompts).
pub(super) fn after_colon(value: &str) -> Option<Range<usize>> {
    value
        .find(':')
        .map(|c| c + 1..value.len())
        .filter(|r| !r.is_empty())
}
