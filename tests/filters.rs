//! The output filters through the real binary: `--strip-ansi` (sequences that never end, bytes
//! kept as they came) and `--redact-env` (values coloured in part, wrapped base64, overlapping
//! values, teelog's own messages).

use std::path::{Path, PathBuf};

use crate::util::*;

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The plain, classic and jsonl logs of one run in `dir`, as `-o` arguments.
fn three_logs(dir: &Path) -> ([PathBuf; 3], Vec<String>) {
    let (plain, classic, jsonl) = (dir.join("p.txt"), dir.join("c.log"), dir.join("j.jsonl"));
    let args = vec![
        "-o".into(),
        format!("plain={}", plain.display()),
        "-o".into(),
        classic.display().to_string(),
        "-o".into(),
        format!("jsonl={}", jsonl.display()),
    ];
    ([plain, classic, jsonl], args)
}

// --- --strip-ansi ---------------------------------------------------------------------------

fn strip_ansi_keeps_every_line_after_a_sequence_that_never_ends() {
    let dir = tempdir();
    let ([plain, classic, jsonl], logs) = three_logs(dir.path());
    // An OSC on stdout and a DCS on stderr that never end, each followed by five lines.
    let script = "printf 'a \\033]0;title that never ends\\n'; \
                  for i in 1 2 3 4 5; do echo \"out $i\"; done; \
                  printf 'b \\033P1;2|never ends either\\n' >&2; \
                  for i in 1 2 3 4 5; do echo \"err $i\" >&2; done";
    let out = run(
        teelog()
            .arg("--strip-ansi")
            .args(&logs)
            .args(["--", "sh", "-c", script]),
        0,
    );
    let want_out = "a \nout 1\nout 2\nout 3\nout 4\nout 5\n";
    let want_err = "b \nerr 1\nerr 2\nerr 3\nerr 4\nerr 5\n";
    assert_eq!(
        text(&out.stdout),
        "a \x1b]0;title that never ends\nout 1\nout 2\nout 3\nout 4\nout 5\n",
        "the console is untouched"
    );
    assert_eq!(text(&read(&plain)), format!("{want_out}{want_err}"));
    let records = records(&read(&jsonl));
    check_run(&records);
    assert_eq!(text(&rebuild(&records, "stdout")), want_out);
    assert_eq!(text(&rebuild(&records, "stderr")), want_err);
    let classic = read(&classic);
    for line in want_out.lines().chain(want_err.lines()) {
        assert!(
            contains(&classic, format!("]> {line}\n").as_bytes())
                || contains(&classic, format!("\n{line}\n").as_bytes()),
            "{line:?} in {}",
            text(&classic)
        );
    }
    assert!(!classic.contains(&0x1b), "{}", text(&classic));
}

fn strip_ansi_cuts_a_string_without_newline_off_at_64_kib_and_keeps_the_rest() {
    let dir = tempdir();
    let plain = dir.path().join("p.txt");
    // ESC ] and 70000 more bytes, no terminator and no newline, then a line.
    let script = "printf '\\033]'; head -c 70000 /dev/zero | tr '\\0' z; echo; echo after";
    run(
        teelog()
            .arg("--strip-ansi")
            .arg("-o")
            .arg(format!("plain={}", plain.display()))
            .args(["-q", "--", "sh", "-c", script]),
        0,
    );
    let kept = read(&plain);
    // The sequence is cut off at 64 KiB, its introducer included.
    let zs = 70000 + 2 - 64 * 1024;
    assert_eq!(text(&kept), format!("{}\nafter\n", "z".repeat(zs)));
}

fn strip_ansi_cuts_a_string_of_text_off_at_64_kib_between_two_characters() {
    let dir = tempdir();
    let ([plain, classic, jsonl], logs) = three_logs(dir.path());
    // ESC ] x, then 40,000 two-byte characters and no terminator: 64 KiB falls inside one.
    let script = "printf '\\033]x'; i=0; while [ $i -lt 40 ]; do \
                  head -c 1000 /dev/zero | sed 's/\\x0/é/g'; i=$((i+1)); done; echo; echo after";
    run(
        teelog()
            .arg("--strip-ansi")
            .args(&logs)
            .args(["-q", "--", "sh", "-c", script]),
        0,
    );
    // The string is 3 + 80,000 bytes: what is past its first 64 KiB is kept, less the tail of
    // the character the bound cut.
    let kept = (3 + 80_000 - 64 * 1024) / 2;
    let want = format!("{}\nafter\n", "é".repeat(kept));
    let kept = read(&plain);
    assert!(kept == want.as_bytes(), "{:?}", &kept[..kept.len().min(8)]);
    let records = records(&read(&jsonl));
    check_run(&records);
    let rebuilt = rebuild(&records, "stdout");
    assert!(
        rebuilt == want.as_bytes(),
        "{:?}",
        &rebuilt[..rebuilt.len().min(8)]
    );
    assert!(
        records.iter().all(|r| r.get("bytes").is_none()),
        "every record is text"
    );
    let classic = read(&classic);
    assert!(std::str::from_utf8(&classic).is_ok(), "classic is UTF-8");
}

