//! `syslog`: one message per output line (split as jsonl splits them, and again into pieces a
//! transport takes whole, each carrying the `seq` jsonl gives the line's record), plus a start and an exit message. Severity info for stdout and stdin,
//! err for stderr, notice for start and exit; the facility is `user` unless `--syslog-facility`
//! says otherwise; the app-name is the command's base name (the preset's name with `--preset`),
//! the procid its pid.
//!
//! On a local socket (`/dev/log`) the message is what glibc's syslog(3) and logger(1) send
//! there, `<PRI>Mmm dd hh:mm:ss APP[PID]: MSG`, which rsyslog's imuxsock and journald parse.
//! Over UDP and TCP it is RFC 5424, `<PRI>1 TIMESTAMP HOST APP PROCID - [teelog@32473
//! session=".." seq=".." stream=".."] MSG`. Each message is one record; framing it for a
//! stream transport (octet counting on TCP) is the transport's business (`dest::remote`).

use chrono::{DateTime, Local, SecondsFormat, Utc};

use super::line_records::{LineFormatter, LineRecords};
use super::lines::{Line, MAX_LINE, Seq};
use super::utf8::cut_point;
use super::{Context, Format};
use crate::dest::Out;
use crate::event::{Exit, Start, Stream};

/// How messages are written for a transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// A local datagram socket: the traditional format of syslog(3).
    Local,
    /// UDP: RFC 5424, one message per datagram.
    Udp,
    /// TCP: RFC 5424 (octet-counted by the transport).
    Tcp,
}

impl Wire {
    /// The most bytes of a line one message carries. rsyslog takes 8 KiB by default, and RFC
    /// 5426 asks every UDP receiver for 2048 bytes at least; the header takes the rest.
    pub fn max_text(self) -> usize {
        match self {
            Wire::Udp => 1536,
            Wire::Local | Wire::Tcp => 7168,
        }
    }
}

/// What a message's header can take at most (the longest host and app-name RFC 5424 allows,
/// teelog's structured data), kept free of text under `--max-message`.
pub const HEADER_ROOM: usize = 512;

/// The RFC 5424 structured-data ID of teelog's fields (the enterprise number is the one RFC 5612
/// sets aside for documentation: teelog has none of its own).
pub const SD_ID: &str = "teelog@32473";

/// The syslog formatter: [`Lines`](super::lines::Lines) and [`SyslogMessages`].
pub type SyslogFormatter = LineFormatter<SyslogMessages>;

/// What writes the syslog messages of one run.
#[derive(Debug)]
pub struct SyslogMessages {
    wire: Wire,
    /// The most bytes of a line one message carries.
    max_text: usize,
    facility: u8,
    preset: Option<String>,
    app: String,
    host: String,
    session: String,
    pid: Option<u32>,
    /// jsonl's `seq`: one per line (or 64 KiB piece of one), shared by the messages it is split
    /// into for the transport.
    seq: Seq,
    /// One message before its framing (on a local socket).
    message: Vec<u8>,
    /// What follows the timestamp in every RFC 5424 message of the run, up to the seq's digits.
    head: Vec<u8>,
    stamp: Stamp,
    /// With `max_text` over [`MAX_LINE`]: the pieces of a long line gathered into one message.
    long: Option<LongLine>,
}

/// The pieces of one line longer than [`MAX_LINE`] (as [`Lines`](super::lines::Lines) hands it
/// over), gathered until its end into one message: it carries the `seq` of the line's first
/// piece, and each piece still counts one, so that the next line's `seq` is jsonl's.
#[derive(Debug)]
struct LongLine {
    seq: u64,
    stream: Stream,
    time: std::time::SystemTime,
    bytes: Vec<u8>,
}

impl SyslogFormatter {
    pub fn new(ctx: &Context, wire: Wire, facility: u8) -> SyslogFormatter {
        SyslogFormatter::with_max(ctx, wire, facility, wire.max_text())
    }

    /// For a shipped stream (`relp=`, `syslog=tls:`), whose collector is configured to take
    /// messages of `max_message` bytes: a line up to that (less the header) is one message.
    pub fn shipped(ctx: &Context, facility: u8, max_message: usize) -> SyslogFormatter {
        let max_text = max_message.saturating_sub(HEADER_ROOM);
        SyslogFormatter::with_max(ctx, Wire::Tcp, facility, max_text)
    }

