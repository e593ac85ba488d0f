//! Secrets kept out of the logged command line. Clients are found wherever they appear in the
//! argv: first, after wrapper programs (env, sudo, timeout, docker exec, kubectl exec, ssh, ...),
//! after `--`, and inside the script of `sh -c`. Each client's rules apply to its own arguments;
//! `NAME=value` words for secret variables are masked wherever they appear. Presets only choose
//! which rules apply to their program.
//!
//! The same rules, and SQL's password clauses, apply line by line to recorded input
//! (`--log-input`: a shell script, a SQL script) and to the statements a client echoes
//! (`--echo`): see [`LineMasker`].

use std::path::Path;

/// What a masked secret becomes.
pub const MASK: &str = "***";

/// Which rules mask a client's secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// `--password`, `--token`, `--secret`, `--api-key`, as `--opt=X` and `--opt X`.
    Generic,
    /// The mysql family: `-pX`, bundles ending in `p` with a value (`-vpX`), `--password=X` and
    /// its prefixes, `--loose-password=X`, `mysqladmin ... password NEW`, `user:X@host`. `-p` and
    /// `--password` alone prompt: the next word stays.
    Mysql,
    /// PostgreSQL's clients: URIs and conninfo only; `-W`/`--password` take no value.
    Postgres,
}

impl Secrets {
    /// The rules for a program, from its base name.
    pub fn of(program: &str) -> Secrets {
        let base = Path::new(program)
            .file_name()
            .and_then(|b| b.to_str())
            .unwrap_or(program);
        match base {
            "mysql" | "mariadb" | "mysqldump" | "mysqladmin" | "mysqlimport" | "mysqlcheck"
            | "mysqlshow" | "mysqlbinlog" | "mysqlslap" | "mysqlpump" | "mysqlsh" => Secrets::Mysql,
            b if b.starts_with("mariadb-") || b.starts_with("mysql_") => Secrets::Mysql,
            "psql" | "pg_dump" | "pg_dumpall" | "pg_restore" | "pg_basebackup" | "createdb"
            | "dropdb" | "createuser" | "dropuser" | "pgbench" | "vacuumdb" | "reindexdb"
            | "clusterdb" | "pg_isready" => Secrets::Postgres,
            _ => Secrets::Generic,
        }
    }
}

/// How a wrapper program's own arguments look: which options take a value, and how many
/// positional arguments (a duration, a container, a host) come before the wrapped command.
struct Wrapper {
    names: &'static [&'static str],
    /// Options whose value is the next word (when not given as `--opt=value` or `-oVALUE`).
    valued: &'static [&'static str],
    positionals: usize,
    /// The command after the positionals is one shell string (ssh joins its words and hands
    /// them to the remote shell).
    remote_shell: bool,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        names: &["env"],
        valued: &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
        positionals: 0,
        remote_shell: false,
    },
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
        remote_shell: false,
    },
    Wrapper {
        names: &["nice"],
        valued: &["-n", "--adjustment"],
        positionals: 0,
        remote_shell: false,
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
            "--uid",
        ],
        positionals: 0,
        remote_shell: false,
    },
    Wrapper {
        names: &["timeout"],
        valued: &["-k", "--kill-after", "-s", "--signal"],
        positionals: 1,
        remote_shell: false,
    },
    Wrapper {
        names: &["stdbuf"],
        valued: &["-i", "--input", "-o", "--output", "-e", "--error"],
        positionals: 0,
        remote_shell: false,
    },
    Wrapper {
        names: &[
            "nohup", "setsid", "time", "command", "exec", "xargs", "unbuffer",
        ],
        valued: &[],
        positionals: 0,
        remote_shell: false,
    },
    Wrapper {
        names: &["chroot"],
        valued: &["--userspec", "--groups"],
        positionals: 1,
        remote_shell: false,
    },
    Wrapper {
        names: &["ssh"],
        valued: &[
            "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o",
            "-p", "-Q", "-R", "-S", "-W", "-w", "-B",
        ],
        positionals: 1,
        remote_shell: true,
    },
];

/// `docker|podman exec|run` and `kubectl exec`: the subcommand, then options, then the container
/// (image, pod), then the command (after an optional `--` for kubectl).
const CONTAINER_VALUED: &[&str] = &[
    "-e",
    "--env",
    "--env-file",
    "-u",
    "--user",
    "-w",
    "--workdir",
    "--name",
    "-v",
    "--volume",
    "--network",
    "--entrypoint",
    "-p",
    "--publish",
    "-l",
    "--label",
    "--mount",
    "--platform",
    "--detach-keys",
    "-h",
    "--hostname",
    "-m",
    "--memory",
    "--cpus",
    "-n",
    "--namespace",
    "-c",
    "--container",
    "--context",
    "--kubeconfig",
    "-f",
    "--filename",
    "--pod-running-timeout",
];

