//! The user's presets file (TOML), read on top of the built-in rows; each mistake names its
//! line, its preset and its field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Preset, Presets};
use crate::error::{Error, quote};
use crate::format::Format;
use crate::mask::Secrets;

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
    /// A signer key file: the jsonl logs are sealed with it (`--seal`).
    #[serde(default)]
    seal: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetsFile {
    #[serde(default)]
    presets: BTreeMap<String, UserPreset>,
}

/// The checks of a row that name the field's line; `wrong` makes the error of a mistake at a
/// span of the file (see [`Presets::add_file`]).
impl UserPreset {
    /// `program` is not blank, and no word of the command holds a NUL byte.
    fn check_command(
        &self,
        wrong: &impl Fn(std::ops::Range<usize>, String) -> Error,
    ) -> Result<(), Error> {
        let program = self.program.get_ref();
        if program.trim().is_empty() {
            return Err(wrong(self.program.span(), "`program` is empty".into()));
        }
        for word in std::iter::once(&self.program).chain(&self.args) {
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
        Ok(())
    }

    /// The console format the row names (plain if none): a destination's name or an unknown
    /// one is a mistake.
    fn console_format(
        &self,
        wrong: &impl Fn(std::ops::Range<usize>, String) -> Error,
    ) -> Result<Format, Error> {
        let format = match &self.format {
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
        Ok(format)
    }
}

impl Presets {
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

    /// The rows of the presets file at `path`, whose contents are `text`, over those there are
    /// (a row of the same name replaces one).
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
            row.check_command(&wrong)?;
            let format = row.console_format(&wrong)?;
            if let Some(log) = &row.log {
                crate::sink::spec::LogSpec::parse(log)
                    .map_err(|e| bad(format!("preset '{name}': field `log`: {e}")))?;
            }
            let program = row.program.get_ref().clone();
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
                seal: row.seal,
                origin: path.display().to_string(),
            };
            self.rows.insert(name, preset);
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
