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

mod shell;
mod sql;
mod word;

pub use sql::{LineMasker, text_line};
use word::{
    Edit, apply, assignment_ranges, conninfo_ranges, option_value, secret_name, uri_ranges,
    word_edits,
};

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

/// How a wrapper program's own arguments look: which options take a value, and how many
/// positional arguments (a duration, a directory) come before the wrapped command.
struct Wrapper {
    names: &'static [&'static str],
    /// Options whose value is the next word (when not given as `--opt=value` or `-oVALUE`).
    valued: &'static [&'static str],
    positionals: usize,
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
enum Client {
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
    fn of(base: &str) -> Option<Client> {
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
    fn short_options(self) -> (&'static str, &'static str) {
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
    fn prompts(self, option: &str) -> bool {
        match self {
            Client::Mysql => is_mysql_password(option),
            Client::Postgres => option == "--password",
            _ => false,
        }
    }
}

/// What a program is, as far as finding the commands inside an argv goes.
enum Program {
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
    fn of(base: &str) -> Option<Program> {
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
fn is_keyword(word: &str) -> bool {
    [
        "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "for", "in", "case",
        "esac", "select", "function", "!", "{", "}", "[[", "]]", "time", "coproc",
    ]
    .contains(&word)
}

/// `NAME=value` with a valid variable name.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
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

/// The edits of a script's text: each simple command's, and the word rules on the words that
/// are not arguments (redirection targets, comments).
fn script_edits(script: &str, depth: usize) -> Vec<Edit> {
    let tokens = shell::lex(script);
    let (commands, others) = shell::commands(&tokens);
    let mut out = Vec::new();
    for command in commands {
        let values: Vec<&str> = command.iter().map(|w| w.value.as_str()).collect();
        let edits = command_edits(&values, None, depth + 1);
        for (word, edits) in command.iter().zip(edits) {
            out.extend(edits.iter().flat_map(|e| word.to_script(e)));
        }
    }
    for word in others {
        out.extend(
            word_edits(&word.value)
                .iter()
                .flat_map(|e| word.to_script(e)),
        );
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
    };
    if depth <= MAX_DEPTH {
        walk.command(0, preset);
    }
    walk.edits
}

/// A bundle of short options (`-abc`): the first letter of `valued` in it, and where its value
/// starts in the word when glued to it (`-uroot`, `-vpSECRET`).
fn short_valued(word: &str, valued: &str) -> Option<(char, Option<usize>)> {
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
fn is_mysql_password(name: &str) -> bool {
    let Some(name) = name.strip_prefix("--") else {
        return false;
    };
    let name = name.strip_prefix("loose-").unwrap_or(name);
    name.len() >= 3 && "password".starts_with(name)
}

/// mysqlsh's `user:SECRET@host[:port]` (no scheme).
fn user_at_host(arg: &str) -> Option<Range<usize>> {
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
fn after_colon(value: &str) -> Option<Range<usize>> {
    value
        .find(':')
        .map(|c| c + 1..value.len())
        .filter(|r| !r.is_empty())
}

/// One command's words being walked, with the edits found so far for each.
struct Walk<'a> {
    words: &'a [&'a str],
    edits: Vec<Vec<Edit>>,
    depth: usize,
}

impl Walk<'_> {
    fn mask(&mut self, k: usize, range: Option<Range<usize>>) {
        if let Some(range) = range.filter(|r| !r.is_empty()) {
            self.edits[k].push(Edit::mask(range));
        }
    }

    /// The value of a secret option, in word `k` from byte `at`.
    fn mask_value(&mut self, k: usize, at: usize, client: Client, letter: Option<char>) {
        let value = &self.words[k][at..];
        let range = match (client, letter) {
            (Client::Curl, Some('u' | 'U')) => after_colon(value),
            _ => option_value(value),
        };
        self.mask(k, range.map(|r| r.start + at..r.end + at));
    }

    /// Word `k`, from byte `at`, is a shell script: the rules apply to its words rather than to
    /// it as one word (`sh -c 'PGPASSWORD=x psql'` keeps `psql`).
    fn script_in(&mut self, k: usize, at: usize) {
        if let Some(edits) = self.edits.get_mut(k) {
            edits.retain(|e| e.range.end <= at);
        }
        self.maybe_script_in(k, at);
    }

    /// Word `k`, from byte `at`, may be a shell script: the rules apply to its words too.
    fn maybe_script_in(&mut self, k: usize, at: usize) {
        let Some(word) = self.words.get(k) else {
            return;
        };
        for e in script_edits(&word[at..], self.depth) {
            self.edits[k].push(Edit {
                range: e.range.start + at..e.range.end + at,
                mask: e.mask,
            });
        }
    }

    /// `words[range]` joined by blanks are one script (ssh's remote command, eval).
    fn script_words(&mut self, range: Range<usize>) {
        let mut joined = String::new();
        let mut starts = Vec::new();
        for k in range.clone() {
            if k > range.start {
                joined.push(' ');
            }
            starts.push(joined.len());
            joined.push_str(self.words[k]);
        }
        for k in range.clone() {
            self.edits[k].clear();
        }
        for e in script_edits(&joined, self.depth) {
            let mut first = true;
            for (j, k) in range.clone().enumerate() {
                let (start, end) = (starts[j], starts[j] + self.words[k].len());
                let (lo, hi) = (e.range.start.max(start), e.range.end.min(end));
                if lo < hi {
                    self.edits[k].push(Edit {
                        range: lo - start..hi - start,
                        mask: e.mask && std::mem::take(&mut first),
                    });
                }
            }
        }
    }

    /// The command that starts at word `i`, after assignments and reserved words.
    fn command(&mut self, mut i: usize, preset: Option<(Secrets, &[String])>) {
        let n = self.words.len();
        while i < n && (is_keyword(self.words[i]) || is_assignment(self.words[i])) {
            i += 1;
        }
        let Some(program) = self.words.get(i) else {
            return;
        };
        let base = base_name(program);
        let kind = Program::of(base);
        if let Some(Program::Wrapper(w)) = kind {
            let start = self.skip_options(i + 1, w);
            return self.command(start, preset);
        }
        if let Some((secrets, extra)) = preset
            && !matches!(kind, Some(Program::Env))
        {
            let client = match secrets {
                Secrets::Mysql => Client::Mysql,
                Secrets::Postgres => Client::Postgres,
                Secrets::Generic => Client::of(base).unwrap_or(Client::Generic),
            };
            return self.args(i + 1, client, extra);
        }
        match kind {
            Some(Program::Shell) => self.shell(i + 1),
            Some(Program::Su) => self.su(i + 1),
            Some(Program::Ssh) => self.ssh(i + 1),
            Some(Program::Env) => self.env(i + 1, preset),
            Some(Program::Eval) => self.script_words(i + 1..n),
            Some(Program::Client(Client::Registry)) if !self.words[i + 1..].contains(&"login") => {
                self.args(i + 1, Client::Generic, &[])
            }
            Some(Program::Client(client)) => self.args(i + 1, client, &[]),
            Some(Program::Wrapper(_)) | None => self.args(i + 1, Client::Generic, &[]),
        }
    }

    /// Index of the wrapped command: past the wrapper's options (and their values), an
    /// optional `--`, and its positional words.
    fn skip_options(&self, mut i: usize, w: &Wrapper) -> usize {
        let letters: String = w
            .valued
            .iter()
            .filter_map(|o| o.strip_prefix('-').filter(|l| l.len() == 1))
            .collect();
        while let Some(word) = self.words.get(i) {
            if *word == "--" {
                i += 1;
                break;
            }
            if !word.starts_with('-') || *word == "-" {
                break;
            }
            i += 1;
            let takes_value = if word.starts_with("--") {
                w.valued.contains(word)
            } else {
                matches!(short_valued(word, &letters), Some((_, None)))
            };
            if takes_value {
                i += 1;
            }
        }
        (i + w.positionals).min(self.words.len())
    }

    /// `sh [options] -c [options] [--] SCRIPT [NAME ARGS...]`, or `sh FILE ARGS...`.
    fn shell(&mut self, mut i: usize) {
        let mut script = false;
        while let Some(word) = self.words.get(i) {
            if *word == "--" || *word == "-" {
                i += 1;
                break;
            }
            if !(word.starts_with('-') || word.starts_with('+')) || word.len() < 2 {
                break;
            }
            i += 1;
            if let Some(long) = word.strip_prefix("--") {
                if long == "command" {
                    script = true;
                } else if ["rcfile", "init-file", "init-command"].contains(&long) {
                    i += 1;
                }
                continue;
            }
            script |= word.contains('c');
            if word.contains(['o', 'O']) {
                i += 1;
            }
        }
        if script {
            self.script_in(i, 0);
        } else if i < self.words.len() {
            self.args(i + 1, Client::Generic, &[]);
        }
    }

    /// `su [options] [USER [ARGS]]` with `-c SCRIPT` anywhere; `runuser -u USER [--] COMMAND`.
    fn su(&mut self, mut i: usize) {
        let mut user_then_command = false;
        while let Some(word) = self.words.get(i).copied() {
            i += 1;
            if word == "--" {
                break;
            }
            if let Some(script) = ["--command=", "--session-command="]
                .iter()
                .find_map(|p| word.strip_prefix(p))
            {
                self.script_in(i - 1, word.len() - script.len());
            } else if word == "--command" || word == "--session-command" {
                self.script_in(i, 0);
                i += 1;
            } else if word.starts_with("--") {
                if [
                    "--shell",
                    "--group",
                    "--supp-group",
                    "--whitelist-environment",
                    "--user",
                ]
                .contains(&word)
                {
                    user_then_command |= word == "--user";
                    i += 1;
                }
            } else if word.starts_with('-') && word.len() > 1 {
                match short_valued(word, "csgGwu") {
                    Some(('c', Some(at))) => self.script_in(i - 1, at),
                    Some(('c', None)) => {
                        self.script_in(i, 0);
                        i += 1;
                    }
                    Some((letter, glued)) => {
                        user_then_command |= letter == 'u';
                        i += usize::from(glued.is_none());
                    }
                    None => {}
                }
            } else if user_then_command {
                return self.command(i - 1, None);
            }
        }
        if user_then_command {
            self.command(i, None);
        }
    }

    /// `ssh [options] DESTINATION [COMMAND...]`: the command words, joined, are one script.
    fn ssh(&mut self, mut i: usize) {
        while let Some(word) = self.words.get(i) {
            if *word == "--" {
                i += 1;
                break;
            }
            if !word.starts_with('-') || *word == "-" {
                break;
            }
            i += 1;
            if let Some((_, None)) = short_valued(word, "BbcDEeFIiJLlmOoPpQRSWw") {
                i += 1;
            }
        }
        if i + 1 < self.words.len() {
            self.script_words(i + 1..self.words.len());
        }
    }

    /// `env [options] [-S STRING] [NAME=value...] [COMMAND...]`.
    fn env(&mut self, mut i: usize, preset: Option<(Secrets, &[String])>) {
        while let Some(word) = self.words.get(i).copied() {
            if word == "--" {
                i += 1;
                break;
            }
            if !word.starts_with('-') {
                break;
            }
            i += 1;
            if let Some(string) = word.strip_prefix("--split-string=") {
                self.script_in(i - 1, word.len() - string.len());
            } else if word == "--split-string" {
                self.script_in(i, 0);
                i += 1;
            } else if word.starts_with("--") {
                i += usize::from(["--unset", "--chdir"].contains(&word));
            } else {
                match short_valued(word, "uCS") {
                    Some(('S', Some(at))) => self.script_in(i - 1, at),
                    Some(('S', None)) => {
                        self.script_in(i, 0);
                        i += 1;
                    }
                    Some((_, None)) => i += 1,
                    _ => {}
                }
            }
        }
        self.command(i, preset)
    }

    /// A client's arguments, from word `i`: secret-looking options and `extra` with their
    /// value in the next word, the client's own short options, and (for programs that may wrap
    /// others) any program teelog knows, as a command of its own.
    fn args(&mut self, mut k: usize, client: Client, extra: &[String]) {
        let (valued, secret) = client.short_options();
        while let Some(word) = self.words.get(k).copied() {
            k += 1;
            let next_is_value = self.words.get(k).is_some_and(|w| !w.starts_with('-'));
            if word == "--" {
                continue;
            } else if word.starts_with('-') && word.len() > 1 {
                if let Some((letter, glued)) = short_valued(word, valued) {
                    match glued {
                        Some(at) if secret.contains(letter) => {
                            self.mask_value(k - 1, at, client, Some(letter));
                        }
                        // mysql's `-p` alone prompts.
                        None if secret.contains(letter) => {
                            if client != Client::Mysql && next_is_value {
                                self.mask_value(k, 0, client, Some(letter));
                                k += 1;
                            }
                        }
                        None => k += 1,
                        Some(_) => {}
                    }
                    continue;
                }
                let curl_user = |name: &str| {
                    client == Client::Curl && ["--user", "--proxy-user"].contains(&name)
                };
                if let Some((name, _)) = word.split_once('=') {
                    if extra.iter().any(|e| e == name)
                        || (client == Client::Mysql && is_mysql_password(name))
                    {
                        self.mask_value(k - 1, name.len() + 1, client, None);
                    } else if curl_user(name) {
                        self.mask_value(k - 1, name.len() + 1, client, Some('u'));
                    }
                    continue;
                }
                let secret_option =
                    extra.iter().any(|e| e == word) || (secret_name(word) && !client.prompts(word));
                if (secret_option || curl_user(word)) && next_is_value {
                    let letter = (!secret_option).then_some('u');
                    self.mask_value(k, 0, client, letter);
                    k += 1;
                }
            } else if Program::of(base_name(word)).is_some() {
                return self.command(k - 1, None);
            } else if client == Client::Mysql {
                // mysqladmin's command `password NEW` (and `old-password NEW`).
                if (word == "password" || word == "old-password") && k < self.words.len() {
                    self.mask(k, Some(0..self.words[k].len()));
                    k += 1;
                } else {
                    self.mask(k - 1, user_at_host(word));
                }
            } else if word.contains(char::is_whitespace) {
                // An argument that is a command line of its own (`flock LOCK -c 'cmd'`,
                // `watch 'cmd'`).
                self.maybe_script_in(k - 1, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form the secrets issue lists, with its masked result: the secret (`S3cr`...) never
    /// survives, and everything else stays readable.
    #[test]
    fn every_form_is_masked_and_the_rest_stays() {
        let table: &[(&str, &str)] = &[
            // The mysql family.
            ("mysql -u u -pS3cret db", "mysql -u u -p*** db"),
            ("mysql -vpS3cret db", "mysql -vp*** db"),
            ("mysql -uroot -p db", "mysql -uroot -p db"),
            ("mysql --password=S3cret", "mysql --password=***"),
            ("mysql --pass=S3cret", "mysql --pass=***"),
            (
                "mysql --loose-password=S3cret",
                "mysql --loose-password=***",
            ),
            ("mysql --password db", "mysql --password db"),
            ("mariadb-dump -pS3cret shop", "mariadb-dump -p*** shop"),
            (
                "mysqldump --password=S3cret shop",
                "mysqldump --password=*** shop",
            ),
            (
                "mysqlimport -pS3cret shop f.csv",
                "mysqlimport -p*** shop f.csv",
            ),
            (
                "mysqladmin -u root password N3wS3cret",
                "mysqladmin -u root password ***",
            ),
            ("mysqlsh root:S3cret@db1:3306", "mysqlsh root:***@db1:3306"),
            (
                "mysqlsh mysql://root:S3cret@db1",
                "mysqlsh mysql://root:***@db1",
            ),
            // PostgreSQL.
            (
                "psql postgresql://u:S3cret@db/app",
                "psql postgresql://u:***@db/app",
            ),
            (
                "psql postgresql://u:S3?c#r/t@db/app?sslmode=require",
                "psql postgresql://u:***@db/app?sslmode=require",
            ),
            (
                "psql 'postgresql://u:S3c ret@db/app'",
                "psql postgresql://u:***@db/app",
            ),
            (
                "sh -c 'psql postgres://a:S3cret@h1 && psql postgres://b@h2'",
                "sh -c 'psql postgres://a:***@h1 && psql postgres://b@h2'",
            ),
            (
                "psql postgresql://u@db/app?sslmode=require&password=S3cret",
                "psql postgresql://u@db/app?sslmode=require&password=***",
            ),
            (
                "psql 'host=db password=S3cret dbname=app'",
                "psql 'host=db password=*** dbname=app'",
            ),
            ("psql -W -d app", "psql -W -d app"),
            ("psql --password app", "psql --password app"),
            // Secret variables, wherever they are.
            (
                "env PGPASSWORD=S3cret psql -h db",
                "env PGPASSWORD=*** psql -h db",
            ),
            ("env MYSQL_PWD=S3cret mysql", "env MYSQL_PWD=*** mysql"),
            (
                "env DEPLOY_TOKEN=S3cret GITHUB_API_KEY=S3cret2 ./deploy",
                "env DEPLOY_TOKEN=*** GITHUB_API_KEY=*** ./deploy",
            ),
            ("env PATH=/bin make", "env PATH=/bin make"),
            // Wrappers.
            (
                "sudo -u postgres psql postgres://a:S3cret@h",
                "sudo -u postgres psql postgres://a:***@h",
            ),
            ("timeout 600 mysql -pS3cret", "timeout 600 mysql -p***"),
            (
                "timeout -s INT 60 mysql -pS3cret",
                "timeout -s INT 60 mysql -p***",
            ),
            (
                "nice -n 5 ionice -c 3 mysql -pS3cret",
                "nice -n 5 ionice -c 3 mysql -p***",
            ),
            ("stdbuf -oL mysql -pS3cret", "stdbuf -oL mysql -p***"),
            ("nohup doas mysql -pS3cret", "nohup doas mysql -p***"),
            ("chroot /srv mysql -pS3cret", "chroot /srv mysql -p***"),
            (
                "docker exec -it db mysql -uroot -pS3cret",
                "docker exec -it db mysql -uroot -p***",
            ),
            (
                "docker exec -e MYSQL_PWD=S3cret db mysql",
                "docker exec -e MYSQL_PWD=*** db mysql",
            ),
            (
                "podman run --rm -e X=1 img mysql -pS3cret",
                "podman run --rm -e X=1 img mysql -p***",
            ),
            (
                "kubectl exec -n prod db-0 -- mysql -pS3cret",
                "kubectl exec -n prod db-0 -- mysql -p***",
            ),
            ("ssh -p 22 db1 mysql -pS3cret", "ssh -p 22 db1 mysql -p***"),
            (
                "ssh db1 'mysql -pS3cret shop'",
                "ssh db1 'mysql -p*** shop'",
            ),
            (
                "kubectl exec -it db-0 -c mysql -- mysql -pS3cret",
                "kubectl exec -it db-0 -c mysql -- mysql -p***",
            ),
            (
                "env -i PGPASSWORD=S3cret psql",
                "env -i PGPASSWORD=*** psql",
            ),
            ("env 'MYSQL_PWD=S3c ret' mysql", "env MYSQL_PWD=*** mysql"),
            (
                "docker exec -e 'MYSQL_PWD=S3c ret' db mysql",
                "docker exec -e MYSQL_PWD=*** db mysql",
            ),
            (
                "sudo --user=pg mysql -pS3cret",
                "sudo --user=pg mysql -p***",
            ),
            (
                "timeout --signal=KILL 5 mysql -pS3cret",
                "timeout --signal=KILL 5 mysql -p***",
            ),
            (
                "docker exec db sh -c 'mysql -pS3cret'",
                "docker exec db sh -c 'mysql -p***'",
            ),
            (
                "ssh -t db1 sudo mysql --password=S3cret",
                "ssh -t db1 sudo mysql --password=***",
            ),
            // Shell scripts.
            (
                "bash -c 'MYSQL_PWD=\"S3c ret\" mysql'",
                "bash -c 'MYSQL_PWD=\"***\" mysql'",
            ),
            (
                "sh -c 'mysql -pS3cret < x.sql'",
                "sh -c 'mysql -p*** < x.sql'",
            ),
            (
                "bash -c 'PGPASSWORD=S3cret psql -h db; echo done'",
                "bash -c 'PGPASSWORD=*** psql -h db; echo done'",
            ),
            (
                "sh -c 'cd /x && mysql --password=S3cret'",
                "sh -c 'cd /x && mysql --password=***'",
            ),
            // Everything else.
            (
                "curl --token S3cret https://x",
                "curl --token *** https://x",
            ),
            ("tool --api-key=S3cret", "tool --api-key=***"),
            ("psql -p 5432", "psql -p 5432"),
            ("make -j2", "make -j2"),
        ];
        for (line, expected) in table {
            let argv = shlex::split(line).unwrap();
            let shown = command_line(&argv, None);
            let expected = shlex::split(expected).unwrap();
            assert_eq!(shown, expected, "{line}");
            assert!(
                shown.iter().all(|w| !w.contains("S3cr")),
                "{line}: {shown:?}"
            );
        }
    }

    /// `line` (shell words) as logged, word by word.
    #[track_caller]
    fn shown(line: &str) -> Vec<String> {
        let argv = shlex::split(line).unwrap();
        let shown = command_line(&argv, None);
        assert_eq!(shown.len(), argv.len(), "{line}");
        shown
    }

    /// The forms of the second pass (issue 20): scripts split at every operator, the rules in
    /// any word behind any wrapper, the clients with short options; each with its exact result.
    #[test]
    fn the_forms_of_the_second_pass_are_masked_and_the_rest_stays() {
        let table: &[(&str, &str)] = &[
            // Scripts: every operator, keyword and substitution; the script stays byte for byte.
            (
                "bash -c 'cd /x\nmysql -pS3cret db\necho ok'",
                "bash -c 'cd /x\nmysql -p*** db\necho ok'",
            ),
            ("sh -c 'a;mysql -pS3cret'", "sh -c 'a;mysql -p***'"),
            (
                "sh -c 'mysql -pS3cret&&echo ok'",
                "sh -c 'mysql -p***&&echo ok'",
            ),
            (
                "sh -c 'true||mysql -pS3cret|cat'",
                "sh -c 'true||mysql -p***|cat'",
            ),
            ("sh -c 'mysql -pS3cret& wait'", "sh -c 'mysql -p***& wait'"),
            (
                "sh -c 'if true; then mysql -pS3cret; fi'",
                "sh -c 'if true; then mysql -p***; fi'",
            ),
            (
                "sh -c 'for i in 1 2; do mysql -pS3cret$i; done'",
                "sh -c 'for i in 1 2; do mysql -p***; done'",
            ),
            (
                "sh -c 'while :; do mysql -pS3cret; done'",
                "sh -c 'while :; do mysql -p***; done'",
            ),
            ("sh -c '(mysql -pS3cret)'", "sh -c '(mysql -p***)'"),
            ("sh -c '{ mysql -pS3cret; }'", "sh -c '{ mysql -p***; }'"),
            (
                "sh -c 'echo $(mysql -pS3cret -e \"select 1\")'",
                "sh -c 'echo $(mysql -p*** -e \"select 1\")'",
            ),
            (
                "sh -c 'x=\"$(mysql -pS3cret)\"'",
                "sh -c 'x=\"$(mysql -p***)\"'",
            ),
            (
                "sh -c 'echo `mysql -pS3cret`'",
                "sh -c 'echo `mysql -p***`'",
            ),
            (
                "sh -c 'diff <(mysql -pS3cret) x'",
                "sh -c 'diff <(mysql -p***) x'",
            ),
            (
                "sh -c 'mysql -pS3cret 2>/dev/null | grep x'",
                "sh -c 'mysql -p*** 2>/dev/null | grep x'",
            ),
            (
                "bash -c 'mysql -p\"S3c ret\" db'",
                "bash -c 'mysql -p\"***\" db'",
            ),
            ("sh -c -- 'mysql -pS3cret'", "sh -c -- 'mysql -p***'"),
            ("bash -x -c 'mysql -pS3cret'", "bash -x -c 'mysql -p***'"),
            ("bash -lc 'mysql -pS3cret'", "bash -lc 'mysql -p***'"),
            (
                "bash -o pipefail -c 'mysql -pS3cret | gzip'",
                "bash -o pipefail -c 'mysql -p*** | gzip'",
            ),
            (
                "sh -c 'export API_TOKEN=S3cret; ./deploy'",
                "sh -c 'export API_TOKEN=***; ./deploy'",
            ),
            (
                "sh -c 'sh -c \"mysql -pS3cret; echo\"'",
                "sh -c 'sh -c \"mysql -p***; echo\"'",
            ),
            (
                "env -S 'PGPASSWORD=S3cret psql -h db'",
                "env -S 'PGPASSWORD=*** psql -h db'",
            ),
            (
                "ssh db1 'cd /x && mysql -pS3cret'",
                "ssh db1 'cd /x && mysql -p***'",
            ),
            (
                "ssh db1 cd /x ';' mysql -pS3cret",
                "ssh db1 cd /x ';' mysql -p***",
            ),
            ("eval 'mysql -pS3cret'", "eval 'mysql -p***'"),
            // Wrappers, known or not.
            (
                "sudo -iu root mysql -pS3cret db",
                "sudo -iu root mysql -p*** db",
            ),
            (
                "xargs -I{} mysql -pS3cret -e {}",
                "xargs -I{} mysql -p*** -e {}",
            ),
            (
                "docker compose exec db mysql -uroot -pS3cret",
                "docker compose exec db mysql -uroot -p***",
            ),
            (
                "su -c 'mysql -pS3cret' postgres",
                "su -c 'mysql -p***' postgres",
            ),
            (
                "su - postgres -c 'PGPASSWORD=S3cret psql'",
                "su - postgres -c 'PGPASSWORD=*** psql'",
            ),
            (
                "runuser -u mysql -- mysql -pS3cret",
                "runuser -u mysql -- mysql -p***",
            ),
            (
                "runuser -l postgres --command='mysql -pS3cret'",
                "runuser -l postgres '--command=mysql -p***'",
            ),
            (
                "strace -f -o /tmp/t mysql -pS3cret",
                "strace -f -o /tmp/t mysql -p***",
            ),
            ("flock /tmp/l mysql -pS3cret", "flock /tmp/l mysql -p***"),
            (
                "flock /tmp/l -c 'mysql -pS3cret db'",
                "flock /tmp/l -c 'mysql -p*** db'",
            ),
            (
                "watch -n 5 'mysql -pS3cret -e status'",
                "watch -n 5 'mysql -p*** -e status'",
            ),
            (
                "somewrapper --x y mysql -pS3cret",
                "somewrapper --x y mysql -p***",
            ),
            ("time nohup mysql -pS3cret", "time nohup mysql -p***"),
            // Secret-looking names, in any program.
            (
                "env DATABASE_URL=postgres://app:S3cret@db/app ./run",
                "env DATABASE_URL=postgres://app:***@db/app ./run",
            ),
            (
                "env AWS_SECRET_ACCESS_KEY=S3cret aws s3 ls",
                "env AWS_SECRET_ACCESS_KEY=*** aws s3 ls",
            ),
            (
                "docker login -u me --password S3cret r.io",
                "docker login -u me --password *** r.io",
            ),
            (
                "docker login -u me -p S3cret r.io",
                "docker login -u me -p *** r.io",
            ),
            ("docker login -pS3cret r.io", "docker login -p*** r.io"),
            (
                "docker run --rm -e MYSQL_ROOT_PASSWORD=S3cret mysql:8",
                "docker run --rm -e MYSQL_ROOT_PASSWORD=*** mysql:8",
            ),
            (
                "kubectl --token S3cret get pods",
                "kubectl --token *** get pods",
            ),
            (
                "kubectl get pods --token=S3cret",
                "kubectl get pods --token=***",
            ),
            (
                "kubectl create secret generic db --from-literal=password=S3cret",
                "kubectl create secret generic db --from-literal=password=***",
            ),
            (
                "tool --client-secret S3cret x",
                "tool --client-secret *** x",
            ),
            ("tool --passwd S3cret", "tool --passwd ***"),
            ("tool --pass S3cret", "tool --pass ***"),
            ("tool --auth S3cret", "tool --auth ***"),
            ("tool --credentials S3cret", "tool --credentials ***"),
            ("tool --private-key S3cret", "tool --private-key ***"),
            ("tool --apikey S3cret", "tool --apikey ***"),
            (
                "helm repo add x u --password S3cret",
                "helm repo add x u --password ***",
            ),
            (
                "wget --http-password=S3cret u",
                "wget --http-password=*** u",
            ),
            (
                "keytool -list -storepass S3cret",
                "keytool -list -storepass ***",
            ),
            (
                "mount -o username=u,password=S3cret //h/s /mnt",
                "mount -o username=u,password=*** //h/s /mnt",
            ),
            (
                "tool -Ddb.password=S3cret -jar x.jar",
                "tool -Ddb.password=*** -jar x.jar",
            ),
            (
                "curl https://api/x?access_token=S3cret&n=1",
                "curl 'https://api/x?access_token=***&n=1'",
            ),
            // HTTP credentials.
            (
                "curl -H 'Authorization: Bearer S3cret' https://x",
                "curl -H 'Authorization: Bearer ***' https://x",
            ),
            (
                "curl -H 'authorization: Basic S3cret' https://x",
                "curl -H 'authorization: Basic ***' https://x",
            ),
            (
                "curl -H 'X-Api-Key: S3cret' https://x",
                "curl -H 'X-Api-Key: ***' https://x",
            ),
            (
                "curl --header 'PRIVATE-TOKEN: S3cret' https://x",
                "curl --header 'PRIVATE-TOKEN: ***' https://x",
            ),
            (
                "git -c 'http.extraHeader=Authorization: Bearer S3cret' clone u",
                "git -c 'http.extraHeader=Authorization: Bearer ***' clone u",
            ),
            // Clients with short options.
            (
                "curl -u user:S3cret https://x",
                "curl -u user:*** https://x",
            ),
            ("curl -uuser:S3cret https://x", "curl -uuser:*** https://x"),
            (
                "curl -su user:S3cret https://x",
                "curl -su user:*** https://x",
            ),
            (
                "curl --user user:S3cret https://x",
                "curl --user user:*** https://x",
            ),
            (
                "curl --user=user:S3cret https://x",
                "curl --user=user:*** https://x",
            ),
            (
                "sshpass -p S3cret ssh db1 uptime",
                "sshpass -p *** ssh db1 uptime",
            ),
            ("sshpass -pS3cret ssh db1", "sshpass -p*** ssh db1"),
            ("redis-cli -a S3cret ping", "redis-cli -a *** ping"),
            (
                "redis-cli -h db -p 6379 -a S3cret ping",
                "redis-cli -h db -p 6379 -a *** ping",
            ),
            (
                "mongosh -u admin -p S3cret db",
                "mongosh -u admin -p *** db",
            ),
            (
                "mongosh mongodb://admin:S3cret@db/app",
                "mongosh mongodb://admin:***@db/app",
            ),
            (
                "openssl enc -aes-256-cbc -pass pass:S3cret -in f",
                "openssl enc -aes-256-cbc -pass pass:*** -in f",
            ),
            (
                "openssl rsa -passin pass:S3cret -passout pass:S3cret2",
                "openssl rsa -passin pass:*** -passout pass:***",
            ),
            (
                "ldapsearch -x -D cn=admin -w S3cret -b dc=x",
                "ldapsearch -x -D cn=admin -w *** -b dc=x",
            ),
            ("ldapsearch -x -wS3cret", "ldapsearch -x -w***"),
            ("ldapsearch -xw S3cret", "ldapsearch -xw ***"),
            (
                "ldappasswd -x -w S3cret -a S3cret2 -s S3cret3 uid=x",
                "ldappasswd -x -w *** -a *** -s *** uid=x",
            ),
        ];
        for (line, expected) in table {
            let got = shown(line);
            assert_eq!(got, shlex::split(expected).unwrap(), "{line}");
            assert!(got.iter().all(|w| !w.contains("S3c")), "{line}: {got:?}");
        }
    }

    /// Words that look like the forms above and must stay as they are.
    #[test]
    fn look_alikes_stay_unchanged() {
        for line in [
            "tool --passes 3",
            "grep password file",
            "grep -r token /etc/mysql",
            "ls -p",
            "tokenize x",
            "tool --no-password x",
            "psql -W db",
            "psql --password app",
            "mysql -p db",
            "mysql --password db",
            "mysql -u root mysql",
            "curl -u user https://x",
            "curl -H 'Accept: text/plain' https://x",
            "tool --password-file /etc/pw x",
            "docker login --password-stdin r.io",
            "docker run -p 8080:80 nginx",
            "env TOKENIZERS_PARALLELISM=false python x",
            "env PWD=/x OLDPWD=/y make",
            "env PASSWORD_STORE_DIR=/x pass",
            "sh -c 'echo ${HOME}; ls {a,b}'",
            "sh -c 'grep -i token file && echo ok'",
            "sh -c 'echo \"it'\\''s\" # a comment'",
            "ssh -p 22 db1 uptime",
            "openssl rsa -passin env:PW -in k",
            "openssl rsa -passin file:/etc/pw -in k",
            "ldapsearch -y /etc/ldap.pw -x -W",
            "mongosh -u admin -p",
            "mongosh -p --quiet",
            "redis-cli -p 6379 ping",
            "ansible-playbook --ask-pass site.yml",
            "tool --token-type bearer",
            "git commit -m 'fix the typo'",
            "make -j2",
            "tool --bypass x",
        ] {
            assert_eq!(shown(line), shlex::split(line).unwrap(), "{line}");
        }
    }

    /// Random scripts made of the forms above, joined by every operator, nested in every
    /// construct: the secret never shows, nothing panics, and only masked bytes change (the
    /// masked script without its `***` is a subsequence of the script).
    #[test]
    fn random_scripts_show_no_secret_and_keep_every_other_byte() {
        let secrets = [
            "mysql -pS3cretZ db",
            "PGPASSWORD=S3cretZ psql",
            "tool --token S3cretZ",
            "curl -u u:S3cretZ x",
            "psql postgres://u:S3cretZ@h/d",
            "env API_KEY=S3cretZ x",
            "sudo -iu r mysql --password=S3cretZ",
            "sshpass -p S3cretZ ssh h",
            "curl -H 'Authorization: Bearer S3cretZ' x",
        ];
        let plain = ["echo ok", "true", "cd /tmp", "grep -i x f", "ls -p"];
        let operators = [";", "&&", "||", "|", "&", "\n", " ; "];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut script = String::new();
            for k in 0..1 + next(4) {
                if k > 0 {
                    script.push_str(operators[next(operators.len())]);
                }
                let command = if next(2) == 0 {
                    secrets[next(secrets.len())]
                } else {
                    plain[next(plain.len())]
                };
                let command = match next(7) {
                    0 => format!("( {command} )"),
                    1 => format!("{{ {command}; }}"),
                    2 => format!("echo $({command})"),
                    3 => format!("x=\"$({command})\""),
                    4 => format!("if true; then {command}; fi"),
                    5 => format!("xargs {command}"),
                    _ => command.to_owned(),
                };
                script.push_str(&command);
            }
            let argv: Vec<String> = ["sh", "-c", &script].map(String::from).into();
            let shown = &command_line(&argv, None)[2];
            assert!(!shown.contains("S3cretZ"), "{script:?} -> {shown:?}");
            let mut rest = script.bytes();
            assert!(
                shown
                    .replace(MASK, "")
                    .bytes()
                    .all(|b| rest.any(|c| c == b)),
                "{script:?} -> {shown:?}"
            );
        }
        // Any text at all: no panic.
        let pieces = [
            "'", "\"", "\\", "$(", ")", "`", "{", "}", "<", ">", "&", "|", ";", "\n", "#", "$'",
            "=", ":", "-p", "--token", "é", " ", "://", "@", "sh", "-c", "x",
        ];
        for _ in 0..20_000 {
            let text: String = (0..next(14)).map(|_| pieces[next(pieces.len())]).collect();
            let _ = mask_script(&text);
            let _ = command_line(&["sh".into(), "-c".into(), text.clone(), text], None);
        }
    }

    #[test]
    fn a_preset_chooses_the_rules_for_its_program() {
        let argv: Vec<String> = ["redis-cli", "-a", "S3cret", "ping"]
            .map(String::from)
            .into();
        let shown = command_line(&argv, Some((Secrets::Generic, &["-a".to_owned()])));
        assert_eq!(shown, ["redis-cli", "-a", "***", "ping"]);
    }
}