/// Whether a variable of this name holds a secret.
fn secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == "PGPASSWORD"
        || upper == "MYSQL_PWD"
        || ["PASSWORD", "PASSWD", "TOKEN", "SECRET", "API_KEY"]
            .iter()
            .any(|end| upper.ends_with(end))
}

/// `args` (the whole argv, program first) as it may be logged: every client's secrets masked.
/// `preset` gives the rules (and extra secret options) for the program at `argv[0]` or after the
/// wrappers a preset adds, instead of those its name implies.
pub fn command_line(argv: &[String], preset: Option<(Secrets, &[String])>) -> Vec<String> {
    let mut shown = argv.to_vec();
    mask_command(&mut shown, preset);
    for word in &mut shown {
        *word = mask_assignment(word);
    }
    shown
}

/// Masks the command that starts at `words[0]` in place, following wrappers.
fn mask_command(words: &mut [String], preset: Option<(Secrets, &[String])>) {
    let mut i = 0;
    // Words before the command proper: `NAME=value` assignments (as env and shells take them).
    while i < words.len() && is_assignment(&words[i]) {
        mask_whole_assignment(&mut words[i]);
        i += 1;
    }
    let Some(program) = words.get(i).cloned() else {
        return;
    };
    let base = Path::new(&program)
        .file_name()
        .and_then(|b| b.to_str())
        .unwrap_or(&program)
        .to_owned();
    let rest = &mut words[i + 1..];
    if let Some(wrapper) = WRAPPERS.iter().find(|w| w.names.contains(&base.as_str())) {
        let start = skip_options(rest, wrapper.valued, wrapper.positionals);
        if wrapper.remote_shell && start < rest.len() {
            if start + 1 == rest.len() {
                rest[start] = mask_script(&rest[start]);
            } else {
                mask_command(&mut rest[start..], None);
            }
        } else {
            mask_command(&mut rest[start..], preset);
        }
        return;
    }
    if matches!(base.as_str(), "docker" | "podman" | "kubectl") {
        if let Some(sub) = rest.first()
            && (sub == "exec" || sub == "run")
        {
            // kubectl takes options after the pod too; its command follows `--`.
            let start = match rest.iter().position(|w| w == "--") {
                Some(dashes) if base == "kubectl" => dashes + 1,
                _ => 1 + skip_options(&mut rest[1..], CONTAINER_VALUED, 1),
            };
            mask_command(&mut rest[start..], None);
        }
        return;
    }
    if matches!(
        base.as_str(),
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "busybox"
    ) {
        // `sh -c SCRIPT [NAME ARGS...]`: the script is a command line of its own.
        if let Some(c) = rest.iter().position(|w| {
            w == "-c"
                || (w.starts_with('-') && !w.starts_with("--") && w.ends_with('c') && w.len() <= 4)
        }) && c + 1 < rest.len()
        {
            rest[c + 1] = mask_script(&rest[c + 1]);
        }
        return;
    }
    let (secrets, extra) = match (i, preset) {
        (0, Some((secrets, extra))) => (secrets, extra),
        _ => (Secrets::of(&program), &[][..]),
    };
    mask_args(rest, secrets, extra);
}

/// Index of the wrapped command in `words`: past the wrapper's options (and their values), an
/// optional `--`, and `positionals` words.
fn skip_options(words: &mut [String], valued: &[&str], positionals: usize) -> usize {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if w == "--" {
            i += 1;
            break;
        }
        if !w.starts_with('-') || w == "-" {
            break;
        }
        let takes_value = valued.contains(&w);
        i += 1;
        if takes_value && i < words.len() {
            mask_whole_assignment(&mut words[i]);
            i += 1;
        }
    }
    let mut left = positionals;
    while left > 0 && i < words.len() {
        if is_assignment(&words[i]) {
            mask_whole_assignment(&mut words[i]);
            i += 1;
            continue;
        }
        i += 1;
        left -= 1;
        // kubectl: `exec POD -- command`.
        if left == 0 && words.get(i).is_some_and(|w| w == "--") {
            i += 1;
        }
    }
    while i < words.len() && is_assignment(&words[i]) {
        mask_whole_assignment(&mut words[i]);
        i += 1;
    }
    i.min(words.len())
}

