//! `teelog completions SHELL`: the completion scripts. bash, zsh and fish get scripts of teelog's
//! own (in `completions/`), because clap_complete's cannot hand the command after `--` to its own
//! completion, nor ask teelog for the user's presets; their tables (options, which take values,
//! what the values are) are written here from the clap definition, so they cannot drift from the
//! flags. elvish and powershell get clap_complete's scripts as they are.

use std::io::{self, Write};
use std::path::Path;

use clap::builder::PossibleValue;
use clap::{Arg, Command, CommandFactory, ValueHint};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;

/// Writes the completion script for `shell` to standard output, whole or not at all as far as
/// teelog can tell: it is made in memory first, and a failed write is an error, not a panic.
pub fn print(shell: Shell) -> Result<(), Error> {
    let script = script(shell);
    let mut out = io::stdout().lock();
    out.write_all(script.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::Usage(format!("cannot write the {shell} completion script: {e}")))
}

/// `teelog completions preset-names`: every preset's name, one a line, for the scripts. A
/// presets file that cannot be read still leaves the built-in names (the error would only
/// disturb the command line being completed).
pub fn print_preset_names(file: Option<&Path>) -> Result<(), Error> {
    let names: Vec<String> = match crate::preset::Presets::load(file) {
        Ok(presets) => presets.iter().map(|p| p.name.clone()).collect(),
        Err(_) => crate::preset::builtin_names().map(String::from).collect(),
    };
    let mut text = String::new();
    for name in names.iter().filter(|n| !n.contains('\n')) {
        text.push_str(name);
        text.push('\n');
    }
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::Usage(format!("cannot write the preset names: {e}")))
}

/// The script for `shell`.
pub fn script(shell: Shell) -> String {
    let scopes = scopes();
    let mut builtin: Vec<&str> = crate::preset::builtin_names().collect();
    builtin.sort_unstable();
    let builtin = builtin.join(" ");
    match shell {
        Shell::Bash => bash(&scopes).replace("@BUILTIN_PRESETS@", &builtin),
        Shell::Zsh => zsh(&scopes).replace("@BUILTIN_PRESETS@", &builtin),
        Shell::Fish => fish(&scopes).replace("@BUILTIN_PRESETS@", &builtin),
        other => {
            let mut out = Vec::new();
            clap_complete::generate(other, &mut Cli::command(), "teelog", &mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// What a word completes to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// One of these words.
    Words(Vec<Word>),
    /// A file or directory name.
    Files,
    /// A preset's name, asked of teelog (`completions preset-names`) each time.
    Presets,
    /// Anything: nothing to offer (a size, a number, a session id).
    Anything,
}

/// A word to offer, with what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    name: String,
    help: String,
}

/// One option: its names, the first line of its help, and what its value is (none for a flag).
#[derive(Clone, Debug)]
struct Opt {
    short: Option<char>,
    long: Option<String>,
    help: String,
    value: Option<Value>,
    /// `FORMAT`, `PATH`: what zsh calls the value.
    value_name: String,
    repeated: bool,
}

/// teelog itself (`main`) or one of its subcommands: the options and what the positional
/// words are. `main`'s positional is the command to run, which the scripts complete as one.
#[derive(Clone, Debug)]
struct Scope {
    name: String,
    help: String,
    opts: Vec<Opt>,
    positional: Option<Value>,
}

/// `main`, `replay`, `ship`, `completions`, from the clap definition.
fn scopes() -> Vec<Scope> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut scopes = vec![scope("main", &cmd)];
    scopes.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| scope(s.get_name(), s)),
    );
    scopes
}

fn scope(name: &str, cmd: &Command) -> Scope {
    let opts = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .map(|a| Opt {
            short: a.get_short(),
            long: a.get_long().map(String::from),
            help: first_line(a.get_help().map(ToString::to_string)),
            value: value(a),
            value_name: a
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| "value".to_owned(), ToString::to_string),
            repeated: matches!(a.get_action(), clap::ArgAction::Append),
        })
        .collect();
    Scope {
        name: name.to_owned(),
        help: first_line(cmd.get_about().map(ToString::to_string)),
        opts,
        positional: cmd.get_positionals().next().and_then(value),
    }
}

