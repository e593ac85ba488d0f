//! `journal`: entries for the systemd journal's native protocol, one per output line (split as
//! jsonl splits them: the 64 KiB cap, partial lines at a pause), plus a start and an exit entry.
//! Each entry is one record (the sink sends it as one datagram to journald's socket).
//!
//! Fields: `MESSAGE` (the line without its newline, bytes exact), `PRIORITY` (6 stdout and stdin,
//! 3 stderr, 5 start and exit), `SYSLOG_IDENTIFIER` (the preset's name, else the command's base
//! name), `SYSLOG_PID` (the command's pid), `TEELOG_SESSION`, `TEELOG_SEQ` (jsonl's `seq`),
//! `TEELOG_STREAM`, and `TEELOG_EOL=0` on a line written without its newline; the start entry adds
//! `TEELOG_COMMAND` (masked), the exit entry `TEELOG_EXIT_CODE` or `TEELOG_SIGNAL`, and
//! `TEELOG_DURATION_S`. A value that is not UTF-8 or holds a newline goes in the protocol's
//! length-prefixed binary form; the others as `NAME=value`.

use super::line_records::{LineFormatter, LineRecords};
use super::lines::{Line, Seq};
use super::{Context, Format};
use crate::dest::Out;
use crate::event::{Exit, Start, Status, Stream};

/// The journal formatter: [`Lines`](super::lines::Lines) and [`JournalEntries`].
pub type JournalFormatter = LineFormatter<JournalEntries>;

/// What writes the journal entries of one run.
#[derive(Debug)]
pub struct JournalEntries {
    /// `SYSLOG_IDENTIFIER`, when a preset names it.
    preset: Option<String>,
    /// jsonl's `seq`, entry for record.
    seq: Seq,
    /// The fields every entry of the run shares, encoded once.
    shared: Vec<u8>,
}

impl JournalFormatter {
    pub fn new(ctx: &Context) -> JournalFormatter {
        LineFormatter::with(JournalEntries {
            preset: ctx.preset.clone(),
            seq: Seq::after(0),
            shared: Vec::new(),
        })
    }
}

impl JournalEntries {
    /// Starts an entry: the next `seq` and the shared fields.
    fn begin(&mut self, priority: u8, out: &mut Out) {
        self.seq.next();
        out.extend_from_slice(&self.shared);
        field(out, "PRIORITY", priority.to_string().as_bytes());
        field(out, "TEELOG_SEQ", self.seq.digits());
    }

    fn entry(&mut self, line: Line<'_>, out: &mut Out) {
        let priority = match line.stream {
            Stream::Stderr => 3,
            Stream::Stdout | Stream::Stdin => 6,
        };
        self.begin(priority, out);
        field(out, "TEELOG_STREAM", line.stream.name().as_bytes());
        if !line.eol {
            field(out, "TEELOG_EOL", b"0");
        }
        field(out, "MESSAGE", line.bytes);
        out.end_record();
    }
}

/// Appends one field in the native protocol's form.
fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    if std::str::from_utf8(value).is_ok() && !value.contains(&b'\n') {
        out.push(b'=');
        out.extend_from_slice(value);
    } else {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value);
    }
    out.push(b'\n');
}

