//! The real logrotate, in each of its modes, rotating teelog's logs while the command writes
//! numbered lines at a steady rate: afterwards, every file logrotate kept (decompressed) and the
//! live log hold every line once, in order (copytruncate excepted, as logrotate documents).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::*;

const LOGROTATE_PROGRAM: &str = "/usr/sbin/logrotate";

/// How many times logrotate rotates the logs during the run.
const ROTATIONS: usize = 8;

/// What a run under logrotate left: per log, the content of every generation, oldest first,
/// ending with the live file.
struct Rotated {
    plain: Vec<Vec<u8>>,
    jsonl: Vec<Vec<u8>>,
    /// What teelog said on its standard error.
    stderr: String,
    dir: tempfile::TempDir,
}

/// Runs teelog with a plain and a jsonl log in a temporary directory while `logrotate -f`, with
/// its own state file and a configuration holding `directives`, rotates both [`ROTATIONS`]
/// times; then stops the command and gathers the files.
fn under_logrotate(directives: &str) -> Option<Rotated> {
    require(&LOGROTATE);
    let dir = tempdir();
    let plain = dir.path().join("app.log");
    let jsonl = dir.path().join("app.jsonl");
    let conf = dir.path().join("logrotate.conf");
    let state = dir.path().join("logrotate.state");
    let stop = dir.path().join("stop");
    std::fs::write(
        &conf,
        format!(
            "{} {} {{\n    rotate 100\n    missingok\n{directives}\n}}\n",
            plain.display(),
            jsonl.display()
        ),
    )
    .unwrap();
    let script = format!(
        "i=0; while [ ! -e {} ]; do i=$((i+1)); echo $i; sleep 0.002; done",
        stop.display()
    );
    let mut child = teelog()
        .arg("-o")
        .arg(format!("plain={}", plain.display()))
        .arg("-o")
        .arg(format!("jsonl={}", jsonl.display()))
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    let stderr = Collector::new(child.stderr.take().unwrap());
    console.wait_for("\n");
    for _ in 0..ROTATIONS {
        // Lines in between: each rotation has something to rotate.
        std::thread::sleep(Duration::from_millis(150));
        let out = Command::new(LOGROTATE_PROGRAM)
            .arg("-f")
            .arg("-s")
            .arg(&state)
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "logrotate: {}",
            text(&[out.stdout, out.stderr].concat())
        );
        // The next rotation only once teelog has written to the file at each path: on a busy
        // machine a stall of the command or of teelog longer than the pause above would
        // otherwise rotate a file teelog never opened (and so never warned about).
        for path in [&plain, &jsonl] {
            let deadline = std::time::Instant::now() + PATIENCE;
            while std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "teelog never wrote to {} after a rotation",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    std::fs::write(&stop, "").unwrap();
    assert_eq!(wait(&mut child), Status::Code(0));
    Some(Rotated {
        plain: generations(&plain),
        jsonl: generations(&jsonl),
        stderr: stderr.rest(),
        dir,
    })
}

/// The contents of PATH.N ... PATH.1 (each PATH.n or PATH.n.gz, decompressed), then PATH.
fn generations(path: &Path) -> Vec<Vec<u8>> {
    let numbered = |n: usize, ext: &str| PathBuf::from(format!("{}.{n}{ext}", path.display()));
    let highest = (1..)
        .take_while(|n| numbered(*n, "").exists() || numbered(*n, ".gz").exists())
        .count();
    let mut files = Vec::new();
    for n in (1..=highest).rev() {
        let gz = numbered(n, ".gz");
        files.push(if gz.exists() {
            let out = Command::new("gzip").arg("-dc").arg(&gz).output().unwrap();
            assert!(out.status.success(), "gzip -dc {}", gz.display());
            out.stdout
        } else {
            read(&numbered(n, ""))
        });
    }
    files.push(read(path));
    files
}

/// The numbered lines the plain log's files hold, in order; every line whole.
fn numbers(files: &[Vec<u8>]) -> Vec<u64> {
    let all: Vec<u8> = files.concat();
    assert!(all.ends_with(b"\n"), "whole lines");
    text(&all)
        .lines()
        .map(|l| {
            l.parse()
                .unwrap_or_else(|_| panic!("not a whole line: {l:?}"))
        })
        .collect()
}

/// The numbered lines the jsonl log's records hold, in order; every record whole, the run's
/// start first, its exit last, seq counting up by one through every file unless `gaps`.
fn jsonl_numbers(files: &[Vec<u8>], gaps: bool) -> Vec<u64> {
    let all: Vec<serde_json::Value> = files.iter().flat_map(|f| records(f)).collect();
    assert_eq!(all[0]["type"], "start");
    assert_eq!(all.last().unwrap()["type"], "exit");
    let seqs: Vec<u64> = all.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    if gaps {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    } else {
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }
    messages(&all, "stdout")
        .iter()
        .map(|m| m.parse().unwrap())
        .collect()
}

/// Every line from 1 on, once, in order.
#[track_caller]
fn assert_every_line_once(numbers: &[u64], what: &str) {
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    if numbers != expected {
        let missing = expected.iter().filter(|n| !numbers.contains(n)).count();
        panic!(
            "{what}: {} lines, {missing} missing; first difference at {:?}",
            numbers.len(),
            numbers.iter().zip(&expected).position(|(a, b)| a != b)
        );
    }
    assert!(
        numbers.len() > ROTATIONS * 10,
        "{what}: {} lines",
        numbers.len()
    );
}

fn logrotate_create_loses_no_line() {
    let Some(run) = under_logrotate("    create") else {
        return;
    };
    assert_eq!(run.plain.len(), ROTATIONS + 1, "one file per rotation");
    assert_every_line_once(&numbers(&run.plain), "plain");
    assert_every_line_once(&jsonl_numbers(&run.jsonl, false), "jsonl");
}

fn logrotate_compress_without_delaycompress_loses_no_line() {
    // The renamed file is compressed and removed at once: a line teelog wrote into it after the
    // compression read it would be gone.
    let Some(run) = under_logrotate("    create\n    compress") else {
        return;
    };
    assert_eq!(run.plain.len(), ROTATIONS + 1);
    assert_every_line_once(&numbers(&run.plain), "plain");
    assert_every_line_once(&jsonl_numbers(&run.jsonl, false), "jsonl");
}

fn logrotate_compress_delaycompress_without_create_loses_no_line() {
    // nocreate: teelog makes the new file itself.
    let Some(run) = under_logrotate("    nocreate\n    compress\n    delaycompress") else {
        return;
    };
    assert_eq!(run.plain.len(), ROTATIONS + 1);
    assert_every_line_once(&numbers(&run.plain), "plain");
    assert_every_line_once(&jsonl_numbers(&run.jsonl, false), "jsonl");
}

fn logrotate_copytruncate_keeps_lines_in_order_and_whole_and_loses_only_between_copy_and_truncate()
{
    // logrotate(8), copytruncate: "there is a very small time slice between copying the file
    // and truncating it, so some logging data might be lost". What is written in that slice is
    // gone (teelog cannot know: the file it writes is never moved); everything else is there,
    // once, in order, in whole lines and records, and a write after the truncation lands at the
    // start of the emptied file (O_APPEND), not past a hole.
    let Some(run) = under_logrotate("    copytruncate\n    compress") else {
        return;
    };
    assert_eq!(run.plain.len(), ROTATIONS + 1);
    for (what, numbers) in [
        ("plain", numbers(&run.plain)),
        ("jsonl", jsonl_numbers(&run.jsonl, true)),
    ] {
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{what}: in order, none twice"
        );
        let last = *numbers.last().unwrap();
        eprintln!(
            "{what}: {} of {last} lines kept under copytruncate",
            numbers.len()
        );
    }
    for file in &run.plain {
        assert!(!file.contains(&0), "no hole of zeros");
    }
}

