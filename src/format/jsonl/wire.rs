//! The jsonl records as they appear on the wire: flat objects, so that Vector, Fluent Bit, Loki,
//! Elasticsearch and jq can take each line on its own. The man page's JSONL section documents them.
//!
//! Fields every record carries: `type` (`"start"`, `"output"`, `"exit"`, and `"seal"` in a
//! sealed log), `timestamp` (RFC 3339,
//! UTC, microseconds: when the record's first byte was read), `session` (unique per run), `host`,
//! `user`, `pid` (the command's) and `seq` (one counter across all records of the run, from 1).
//! One [`Record`] is every kind, written and read back (`teelog replay`), as asciinema's
//! `asciicast/v2.rs` keeps its reader and writer together. Output records are written by a fast
//! path in `super` that a unit test holds to exactly what serde writes for the `Record`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One jsonl record of any kind, flat, with the fields in the order they are written. A field
/// that belongs to another kind is `None` (or false, or 0) and left out; reading is lenient as
/// older recordings need (unknown fields are ignored, `host` and `user` may be missing). The
/// writer borrows what it writes; `teelog replay` reads a `Record<'static>`, owning its text.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record<'a> {
    /// `"start"`, `"output"` or `"exit"`.
    #[serde(rename = "type")]
    pub kind: Cow<'a, str>,
    pub timestamp: Cow<'a, str>,
    pub session: Cow<'a, str>,
    #[serde(default)]
    pub host: Cow<'a, str>,
    #[serde(default)]
    pub user: Cow<'a, str>,
    /// null only in the start and exit records of a command that could not be started.
    pub pid: Option<u32>,
    /// Output: `"stdout"`, `"stderr"` or (with `--log-input`) `"stdin"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Cow<'a, str>>,
    pub seq: Option<u64>,
    /// Start: the argv as executed (secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Cow<'a, [String]>>,
    /// Start: the command's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Cow<'a, str>>,
    /// Start: the size of teelog's terminal (the command's pty with `--pty`) in characters, or
    /// null when there was none: what `replay --format asciicast` sizes its player to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cols: Option<Option<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Option<u16>>,
    /// Start: always true: the output record that follows each pause of the command carries
    /// `after_pause`, so that `teelog replay` rebuilds a classic log exactly. A recording without
    /// it (made by an older teelog) leaves replay to infer the pauses from the records' times.
    #[serde(default, skip_serializing_if = "is_false")]
    pub marks_pauses: bool,
    /// Output: the line without its newline; a lossy rendering when it is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Cow<'a, str>>,
    /// Output: base64 of the exact line, present only when the line is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Cow<'a, str>>,
    /// Output: present (and false) only when the line did not end with a newline here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eol: Option<bool>,
    /// Output: present (and true) only on the first output record after the command paused (was
    /// quiet for `--pause` after some output): where classic started a new prompt and jsonl
    /// wrote the lines it held without their newline (the records just before).
    #[serde(default, skip_serializing_if = "is_false")]
    pub after_pause: bool,
    /// Exit: the exit code, or null when a signal killed the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Option<i32>>,
    /// Exit: the signal's name (`"SIGTERM"`, `"SIGRTMIN+3"`), or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Option<Cow<'a, str>>>,
    /// Exit: the run's duration in seconds, to the microsecond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Exit: bytes left in the command's pipes when teelog stopped reading them (processes it
    /// left behind held them open past the grace period); present only when not 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unread_bytes: u64,
    /// Exit: messages sent again to a collector after a reconnect (`relp=`), which it may hold
    /// twice; present only when not 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resent: u64,
    /// Exit: why the command could not be started (`"not found: ..."`, `"cannot execute: ..."`);
    /// present only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
    /// Seal (`--seal`, docs/sealing.md): how many of the run's lines in this file it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
    /// Seal: the RFC 6962 root of those lines, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Cow<'a, str>>,
    /// Seal: true on the run's last seal, written after its exit record.
    #[serde(default, rename = "final", skip_serializing_if = "Option::is_none")]
    pub last_seal_of_run: Option<bool>,
    /// Seal: the signed note (C2SP signed-note, tlog-checkpoint text) that says all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Cow<'a, str>>,
    /// Sealed logs, the run's first record in a file after a rotation: which file of the run
    /// it is (1 for the second), and the SHA-256 (base64) of the run's last seal line before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seal: Option<Cow<'a, str>>,
    /// Sealed logs, every record: the SHA-256 (base64) of the line the run wrote before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<Cow<'a, str>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::super::JsonlFormatter;
    use super::*;
    use crate::dest::Out;
    use crate::event::Stream::*;
    use crate::format::Formatter;
    use crate::format::lines::{Line, Seq};
    use crate::format::testing::ctx;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    #[test]
    fn the_fast_path_writes_exactly_what_serde_writes_for_the_wire_struct() {
        let lines: [&[u8]; 7] = [
            b"",
            b"plain",
            b"tab\there \"quoted\" \\ \x01\x1f\x7f",
            "é € 😀".as_bytes(),
            b"\xff\xfe",
            b"ok\xc3(",
            b"\r",
        ];
        // And lines longer than the plain-ASCII scan's block, with the byte that needs care in
        // every position of it and of its remainder.
        let base =
            b"2026-11-25 20:13:13 INFO request served in 12 ms by worker 7 for /api?id=42\x7f";
        let mut long: Vec<Vec<u8>> = vec![base.to_vec()];
        for special in [b'"', b'\\', b'\x1f', 0x80, 0xc3, 0xff] {
            for at in 0..base.len() {
                let mut line = base.to_vec();
                line[at] = special;
                long.push(line);
            }
        }
        for line in lines.into_iter().chain(long.iter().map(Vec::as_slice)) {
            for (eol, after_pause) in [(true, false), (false, false), (true, true), (false, true)] {
                let mut f = JsonlFormatter::new(&ctx());
                f.start(&crate::format::testing::start(), &mut Out::default());
                f.records.seq = Seq::after(6);
                f.records.paused = after_pause;
                let mut fast = Vec::new();
                f.records.record(
                    Line {
                        stream: Stderr,
                        bytes: line,
                        time: crate::format::testing::at(5),
                        eol,
                    },
                    &mut fast,
                );
                let bytes = std::str::from_utf8(line)
                    .is_err()
                    .then(|| BASE64.encode(line));
                let expected = Record {
                    kind: "output".into(),
                    timestamp: "2012-10-30T22:13:13.000005Z".into(),
                    session: "S".into(),
                    host: "db1".into(),
                    user: "ops".into(),
                    pid: Some(42),
                    stream: Some("stderr".into()),
                    seq: Some(7),
                    message: Some(String::from_utf8_lossy(line)),
                    bytes: bytes.as_deref().map(Cow::Borrowed),
                    eol: (!eol).then_some(false),
                    after_pause,
                    ..Record::default()
                };
                let mut slow = serde_json::to_vec(&expected).unwrap();
                slow.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&slow)
                );
            }
        }
    }
}
