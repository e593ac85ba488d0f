//! The tools people read recordings with: the README's jq recipes with the real jq, and the
//! lnav format with the real lnav (both installed by .ci/run).

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// A recording of two runs: one that succeeds, with a line written in two parts around a pause,
/// and one that fails.
fn two_runs(dir: &Path) -> (std::path::PathBuf, Vec<serde_json::Value>) {
    let log = dir.join("run.jsonl");
    for (script, code) in [
        (
            "echo one; printf part; sleep 0.3; echo ' two'; echo oops >&2",
            0,
        ),
        ("echo again; echo bad >&2; exit 4", 4),
    ] {
        record(&log, script, code);
    }
    let records = records(&read(&log));
    (log, records)
}

fn the_readmes_jq_recipes_give_what_they_say() {
    require(&JQ);
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme
        .split("<!-- jq recipes: tests/tools.rs runs every line of the next block, in order -->")
        .nth(1)
        .expect("the README marks its jq recipes")
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let recipes: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    let dir = tempdir();
    let (_, records) = two_runs(dir.path());
    let exits: Vec<&serde_json::Value> = records.iter().filter(|r| r["type"] == "exit").collect();
    let session = |i: usize| exits[i]["session"].as_str().unwrap().to_owned();
    assert!(
        records.iter().any(|r| r["eol"] == false),
        "the recording has a line in two parts"
    );
    let expected = [
        exits
            .iter()
            .map(|e| {
                format!(
                    "{}\t{}\t{}\n",
                    e["session"].as_str().unwrap(),
                    e["timestamp"].as_str().unwrap(),
                    e["code"]
                )
            })
            .collect::<String>(),
        format!("{}\n", session(1)),
        "one\npart two\nagain\n".to_owned(),
        "oops\nbad\n".to_owned(),
        "bad\n".to_owned(),
    ];
    assert_eq!(recipes.len(), expected.len(), "{recipes:?}");
    for (recipe, expected) in recipes.iter().zip(expected) {
        let out = Command::new("sh")
            .args(["-c", recipe])
            .env("S", session(1))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{recipe}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), expected, "{recipe}");
    }
}

fn lnav_reads_recordings_with_their_times_and_stderr_as_errors() {
    require(&LNAV);
    let dir = tempdir();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let lnav = || {
        let mut cmd = Command::new("lnav");
        cmd.env("HOME", &home)
            .env("TZ", "UTC")
            .current_dir(dir.path());
        cmd
    };
    let format = Path::new(env!("CARGO_MANIFEST_DIR")).join("lnav/teelog.json");
    let out = lnav().arg("-i").arg(&format).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        home.join(".lnav/formats/installed/teelog_jsonl.json")
            .exists()
    );
    let (log, records) = two_runs(dir.path());
    let query = |sql: &str| {
        let out = lnav()
            .arg("-n")
            .arg("-c")
            .arg(format!(";{sql}"))
            .arg("-c")
            .arg(":write-csv-to -")
            .arg(&log)
            .output()
            .unwrap();
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        query(
            "SELECT log_format, log_level, count(*) AS n FROM all_logs GROUP BY log_format, log_level ORDER BY n"
        ),
        "log_format,log_level,n\nteelog_jsonl,error,2\nteelog_jsonl,info,8\n",
        "the two stderr lines are errors; start, exit and stdout records are info"
    );
    // Times as recorded (lnav shows milliseconds), in seq order.
    let times = query("SELECT log_time FROM all_logs ORDER BY log_line");
    let shown: Vec<&str> = times.lines().skip(1).collect();
    assert_eq!(shown.len(), records.len());
    for (shown, record) in shown.iter().zip(&records) {
        let stamp = record["timestamp"].as_str().unwrap();
        let want = format!("{} {}", &stamp[..10], &stamp[11..23]);
        assert_eq!(*shown, want, "{record}");
    }
}

fn a_bash_that_sources_the_completions_completes_flags_and_preset_names() {
    let script = format!(
        "source <({bin} completions bash) || exit 9
         complete_at() {{ COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\";
             COMP_POINT=${{#COMP_LINE}}; COMPREPLY=();
             _teelog teelog \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\";
             printf '%s\\n' \"${{COMPREPLY[@]}}\"; echo --; }}
         complete_at teelog --for
         complete_at teelog --preset ''
         complete_at teelog --preset my",
        bin = env!("CARGO_BIN_EXE_teelog")
    );
    let out = run(Command::new("bash").args(["--norc", "-c", &script]), 0);
    let shown = text(&out.stdout);
    let answers: Vec<&str> = shown.split("--\n").collect();
    assert_eq!(answers[0], "--format\n", "{shown}");
    let presets: Vec<&str> = answers[1].lines().collect();
    assert_eq!(
        presets,
        ["mariadb", "mysql", "psql", "python", "sqlite3"],
        "{shown}"
    );
    assert_eq!(answers[2], "mysql\n", "{shown}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = run(teelog().args(["completions", shell]), 0);
        assert!(text(&out.stdout).contains("log-input"), "{shell}");
    }
    let out = run(teelog().args(["completions", "tcsh"]), 125);
    assert!(text(&out.stderr).contains("tcsh"), "{}", text(&out.stderr));
}

crate::trials![
    the_readmes_jq_recipes_give_what_they_say[JQ],
    lnav_reads_recordings_with_their_times_and_stderr_as_errors[LNAV],
    a_bash_that_sources_the_completions_completes_flags_and_preset_names,
];