fn a_log_logrotate_creates_open_to_others_is_said_once_per_file() {
    // logrotate's `create 0644 nobody nogroup`: root's output in a world-readable file that
    // belongs to nobody. teelog leaves the mode alone and says so, once per new file.
    let root = nix::unistd::Uid::effective().is_root();
    let create = if root {
        "    create 0644 nobody nogroup"
    } else {
        "    create 0644"
    };
    let Some(run) = under_logrotate(create) else {
        return;
    };
    assert_every_line_once(&numbers(&run.plain), "plain");
    for log in ["app.log", "app.jsonl"] {
        let path = run.dir.path().join(log);
        let said: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains(&format!("log '{}' has mode 0644", path.display())))
            .collect();
        assert_eq!(said.len(), ROTATIONS, "{}", run.stderr);
        if root {
            assert!(
                said.iter().all(|l| l.contains("belongs to uid 65534")),
                "{said:?}"
            );
        }
    }
    assert_eq!(
        run.stderr.lines().count(),
        2 * ROTATIONS,
        "nothing else: {}",
        run.stderr
    );
}

crate::trials![
    logrotate_create_loses_no_line[LOGROTATE],
    logrotate_compress_without_delaycompress_loses_no_line[LOGROTATE],
    logrotate_compress_delaycompress_without_create_loses_no_line[LOGROTATE],
    logrotate_copytruncate_keeps_lines_in_order_and_whole_and_loses_only_between_copy_and_truncate
        [LOGROTATE],
    a_log_logrotate_creates_open_to_others_is_said_once_per_file[LOGROTATE],
];
