//! Secrets kept out of the logged command line, through the real binary: clients behind wrapper
//! programs, in scripts, in every password form, run as stub programs that exit at once.

use crate::util::*;

fn no_form_of_password_reaches_the_console_or_any_log() {
    let dir = tempdir();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Stubs for the clients and for the wrappers this machine may lack; env, nice, timeout,
    // stdbuf and sh are the real ones.
    for stub in [
        "mysql",
        "mariadb",
        "mariadb-dump",
        "mysqladmin",
        "mysqlsh",
        "psql",
        "docker",
        "podman",
        "kubectl",
        "ssh",
        "sudo",
        "doas",
    ] {
        let path = bin.join(stub);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let lines = [
        "mysql -u app -pS3cret shop",
        "mysql -vpS3cret shop",
        "mysql --pass=S3cret shop",
        "mysql --loose-password=S3cret",
        "mariadb-dump -pS3cret shop",
        "mysqladmin -u root password S3cret",
        "mysqlsh root:S3cret@db1:3306",
        "psql postgresql://app:S3?c#r/et@db1/shop?sslmode=require",
        "psql 'postgresql://app:S3c ret@db1/shop'",
        "psql 'host=db1 password=S3cret dbname=shop'",
        "env PGPASSWORD=S3cret psql -h db1",
        "env MYSQL_PWD=S3cret DEPLOY_TOKEN=S3cret2 mysql shop",
        "sudo -u postgres psql postgres://a:S3cret@db1",
        "timeout 600 mysql -pS3cret",
        "nice -n 5 mysql -pS3cret",
        "stdbuf -oL mysql -pS3cret",
        "doas mysql -pS3cret",
        "docker exec -it db mysql -uroot -pS3cret",
        "docker exec -e MYSQL_PWD=S3cret db mysql",
        "podman run --rm img mysql -pS3cret",
        "kubectl exec -n prod db-0 -- mysql -pS3cret",
        "kubectl exec -it db-0 -c mysql -- mysql -pS3cret",
        "env 'MYSQL_PWD=S3c ret' mysql",
        "bash -c 'MYSQL_PWD=\"S3c ret\" mysql'",
        "ssh -p 22 db1 mysql -pS3cret",
        "ssh db1 'mysql -pS3cret shop'",
        "sh -c 'mysql -pS3cret shop < /dev/null'",
        "bash -c 'PGPASSWORD=S3cret psql -h db1; true'",
    ];
    for line in lines {
        let argv = shlex::split(line).unwrap();
        let (classic, jsonl) = (dir.path().join("s.log"), dir.path().join("s.jsonl"));
        let out = run(
            teelog()
                .env("PATH", &path)
                .args(["-f", "classic", "-o"])
                .arg(&classic)
                .arg("-o")
                .arg(format!("jsonl={}", jsonl.display()))
                .arg("--")
                .args(&argv),
            0,
        );
        let logs = [
            text(&out.stdout),
            text(&read(&classic)),
            text(&read(&jsonl)),
        ];
        for log in &logs {
            assert!(!log.contains("S3c"), "{line}: {log}");
            assert!(
                log.contains(&argv[0]),
                "{line}: the program is named: {log}"
            );
        }
        let start = &records(&read(&jsonl))[0];
        assert_eq!(
            start["command"].as_array().unwrap().len(),
            argv.len(),
            "{line}"
        );
        std::fs::remove_file(&classic).unwrap();
        std::fs::remove_file(&jsonl).unwrap();
    }
}

fn redact_env_masks_a_value_everywhere_teelog_writes() {
    let dir = tempdir();
    let secret = "tok-9f3Kq2xZ";
    let b64 = "dG9rLTlmM0txMnha"; // base64 of the secret
    // On stdout, on stderr, split across two writes with and without a pause between them,
    // base64-encoded, and in the command line.
    let script = format!(
        "echo \"t=$SECRET_TOKEN\"; echo \"e=$SECRET_TOKEN\" >&2; \
         printf 'a=tok-9f'; printf '3Kq2xZ\\n'; printf 'b=tok-9f3K'; sleep 0.2; printf 'q2xZ\\n'; \
         printf %s \"$SECRET_TOKEN\" | base64; echo {secret}"
    );
    let (plain, classic, jsonl) = (
        dir.path().join("r.txt"),
        dir.path().join("r.log"),
        dir.path().join("r.jsonl"),
    );
    let out = run(
        teelog()
            .env("SECRET_TOKEN", secret)
            .args(["--redact-env", "SECRET_TOKEN", "-o"])
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(&classic)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "sh", "-c", &script]),
        0,
    );
    assert_eq!(text(&out.stdout), "t=***\na=***\nb=***\n***\n***\n");
    assert_eq!(text(&out.stderr), "e=***\n");
    for log in [read(&plain), read(&classic), read(&jsonl)] {
        let log = text(&log);
        assert!(!log.contains(secret) && !log.contains(b64), "{log}");
        assert!(log.contains("t=***") && log.contains("e=***"), "{log}");
    }
    let records = records(&read(&jsonl));
    check_run(&records);
    assert!(
        records[0]["command"][2]
            .as_str()
            .unwrap()
            .ends_with("echo ***")
    );
}