/// What `arg`'s values complete to; `None` for a flag.
fn value(arg: &Arg) -> Option<Value> {
    if !arg.get_num_args().is_some_and(|n| n.takes_values()) {
        return None;
    }
    if arg.get_id() == "preset" {
        return Some(Value::Presets);
    }
    let words: Vec<Word> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(word)
        .collect();
    if !words.is_empty() {
        return Some(Value::Words(words));
    }
    Some(match arg.get_value_hint() {
        ValueHint::AnyPath
        | ValueHint::FilePath
        | ValueHint::DirPath
        | ValueHint::ExecutablePath => Value::Files,
        _ => Value::Anything,
    })
}

fn word(value: &PossibleValue) -> Word {
    Word {
        name: value.get_name().to_owned(),
        help: first_line(value.get_help().map(ToString::to_string)),
    }
}

/// The first sentence of a help text, on one line.
fn first_line(help: Option<String>) -> String {
    let help = help.unwrap_or_default().replace('\n', " ");
    let end = [". ", ": "]
        .iter()
        .filter_map(|stop| help.find(stop))
        .min()
        .unwrap_or(help.len());
    help[..end].trim_end_matches('.').trim().to_owned()
}

impl Opt {
    /// `-f`, `--format`: the names as typed.
    fn names(&self) -> Vec<String> {
        let short = self.short.map(|c| format!("-{c}"));
        let long = self.long.as_ref().map(|l| format!("--{l}"));
        short.into_iter().chain(long).collect()
    }
}

fn subcommands(scopes: &[Scope]) -> impl Iterator<Item = &Scope> {
    scopes.iter().skip(1)
}

/// Fills the bash script's tables.
fn bash(scopes: &[Scope]) -> String {
    let mut takes = Vec::new();
    let mut values = String::new();
    let mut options = String::new();
    let mut positionals = String::new();
    for scope in scopes {
        let mut all = Vec::new();
        for opt in &scope.opts {
            let patterns: Vec<String> = opt
                .names()
                .iter()
                .map(|n| format!("{},{n}", scope.name))
                .collect();
            all.extend(opt.names());
            let Some(value) = &opt.value else { continue };
            takes.extend(patterns.iter().cloned());
            values.push_str(&format!(
                "{})\n        {}\n        ;;\n    ",
                patterns.join("|"),
                bash_reply(value, "$value")
            ));
        }
        options.push_str(&format!(
            "{}) local opts=$'{}' ;;\n        ",
            scope.name,
            all.join("\\n")
        ));
        if scope.name != "main" {
            let reply = scope
                .positional
                .as_ref()
                .map_or_else(|| "COMPREPLY=()".to_owned(), |v| bash_reply(v, "$cur"));
            positionals.push_str(&format!(
                "{})\n        {reply}\n        ;;\n    ",
                scope.name
            ));
        }
    }
    let names: Vec<&str> = subcommands(scopes).map(|s| s.name.as_str()).collect();
    include_str!("completions/teelog.bash")
        .replace("@TAKES_VALUE@", &takes.join("|"))
        .replace("    @VALUES@\n", &format!("    {}\n", values.trim_end()))
        .replace("@OPTIONS@", options.trim_end())
        .replace(
            "    @POSITIONALS@\n",
            &format!("    {}\n", positionals.trim_end()),
        )
        .replace("@SUBCOMMANDS_LINES@", &names.join("\\n"))
        .replace("@SUBCOMMANDS@", &names.join("|"))
}

