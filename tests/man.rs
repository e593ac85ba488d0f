//! The generated files that are committed, so that `cargo build --release && cargo deb` is the
//! whole recipe of the package: man/teelog.1 (from the clap definition and the hand-written
//! sections in man/sections.roff) and the completion scripts under completions/ (what `teelog
//! completions SHELL` prints). They cannot drift from the binary: after changing the flags, run
//! `TEELOG_UPDATE_MAN=1 cargo test --test tests man::` and commit the result.

use std::path::Path;

use clap::CommandFactory;
use teelog::cli::Cli;

fn render() -> Vec<u8> {
    let man = clap_mangen::Man::new(Cli::command()).manual("teelog manual");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    out.extend(std::fs::read(root.join("man/sections.roff")).unwrap());
    man.render_version_section(&mut out).unwrap();
    out
}

fn man_page_matches_the_cli() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/teelog.1");
    let rendered = render();
    if std::env::var_os("TEELOG_UPDATE_MAN").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "man/teelog.1 is out of date: run `TEELOG_UPDATE_MAN=1 cargo test --test tests man::` and commit it"
    );
}

fn committed_completions_match_the_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in [
        ("bash", "teelog.bash"),
        ("zsh", "_teelog"),
        ("fish", "teelog.fish"),
    ] {
        let out = crate::util::run(crate::util::teelog().args(["completions", shell]), 0);
        let path = root.join("completions").join(file);
        if std::env::var_os("TEELOG_UPDATE_MAN").is_some() {
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is out of date: run `TEELOG_UPDATE_MAN=1 cargo test --test tests man::` and \
             commit it"
        );
    }
}

fn man_page_documents_every_flag_and_format() {
    let page = String::from_utf8(render()).unwrap();
    for arg in Cli::command().get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(
                page.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))),
                "--{long}"
            );
        }
    }
    let replay = Cli::command()
        .find_subcommand("replay")
        .expect("a replay subcommand")
        .clone();
    for arg in replay.get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(
                page.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))),
                "replay --{long}"
            );
        }
    }
    for section in [
        "REPLAY",
        "ASCIICAST",
        "EXIT STATUS",
        "JSONL RECORDS",
        "CLASSIC FORMAT",
        "PRESETS",
        "SECRETS",
        "ENVIRONMENT",
        "SIGNALS",
        "GUARANTEES",
        "EXAMPLES",
    ] {
        assert!(
            page.contains(&format!(".SH \"{section}\""))
                || page.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
}

/// Every key of the records teelog writes, from real runs covering every optional field.
fn jsonl_keys(dir: &Path) -> std::collections::BTreeSet<String> {
    let bin = env!("CARGO_BIN_EXE_teelog");
    let log = dir.join("all.jsonl");
    let log_arg = format!("jsonl={}", log.display());
    let pid_file = dir.join("yes.pid");
    let left_behind = format!("yes & echo $! > {}; sleep 0.2", pid_file.display());
    for args in [
        // eol:false, bytes, stderr
        vec!["--", "sh", "-c", "printf 'a\\377\\nb'; echo c >&2"],
        // signal
        vec!["--", "sh", "-c", "kill -TERM $$"],
        // error (not found)
        vec!["--", "teelog-no-such-program"],
        // unread_bytes
        vec!["--grace", "0", "--", "sh", "-c", &left_behind],
        // stdin
        vec!["--log-input", "--", "cat"],
    ] {
        let _ = std::process::Command::new(bin)
            .args(["-q", "-o", &log_arg])
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let yes: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(yes),
        nix::sys::signal::Signal::SIGKILL,
    );
    // A sealed run, rotated (prev, the seal record's fields, part and last_seal), with the
    // example key of Go's sumdb/note (a public test vector: nothing here needs it secret).
    let key = dir.join("example.key");
    std::fs::write(
        &key,
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
    )
    .unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let sealed = dir.join("sealed.jsonl");
    let status = std::process::Command::new(bin)
        .args(["-q", "--seal"])
        .arg(&key)
        .args(["--max-size", "8K", "-o"])
        .arg(format!("jsonl={}", sealed.display()))
        .args(["--", "seq", "1", "100"])
        .status()
        .unwrap();
    assert!(status.success());
    let mut text = std::fs::read_to_string(&log).unwrap();
    text += &std::fs::read_to_string(&sealed).unwrap();
    text += &std::fs::read_to_string(dir.join("sealed.jsonl.1")).unwrap();
    let mut keys = std::collections::BTreeSet::new();
    for line in text.lines() {
        let record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        keys.extend(record.keys().cloned());
    }
    keys
}

/// Every field name of the journal entries teelog sends, caught on a socket of the test's own
/// (`TEELOG_JOURNAL_SOCKET`).
fn journal_fields(dir: &Path) -> std::collections::BTreeSet<String> {
    let path = dir.join("journal.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_teelog");
    for script in ["printf 'a\\nb'; echo c >&2; exit 3", "kill -TERM $$"] {
        let _ = std::process::Command::new(bin)
            .env("TEELOG_JOURNAL_SOCKET", &path)
            .args(["-q", "-o", "journal", "--", "sh", "-c", script])
            .status();
    }
    let mut fields = std::collections::BTreeSet::new();
    let mut buf = vec![0; 1 << 17];
    while let Ok(n) = socket.recv(&mut buf) {
        let mut entry = &buf[..n];
        while !entry.is_empty() {
            let nl = entry.iter().position(|b| *b == b'\n').unwrap();
            let head = &entry[..nl];
            match head.iter().position(|b| *b == b'=') {
                Some(eq) => {
                    fields.insert(String::from_utf8(head[..eq].to_vec()).unwrap());
                    entry = &entry[nl + 1..];
                }
                None => {
                    fields.insert(String::from_utf8(head.to_vec()).unwrap());
                    let len = u64::from_le_bytes(entry[nl + 1..nl + 9].try_into().unwrap());
                    entry = &entry[nl + 10 + len as usize..];
                }
            }
        }
    }
    fields
}

fn the_file_format_page_documents_every_field_teelog_writes() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/teelog-jsonl.5"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = jsonl_keys(dir.path());
    for key in [
        "bytes",
        "eol",
        "signal",
        "error",
        "unread_bytes",
        "stream",
        "cols",
        "prev",
        "note",
        "part",
    ] {
        assert!(
            keys.contains(key),
            "the runs did not produce {key}: {keys:?}"
        );
    }
    let fields = journal_fields(dir.path());
    for field in [
        "TEELOG_EOL",
        "TEELOG_SIGNAL",
        "TEELOG_EXIT_CODE",
        "TEELOG_COMMAND",
    ] {
        assert!(
            fields.contains(field),
            "the runs did not send {field}: {fields:?}"
        );
    }
    for name in keys.iter().chain(&fields) {
        let roff = name.replace('-', "\\-");
        assert!(
            page.contains(&format!("\\fB{roff}\\fR")),
            "man/teelog-jsonl.5 does not document {name}"
        );
    }
    for section in [
        "EVERY RECORD",
        "START RECORD",
        "OUTPUT RECORD",
        "EXIT RECORD",
        "GUARANTEES",
        "JOURNAL FIELDS",
    ] {
        assert!(
            page.contains(&format!(".SH \"{section}\""))
                || page.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
}

crate::trials![
    man_page_matches_the_cli,
    committed_completions_match_the_binary,
    man_page_documents_every_flag_and_format,
    the_file_format_page_documents_every_field_teelog_writes,
];
