//! Presets: profiles for programs that buffer, page or prompt when run in a pipe. One table of
//! built-in rows (each flag justified beside it), rows from the user's TOML file on top, and the
//! rules that keep each program's secrets out of the logged command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, quote};
use crate::format::Format;
use crate::mask::Secrets;

/// One row: a program, the flags that make it stream and stay non-interactive, the console
/// format and the default log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    /// Runs the program (for a program with no flag against buffering), before `program`.
    pub wrapper: Vec<String>,
    /// The program itself (`--program` replaces it).
    pub program: String,
    pub args: Vec<String>,
    /// Console format unless `--format` says otherwise.
    pub format: Format,
    /// Default log (`[FORMAT=]PATH`, `{user}` replaced, relative to the log directory), unless
    /// `-o` is given.
    pub log: Option<String>,
    pub secrets: Secrets,
    /// Options of this program whose value is masked too (`--opt=X`, `--opt X`).
    pub secret_options: Vec<String>,
    /// Environment variables whose values are redacted from the output when set (the client's
    /// password variable), as with `--redact-env`.
    pub redact_env: Vec<String>,
    /// The client's own flags for echoing each statement before its result (`--echo`); empty
    /// when it has none.
    pub echo: Vec<String>,
    /// The program's stdout goes on a pty (`--pty`), so that its stdio flushes per line.
    pub pty: bool,
    /// A SQL client: its stdout and stderr (which quote failing statements) are SQL-masked.
    pub sql: bool,
    /// Where the row comes from: "built-in" or the presets file.
    pub origin: String,
}

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

/// Every preset: the built-in ones and the user's.
#[derive(Clone, Debug)]
pub struct Presets {
    rows: BTreeMap<String, Preset>,
}

/// One row of the presets file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPreset {
    program: toml::Spanned<String>,
    #[serde(default)]
    args: Vec<toml::Spanned<String>>,
    #[serde(default)]
    format: Option<toml::Spanned<String>>,
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    secret_options: Vec<String>,
    #[serde(default)]
    redact_env: Vec<String>,
    #[serde(default)]
    echo: Vec<String>,
    #[serde(default)]
    pty: bool,
    /// Default: whether `program` is a mysql, PostgreSQL or sqlite3 client.
    #[serde(default)]
    sql: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetsFile {
    #[serde(default)]
    presets: BTreeMap<String, UserPreset>,
}

impl Preset {
    /// This preset with its client's echo flags added (`--echo`), and its stdout on a pty: the
    /// client's stdio then writes each echoed statement out at its newline, before running it,
    /// so that the statement is read before any error it causes on stderr.
    pub fn echoing(&self) -> Result<Preset, Error> {
        if self.echo.is_empty() {
            return Err(Error::Usage(format!(
                "--echo: preset {} has no flag to echo statements (the mysql, mariadb, psql and \
                 sqlite3 presets have; a user preset sets `echo = [...]`)",
                quote(&self.name)
            )));
        }
        let mut preset = self.clone();
        preset.args.extend(self.echo.iter().cloned());
        preset.pty = true;
        Ok(preset)
    }

