//! The jsonl records as they appear on the wire: flat objects, so that Vector, Fluent Bit, Loki,
//! Elasticsearch and jq can take each line on its own. The man page's JSONL section documents them.
//!
//! Fields every record carries: `type` (`"start"`, `"output"`, `"exit"`), `timestamp` (RFC 3339,
//! UTC, microseconds: when the record's first byte was read), `session` (unique per run), `host`,
//! `user`, `pid` (the command's) and `seq` (one counter across all records of the run, from 1).
//! Output records are written by a fast path in `super` that a unit test holds to exactly what
//! serde writes for [`OutputRecord`].

use serde::Serialize;

/// The fields every record starts with (start and exit records; an output record has `stream`
/// before `seq`, see [`OutputRecord`]).
#[derive(Debug, Serialize)]
pub struct Common<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: &'a str,
    pub session: &'a str,
    pub host: &'a str,
    pub user: &'a str,
    /// null only in the start and exit records of a command that could not be started.
    pub pid: Option<u32>,
    pub seq: u64,
}

#[derive(Debug, Serialize)]
pub struct StartRecord<'a> {
    #[serde(flatten)]
    pub common: Common<'a>,
    /// The argv as executed (secrets masked).
    pub command: &'a [String],
    pub cwd: &'a str,
    /// The size of teelog's terminal (the command's pty with `--pty`) in characters, or null
    /// when there was none: what `replay --format asciicast` sizes its player to.
    pub cols: Option<u16>,
    pub rows: Option<u16>,
    /// Always true: the output record that follows each pause of the command carries
    /// `after_pause`, so that `teelog replay` rebuilds a classic log exactly. A recording without
    /// it (made by an older teelog) leaves replay to infer the pauses from the records' times.
    pub marks_pauses: bool,
}

/// The schema of an output record. Only the unit test serializes it: the writer's fast path must
/// produce exactly these bytes.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Serialize)]
pub struct OutputRecord<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: &'a str,
    pub session: &'a str,
    pub host: &'a str,
    pub user: &'a str,
    pub pid: u32,
    /// `"stdout"`, `"stderr"` or (with `--log-input`) `"stdin"`.
    pub stream: &'static str,
    pub seq: u64,
    /// The line without its newline; a lossy rendering when it is not valid UTF-8.
    pub message: &'a str,
    /// Base64 of the exact line, present only when the line is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<&'a str>,
    /// Present (and false) only when the line did not end with a newline here.
    #[serde(skip_serializing_if = "is_true")]
    pub eol: bool,
    /// Present (and true) only on the first output record after the command paused (was quiet
    /// for `--pause` after some output): where classic started a new prompt and jsonl wrote the
    /// lines it held without their newline (the records just before).
    #[serde(skip_serializing_if = "is_false")]
    pub after_pause: bool,
}

#[derive(Debug, Serialize)]
pub struct ExitRecord<'a> {
    #[serde(flatten)]
    pub common: Common<'a>,
    /// The exit code, or null when a signal killed the command.
    pub code: Option<i32>,
    /// The signal's name (`"SIGTERM"`, `"SIGRTMIN+3"`), or null.
    pub signal: Option<String>,
    pub duration_s: f64,
    /// Bytes left in the command's pipes when teelog stopped reading them (processes it left
    /// behind held them open past the grace period); present only when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub unread_bytes: u64,
    /// Why the command could not be started (`"not found: ..."`, `"cannot execute: ..."`);
    /// present only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg_attr(not(test), allow(dead_code))]
fn is_true(b: &bool) -> bool {
    *b
}

#[cfg_attr(not(test), allow(dead_code))]
fn is_false(b: &bool) -> bool {
    !*b
}
