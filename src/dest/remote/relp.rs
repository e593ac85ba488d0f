//! RELP framing as librelp 1.11 speaks it (`src/relpframe.c`): `TXNR SP COMMAND SP DATALEN [SP
//! DATA] LF`, the client's `open` offers, and the server's responses read back incrementally.
//! No I/O here: the shipper (`super::ship`) owns the connection and the window.
//!
//! Facts the manual leaves out (docs/research/relp-tls.md, section 1): a session's first
//! transaction number is 1 (the `open`), every frame after it takes the next one, and a tenth
//! digit is a framing error on both sides, so a session must end before 999,999,999; the server
//! answers each frame once, in order (`TXNR rsp DATALEN 200 OK`), `close` with an empty `rsp`,
//! and on any framing error only sends `0 serverclose 0` and closes.

/// The most transactions a session numbers: a tenth digit is refused by librelp.
pub const LAST_TXNR: u64 = 999_999_999;

/// The most unacknowledged frames librelp's client keeps (`RELP_DFLT_WINDOW_SIZE`).
pub const WINDOW: usize = 128;

/// The longest response teelog takes from a server: librelp's own limit
/// (`RELP_DFLT_MAX_DATA_SIZE`). Responses are a few bytes; a longer one is a framing error.
const MAX_RESPONSE: usize = 128 * 1024;

/// The `open` frame (transaction 1), with librelp's offers in its order.
pub fn open_frame() -> Vec<u8> {
    let offers = format!(
        "relp_version=0\nrelp_software=teelog,{},https://github.com/teelog\ncommands=syslog",
        env!("CARGO_PKG_VERSION")
    );
    let mut frame = Vec::with_capacity(offers.len() + 16);
    push_frame(&mut frame, 1, "open", offers.as_bytes());
    frame
}

/// Appends the frame `TXNR COMMAND LEN DATA\n` (no data part when `data` is empty).
pub fn push_frame(out: &mut Vec<u8>, txnr: u64, command: &str, data: &[u8]) {
    push_head(out, txnr, command);
    out.extend_from_slice(itoa::Buffer::new().format(data.len()).as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// Appends `TXNR COMMAND `, the part of a frame before its length: a spooled record (`LEN SP
/// MSG LF`) completes it.
pub fn push_head(out: &mut Vec<u8>, txnr: u64, command: &str) {
    out.extend_from_slice(itoa::Buffer::new().format(txnr).as_bytes());
    out.push(b' ');
    out.extend_from_slice(command.as_bytes());
    out.push(b' ');
}

/// What the server said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `TXNR rsp DATALEN DATA`: the answer to transaction `txnr` (the usual `200 OK` not
    /// copied: one per message).
    Rsp {
        txnr: u64,
        data: std::borrow::Cow<'static, [u8]>,
    },
    /// `0 serverclose 0`: the server is ending the session.
    ServerClose,
}

impl Reply {
    /// For an `rsp`: whether it says `200` (success). librelp's `readRspHdr`: exactly three
    /// digits, then a space or the end.
    pub fn ok(&self) -> bool {
        match self {
            Reply::Rsp { data, .. } => {
                data.starts_with(b"200") && matches!(data.get(3), None | Some(b' ' | b'\n'))
            }
            Reply::ServerClose => false,
        }
    }

    /// The response's text, for a message: `500 command disabled`.
    pub fn text(&self) -> String {
        match self {
            Reply::Rsp { data, .. } => {
                let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
                String::from_utf8_lossy(line).into_owned()
            }
            Reply::ServerClose => "serverclose".into(),
        }
    }
}

/// The server sent something that is not a RELP frame: the session is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramingError(pub String);

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a RELP frame from the server: {}", self.0)
    }
}

/// The server's frames, parsed as bytes arrive.
#[derive(Debug, Default)]
pub struct Replies {
    buf: Vec<u8>,
    /// `buf[start..]` is not taken yet.
    start: usize,
}