fn redact_env_refuses_a_short_value_and_warns_of_an_unset_one() {
    let dir = tempdir();
    let marker = dir.path().join("ran");
    let out = run(
        teelog()
            .env("SHORT_PW", "abc12")
            .args(["--redact-env", "SHORT_PW", "--", "touch"])
            .arg(&marker),
        125,
    );
    assert_eq!(
        text(&out.stderr),
        "teelog: --redact-env 'SHORT_PW': its value is 5 bytes, too short to mask safely (at least 6)\n"
    );
    assert!(!marker.exists());
    let out = run(
        teelog().env_remove("TEELOG_UNSET_VAR").args([
            "--redact-env",
            "TEELOG_UNSET_VAR",
            "--",
            "echo",
            "ran",
        ]),
        0,
    );
    assert_eq!(text(&out.stdout), "ran\n");
    assert!(text(&out.stderr).starts_with("teelog: warning: --redact-env 'TEELOG_UNSET_VAR': "));
}

/// Runs `preset` on `script` (with `extra` teelog flags), logging jsonl and classic; returns
/// the console's stdout and stderr and both logs, for a secret to be looked for.
fn sql_client_run(preset: &str, extra: &[&str], script: &str) -> [String; 4] {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("s.jsonl"), dir.path().join("s.log"));
    let out = with_stdin(
        teelog()
            .env("TEELOG_LOG_DIR", dir.path())
            .args(["--preset", preset])
            .args(extra)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .arg("-o")
            .arg(&classic)
            .arg("--"),
        script,
    );
    [
        text(&out.stdout),
        text(&out.stderr),
        text(&read(&jsonl)),
        text(&read(&classic)),
    ]
}

/// Failing statements with a password in every form that ran on the real servers: the
/// client's error output quotes them, with or without --echo, and no log (nor the console,
/// which gets the same masked output) holds the password.
fn a_sql_clients_output_never_shows_the_password_of_a_failing_statement() {
    let mysql = [
        "CREATE USER 'tl_x'@'localhost' IDENTIFIED BY 'S3cretX' garbage;\n",
        "CREATE USER 'tl_x'@'localhost' IDENTIFIED BY\n'S3cretX' garbage;\n",
        "SET PASSWORD FOR 'tl_nosuch'@'localhost' = PASSWORD('S3cretX');\n",
        "SET PASSWORD FOR 'tl_nosuch'@'localhost' = 'S3cretX' garbage;\n",
        "ALTER USER 'tl_nosuch'@'localhost' IDENTIFIED BY 'S3cretX' REPLACE 'S3cretX' garbage;\n",
    ];
    let psql = [
        "ALTER ROLE tl_x PASSWORD 'S3cretX' garbage;\n",
        "ALTER ROLE tl_x PASSWORD\n'S3cretX' garbage;\n",
        "ALTER ROLE tl_x PASSWORD E'S3cre\\'tX' garbage;\n",
        "ALTER ROLE tl_x PASSWORD $$S3cretX$$ garbage;\n",
        "ALTER ROLE tl_x PASSWORD $t$S3cretX$t$ garbage;\n",
        "ALTER ROLE tl_x PASSWORD U&'S3cretX' garbage;\n",
    ];
    for (preset, need, scripts) in [
        ("mysql", &MARIADB, &mysql[..]),
        ("psql", &POSTGRES, &psql[..]),
    ] {
        require(need);
        for script in scripts {
            for extra in [&[][..], &["--echo"][..], &["--log-input"][..]] {
                if preset == "psql" && extra.is_empty() && script.contains("PASSWORD\n") {
                    // psql quotes only the line in error (`LINE 2: 'x' garbage`), and teelog
                    // never saw the statement: a known limit (--echo or --log-input show it).
                    continue;
                }
                let [stdout, stderr, jsonl, classic] = sql_client_run(preset, extra, script);
                for (what, shown) in [
                    ("stdout", &stdout),
                    ("stderr", &stderr),
                    ("jsonl", &jsonl),
                    ("classic", &classic),
                ] {
                    assert!(
                        !shown.contains("S3cre"),
                        "{preset} {extra:?} {script:?}: {what} shows it: {shown}"
                    );
                }
                assert!(
                    classic.contains("***") || classic.contains("ERROR"),
                    "{classic}"
                );
            }
        }
    }
}