/// A shell script as it may be logged: split as a shell would, each simple command masked by its
/// client's rules, and each masked word replaced where it stands in the script. A secret that
/// cannot be found in the script's text (escaped in some odd way) makes the whole script the
/// masked words joined, rather than risk it.
fn mask_script(script: &str) -> String {
    let Some(words) = shlex::split(script) else {
        // Unbalanced quotes: no reliable split; mask what looks like a secret anywhere.
        return mask_assignment(script);
    };
    let mut masked = words.clone();
    // Simple commands are separated by ; && || | & and newlines; words may carry them.
    let mut start = 0;
    for k in 0..=masked.len() {
        let ends = k == masked.len()
            || ["&&", "||", ";", "|", "&"].contains(&masked[k].as_str())
            || masked[k].ends_with(';');
        if ends {
            let end = if k < masked.len() && masked[k].ends_with(';') && masked[k].len() > 1 {
                k + 1
            } else {
                k
            };
            if start < end {
                mask_command(&mut masked[start..end], None);
            }
            start = k + 1;
        }
    }
    let mut out = script.to_owned();
    for (word, shown) in words.iter().zip(&masked) {
        let shown = mask_assignment(shown);
        if *word == shown {
            continue;
        }
        if out.contains(word.as_str()) {
            out = out.replace(word.as_str(), &shown);
        } else {
            let all: Vec<String> = masked.iter().map(|w| mask_assignment(w)).collect();
            return shlex::try_join(all.iter().map(String::as_str)).unwrap_or_else(|_| MASK.into());
        }
    }
    out
}

/// A word that is an assignment to a secret variable (`MYSQL_PWD=se cret`, as env or a shell
/// takes it) gets all of its value masked, spaces included.
fn mask_whole_assignment(word: &mut String) {
    if let Some((name, value)) = word.split_once('=')
        && is_assignment(word)
        && secret_variable(name)
        && !value.is_empty()
    {
        // A shell operator glued to the word (`X=secret;`) is not part of the value.
        let operators = value.len() - value.trim_end_matches([';', '&', '|']).len();
        *word = format!("{name}={MASK}{}", &value[value.len() - operators..]);
    }
}