    fn with_max(ctx: &Context, wire: Wire, facility: u8, max_text: usize) -> SyslogFormatter {
        LineFormatter::with(SyslogMessages {
            wire,
            max_text,
            facility,
            preset: ctx.preset.clone(),
            app: String::new(),
            host: String::new(),
            session: String::new(),
            pid: None,
            seq: Seq::after(0),
            message: Vec::new(),
            head: Vec::new(),
            stamp: Stamp::default(),
            long: None,
        })
    }
}

impl SyslogMessages {
    /// Writes one message (several when `text` is longer than the transport takes; each piece
    /// carries the same `seq`, the one jsonl gives the line's record, and its number in
    /// `piece`).
    fn write(
        &mut self,
        severity: u8,
        stream: Option<Stream>,
        time: std::time::SystemTime,
        text: &[u8],
        out: &mut Out,
    ) {
        let label = Label::whole(self.seq.next());
        self.pieces(label, severity, stream, time, text, out);
    }

    /// Writes `text` in as many messages of `seq` as [`SyslogMessages::max_text`] makes it.
    fn pieces(
        &mut self,
        mut label: Label,
        severity: u8,
        stream: Option<Stream>,
        time: std::time::SystemTime,
        mut text: &[u8],
        out: &mut Out,
    ) {
        label.piece = (text.len() > self.max_text).then_some(1);
        let open = label.open;
        loop {
            let piece = if text.len() > self.max_text {
                cut_point(text, self.max_text)
            } else {
                text.len()
            };
            // Only the last piece can be where the line goes on.
            label.open = open && piece == text.len();
            self.one(label, severity, stream, time, &text[..piece], out);
            text = &text[piece..];
            if text.is_empty() {
                return;
            }
            label.piece = label.piece.map(|n| n + 1);
        }
    }

    fn one(
        &mut self,
        label: Label,
        severity: u8,
        stream: Option<Stream>,
        time: std::time::SystemTime,
        text: &[u8],
        out: &mut Out,
    ) {
        use std::io::Write;
        let pri = self.facility * 8 + severity;
        match self.wire {
            Wire::Local => {
                let m = &mut self.message;
                m.clear();
                let pid = self.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
                let stamp = DateTime::<Local>::from(time).format("%b %e %H:%M:%S");
                let _ = write!(m, "<{pri}>{stamp} {}[{pid}]: ", self.app);
                out.extend_from_slice(m);
            }
            // Written straight into `out`, from parts made once per run (the header after the
            // time) or once per timestamp: formatting them for every line cost more than all
            // the rest of a message.
            Wire::Udp | Wire::Tcp => {
                out.push(b'<');
                out.extend_from_slice(itoa::Buffer::new().format(pri).as_bytes());
                out.extend_from_slice(b">1 ");
                out.extend_from_slice(self.stamp.of(time));
                out.extend_from_slice(&self.head);
                out.extend_from_slice(itoa::Buffer::new().format(label.seq).as_bytes());
                out.push(b'"');
                if let Some(piece) = label.piece {
                    out.extend_from_slice(b" piece=\"");
                    out.extend_from_slice(itoa::Buffer::new().format(piece).as_bytes());
                    out.push(b'"');
                }
                if label.open {
                    out.extend_from_slice(b" eol=\"false\"");
                }
                out.extend_from_slice(match stream {
                    Some(Stream::Stdout) => b" stream=\"stdout\"] ",
                    Some(Stream::Stderr) => b" stream=\"stderr\"] ",
                    Some(Stream::Stdin) => b" stream=\"stdin\"] ",
                    None => b"] ",
                });
            }
        }
        out.extend_from_slice(text);
        out.end_record();
    }

    fn message(&mut self, line: Line<'_>, out: &mut Out) {
        let label = Label {
            open: !line.eol,
            ..Label::whole(self.seq.next())
        };
        let stream = Some(line.stream);
        self.pieces(
            label,
            severity(line.stream),
            stream,
            line.time,
            line.bytes,
            out,
        );
    }