fn strip_ansi_keeps_c1_characters_and_invalid_utf8_as_they_came() {
    let dir = tempdir();
    let ([plain, classic, jsonl], logs) = three_logs(dir.path());
    // NEL and CSI as UTF-8 characters, a lone 0xff, a lone C1 byte, colour around them.
    let script = "printf '\\302\\205 nel \\302\\233 csi \\033[31m\\377\\033[m ff \\233 c1\\n'";
    let out = run(
        teelog()
            .arg("--strip-ansi")
            .args(&logs)
            .args(["--", "sh", "-c", script]),
        0,
    );
    let want: &[u8] = b"\xc2\x85 nel \xc2\x9b csi \xff ff \x9b c1\n";
    assert_eq!(
        out.stdout,
        b"\xc2\x85 nel \xc2\x9b csi \x1b[31m\xff\x1b[m ff \x9b c1\n"
    );
    assert_eq!(read(&plain), want);
    let records = records(&read(&jsonl));
    assert_eq!(rebuild(&records, "stdout"), want);
    let mut line = b"]> ".to_vec();
    line.extend_from_slice(want);
    let classic = read(&classic);
    assert!(contains(&classic, &line), "{:?}", text(&classic));
}

// --- --redact-env ---------------------------------------------------------------------------

const SECRET: &str = "hunter-2024-Qx";

/// Runs `script` with SECRET_PW set, `--redact-env SECRET_PW`, `flags` and the three logs;
/// checks that no log holds the secret, even once its escape sequences are taken out; returns
/// the console's stdout and stderr and the plain log.
fn redacted(script: &str, flags: &[&str]) -> (String, String, Vec<u8>) {
    let dir = tempdir();
    let ([plain, classic, jsonl], logs) = three_logs(dir.path());
    let out = run(
        teelog()
            .env("SECRET_PW", SECRET)
            .env_remove("GREP_COLORS")
            .env_remove("GREP_COLOR")
            .args(["--redact-env", "SECRET_PW"])
            .args(flags)
            .args(&logs)
            .args(["--", "sh", "-c", script]),
        0,
    );
    for log in [&plain, &classic, &jsonl] {
        let bytes = read(log);
        let stripped = strip_csi(&bytes);
        for bytes in [&bytes, &stripped] {
            assert!(
                !contains(bytes, SECRET.as_bytes()) && contains(bytes, b"***"),
                "{}: {}",
                log.display(),
                text(bytes)
            );
        }
    }
    let records = records(&read(&jsonl));
    check_run(&records);
    (text(&out.stdout), text(&out.stderr), read(&plain))
}

fn redact_env_masks_a_value_grep_coloured_in_part_with_and_without_strip_ansi() {
    // grep colours the part of the value it matched: the codes are inside the value. Once
    // inside, once at its start, once at its end, and on stderr.
    let script = "echo \"pw $SECRET_PW end\" | grep --color=always 'ter-20'; \
                  echo \"pw $SECRET_PW end\" | grep --color=always 'hunt'; \
                  echo \"pw $SECRET_PW end\" | grep --color=always '4-Qx'; \
                  echo \"pw $SECRET_PW end\" | grep --color=always 'r-2' >&2";
    let raw = std::process::Command::new("sh")
        .args(["-c", script])
        .env("SECRET_PW", SECRET)
        .env_remove("GREP_COLORS")
        .env_remove("GREP_COLOR")
        .output()
        .unwrap();
    assert!(
        contains(&raw.stdout, b"\x1b[") && !contains(&raw.stdout, SECRET.as_bytes()),
        "grep puts its codes inside the value: {:?}",
        text(&raw.stdout)
    );
    for flags in [&[][..], &["--strip-ansi"]] {
        let (stdout, stderr, plain) = redacted(script, flags);
        let stdout = text(&strip_csi(stdout.as_bytes()));
        assert_eq!(stdout, "pw *** end\n".repeat(3), "{flags:?}");
        assert_eq!(
            text(&strip_csi(stderr.as_bytes())),
            "pw *** end\n",
            "{flags:?}"
        );
        if flags.is_empty() {
            assert!(contains(&plain, b"\x1b["), "codes outside the value stay");
        } else {
            assert_eq!(text(&plain), "pw *** end\n".repeat(4));
        }
    }
}

/// `bytes` without CSI sequences (`ESC [`, parameters, one final byte), which is all grep
/// writes.
fn strip_csi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        if b == 0x1b && tail.first() == Some(&b'[') {
            let end = tail[1..].iter().position(|c| (0x40..=0x7e).contains(c));
            rest = end.map_or(&[][..], |end| &tail[end + 2..]);
        } else {
            out.push(b);
            rest = tail;
        }
    }
    out
}