/// The bash statement that sets COMPREPLY for a value whose text so far is `text`.
fn bash_reply(value: &Value, text: &str) -> String {
    match value {
        Value::Words(words) => {
            let names: Vec<&str> = words.iter().map(|w| w.name.as_str()).collect();
            format!("_teelog_reply $'{}' \"{text}\"", names.join("\\n"))
        }
        Value::Files => format!("_teelog_files \"{text}\""),
        Value::Presets => format!("_teelog_reply \"$(_teelog_presets)\" \"{text}\""),
        Value::Anything => "compopt +o default +o bashdefault 2>/dev/null".to_owned(),
    }
}

/// Fills the zsh script's tables: one `_arguments` spec per option.
fn zsh(scopes: &[Scope]) -> String {
    let mut script = include_str!("completions/_teelog").to_owned();
    for scope in scopes {
        let mut specs = String::new();
        for opt in &scope.opts {
            specs.push_str(&format!("        {} \\\n", zsh_spec(opt)));
        }
        let key = format!("@SPECS_{}@", scope.name.to_uppercase());
        script = script.replace(&format!("        {key}\n"), &specs);
        if scope.name != "main" {
            let positional = match &scope.positional {
                Some(value) => format!("':{}:{}'", scope.name, zsh_action(value)),
                None => String::new(),
            };
            script = script.replace(
                &format!("@POSITIONAL_{}@", scope.name.to_uppercase()),
                &positional,
            );
        }
    }
    let described: Vec<String> = subcommands(scopes)
        .map(|s| zsh_quote(&format!("{}:{}", s.name, s.help)))
        .collect();
    script.replace("@SUBCOMMANDS@", &described.join(" "))
}

/// `'(-f --format)'{-f+,--format=}'[How the console shows the output]:FORMAT:(plain ...)'`
fn zsh_spec(opt: &Opt) -> String {
    let names = opt.names();
    let marked: Vec<String> = names
        .iter()
        .map(|n| match (&opt.value, n.starts_with("--")) {
            (None, _) => n.clone(),
            (Some(_), true) => format!("{n}="),
            (Some(_), false) => format!("{n}+"),
        })
        .collect();
    let exclusions = if opt.repeated {
        "'*'".to_owned()
    } else {
        format!("'({})'", names.join(" "))
    };
    let names = match marked.as_slice() {
        [one] => one.clone(),
        many => format!("{{{}}}", many.join(",")),
    };
    let help = opt.help.replace(['[', ']'], "");
    let value = match &opt.value {
        Some(value) => format!(
            ":{}:{}",
            opt.value_name.replace(['[', ']', ':'], ""),
            zsh_action(value)
        ),
        None => String::new(),
    };
    format!(
        "{exclusions}{names}{}",
        zsh_quote(&format!("[{help}]{value}"))
    )
}

/// The `_arguments` action for a value.
fn zsh_action(value: &Value) -> String {
    match value {
        Value::Words(words) => {
            let described: Vec<String> = words
                .iter()
                .map(|w| {
                    let help = w.help.replace(['\\', '"', '`', '$'], "");
                    format!("{}\\:\"{}\"", w.name, help)
                })
                .collect();
            format!("(({}))", described.join(" "))
        }
        Value::Files => "_files".to_owned(),
        Value::Presets => "_teelog_presets".to_owned(),
        Value::Anything => " ".to_owned(),
    }
}

