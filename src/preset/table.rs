//! The built-in presets: one row per program, each flag justified beside it.

use super::{Preset, Presets};
use crate::format::Format;
use crate::mask::Secrets;

struct Builtin {
    name: &'static str,
    wrapper: &'static [&'static str],
    program: &'static str,
    args: &'static [&'static str],
    format: Format,
    log: &'static str,
    secrets: Secrets,
    redact_env: &'static [&'static str],
    echo: &'static [&'static str],
    pty: bool,
    sql: bool,
}

const MYSQL_ARGS: &[&str] = &[
    // Tab-separated results without the interactive table borders, and no history file.
    "--batch",
    // mysql's own --tee only works in interactive sessions; teelog is the log.
    "--skip-tee",
    // Never hand results to a pager.
    "--skip-pager",
    // Flush after each statement, so each result shows (and is logged) as soon as it exists.
    "--unbuffered",
];

/// The built-in presets.
const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "mariadb",
        wrapper: &[],
        program: "mariadb",
        args: MYSQL_ARGS,
        format: Format::Classic,
        log: "mariadb-{user}.log",
        secrets: Secrets::Mysql,
        redact_env: &["MYSQL_PWD"],
        // -v echoes each statement, -vv adds "Query OK, N rows affected" and row counts.
        echo: &["-vv"],
        pty: false,
        sql: true,
    },
    Builtin {
        name: "mysql",
        wrapper: &[],
        program: "mysql",
        args: MYSQL_ARGS,
        format: Format::Classic,
        log: "mysql-{user}.log",
        secrets: Secrets::Mysql,
        redact_env: &["MYSQL_PWD"],
        // -v echoes each statement, -vv adds "Query OK, N rows affected" and row counts.
        echo: &["-vv"],
        pty: false,
        sql: true,
    },
    Builtin {
        name: "psql",
        wrapper: &[],
        program: "psql",
        args: &[
            // Skip ~/.psqlrc, which may turn on a pager, \timing or anything else.
            "--no-psqlrc",
            // Never hand results to a pager, whatever PAGER or the terminal says.
            "--pset=pager=off",
        ],
        format: Format::Classic,
        log: "psql-{user}.log",
        secrets: Secrets::Postgres,
        redact_env: &["PGPASSWORD"],
        echo: &["--echo-queries"],
        pty: false,
        sql: true,
    },
    Builtin {
        name: "python",
        wrapper: &[],
        program: "python3",
        // Unbuffered stdout and stderr: python buffers whole blocks in a pipe otherwise.
        args: &["-u"],
        format: Format::Plain,
        log: "python-{user}.log",
        secrets: Secrets::Generic,
        redact_env: &[],
        echo: &[],
        pty: false,
        sql: false,
    },
    Builtin {
        name: "sqlite3",
        wrapper: &[],
        program: "sqlite3",
        // No prompts or banners: input is a script, not a person.
        args: &["-batch"],
        format: Format::Classic,
        log: "sqlite3-{user}.log",
        secrets: Secrets::Generic,
        redact_env: &[],
        echo: &["-echo"],
        // sqlite3 buffers its output in a pipe and has no flag against it. A pty makes its
        // stdio line-buffered, static builds included (`stdbuf`, the earlier way, only reaches
        // programs linked dynamically against libc).
        pty: true,
        sql: true,
    },
];

/// The built-in presets' names, in table order (for shell completion).
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|b| b.name)
}
impl Presets {
    pub fn builtin() -> Presets {
        let rows = BUILTIN
            .iter()
            .map(|b| {
                let preset = Preset {
                    name: b.name.into(),
                    wrapper: b.wrapper.iter().map(|a| a.to_string()).collect(),
                    program: b.program.into(),
                    args: b.args.iter().map(|a| a.to_string()).collect(),
                    format: b.format,
                    log: Some(b.log.into()),
                    secrets: b.secrets,
                    secret_options: Vec::new(),
                    redact_env: b.redact_env.iter().map(|n| n.to_string()).collect(),
                    echo: b.echo.iter().map(|a| a.to_string()).collect(),
                    pty: b.pty,
                    sql: b.sql,
                    seal: None,
                    origin: "built-in".into(),
                };
                (b.name.to_owned(), preset)
            })
            .collect();
        Presets { rows }
    }
}
