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
mod tests {
    use super::super::testing::{chunk, ctx, exit, start};
    use super::*;
    use crate::event::Status;
    use crate::event::Stream::*;
    use crate::format::Formatter;

    fn messages(wire: Wire, steps: impl Fn(&mut SyslogFormatter, &mut Out)) -> Vec<String> {
        written(SyslogFormatter::new(&ctx(), wire, 1), steps)
    }

    fn written(
        mut f: SyslogFormatter,
        steps: impl Fn(&mut SyslogFormatter, &mut Out),
    ) -> Vec<String> {
        let mut out = Out::default();
        f.start(&start(), &mut out);
        steps(&mut f, &mut out);
        f.exit(&exit(Status::Code(0)), &mut out);
        out.records()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }

    #[test]
    fn rfc5424_over_the_network_with_structured_data() {
        let m = messages(Wire::Udp, |f, out| {
            f.chunk(&chunk(Stdout, 1, b"one\n"), out);
            f.chunk(&chunk(Stderr, 2, b"two\n"), out);
        });
        assert_eq!(m.len(), 4);
        assert_eq!(
            m[0],
            "<13>1 2012-10-30T22:13:13.000000Z db1 mysql 42 - [teelog@32473 session=\"S\" \
             seq=\"1\"] start: mysql -e 'select 1'"
        );
        assert_eq!(
            m[1],
            "<14>1 2012-10-30T22:13:13.000001Z db1 mysql 42 - [teelog@32473 session=\"S\" \
             seq=\"2\" stream=\"stdout\"] one"
        );
        assert!(m[2].starts_with("<11>1 "), "{}", m[2]);
        assert!(m[3].ends_with("] exit: status 0 after 1.235s"), "{}", m[3]);
        let tcp = messages(Wire::Tcp, |f, out| {
            f.chunk(&chunk(Stdout, 1, b"one\n"), out)
        });
        assert_eq!(tcp[1], m[1], "the same message: framing is the transport's");
    }

    #[test]
    fn the_local_socket_gets_what_syslog3_sends() {
        let m = messages(Wire::Local, |f, out| {
            f.chunk(&chunk(Stdout, 1, b"one\n"), out)
        });
        let stamp = DateTime::<Local>::from(super::super::testing::at(1)).format("%b %e %H:%M:%S");
        assert_eq!(m[1], format!("<14>{stamp} mysql[42]: one"));
    }

    #[test]
    fn a_line_longer_than_a_message_is_split_never_cut() {
        let long: Vec<u8> = "é".repeat(2000).into_bytes();
        let mut line = long.clone();
        line.push(b'\n');
        let line: &'static [u8] = Box::leak(line.into_boxed_slice());
        let m = messages(Wire::Udp, |f, out| f.chunk(&chunk(Stdout, 1, line), out));
        let pieces: Vec<&str> = m[1..m.len() - 1]
            .iter()
            .map(|msg| msg.split_once("\"] ").unwrap().1)
            .collect();
        assert!(pieces.len() >= 3, "{}", pieces.len());
        assert!(pieces.iter().all(|p| p.len() <= Wire::Udp.max_text()));
        assert_eq!(pieces.concat().as_bytes(), &long[..]);
        // Every piece carries the line's seq (jsonl's: the line is its second record) and its
        // number, and the exit message the next seq.
        for (i, msg) in m[1..m.len() - 1].iter().enumerate() {
            let label = format!(" seq=\"2\" piece=\"{}\" ", i + 1);
            assert!(msg.contains(&label), "{msg}");
        }
        assert!(m[m.len() - 1].contains(" seq=\"3\"]"), "{}", m[m.len() - 1]);
    }

    #[test]
    fn a_shipped_long_line_is_one_message_and_the_next_seq_is_jsonls() {
        use crate::format::lines::MAX_LINE;
        // 100 KB arriving in three reads: jsonl makes it two records (64 KiB, the rest).
        let line: &'static [u8] = Box::leak([vec![b'x'; 100_000], b"\n".to_vec()].concat().into());
        let m = written(SyslogFormatter::shipped(&ctx(), 1, 128 * 1024), |f, out| {
            for part in [
                &line[..30_000],
                &line[30_000..MAX_LINE + 10],
                &line[MAX_LINE + 10..],
            ] {
                f.chunk(&chunk(Stdout, 1, part), out);
            }
            f.chunk(&chunk(Stdout, 2, b"next\n"), out);
        });
        assert_eq!(m.len(), 4, "start, the long line, next, exit");
        let (head, text) = m[1].split_once("\"] ").unwrap();
        assert_eq!(text.len(), 100_000);
        assert!(head.ends_with(" seq=\"2\" stream=\"stdout"), "{head}");
        assert!(
            m[2].contains(" seq=\"4\" ") && m[2].ends_with("] next"),
            "{}",
            m[2]
        );
        // Longer than a message: pieces of at most --max-message, numbered.
        let m = written(SyslogFormatter::shipped(&ctx(), 1, 4096), |f, out| {
            f.chunk(&chunk(Stdout, 1, line), out)
        });
        assert!(m[1..m.len() - 1].iter().all(|msg| msg.len() <= 4096));
        // jsonl's two records (seq 2 and 3), each in pieces numbered from 1.
        for seq in [2, 3] {
            let of_seq: Vec<&String> = m
                .iter()
                .filter(|msg| msg.contains(&format!(" seq=\"{seq}\" ")))
                .collect();
            assert!(of_seq.len() > 1);
            for (i, msg) in of_seq.iter().enumerate() {
                assert!(msg.contains(&format!(" piece=\"{}\" ", i + 1)), "{msg}");
                // Only the last message of the first record says the line goes on after it.
                let open = seq == 2 && i == of_seq.len() - 1;
                assert_eq!(msg.contains(" eol=\"false\""), open, "{msg}");
            }
        }
        // 200,000 bytes: more than one message of 128K takes; the first says the line goes on.
        let line: &'static [u8] = Box::leak([vec![b'y'; 200_000], b"\n".to_vec()].concat().into());
        let m = written(SyslogFormatter::shipped(&ctx(), 1, 128 * 1024), |f, out| {
            f.chunk(&chunk(Stdout, 1, line), out)
        });
        let texts: Vec<(&str, &str)> = m[1..m.len() - 1]
            .iter()
            .map(|msg| msg.split_once("] ").unwrap())
            .collect();
        assert_eq!(texts.iter().map(|(_, t)| t.len()).sum::<usize>(), 200_000);
        assert!(texts[0].0.contains(" eol=\"false\""), "{}", texts[0].0);
        assert!(
            !texts[texts.len() - 1].0.contains("eol="),
            "{}",
            texts[texts.len() - 1].0
        );
    }
}
