//! The walk of one command's words: wrappers, shells and their scripts, each client's
//! arguments, and the search for known programs behind unknown ones.

use std::ops::Range;

use super::clients::{
    Client, Program, Wrapper, after_colon, is_assignment, is_keyword, is_mysql_password,
    short_valued, user_at_host,
};
use super::word::{Edit, option_value, secret_name};
use super::{Secrets, base_name, script_edits};

/// One command's words being walked, with the edits found so far for each.
pub(super) struct Walk<'a> {
    pub words: &'a [&'a str],
    pub edits: Vec<Vec<Edit>>,
    pub depth: usize,
    /// Commands found inside the command so far (each wrapper is one): at [`MAX_HOPS`], the
    /// rest gets the generic rules without looking for more (a line of 20,000 `sh` words must
    /// not take 20,000 stack frames).
    pub hops: usize,
}

const MAX_HOPS: usize = 64;

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
            self.edits[k].push(e.moved(e.range.start + at..e.range.end + at, true));
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
                    let first = std::mem::take(&mut first);
                    self.edits[k].push(e.moved(lo - start..hi - start, first));
                }
            }
        }
    }

    /// The command that starts at word `i`, after assignments and reserved words.
    pub(super) fn command(&mut self, mut i: usize, preset: Option<(Secrets, &[String])>) {
        let n = self.words.len();
        while i < n && (is_keyword(self.words[i]) || is_assignment(self.words[i])) {
            i += 1;
        }
        let Some(program) = self.words.get(i) else {
            return;
        };
        let base = base_name(program);
        self.hops += 1;
        if self.hops > MAX_HOPS {
            return self.args(i + 1, Client::Generic, &[]);
        }
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
            } else if self.hops < MAX_HOPS && Program::of(base_name(word)).is_some() {
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