/// `NAME=value` with a valid variable name.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Masks the value of a secret variable's assignment anywhere in `word` (`PGPASSWORD=x`,
/// `--env=MYSQL_PWD=x`, `-eAPI_TOKEN=x`).
fn mask_assignment(word: &str) -> String {
    let mut i = 0;
    while let Some(eq) = word[i..].find('=').map(|e| e + i) {
        let name_start = word[..eq]
            .char_indices()
            .rfind(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = &word[name_start..eq];
        if !name.is_empty() && secret_variable(name) {
            let end = word[eq + 1..]
                .find([' ', '\n', ';', '&', '|'])
                .map_or(word.len(), |e| e + eq + 1);
            if end > eq + 1 && !word[eq + 1..end].starts_with(MASK) {
                return format!("{}{MASK}{}", &word[..=eq], mask_assignment(&word[end..]));
            }
        }
        i = eq + 1;
    }
    word.to_owned()
}

/// Options whose value is masked for programs without rules of their own.
const GENERIC_SECRET_OPTIONS: &[&str] = &["--password", "--token", "--secret", "--api-key"];

/// A client's arguments (without the program) as they may be logged.
fn mask_args(args: &mut [String], secrets: Secrets, extra_options: &[String]) {
    let mut options: Vec<&str> = extra_options.iter().map(String::as_str).collect();
    if secrets == Secrets::Generic {
        options.extend(GENERIC_SECRET_OPTIONS);
    }
    let mut value_next = false;
    let mut after_double_dash = false;
    for k in 0..args.len() {
        let arg = args[k].clone();
        if std::mem::take(&mut value_next) {
            args[k] = MASK.to_owned();
            continue;
        }
        if arg == "--" {
            after_double_dash = true;
            continue;
        }
        if !after_double_dash && options.contains(&arg.as_str()) {
            value_next = true;
            continue;
        }
        if !after_double_dash
            && let Some((name, _)) = arg.split_once('=')
            && (options.contains(&name) || (secrets == Secrets::Mysql && is_mysql_password(name)))
        {
            args[k] = format!("{name}={MASK}");
            continue;
        }
        if secrets == Secrets::Mysql && !after_double_dash {
            if let Some(masked) = mysql_short_bundle(&arg) {
                args[k] = masked;
                continue;
            }
            // mysqladmin's command `password NEW` (and `old-password NEW`).
            if (arg == "password" || arg == "old-password") && k + 1 < args.len() {
                value_next = true;
                continue;
            }
            args[k] = mask_user_at_host(&arg);
        }
        args[k] = mask_conninfo(&mask_uris(&args[k]));
    }
}

/// `--password`, `--loose-password` or an unambiguous prefix of `--password` (`--pas`...).
fn is_mysql_password(name: &str) -> bool {
    let name = name
        .strip_prefix("--loose-")
        .map_or(name, |n| n)
        .trim_start_matches('-');
    name.len() >= 3 && "password".starts_with(name)
}

/// mysql's short options that take a value: in a bundle, the rest of the word is theirs.
const MYSQL_VALUED_SHORT: &str = "DehPSuOTrwWc";

/// `-pX` or a bundle `-vpX`: the characters after `p` are the password.
fn mysql_short_bundle(arg: &str) -> Option<String> {
    let body = arg.strip_prefix('-').filter(|b| !b.starts_with('-'))?;
    for (i, c) in body.char_indices() {
        if c == 'p' {
            return (i + 1 < body.len()).then(|| format!("-{}p{MASK}", &body[..i]));
        }
        if MYSQL_VALUED_SHORT.contains(c) || !c.is_ascii_alphabetic() {
            return None;
        }
    }
    None
}

/// mysqlsh's `user:SECRET@host[:port]` (no scheme).
fn mask_user_at_host(arg: &str) -> String {
    if arg.starts_with('-') || arg.contains("://") {
        return arg.to_owned();
    }
    match (arg.find(':'), arg.rfind('@')) {
        (Some(colon), Some(at)) if colon < at && !arg[..colon].contains(['/', '@', ' ']) => {
            format!("{}{MASK}{}", &arg[..=colon], &arg[at..])
        }
        _ => arg.to_owned(),
    }
}

/// `scheme://user:SECRET@host...` -> `scheme://user:***@host...`, wherever it appears: the
/// password runs to the last `@` before the host, whatever it holds (`/`, `?`, `#`, spaces), and
/// `password=SECRET` in the query string is masked too.
fn mask_uris(text: &str) -> String {
    let Some(at) = text.find("://") else {
        return text.to_owned();
    };
    let (head, tail) = text.split_at(at + 3);
    // This URI runs to the whitespace before the next one, if any; its userinfo to its last '@'
    // (a password may hold spaces too).
    let end = tail
        .find("://")
        .and_then(|next| tail[..next].rfind(char::is_whitespace))
        .unwrap_or(tail.len());
    let (uri, after) = tail.split_at(end);
    let mut out = String::from(head);
    let rest = match uri.rfind('@') {
        Some(at) if uri[..at].contains(':') => {
            let colon = uri[..at].find(':').unwrap_or(at);
            out.push_str(&uri[..=colon]);
            out.push_str(MASK);
            &uri[at..]
        }
        _ => uri,
    };
    out.push_str(&mask_query_password(rest));
    out.push_str(&mask_uris(after));
    out
}

/// `?...&password=SECRET&...`
fn mask_query_password(uri: &str) -> String {
    let Some(q) = uri.find('?') else {
        return uri.to_owned();
    };
    let (path, query) = uri.split_at(q + 1);
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={MASK}"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{path}{}", params.join("&"))
}

/// libpq's `password=SECRET` (or `password = 'se cret'`) inside a connection string.
fn mask_conninfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("password") {
        let word_start = at == 0 || rest[..at].ends_with(|c: char| c.is_whitespace());
        let after = &rest[at + "password".len()..];
        let value = after.trim_start();
        if !word_start || !value.starts_with('=') {
            out.push_str(&rest[..at + "password".len()]);
            rest = after;
            continue;
        }
        let value = value[1..].trim_start();
        out.push_str(&rest[..at]);
        out.push_str("password=");
        out.push_str(MASK);
        rest = match value.strip_prefix('\'') {
            // A quoted value ends at the first quote not escaped by a backslash.
            Some(quoted) => {
                let mut escaped = false;
                let end = quoted
                    .char_indices()
                    .find(|&(_, c)| {
                        let end = c == '\'' && !escaped;
                        escaped = c == '\\' && !escaped;
                        end
                    })
                    .map_or(quoted.len(), |(i, _)| i + 1);
                &quoted[end..]
            }
            None => &value[value.find(char::is_whitespace).unwrap_or(value.len())..],
        };
    }
    out.push_str(rest);
    out
}

mod sql;

pub use sql::{LineMasker, text_line};

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
                "bash -c \"'MYSQL_PWD=***' mysql\"",
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

    #[test]
    fn a_preset_chooses_the_rules_for_its_program() {
        let argv: Vec<String> = ["redis-cli", "-a", "S3cret", "ping"]
            .map(String::from)
            .into();
        let shown = command_line(&argv, Some((Secrets::Generic, &["-a".to_owned()])));
        assert_eq!(shown, ["redis-cli", "-a", "***", "ping"]);
    }
}