    /// A line (or piece of one) where messages may be longer than [`MAX_LINE`]: a piece without
    /// its end is gathered with the next ones of its line, while they fit in one message.
    fn gather(&mut self, line: Line<'_>, out: &mut Out) {
        if self.long.as_ref().is_some_and(|l| {
            l.stream != line.stream || l.bytes.len() + line.bytes.len() > self.max_text
        }) {
            self.write_long(Eol::Open, out);
        }
        match &mut self.long {
            None if line.eol => self.message(line, out),
            None => {
                self.long = Some(LongLine {
                    seq: self.seq.next(),
                    stream: line.stream,
                    time: line.time,
                    bytes: line.bytes.to_vec(),
                });
            }
            Some(long) => {
                self.seq.next();
                long.bytes.extend_from_slice(line.bytes);
                if line.eol {
                    self.write_long(Eol::Reached, out);
                }
            }
        }
    }

    /// Writes the gathered pieces of a line, if any, as one message, marked `eol="false"` when
    /// the line goes on after them (a pause, another stream, a line longer than a message).
    fn write_long(&mut self, eol: Eol, out: &mut Out) {
        if let Some(long) = self.long.take() {
            let severity = severity(long.stream);
            let label = Label {
                open: eol == Eol::Open,
                ..Label::whole(long.seq)
            };
            self.pieces(
                label,
                severity,
                Some(long.stream),
                long.time,
                &long.bytes,
                out,
            );
        }
    }
}

/// The RFC 3339 timestamp of the last time asked for (the lines of one read share theirs).
#[derive(Debug, Default)]
struct Stamp {
    time: Option<std::time::SystemTime>,
    text: Vec<u8>,
}

impl Stamp {
    fn of(&mut self, time: std::time::SystemTime) -> &[u8] {
        if self.time != Some(time) {
            self.time = Some(time);
            self.text = DateTime::<Utc>::from(time)
                .to_rfc3339_opts(SecondsFormat::Micros, true)
                .into_bytes();
        }
        &self.text
    }
}

/// What tells a message from the others of its run: the `seq` of its line, and for a line sent
/// in several messages, which piece of it (from 1), so that a collector dropping duplicates by
/// session, seq and piece drops no piece.
#[derive(Clone, Copy, Debug)]
struct Label {
    seq: u64,
    piece: Option<usize>,
    /// The line goes on after this message (`eol="false"`, as jsonl's `"eol":false`).
    open: bool,
}

impl Label {
    fn whole(seq: u64) -> Label {
        Label {
            seq,
            piece: None,
            open: false,
        }
    }
}

/// Whether gathered pieces end their line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Eol {
    Reached,
    Open,
}

/// info for stdout and stdin, err for stderr.
fn severity(stream: Stream) -> u8 {
    match stream {
        Stream::Stderr => 3,
        Stream::Stdout | Stream::Stdin => 6,
    }
}

/// An RFC 5424 header field: printable US-ASCII without spaces, at most `max` characters; `-`
/// when nothing is left.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() { "-".into() } else { field }
}

impl LineRecords for SyslogMessages {
    fn start(&mut self, ev: &Start, out: &mut Out) {
        let m = self;
        let app = super::identifier(m.preset.as_deref(), ev);
        m.app = header_field(&app, 48);
        m.host = header_field(&ev.host, 255);
        m.session = ev.session.clone();
        m.pid = ev.pid;
        let pid = m.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
        m.head = format!(
            " {} {} {pid} - [{SD_ID} session=\"{}\" seq=\"",
            m.host, m.app, m.session
        )
        .into_bytes();
        let text = format!("start: {}", Format::command_line(&ev.command));
        m.write(5, None, ev.time, text.as_bytes(), out);
    }

    fn line(&mut self, line: Line<'_>, out: &mut Out) {
        if self.max_text > MAX_LINE {
            self.gather(line, out);
        } else {
            self.message(line, out);
        }
    }

    fn paused(&mut self, out: &mut Out) {
        self.write_long(Eol::Open, out);
    }

    fn exit(&mut self, ev: &Exit, out: &mut Out) {
        self.write_long(Eol::Open, out);
        let text = super::exit_summary(ev);
        self.write(5, None, ev.time, text.as_bytes(), out);
    }

    /// A message of its own (informational): the seal line, with the `seq` of the record
    /// before it. A seal is far shorter than any transport's message.
    fn seal(&mut self, line: &[u8], out: &mut Out) {
        let label = Label::whole(crate::seal::seq_of(line).unwrap_or(self.seq.value()));
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        self.pieces(label, 6, None, std::time::SystemTime::now(), text, out);
    }
}

/// Facility names and numbers (RFC 5424 table 1), for `--syslog-facility`.
pub const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

#[cfg(test)]
mod tests;
