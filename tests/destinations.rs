//! Destinations other than files: the systemd journal, checked against a real journald (started
//! by .ci/run when the machine has none) through `journalctl`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

const SOCKET: &str = "/run/systemd/journal/socket";

/// Whether journald listens; when it does not and CI=true, the test fails.
fn journald() -> bool {
    if std::path::Path::new(SOCKET).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "journald is not running: .ci/run must start it"
    );
    eprintln!("SKIPPED: no journald here ({SOCKET}); .ci/run starts one");
    false
}

/// The journal's entries of `session`, once there are `count` of them.
fn entries(session: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out = Command::new("journalctl")
            .args(["-o", "json", "--all", "--no-pager"])
            .arg(format!("TEELOG_SESSION={session}"))
            .output()
            .unwrap();
        let found: Vec<Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "journald has {} of {count} entries: {}",
            found.len(),
            text(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A journal field as bytes (journalctl gives non-UTF-8 values as arrays of numbers).
fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Array(a) => a.iter().map(|b| b.as_u64().unwrap() as u8).collect(),
        other => panic!("{other}"),
    }
}

#[test]
fn the_journal_gets_one_entry_per_line_with_its_fields_in_seq_order() {
    if !journald() {
        return;
    }
    let dir = tempdir();
    let jsonl = dir.path().join("j.jsonl");
    let script = "echo out; echo err >&2; printf '\\377\\376 not utf-8\\n'; \
                  head -c 65536 /dev/zero | tr '\\0' x; echo; printf 'a\\nno end'; exit 3";
    run(
        teelog()
            .args(["-q", "-o", "journal", "-o"])
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "sh", "-c", script]),
        3,
    );
    let records = records(&read(&jsonl));
    check_run(&records);
    let session = records[0]["session"].as_str().unwrap();
    let pid = records[0]["pid"].to_string();
    let mut got = entries(session, records.len());
    assert_eq!(got.len(), records.len());
    got.sort_by_key(|e| e["TEELOG_SEQ"].as_str().unwrap().parse::<u64>().unwrap());
    for (entry, record) in got.iter().zip(&records) {
        assert_eq!(entry["TEELOG_SEQ"], record["seq"].to_string(), "{entry}");
        assert_eq!(entry["SYSLOG_IDENTIFIER"], "sh");
        assert_eq!(entry["SYSLOG_PID"], pid);
        let priority = match (record["type"].as_str(), record["stream"].as_str()) {
            (Some("output"), Some("stderr")) => "3",
            (Some("output"), _) => "6",
            _ => "5",
        };
        assert_eq!(entry["PRIORITY"], priority, "{entry}");
        if record["type"] == "output" {
            let exact = match record.get("bytes") {
                Some(b64) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.as_str().unwrap())
                        .unwrap()
                }
                None => record["message"].as_str().unwrap().as_bytes().to_vec(),
            };
            assert!(bytes(&entry["MESSAGE"]) == exact, "{entry}");
            assert_eq!(entry["TEELOG_STREAM"], record["stream"]);
            assert_eq!(
                entry.get("TEELOG_EOL").is_some(),
                record.get("eol").is_some(),
                "{entry}"
            );
        }
    }
    let messages: Vec<Vec<u8>> = got.iter().map(|e| bytes(&e["MESSAGE"])).collect();
    assert!(
        messages.contains(&b"\xff\xfe not utf-8".to_vec()),
        "a non-UTF-8 line, exact"
    );
    assert!(
        messages.contains(&vec![b'x'; 65536]),
        "a 64 KiB line, whole, in one entry"
    );
    let start = &got[0];
    assert!(
        start["TEELOG_COMMAND"]
            .as_str()
            .unwrap()
            .starts_with("sh -c 'echo out;"),
        "{start}"
    );
    let exit = got.last().unwrap();
    assert_eq!(exit["TEELOG_EXIT_CODE"], "3");
    assert!(
        exit["TEELOG_DURATION_S"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .is_ok()
    );
    assert!(
        exit["MESSAGE"]
            .as_str()
            .unwrap()
            .starts_with("exit: status 3 after "),
        "{exit}"
    );
}

#[test]
fn a_preset_names_the_entries_and_a_missing_journal_stops_the_run_before_it_starts() {
    if !journald() {
        return;
    }
    let dir = tempdir();
    let presets = dir.path().join("presets.toml");
    std::fs::write(
        &presets,
        "[presets.greeter]\nprogram = \"sh\"\nargs = [\"-c\", \"echo hello\"]\n",
    )
    .unwrap();
    let jsonl = dir.path().join("j.jsonl");
    run(
        teelog()
            .arg("--presets-file")
            .arg(&presets)
            .args(["--preset", "greeter", "-q", "-o", "journal", "-o"])
            .arg(format!("jsonl={}", jsonl.display())),
        0,
    );
    let records = records(&read(&jsonl));
    let got = entries(records[0]["session"].as_str().unwrap(), 3);
    assert!(
        got.iter().all(|e| e["SYSLOG_IDENTIFIER"] == "greeter"),
        "{got:?}"
    );

    let marker = dir.path().join("ran");
    let out = run(
        teelog()
            .env("TEELOG_JOURNAL_SOCKET", dir.path().join("no-socket"))
            .args(["-o", "journal", "--", "touch"])
            .arg(&marker),
        125,
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the systemd journal at"), "{err}");
    assert!(!marker.exists(), "the command did not run");
}