/// MariaDB quotes the rest of a failing statement as `near '...' at line N` without doubling
/// the quotes in it (issue 20, items 8/9): the password's closing quote and the client's must
/// not read as a doubled quote that keeps the literal open over the next statements, whose
/// passwords would then show. With a quote in a password, several statements on one line,
/// the error on stderr while the next statement's echo is on stdout (--echo, -vv), and -q.
fn a_mariadb_error_quoting_a_password_leaves_no_literal_open_over_the_next_statement() {
    require(&MARIADB);
    let user = "'tl_nosuch'@'localhost'";
    let scripts = [
        format!(
            "ALTER USER {user} IDENTIFIED BY 'Zq9-two' REPLACE 'Zq9-old';\n\
             SET PASSWORD FOR {user} = 'Zq9-three';\n"
        ),
        format!(
            "ALTER USER {user} IDENTIFIED BY 'Zq9''two' REPLACE 'Zq9''old';\n\
             ALTER USER {user} IDENTIFIED BY 'Zq9-three';\n"
        ),
        format!(
            "select 1; ALTER USER {user} IDENTIFIED BY 'Zq9-two' REPLACE 'Zq9-old'; \
             SET PASSWORD FOR {user} = 'Zq9-three'; select 2;\n\
             CREATE USER {user} IDENTIFIED BY 'Zq9-four' REPLACE 'Zq9-five';\n"
        ),
    ];
    for script in &scripts {
        for extra in [&[][..], &["--echo"][..], &["--log-input"][..], &["-q"][..]] {
            let dir = tempdir();
            let (plain, classic) = (dir.path().join("near.log"), dir.path().join("s.log"));
            let out = with_stdin(
                teelog()
                    .env("TEELOG_LOG_DIR", dir.path())
                    .args(["--preset", "mysql"])
                    .args(extra)
                    .arg("-o")
                    .arg(format!("plain={}", plain.display()))
                    .arg("-o")
                    .arg(&classic)
                    .args(["--", "--force", "-u", "root"]),
                script,
            );
            let (plain, classic) = (text(&read(&plain)), text(&read(&classic)));
            for (what, shown) in [
                ("stdout", &text(&out.stdout)),
                ("stderr", &text(&out.stderr)),
                ("plain", &plain),
                ("classic", &classic),
            ] {
                assert!(
                    !shown.contains("Zq9"),
                    "{extra:?} {script:?}: {what} shows it: {shown}"
                );
            }
            // The error line is kept whole, its closing quote and line number too.
            assert!(
                plain.contains("near 'REPLACE '***'' at line 1"),
                "{extra:?} {script:?}: {plain}"
            );
        }
    }
}

/// `--log-input` records what the command read, not what teelog passed into its pipe.
fn recorded_input_is_only_what_the_command_read() {
    let dir = tempdir();
    let file = dir.path().join("drop.sql");
    std::fs::write(&file, "DROP TABLE users;\nselect 1;\n").unwrap();
    for (command, recorded) in [
        (&["true"][..], ""),
        (&["head", "-c", "10"][..], "DROP TABLE"),
        (&["cat"][..], "DROP TABLE users;\nselect 1;\n"),
    ] {
        let log = dir.path().join("in.jsonl");
        let _ = std::fs::remove_file(&log);
        run(
            teelog()
                .args(["--log-input", "-q", "-o"])
                .arg(format!("jsonl={}", log.display()))
                .arg("--")
                .args(command)
                .stdin(std::fs::File::open(&file).unwrap()),
            0,
        );
        let records = records(&read(&log));
        check_run(&records);
        assert_eq!(text(&rebuild(&records, "stdin")), recorded, "{command:?}");
    }
}

crate::trials![
    no_form_of_password_reaches_the_console_or_any_log,
    redact_env_masks_a_value_everywhere_teelog_writes,
    redact_env_refuses_a_short_value_and_warns_of_an_unset_one,
    a_sql_clients_output_never_shows_the_password_of_a_failing_statement [MARIADB, POSTGRES],
    a_mariadb_error_quoting_a_password_leaves_no_literal_open_over_the_next_statement [MARIADB],
    recorded_input_is_only_what_the_command_read,
];