impl LineRecords for JournalEntries {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        let e = self;
        let ident = super::identifier(e.preset.as_deref(), ev);
        e.shared.clear();
        field(&mut e.shared, "SYSLOG_IDENTIFIER", ident.as_bytes());
        if let Some(pid) = ev.pid {
            field(&mut e.shared, "SYSLOG_PID", pid.to_string().as_bytes());
        }
        field(&mut e.shared, "TEELOG_SESSION", ev.session.as_bytes());
        let command = Format::command_line(&ev.command);
        e.begin(5, out);
        field(out, "TEELOG_COMMAND", command.as_bytes());
        field(out, "MESSAGE", format!("start: {command}").as_bytes());
        out.end_record();
    }

    fn line(&mut self, line: Line<'_>, out: &mut Out) {
        self.entry(line, out);
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        let e = self;
        e.begin(5, out);
        match ev.status {
            Status::Code(code) => field(out, "TEELOG_EXIT_CODE", code.to_string().as_bytes()),
            Status::Signal(n) => field(out, "TEELOG_SIGNAL", crate::signal::name(n).as_bytes()),
        }
        field(
            out,
            "TEELOG_DURATION_S",
            {
                // Whole microseconds, as jsonl's `duration_s`.
                let us = ev.duration.as_micros();
                format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
            }
            .as_bytes(),
        );
        field(out, "MESSAGE", super::exit_summary(ev).as_bytes());
        out.end_record();
    }

    /// An entry of its own: the seal line as MESSAGE, with the `seq` of the record before it.
    fn seal(&mut self, line: &[u8], out: &mut Out) {
        out.extend_from_slice(&self.shared);
        field(out, "PRIORITY", b"6");
        let seq = crate::seal::seq_of(line).unwrap_or(self.seq.value());
        field(out, "TEELOG_SEQ", seq.to_string().as_bytes());
        field(out, "TEELOG_TYPE", b"seal");
        field(out, "MESSAGE", line.strip_suffix(b"\n").unwrap_or(line));
        out.end_record();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, start};
    use super::*;
    use crate::event::Stream::*;
    use crate::format::Formatter;

    /// The entries `f` wrote, each as (name, value) pairs, decoding the binary form.
    fn entries(out: &Out) -> Vec<Vec<(String, Vec<u8>)>> {
        out.records()
            .map(|mut r| {
                let mut fields = Vec::new();
                while !r.is_empty() {
                    let nl = r.iter().position(|b| *b == b'\n').unwrap();
                    let head = &r[..nl];
                    if let Some(eq) = head.iter().position(|b| *b == b'=') {
                        fields.push((
                            String::from_utf8(head[..eq].to_vec()).unwrap(),
                            head[eq + 1..].to_vec(),
                        ));
                        r = &r[nl + 1..];
                    } else {
                        let len =
                            u64::from_le_bytes(r[nl + 1..nl + 9].try_into().unwrap()) as usize;
                        fields.push((
                            String::from_utf8(head.to_vec()).unwrap(),
                            r[nl + 9..nl + 9 + len].to_vec(),
                        ));
                        assert_eq!(r[nl + 9 + len], b'\n');
                        r = &r[nl + 10 + len..];
                    }
                }
                fields
            })
            .collect()
    }

    fn get<'a>(entry: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
        &entry.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn one_entry_per_line_with_its_fields_and_binary_values_length_prefixed() {
        let mut f = JournalFormatter::new(&ctx());
        let mut out = Out::default();
        f.start(&start(), &mut out);
        let chunk = super::super::testing::chunk;
        f.chunk(&chunk(Stdout, 1, b"one\n\xff\xfe\nhalf"), &mut out);
        f.chunk(&chunk(Stderr, 2, b"err\n"), &mut out);
        f.exit(&super::super::testing::exit(Status::Code(3)), &mut out);
        let e = entries(&out);
        assert_eq!(e.len(), 6);
        assert_eq!(get(&e[0], "MESSAGE"), b"start: mysql -e 'select 1'");
        assert_eq!(get(&e[0], "TEELOG_COMMAND"), b"mysql -e 'select 1'");
        assert_eq!(get(&e[0], "SYSLOG_IDENTIFIER"), b"mysql");
        assert_eq!(get(&e[0], "SYSLOG_PID"), b"42");
        assert_eq!(get(&e[0], "PRIORITY"), b"5");
        assert_eq!(get(&e[1], "MESSAGE"), b"one");
        assert_eq!(get(&e[1], "PRIORITY"), b"6");
        assert_eq!(get(&e[2], "MESSAGE"), b"\xff\xfe");
        assert_eq!(get(&e[3], "MESSAGE"), b"err");
        assert_eq!(get(&e[3], "PRIORITY"), b"3");
        assert_eq!(get(&e[3], "TEELOG_STREAM"), b"stderr");
        assert_eq!(get(&e[4], "MESSAGE"), b"half");
        assert_eq!(get(&e[4], "TEELOG_EOL"), b"0");
        assert_eq!(get(&e[5], "TEELOG_EXIT_CODE"), b"3");
        assert_eq!(get(&e[5], "MESSAGE"), b"exit: status 3 after 1.235s");
        for (i, entry) in e.iter().enumerate() {
            assert_eq!(get(entry, "TEELOG_SEQ"), (i + 1).to_string().as_bytes());
            assert_eq!(get(entry, "TEELOG_SESSION"), b"S");
        }
    }
}
