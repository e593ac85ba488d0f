//! Presets: profiles for programs that buffer, page or prompt when run in a pipe. One table of
//! built-in rows (each flag justified beside it), rows from the user's TOML file on top, and the
//! rules that keep each program's secrets out of the logged command line.
//!
//! The table is in [`table`], the user's file in [`mod@file`], `--list-presets` in [`listing`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, quote};
use crate::format::Format;
use crate::mask::Secrets;

mod file;
mod listing;
mod table;

pub use table::builtin_names;

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
    /// Seal the jsonl logs with this signer key file (`--seal`), unless `--seal` is given.
    pub seal: Option<std::path::PathBuf>,
    /// Where the row comes from: "built-in" or the presets file.
    pub origin: String,
}

/// Every preset: the built-in ones and the user's.
#[derive(Clone, Debug)]
pub struct Presets {
    rows: BTreeMap<String, Preset>,
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

/// Where default logs go: `$TEELOG_LOG_DIR`, else `$XDG_STATE_HOME/teelog`, else
/// `~/.local/state/teelog`.
pub fn log_dir() -> PathBuf {
    crate::paths::var("TEELOG_LOG_DIR")
        .or_else(crate::paths::state_dir)
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
}