impl Replies {
    /// Takes bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        // What was taken goes once per read, not once per frame.
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` while it has not all arrived.
    pub fn take(&mut self) -> Result<Option<Reply>, FramingError> {
        let Some((reply, used)) = parse(&self.buf[self.start..])? else {
            return Ok(None);
        };
        self.start += used;
        Ok(Some(reply))
    }
}

/// One frame at the start of `buf` and its length, `None` if it is not all there yet.
fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, FramingError> {
    let bad = |what: &str| FramingError(what.to_owned());
    let mut at = 0;
    let Some(txnr) = number(buf, &mut at, "transaction number")? else {
        return Ok(None);
    };
    let start = at;
    while at < buf.len() && buf[at].is_ascii_alphabetic() {
        at += 1;
        if at - start > 32 {
            return Err(bad("a command longer than 32 letters"));
        }
    }
    match buf.get(at) {
        None => return Ok(None),
        Some(b' ') if at > start => {}
        Some(_) => return Err(bad("no command")),
    }
    let command = &buf[start..at];
    at += 1;
    let Some(len) = number(buf, &mut at, "data length")? else {
        return Ok(None);
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_RESPONSE {
        return Err(FramingError(format!("a response of {len} bytes")));
    }
    // DATALEN 0 is followed by the LF at once (`number` left it in place); otherwise by the
    // space `number` took, the data and the LF.
    if len == 0 && buf[at - 1] == b' ' {
        return Err(bad("a space after a data length of 0"));
    }
    let data_at = at;
    let end = data_at + len;
    if buf.len() <= end {
        return Ok(None);
    }
    if buf[end] != b'\n' {
        return Err(bad("a frame that does not end after its data"));
    }
    let reply = match command {
        b"rsp" => Reply::Rsp {
            txnr,
            data: match &buf[data_at..end] {
                b"200 OK" => std::borrow::Cow::Borrowed(b"200 OK"),
                data => data.to_vec().into(),
            },
        },
        b"serverclose" => Reply::ServerClose,
        other => {
            return Err(FramingError(format!(
                "the command '{}'",
                String::from_utf8_lossy(other)
            )));
        }
    };
    Ok(Some((reply, end + 1)))
}

/// A decimal number of 1 to 9 digits at `buf[*at..]` followed by a space (or, for a data
/// length, the LF of an empty frame, which is left in place); `None` while incomplete.
fn number(buf: &[u8], at: &mut usize, what: &str) -> Result<Option<u64>, FramingError> {
    let start = *at;
    let mut value = 0u64;
    while let Some(&b) = buf.get(*at) {
        match b {
            b'0'..=b'9' if *at - start < 9 => value = value * 10 + u64::from(b - b'0'),
            b'0'..=b'9' => return Err(FramingError(format!("a {what} of ten digits"))),
            b' ' if *at > start => {
                *at += 1;
                return Ok(Some(value));
            }
            b'\n' if *at > start && what == "data length" => return Ok(Some(value)),
            _ => return Err(FramingError(format!("no {what}"))),
        }
        *at += 1;
    }
    Ok(None)
}

/// Checks the server's answer to `open`: `200 OK` and offers that include `commands=syslog` and
/// `relp_version=0` (librelp refuses a newer version).
pub fn check_open(reply: &Reply) -> Result<(), String> {
    let Reply::Rsp { txnr: 1, data } = reply else {
        return Err(format!(
            "the server answered the session's opening with {reply:?}"
        ));
    };
    if !reply.ok() {
        return Err(format!("the server refused the session: {}", reply.text()));
    }
    let offers = String::from_utf8_lossy(data);
    let offer = |name: &str| {
        offers
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
    };
    if offer("relp_version").is_some_and(|v| v.trim() != "0") {
        return Err(format!(
            "the server speaks RELP version {}, teelog version 0",
            offer("relp_version").unwrap_or_default()
        ));
    }
    if !offer("commands").is_some_and(|c| c.split(',').any(|c| c.trim() == "syslog")) {
        return Err("the server does not take syslog messages over RELP".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(bytes: &[u8]) -> Vec<Result<Reply, FramingError>> {
        let mut r = Replies::default();
        r.feed(bytes);
        let mut out = Vec::new();
        loop {
            match r.take() {
                Ok(Some(reply)) => out.push(Ok(reply)),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }

    #[test]
    fn frames_are_written_as_librelp_reads_them() {
        let offers = format!(
            "relp_version=0\nrelp_software=teelog,{},https://github.com/teelog\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(
            String::from_utf8(open_frame()).unwrap(),
            format!("1 open {} {offers}\n", offers.len())
        );
        let mut out = Vec::new();
        push_frame(&mut out, 3, "close", b"");
        push_frame(&mut out, 2, "syslog", b"hi");
        assert_eq!(out, b"3 close 0\n2 syslog 2 hi\n");
    }

    #[test]
    fn what_imrelp_sends_is_read_whole_and_in_pieces() {
        // Bytes seen on the wire from rsyslog 8.2302 / librelp 1.11 (the research notes, 1.3).
        let wire = b"1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n3 rsp 0\n0 serverclose 0\n";
        let all = replies(wire);
        assert_eq!(all.len(), 4);
        let open = all[0].as_ref().unwrap();
        assert_eq!(check_open(open), Ok(()));
        assert!(all[1].as_ref().unwrap().ok());
        assert_eq!(
            all[2],
            Ok(Reply::Rsp {
                txnr: 3,
                data: vec![].into()
            })
        );
        assert_eq!(all[3], Ok(Reply::ServerClose));
        // Byte by byte: nothing until each frame is whole, then the same frames.
        let mut r = Replies::default();
        let mut got = Vec::new();
        for b in wire {
            r.feed(&[*b]);
            while let Some(reply) = r.take().unwrap() {
                got.push(reply);
            }
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[1], *all[1].as_ref().unwrap());
    }

    #[test]
    fn a_refusal_and_bad_frames_are_told_apart() {
        let refused = replies(b"1 rsp 44 500 required command not supported by client\n");
        let refused = refused[0].as_ref().unwrap();
        assert!(!refused.ok());
        assert!(
            check_open(refused)
                .unwrap_err()
                .contains("500 required command")
        );
        let open = |data: &str| {
            let mut frame = Vec::new();
            push_frame(&mut frame, 1, "rsp", data.as_bytes());
            replies(&frame).remove(0).unwrap()
        };
        assert!(check_open(&open("200 OK\ncommands=somethin")).is_err());
        assert!(check_open(&open("200 OK\nrelp_version=1\ncommands=syslog")).is_err());
        assert_eq!(check_open(&open("200 OK\ncommands=other,syslog")), Ok(()));
        for bad in [
            &b"x rsp 0\n"[..],
            b"1234567890 rsp 0\n",
            b"1 rsp 5 200 OKx\n",
            b"1 rsp 2 200 OK\n",
            b"1 bogus 0\n",
            b"1 rsp 0 \n",
            b"1 rsp 999999 x",
        ] {
            let got = replies(bad);
            assert!(
                matches!(got.last(), Some(Err(_))),
                "{}: {got:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(
            !Reply::Rsp {
                txnr: 2,
                data: b"2000 OK".to_vec().into()
            }
            .ok()
        );
    }
}
