//! Secrets kept out of the logged command line. Two kinds of rules:
//!
//! - the rules of [`word`] hold in every word of every command, whatever program it belongs to
//!   (secret-looking `NAME=value`, `--secret=value`, URIs with a password, HTTP credentials,
//!   libpq's `password=`), and secret-looking options take the next word as their value in any
//!   program: an unknown wrapper changes nothing;
//! - the walk of the argv finds the commands inside it (after wrappers, after `--`, inside the
//!   script of `sh -c`, `su -c`, `ssh host 'cmd'`, `env -S`, split at every shell operator: see
//!   [`shell`]) and gives each client's arguments its own rules (`mysql -pX`, `curl -u u:X`,
//!   `sshpass -p X`, ...). Behind a program it does not know, it goes on looking for one it knows.
//!
//! Only the bytes of a secret change: a script is masked where each secret stands in its text,
//! so the logged line stays the command that ran. Presets choose which rules apply to their
//! program. The same rules, and SQL's password clauses, apply line by line to recorded input and
//! echoed statements: see [`LineMasker`].

use std::ops::Range;
use std::path::Path;

mod clients;
mod line;
pub mod prompt;
mod shell;
mod sql;
#[cfg(test)]
mod tests;
mod walk;
mod word;

use clients::Client;
pub use line::{LineMasker, text_line};
use walk::Walk;
use word::{Edit, apply, assignment_ranges, conninfo_ranges, uri_ranges, word_edits};

/// What a masked secret becomes.
pub const MASK: &str = "***";

/// Which rules mask a client's secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// Secret-looking options (`--password`, `--token`, `--client-secret`, ...), as `--opt=X`
    /// and `--opt X`, and the rules of the client this program is, if teelog knows it.
    Generic,
    /// The mysql family: `-pX`, bundles ending in `p` with a value (`-vpX`), `--password=X` and
    /// its prefixes, `--loose-password=X`, `mysqladmin ... password NEW`, `user:X@host`. `-p` and
    /// `--password` alone prompt: the next word stays.
    Mysql,
    /// PostgreSQL's clients: URIs and conninfo; `-W`/`--password` take no value.
    Postgres,
}

impl Secrets {
    /// The rules for a program, from its base name.
    pub fn of(program: &str) -> Secrets {
        match Client::of(base_name(program)) {
            Some(Client::Mysql) => Secrets::Mysql,
            Some(Client::Postgres) => Secrets::Postgres,
            _ => Secrets::Generic,
        }
    }
}

fn base_name(program: &str) -> &str {
    Path::new(program)
        .file_name()
        .and_then(|b| b.to_str())
        .unwrap_or(program)
}

/// `args` (the whole argv, program first) as it may be logged: every client's secrets masked,
/// every other byte of every word as it was. `preset` gives the rules (and extra secret options)
/// for the program at `argv[0]` or after the wrappers a preset adds, instead of those its name
/// implies.
pub fn command_line(argv: &[String], preset: Option<(Secrets, &[String])>) -> Vec<String> {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let edits = command_edits(&words, preset, 0);
    words.iter().zip(&edits).map(|(w, e)| apply(w, e)).collect()
}

/// A shell script as it may be logged: each simple command masked by the rules of its program,
/// each secret replaced where it stands in the script.
fn mask_script(script: &str) -> String {
    apply(script, &script_edits(script, 0))
}

/// The values of secret variables' assignments anywhere in a line of text (`PGPASSWORD=x`,
/// `export API_TOKEN=x;`, `--env=MYSQL_PWD=x`): a value ends at a blank or a shell operator.
fn mask_assignment(text: &str) -> String {
    apply(text, &masks(assignment_ranges(text, false)))
}

/// `scheme://user:SECRET@host...` and secret query parameters, wherever they appear: see
/// [`word::uri_ranges`].
fn mask_uris(text: &str) -> String {
    apply(text, &masks(uri_ranges(text)))
}

/// libpq's `password=SECRET` (or `password = 'se cret'`) inside a connection string.
fn mask_conninfo(text: &str) -> String {
    apply(text, &masks(conninfo_ranges(text)))
}

fn masks(ranges: Vec<Range<usize>>) -> Vec<Edit> {
    ranges.into_iter().map(Edit::mask).collect()
}

/// Scripts inside scripts deeper than this get the word rules only.
const MAX_DEPTH: usize = 16;

/// The edits of a script's text: each simple command's, the word rules on the words that are
/// not arguments (redirection targets, comments), and each line of a here-document masked as
/// recorded input is ([`text_line`]: SQL's clauses and these rules).
fn script_edits(script: &str, depth: usize) -> Vec<Edit> {
    let tokens = shell::lex(script);
    let parts = shell::commands(&tokens);
    let mut out = Vec::new();
    for command in parts.commands {
        let values: Vec<&str> = command.iter().map(|w| w.value.as_str()).collect();
        let edits = command_edits(&values, None, depth + 1);
        for (word, edits) in command.iter().zip(edits) {
            out.extend(edits.iter().flat_map(|e| word.to_script(e, script)));
        }
    }
    for word in parts.others {
        out.extend(
            word_edits(&word.value)
                .iter()
                .flat_map(|e| word.to_script(e, script)),
        );
    }
    for text in parts.texts {
        let mut at = text.start;
        for line in script[text].split_inclusive('\n') {
            let masked = text_line(line);
            if masked != line {
                out.push(Edit {
                    range: at..at + line.len(),
                    with: masked.into(),
                });
            }
            at += line.len();
        }
    }
    out
}

/// The edits of each word of one command (program first).
fn command_edits(
    words: &[&str],
    preset: Option<(Secrets, &[String])>,
    depth: usize,
) -> Vec<Vec<Edit>> {
    let mut walk = Walk {
        words,
        edits: words.iter().map(|w| word_edits(w)).collect(),
        depth,
        hops: 0,
    };
    if depth <= MAX_DEPTH {
        walk.command(0, preset);
    }
    walk.edits
}
