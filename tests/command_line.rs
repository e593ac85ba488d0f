//! The logged command line, through the real binary: the secrets of every form the README
//! promises and of the common ones it did not name never reach the console or a log, and the
//! rest of the line is the command that ran, byte for byte (the jsonl `start` record's
//! `command`, and the classic `start:` line read back by a shell).

use std::path::Path;

use crate::util::*;

/// What one run logged as its command line.
struct Logged {
    /// The jsonl start record's `command`.
    command: Vec<String>,
    /// The classic log's start line, split by bash as it would run it.
    classic: Vec<String>,
    /// The console's start line (`-f classic`), split by bash.
    console: Vec<String>,
    /// Everything teelog wrote: console (both streams), classic and jsonl logs.
    everything: String,
}

/// Runs `argv` under teelog (with `path` first in PATH, if given), expecting `end`.
#[track_caller]
fn logged(dir: &Path, path: Option<&Path>, argv: &[&str], end: i32) -> Logged {
    let (classic, jsonl) = (dir.join("run.log"), dir.join("run.jsonl"));
    let _ = std::fs::remove_file(&classic);
    let _ = std::fs::remove_file(&jsonl);
    let mut cmd = teelog();
    cmd.current_dir(dir);
    if let Some(path) = path {
        let old = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{old}", path.display()));
    }
    let out = run(
        cmd.args(["-f", "classic", "-o"])
            .arg(&classic)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("--")
            .args(argv),
        end,
    );
    let records = records(&read(&jsonl));
    assert_eq!(records[0]["type"], "start");
    let command = records[0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    let classic_text = text(&read(&classic));
    let console = text(&out.stdout);
    Logged {
        command,
        classic: start_line_words(dir, &classic_text),
        console: start_line_words(dir, &console),
        everything: [
            console.clone(),
            text(&out.stderr),
            classic_text,
            text(&read(&jsonl)),
        ]
        .concat(),
    }
}

/// The words of the `start:` line in a classic log, as bash splits them (in `dir`, empty of
/// files a `***` could match).
#[track_caller]
fn start_line_words(dir: &Path, log: &str) -> Vec<String> {
    let line = log
        .lines()
        .find_map(|l| l.split_once("] start: ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no start line in {log}"));
    // It ends with ` (pid N, cwd ...)`, or ` (not started, cwd ...)` when the command could not
    // run.
    let end = [" (pid ", " (not started, "]
        .iter()
        .find_map(|tail| line.rfind(tail))
        .unwrap_or_else(|| panic!("the start line ends with its pid: {line}"));
    let line = &line[..end];
    let out = std::process::Command::new("bash")
        .current_dir(dir)
        .args(["-c", &format!("printf '%s\\0' {line}")])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "bash reads back {line}");
    let mut words: Vec<String> = text(&out.stdout).split('\0').map(String::from).collect();
    words.pop();
    words
}

/// `argv` ran and was logged as `shown`, in the jsonl log, the classic log and on the console;
/// `secret` is nowhere in anything teelog wrote.
#[track_caller]
fn check(dir: &Path, path: Option<&Path>, argv: &[&str], shown: &[&str], end: i32) {
    let logged = logged(dir, path, argv, end);
    assert_eq!(logged.command, shown, "jsonl: {argv:?}");
    assert_eq!(logged.classic, shown, "classic: {argv:?}");
    assert_eq!(logged.console, shown, "console: {argv:?}");
    assert!(
        !logged.everything.contains("S3cret"),
        "{argv:?}: {}",
        logged.everything
    );
}

fn scripts_are_masked_at_every_operator_and_keep_every_other_byte() {
    let dir = tempdir();
    let d = dir.path();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["sh", "-c", "true; : mysql -pS3cretX&&echo ok"],
            &["sh", "-c", "true; : mysql -p***&&echo ok"],
        ),
        (
            &["sh", "-c", "--", "true;: mysql -pS3cretX|cat"],
            &["sh", "-c", "--", "true;: mysql -p***|cat"],
        ),
        (
            &[
                "bash",
                "-c",
                "true\nif true; then : mysql -pS3cretX db; fi\n(: PGPASSWORD='S3cret x' psql)",
            ],
            &[
                "bash",
                "-c",
                "true\nif true; then : mysql -p*** db; fi\n(: PGPASSWORD='***' psql)",
            ],
        ),
        (
            &[
                "sh",
                "-c",
                "x=\"$(: mysql -pS3cretX)\"; echo `: --token S3cretX`",
            ],
            &["sh", "-c", "x=\"$(: mysql -p***)\"; echo `: --token ***`"],
        ),
        (
            &[
                "sh",
                "-c",
                ": mysql -u $(id -un) -h `hostname` -pS3cretX; : curl -u \"$(id -un):S3cretX\"",
            ],
            &[
                "sh",
                "-c",
                ": mysql -u $(id -un) -h `hostname` -p***; : curl -u \"$(id -un):***\"",
            ],
        ),
        (
            &["bash", "-o", "pipefail", "-c", "{ : curl -u me:S3cretX; }"],
            &["bash", "-o", "pipefail", "-c", "{ : curl -u me:***; }"],
        ),
        (
            &["env", "-S", "PGPASSWORD=S3cretX true"],
            &["env", "-S", "PGPASSWORD=*** true"],
        ),
        (
            &[
                "sh",
                "-c",
                "cat <<EOF >/dev/null\nit's IDENTIFIED BY 'S3cretX'\nEOF\n: mysql -pS3cretX",
            ],
            &[
                "sh",
                "-c",
                "cat <<EOF >/dev/null\nit's IDENTIFIED BY '***'\nEOF\n: mysql -p***",
            ],
        ),
    ];
    for (argv, shown) in cases {
        check(d, None, argv, shown, 0);
    }
}