fn redact_env_masks_base64_as_base64_wraps_it_and_values_that_overlap() {
    let dir = tempdir();
    let plain = dir.path().join("p.txt");
    let long = "a-long-secret-value-whose-base64-form-wraps-at-76-columns-xyz";
    let out = run(
        teelog()
            .env("LONG_PW", long)
            .env("FIRST_PW", "abcdef1234")
            .env("SECOND_PW", "1234ghijkl")
            .args(["--redact-env", "LONG_PW", "--redact-env", "FIRST_PW"])
            .args(["--redact-env", "SECOND_PW", "-o"])
            .arg(format!("plain={}", plain.display()))
            .args([
                "--",
                "sh",
                "-c",
                "printf %s \"$LONG_PW\" | base64; echo \"x abcdef1234ghijkl y\"",
            ]),
        0,
    );
    assert_eq!(text(&out.stdout), "***==\nx *** y\n");
    assert_eq!(text(&read(&plain)), "***==\nx *** y\n");
}

fn teelogs_own_messages_are_redacted() {
    let dir = tempdir();
    let program = format!("/nonexistent/{SECRET}");
    let log = format!("{}/{SECRET}/x.log", dir.path().display());
    let cases: [(&[&str], u8); 4] = [
        // The command that cannot run.
        (&["--redact-env", "SECRET_PW", "--", &program], 127),
        // A log that cannot be opened.
        (
            &["--redact-env", "SECRET_PW", "-o", &log, "--", "true"],
            125,
        ),
        // clap's error quotes a value, after --redact-env and before it.
        (
            &["--redact-env", "SECRET_PW", "--pause", SECRET, "--", "true"],
            125,
        ),
        (
            &[
                &format!("--{SECRET}"),
                "--redact-env=SECRET_PW",
                "--",
                "true",
            ],
            125,
        ),
    ];
    for (args, code) in cases {
        let out = run(
            teelog().env("SECRET_PW", SECRET).args(args),
            i32::from(code),
        );
        let stderr = text(&out.stderr);
        assert!(
            !stderr.contains(SECRET) && stderr.starts_with("teelog: ") && stderr.contains("***"),
            "{args:?}: {stderr}"
        );
    }
}

fn a_secret_in_the_working_directory_is_redacted_in_the_start_record() {
    let dir = tempdir();
    let cwd = dir.path().join(SECRET);
    std::fs::create_dir(&cwd).unwrap();
    let (classic, jsonl) = (dir.path().join("x.log"), dir.path().join("x.jsonl"));
    let out = run(
        teelog()
            .current_dir(&cwd)
            .env("SECRET_PW", SECRET)
            .args(["--redact-env", "SECRET_PW", "-f", "classic", "-o"])
            .arg(&classic)
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "true"]),
        0,
    );
    for (what, bytes) in [
        ("console", out.stdout),
        ("classic", read(&classic)),
        ("jsonl", read(&jsonl)),
    ] {
        let text = text(&bytes);
        assert!(
            !text.contains(SECRET) && text.contains("***"),
            "{what}: {text}"
        );
    }
    let records = records(&read(&jsonl));
    assert_eq!(
        records[0]["cwd"],
        format!("{}/***", dir.path().display()),
        "the rest of the path stays"
    );
}

/// With `--strip-ansi`, a value cut by a read inside an escape string longer than the redactor
/// looks back (an OSC 8 link of 5,000 bytes) is whole again once the string is taken out: the
/// logs' bytes are redacted again after stripping.
fn a_value_split_by_a_long_escape_string_is_masked_after_stripping_too() {
    let dir = tempdir();
    let (plain, classic) = (dir.path().join("r.log"), dir.path().join("r.classic"));
    let (head, tail) = SECRET.split_at(8);
    let script = format!(
        "printf 'pw={head}\\033]8;;%s' \"$(head -c 5000 /dev/zero | tr '\\0' u)\"; sleep 0.3; \
         printf '\\033\\\\{tail} done\\n'"
    );
    let out = run(
        teelog()
            .env("SECRET_PW", SECRET)
            .args(["--redact-env", "SECRET_PW", "--strip-ansi", "-o"])
            .arg(format!("plain={}", plain.display()))
            .arg("-o")
            .arg(&classic)
            .args(["--", "sh", "-c", &script]),
        0,
    );
    assert!(!text(&out.stdout).contains(SECRET), "console");
    assert_eq!(text(&read(&plain)), "pw=*** done\n");
    let classic = text(&read(&classic));
    assert!(
        !classic.contains(SECRET) && classic.contains("]> *** done\n"),
        "{classic}"
    );
}

crate::trials![
    a_value_split_by_a_long_escape_string_is_masked_after_stripping_too,
    strip_ansi_keeps_every_line_after_a_sequence_that_never_ends,
    strip_ansi_cuts_a_string_without_newline_off_at_64_kib_and_keeps_the_rest,
    strip_ansi_cuts_a_string_of_text_off_at_64_kib_between_two_characters,
    strip_ansi_keeps_c1_characters_and_invalid_utf8_as_they_came,
    redact_env_masks_a_value_grep_coloured_in_part_with_and_without_strip_ansi,
    redact_env_masks_base64_as_base64_wraps_it_and_values_that_overlap,
    teelogs_own_messages_are_redacted,
    a_secret_in_the_working_directory_is_redacted_in_the_start_record,
];
