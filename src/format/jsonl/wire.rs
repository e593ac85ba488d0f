//! The jsonl records as they appear on the wire: flat objects, so that Vector, Fluent Bit, Loki,
//! Elasticsearch and jq can take each line on its own. The man page's JSONL section documents them.

use serde::Serialize;

/// Fields every record carries.
#[derive(Debug, Serialize)]
pub struct Common<'a> {
    /// `"start"`, `"output"` or `"exit"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// RFC 3339, UTC, microseconds: when the record's first byte was read.
    pub timestamp: &'a str,
    /// Unique per run of teelog.
    pub session: &'a str,
    /// One counter across all records of the run, from 1.
    pub seq: u64,
    pub host: &'a str,
    pub user: &'a str,
    /// The command's process id.
    pub pid: u32,
}

#[derive(Debug, Serialize)]
pub struct StartRecord<'a> {
    #[serde(flatten)]
    pub common: Common<'a>,
    /// The argv as executed.
    pub command: &'a [String],
    pub cwd: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OutputRecord<'a> {
    #[serde(flatten)]
    pub common: Common<'a>,
    /// `"stdout"` or `"stderr"`.
    pub stream: &'static str,
    /// The line without its newline; a lossy rendering when it is not valid UTF-8.
    pub message: &'a str,
    /// Base64 of the exact line, present only when the line is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<&'a str>,
    /// Present (and false) only when the line did not end with a newline here.
    #[serde(skip_serializing_if = "is_true")]
    pub eol: bool,
}

#[derive(Debug, Serialize)]
pub struct ExitRecord<'a> {
    #[serde(flatten)]
    pub common: Common<'a>,
    /// The exit code, or null when a signal killed the command.
    pub code: Option<i32>,
    /// The signal's name (`"SIGTERM"`), or null.
    pub signal: Option<&'static str>,
    pub duration_s: f64,
}

fn is_true(b: &bool) -> bool {
    *b
}