fn the_rules_hold_behind_any_wrapper_and_in_any_program() {
    let dir = tempdir();
    let d = dir.path();
    let lock = d.join("lock");
    let lock = lock.to_str().unwrap();
    let cases: &[(&[&str], &[&str], i32)] = &[
        (
            &["env", "AWS_SECRET_ACCESS_KEY=S3cretX", "true"],
            &["env", "AWS_SECRET_ACCESS_KEY=***", "true"],
            0,
        ),
        (
            &["env", "DATABASE_URL=postgres://app:S3cretX@db/app", "true"],
            &["env", "DATABASE_URL=postgres://app:***@db/app", "true"],
            0,
        ),
        (
            &["flock", lock, "-c", ": mysql -pS3cretX db"],
            &["flock", lock, "-c", ": mysql -p*** db"],
            0,
        ),
        (
            &["flock", lock, "true", "--client-secret", "S3cretX"],
            &["flock", lock, "true", "--client-secret", "***"],
            0,
        ),
        (
            &["xargs", "-r", "mysql", "-pS3cretX"],
            &["xargs", "-r", "mysql", "-p***"],
            0,
        ),
        (
            &[
                "timeout",
                "5",
                "true",
                "-H",
                "Authorization: Bearer S3cretX",
            ],
            &["timeout", "5", "true", "-H", "Authorization: Bearer ***"],
            0,
        ),
        // A program that does not exist: 127, and its start is logged masked.
        (
            &[
                "no-such-teelog-client",
                "--passwd",
                "S3cretX",
                "-passin",
                "pass:S3cretY",
            ],
            &[
                "no-such-teelog-client",
                "--passwd",
                "***",
                "-passin",
                "pass:***",
            ],
            127,
        ),
        (
            &["nice", "no-such-teelog-client", "curl", "-u", "me:S3cretX"],
            &["nice", "no-such-teelog-client", "curl", "-u", "me:***"],
            127,
        ),
    ];
    for (argv, shown, end) in cases {
        check(d, None, argv, shown, *end);
    }
}

fn look_alikes_are_logged_as_they_ran() {
    let dir = tempdir();
    for argv in [
        &["true", "--passes", "3", "tokenize", "--no-password", "x"][..],
        &[
            "sh",
            "-c",
            "true password; true -p db && true ${HOME} {a,b} # it's",
        ],
        &[
            "env",
            "TOKENIZERS_PARALLELISM=false",
            "PASSWORD_STORE_DIR=/x",
            "true",
        ],
        &[
            "true",
            "-H",
            "Accept: text/plain",
            "--password-file",
            "/etc/pw",
        ],
    ] {
        check(dir.path(), None, argv, argv, 0);
    }
}