/// `'text'`, for zsh and fish alike (a `'` inside becomes `'\''`).
fn zsh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Fills the fish script's table: one `complete` line per option and value.
fn fish(scopes: &[Scope]) -> String {
    let mut lines = String::new();
    for scope in scopes {
        let when = format!("-n '__teelog_scope {}'", scope.name);
        for opt in &scope.opts {
            let mut line = format!("complete -c teelog {when}");
            if let Some(c) = opt.short {
                line.push_str(&format!(" -s {c}"));
            }
            if let Some(l) = &opt.long {
                line.push_str(&format!(" -l {l}"));
            }
            line.push_str(&fish_value(opt.value.as_ref()));
            line.push_str(&format!(" -d {}", fish_quote(&opt.help)));
            lines.push_str(&line);
            lines.push('\n');
        }
        if scope.name != "main" {
            let when = format!("-n '__teelog_scope {}-positional'", scope.name);
            match &scope.positional {
                Some(Value::Words(words)) => {
                    for w in words {
                        lines.push_str(&format!(
                            "complete -c teelog {when} -f -a {} -d {}\n",
                            fish_quote(&w.name),
                            fish_quote(&w.help)
                        ));
                    }
                }
                Some(Value::Files) => {
                    lines.push_str(&format!("complete -c teelog {when} -F\n"));
                }
                _ => {}
            }
        }
    }
    for scope in subcommands(scopes) {
        lines.push_str(&format!(
            "complete -c teelog -n '__teelog_scope main-first' -f -a {} -d {}\n",
            fish_quote(&scope.name),
            fish_quote(&scope.help)
        ));
    }
    let takes: Vec<String> = scopes
        .iter()
        .flat_map(|scope| {
            scope
                .opts
                .iter()
                .filter(|o| o.value.is_some())
                .flat_map(|o| o.names())
                .map(|n| format!("{},{n}", scope.name))
        })
        .collect();
    let names: Vec<&str> = subcommands(scopes).map(|s| s.name.as_str()).collect();
    include_str!("completions/teelog.fish")
        .replace("@COMPLETE@\n", &lines)
        .replace("@TAKES_VALUE@", &takes.join(" "))
        .replace("@SUBCOMMANDS@", &names.join(" "))
}

/// ` -x -a '...'`, ` -r -F`, ...: how fish completes an option's value.
fn fish_value(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        // `-a` is expanded as fish code, and a description's `>` or `'` would be code: the
        // names alone, which are plain words.
        Some(Value::Words(words)) => {
            let names: Vec<&str> = words.iter().map(|w| w.name.as_str()).collect();
            format!(" -x -a {}", fish_quote(&names.join(" ")))
        }
        Some(Value::Files) => " -r -F".to_owned(),
        Some(Value::Presets) => " -x -a '(__teelog_presets)'".to_owned(),
        Some(Value::Anything) => " -x".to_owned(),
    }
}

/// `'text'` for fish: `\` and `'` escaped inside.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_come_from_the_flags() {
        let scopes = scopes();
        let names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["main", "replay", "ship", "verify", "keygen", "completions"]
        );
        let format = |scope: &Scope| {
            scope
                .opts
                .iter()
                .find(|o| o.long.as_deref() == Some("format"))
                .and_then(|o| o.value.clone())
        };
        let words = |v: Option<Value>| match v {
            Some(Value::Words(words)) => words.into_iter().map(|w| w.name).collect::<Vec<_>>(),
            other => panic!("not words: {other:?}"),
        };
        // Only the console formats: journal and syslog are destinations for -o.
        assert_eq!(
            words(format(&scopes[0])),
            ["plain", "classic", "jsonl", "asciicast"]
        );
        assert_eq!(scopes[1].positional, Some(Value::Files));
        let preset = scopes[0]
            .opts
            .iter()
            .find(|o| o.long.as_deref() == Some("preset"));
        assert_eq!(preset.and_then(|o| o.value.clone()), Some(Value::Presets));
    }

    #[test]
    fn every_table_is_filled() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(shell);
            let unfilled = script
                .match_indices('@')
                .any(|(i, _)| script[i + 1..].starts_with(|c: char| c.is_ascii_uppercase()));
            assert!(!unfilled, "{shell}: a table left unfilled");
            assert!(script.contains("--presets-file"), "{shell}");
        }
    }

    #[test]
    fn first_lines() {
        assert_eq!(
            first_line(Some("Show nothing. More.".into())),
            "Show nothing"
        );
        assert_eq!(first_line(Some("a\nb".into())), "a b");
        assert_eq!(
            first_line(Some("Run it: a profile. See x".into())),
            "Run it"
        );
        assert_eq!(first_line(None), "");
    }
}