    /// The argv to run: the wrapper, the program (or `program`), the preset's flags, `args`.
    pub fn command(
        &self,
        program: Option<&std::ffi::OsStr>,
        args: &[std::ffi::OsString],
    ) -> Vec<std::ffi::OsString> {
        let mut argv: Vec<std::ffi::OsString> = self.wrapper.iter().map(Into::into).collect();
        argv.push(program.map_or_else(|| self.program.clone().into(), ToOwned::to_owned));
        argv.extend(self.args.iter().map(Into::into));
        argv.extend(args.iter().cloned());
        argv
    }
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
                    origin: "built-in".into(),
                };
                (b.name.to_owned(), preset)
            })
            .collect();
        Presets { rows }
    }

    /// The built-in presets with the user's file on top: `explicit` (which must exist), else
    /// `$XDG_CONFIG_HOME/teelog/presets.toml` or `~/.config/teelog/presets.toml` if it exists.
    pub fn load(explicit: Option<&Path>) -> Result<Presets, Error> {
        let mut presets = Presets::builtin();
        let path = match explicit {
            Some(path) => Some(path.to_owned()),
            None => default_presets_file().filter(|p| p.exists()),
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::PresetsFile {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            presets.add_file(&path, &text)?;
        }
        Ok(presets)
    }

    fn add_file(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        let bad = |detail: String| Error::PresetsFile {
            path: path.to_owned(),
            detail,
        };
        let file: PresetsFile = toml::from_str(text).map_err(|e| {
            let message = e.message().replace('\n', " ");
            match e.span() {
                Some(span) => bad(format!("{}: {message}", at_line(text, span))),
                None => bad(message),
            }
        })?;
        for (name, row) in file.presets {
            // Each field's mistake names its line and the preset, as a TOML error would.
            let wrong = |span: std::ops::Range<usize>, detail: String| {
                bad(format!(
                    "{}: preset {}: {detail}",
                    at_line(text, span),
                    quote(&name)
                ))
            };
            let program = row.program.get_ref();
            if program.trim().is_empty() {
                return Err(wrong(row.program.span(), "`program` is empty".into()));
            }
            for word in std::iter::once(&row.program).chain(&row.args) {
                if word.get_ref().contains('\0') {
                    return Err(wrong(
                        word.span(),
                        format!(
                            "{} holds a NUL byte, which no command line can carry",
                            quote(word.get_ref())
                        ),
                    ));
                }
            }
            let format = match &row.format {
                None => Format::Plain,
                Some(f) => match Format::from_name(f.get_ref()) {
                    None if crate::sink::spec::SERVICES.contains(&f.get_ref().as_str()) => {
                        return Err(wrong(
                            f.span(),
                            format!(
                                "`format = \"{0}\"`: {0} is a destination, not a console format \
                                 (for a default log there, write `log = \"{0}\"`)",
                                f.get_ref()
                            ),
                        ));
                    }
                    Some(format) => format,
                    None => {
                        return Err(wrong(
                            f.span(),
                            format!(
                                "unknown format {} in field `format` (console formats: {})",
                                quote(f.get_ref()),
                                console_format_names()
                            ),
                        ));
                    }
                },
            };
            if let Some(log) = &row.log {
                crate::sink::spec::LogSpec::parse(log)
                    .map_err(|e| bad(format!("preset '{name}': field `log`: {e}")))?;
            }
            let program = program.clone();
            let sql = row.sql.unwrap_or_else(|| {
                Secrets::of(&program) != Secrets::Generic
                    || Path::new(&program).file_name() == Some("sqlite3".as_ref())
            });
            let args = row
                .args
                .into_iter()
                .map(toml::Spanned::into_inner)
                .collect();
            let preset = Preset {
                name: name.clone(),
                wrapper: Vec::new(),
                sql,
                secrets: Secrets::of(&program),
                program,
                args,
                format,
                log: row.log,
                secret_options: row.secret_options,
                redact_env: row.redact_env,
                echo: row.echo,
                pty: row.pty,
                origin: path.display().to_string(),
            };
            self.rows.insert(name, preset);
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<&Preset, Error> {
        self.rows.get(name).ok_or_else(|| {
            Error::Usage(format!(
                "unknown preset {} (known: {})",
                quote(name),
                self.rows.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Preset> {
        self.rows.values()
    }
}

impl Presets {
    /// The `--list-presets` table: name, command, console format, default log, origin.
    pub fn listing(&self, user: &str) -> String {
        let dir = log_dir();
        let rows: Vec<[String; 5]> = self
            .iter()
            .map(|p| {
                let mut command = p.wrapper.clone();
                command.push(p.program.clone());
                command.extend(p.args.iter().cloned());
                let log = p.log.as_deref().map_or_else(
                    || "-".to_owned(),
                    |t| match crate::sink::spec::LogSpec::parse(&t.replace("{user}", user)) {
                        Ok(crate::sink::spec::LogSpec::File { format, path }) => {
                            format!("{}={}", format.name(), dir.join(path).display())
                        }
                        Ok(crate::sink::spec::LogSpec::Journal) => "journal".into(),
                        Ok(crate::sink::spec::LogSpec::Syslog(target)) => {
                            format!("syslog={}", target.name())
                        }
                        Err(e) => e,
                    },
                );
                let mut command =
                    shlex::try_join(command.iter().map(String::as_str)).unwrap_or_default();
                if p.pty {
                    command.push_str(" (stdout on a pty)");
                }
                [
                    p.name.clone(),
                    command,
                    p.format.name().to_owned(),
                    log,
                    p.origin.clone(),
                ]
            })
            .collect();
        let header = ["PRESET", "COMMAND", "CONSOLE", "DEFAULT LOG", "FROM"].map(String::from);
        let mut widths = [0; 5];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            for (i, cell) in row.iter().enumerate() {
                if i + 1 < row.len() {
                    out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                } else {
                    out.push_str(cell);
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The preset's default log for `user`: relative paths land in [`log_dir`], which is created
/// (mode 0700) if need be.
pub fn default_log(template: &str, user: &str) -> Result<crate::sink::spec::LogSpec, Error> {
    let mut spec = crate::sink::spec::LogSpec::parse(&template.replace("{user}", user))
        .map_err(Error::Usage)?;
    if let crate::sink::spec::LogSpec::File { path, .. } = &mut spec
        && path.is_relative()
    {
        let dir = log_dir();
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| Error::LogDir {
                path: dir.clone(),
                source,
            })?;
        *path = dir.join(&*path);
    }
    Ok(spec)
}

/// `line 3 (format = "journal")`: where `span` starts in the presets file's `text`.
fn at_line(text: &str, span: std::ops::Range<usize>) -> String {
    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let source = text.lines().nth(line - 1).unwrap_or("").trim();
    format!("line {line} ({source})")
}

/// `plain, classic, jsonl, asciicast`: the formats a console can show.
fn console_format_names() -> String {
    Format::names()
}

fn default_presets_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(config.join("teelog").join("presets.toml"))
}

/// Where default logs go: `$TEELOG_LOG_DIR`, else `$XDG_STATE_HOME/teelog`, else
/// `~/.local/state/teelog`.
pub fn log_dir() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("TEELOG_LOG_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("teelog")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/teelog")))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The command line as the logs show it: `argv` with secrets masked (see [`crate::mask`]); a
/// preset's rules apply to its program.
pub fn masked_command_line(argv: &[std::ffi::OsString], preset: Option<&Preset>) -> Vec<String> {
    let lossy: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    crate::mask::command_line(
        &lossy,
        preset.map(|p| (p.secrets, p.secret_options.as_slice())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presets_rules_reach_its_program_behind_its_wrapper_and_program_override() {
        let line = |argv: &[&str]| {
            let argv: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
            masked_command_line(&argv, None)
        };
        assert_eq!(
            line(&["/usr/bin/mysql", "-pS", "-p", "db"]),
            ["/usr/bin/mysql", "-p***", "-p", "db"]
        );
        let mysql = Presets::builtin().get("mysql").unwrap().clone();
        let argv = mysql.command(Some("/opt/my/client".as_ref()), &["--password=S".into()]);
        assert_eq!(
            masked_command_line(&argv, Some(&mysql)).last().unwrap(),
            "--password=***"
        );
        let psql = Presets::builtin().get("psql").unwrap().clone();
        let argv = psql.command(None, &["--password".into(), "app".into()]);
        assert_eq!(
            masked_command_line(&argv, Some(&psql)).last().unwrap(),
            "app"
        );
    }

    #[test]
    fn user_presets_override_and_bad_files_name_the_line_and_field() {
        let mut presets = Presets::builtin();
        let file = "[presets.redis]\nprogram = \"redis-cli\"\nargs = [\"--no-raw\"]\nformat = \"classic\"\nlog = \"redis-{user}.log\"\nredact_env = [\"REDISCLI_AUTH\"]\n\n[presets.mysql]\nprogram = \"/opt/mysql/bin/mysql\"\n";
        presets.add_file(Path::new("p.toml"), file).unwrap();
        let redis = presets.get("redis").unwrap();
        assert_eq!(
            (redis.program.as_str(), redis.format),
            ("redis-cli", Format::Classic)
        );
        assert_eq!(redis.redact_env, ["REDISCLI_AUTH"]);
        let mysql = presets.get("mysql").unwrap();
        assert_eq!(
            (mysql.program.as_str(), mysql.secrets),
            ("/opt/mysql/bin/mysql", Secrets::Mysql)
        );

        let err = presets
            .add_file(
                Path::new("p.toml"),
                "[presets.x]\nprogram = \"x\"\nprogam = \"y\"\n",
            )
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(
                "bad presets file 'p.toml': line 3 (progam = \"y\"): unknown field `progam`"
            ),
            "{text}"
        );
        let err = presets
            .add_file(Path::new("p.toml"), "[presets.x]\nprogram = 1\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2 (program = 1): invalid type"),
            "{err}"
        );
        let err = presets
            .add_file(
                Path::new("p.toml"),
                "[presets.x]\nprogram = \"x\"\nformat = \"xml\"\n",
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown format 'xml' in field `format`"),
            "{err}"
        );
        let err = presets.get("nope").unwrap_err();
        assert!(
            err.to_string().contains(
                "unknown preset 'nope' (known: mariadb, mysql, psql, python, redis, sqlite3"
            ),
            "{err}"
        );
    }
}