/// The forms the README's Secrets section promises, each through the real binary, with stub
/// clients (and wrappers this machine may lack) that exit at once.
fn every_form_the_readme_promises_is_masked() {
    let dir = tempdir();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for stub in [
        "mysql",
        "mariadb",
        "mysqldump",
        "mysqladmin",
        "mysqlimport",
        "mysqlcheck",
        "mysqlshow",
        "mysqlbinlog",
        "mysqlslap",
        "mysqlsh",
        "mariadb-dump",
        "psql",
        "pg_dump",
        "docker",
        "podman",
        "kubectl",
        "ssh",
        "sudo",
        "doas",
        "ionice",
        "tool",
    ] {
        let path = bin.join(stub);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cases: &[(&str, &str)] = &[
        ("env PGPASSWORD=S3cret psql", "env PGPASSWORD=*** psql"),
        ("env MYSQL_PWD=S3cret mysql", "env MYSQL_PWD=*** mysql"),
        (
            "env DEPLOY_PASSWORD=S3cret X_PASSWD=S3cret Y_TOKEN=S3cret Z_SECRET=S3cret W_API_KEY=S3cret true",
            "env DEPLOY_PASSWORD=*** X_PASSWD=*** Y_TOKEN=*** Z_SECRET=*** W_API_KEY=*** true",
        ),
        (
            "docker exec -e MYSQL_PWD=S3cret db mysql",
            "docker exec -e MYSQL_PWD=*** db mysql",
        ),
        ("mysql -pS3cret db", "mysql -p*** db"),
        ("mysql -vpS3cret db", "mysql -vp*** db"),
        ("mysql --password=S3cret", "mysql --password=***"),
        ("mysql --pass=S3cret", "mysql --pass=***"),
        (
            "mysql --loose-password=S3cret",
            "mysql --loose-password=***",
        ),
        ("mariadb -pS3cret", "mariadb -p***"),
        ("mysqldump -pS3cret shop", "mysqldump -p*** shop"),
        ("mysqlimport -pS3cret shop f", "mysqlimport -p*** shop f"),
        ("mysqlcheck -pS3cret", "mysqlcheck -p***"),
        ("mysqlshow -pS3cret", "mysqlshow -p***"),
        ("mysqlbinlog -pS3cret", "mysqlbinlog -p***"),
        ("mysqlslap -pS3cret", "mysqlslap -p***"),
        ("mariadb-dump -pS3cret", "mariadb-dump -p***"),
        (
            "mysqladmin -u root password S3cret",
            "mysqladmin -u root password ***",
        ),
        ("mysqlsh root:S3cret@db1:3306", "mysqlsh root:***@db1:3306"),
        ("mysql -p db", "mysql -p db"),
        ("mysql --password db", "mysql --password db"),
        (
            "psql postgresql://u:S3c/r?t@db/app",
            "psql postgresql://u:***@db/app",
        ),
        (
            "pg_dump 'host=db password=S3cret dbname=app'",
            "pg_dump 'host=db password=*** dbname=app'",
        ),
        ("psql -W app", "psql -W app"),
        ("psql --password app", "psql --password app"),
        ("tool --password S3cret", "tool --password ***"),
        ("tool --token=S3cret", "tool --token=***"),
        ("tool --secret S3cret", "tool --secret ***"),
        ("tool --api-key=S3cret", "tool --api-key=***"),
        (
            "tool https://u:S3cret@h/x?a=1&password=S3cret",
            "tool https://u:***@h/x?a=1&password=***",
        ),
        // The wrappers and places the README names.
        ("sudo -u pg mysql -pS3cret", "sudo -u pg mysql -p***"),
        ("doas mysql -pS3cret", "doas mysql -p***"),
        ("nice -n 5 mysql -pS3cret", "nice -n 5 mysql -p***"),
        ("ionice -c 3 mysql -pS3cret", "ionice -c 3 mysql -p***"),
        ("timeout 60 mysql -pS3cret", "timeout 60 mysql -p***"),
        ("stdbuf -oL mysql -pS3cret", "stdbuf -oL mysql -p***"),
        ("nohup mysql -pS3cret", "nohup mysql -p***"),
        (
            "docker exec -it db mysql -pS3cret",
            "docker exec -it db mysql -p***",
        ),
        (
            "podman run --rm img mysql -pS3cret",
            "podman run --rm img mysql -p***",
        ),
        (
            "kubectl exec -n p db-0 -- mysql -pS3cret",
            "kubectl exec -n p db-0 -- mysql -p***",
        ),
        ("ssh db1 mysql -pS3cret", "ssh db1 mysql -p***"),
        ("env -- mysql -pS3cret", "env -- mysql -p***"),
        (
            "sh -c 'cd / && mysql --password=S3cret'",
            "sh -c 'cd / && mysql --password=***'",
        ),
        (
            "bash -c 'PGPASSWORD=S3cret psql; true'",
            "bash -c 'PGPASSWORD=*** psql; true'",
        ),
    ];
    for (line, shown) in cases {
        let argv = shlex::split(line).unwrap();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let shown = shlex::split(shown).unwrap();
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        check(dir.path(), Some(&bin), &argv, &shown, 0);
    }
}

/// A preset's `secret_options` take their value in the next word, or after `=`.
fn a_presets_secret_options_are_masked() {
    let dir = tempdir();
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("teelog")).unwrap();
    std::fs::write(
        config.join("teelog/presets.toml"),
        "[presets.stub]\nprogram = \"true\"\nsecret_options = [\"-k\", \"--key\"]\nlog = \"stub.log\"\n",
    )
    .unwrap();
    let jsonl = dir.path().join("p.jsonl");
    let out = run(
        teelog()
            .env("XDG_CONFIG_HOME", &config)
            .args(["--preset", "stub", "-o"])
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "-k", "S3cretX", "--key=S3cretY", "ok"]),
        0,
    );
    let start = &records(&read(&jsonl))[0];
    assert_eq!(
        start["command"],
        serde_json::json!(["true", "-k", "***", "--key=***", "ok"])
    );
    assert!(!text(&out.stdout).contains("S3cret") && !text(&out.stderr).contains("S3cret"));
}

crate::trials![
    scripts_are_masked_at_every_operator_and_keep_every_other_byte,
    the_rules_hold_behind_any_wrapper_and_in_any_program,
    look_alikes_are_logged_as_they_ran,
    every_form_the_readme_promises_is_masked,
    a_presets_secret_options_are_masked,
];
