//! What a collector (tests/collector.rs) wrote: its output file, one raw RFC 5424 message a
//! line, read on as it grows, and teelog's messages in it taken apart again.

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::PathBuf;

/// One message of teelog's as the server wrote it: its structured data and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub session: String,
    pub seq: u64,
    /// `stdout`/`stderr`; none for the start and exit messages.
    pub stream: Option<String>,
    pub text: Vec<u8>,
}

/// What the server's output file holds so far, read on from where the last look ended.
#[derive(Debug)]
pub struct Output {
    path: PathBuf,
    read: u64,
    partial: Vec<u8>,
    messages: Vec<Message>,
    seqs: HashSet<u64>,
}

impl Output {
    /// The output file at `path`, which need not exist yet.
    pub fn new(path: PathBuf) -> Output {
        Output {
            path,
            read: 0,
            partial: Vec::new(),
            messages: Vec::new(),
            seqs: HashSet::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// teelog's messages written out so far, in the order they were, duplicates included.
    pub fn messages(&mut self) -> &[Message] {
        self.refresh();
        &self.messages
    }

    /// How many different seqs have been written out so far.
    pub fn seqs(&mut self) -> usize {
        self.refresh();
        self.seqs.len()
    }

    fn refresh(&mut self) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        file.seek(std::io::SeekFrom::Start(self.read)).unwrap();
        let mut bytes = Vec::new();
        self.read += file.read_to_end(&mut bytes).unwrap() as u64;
        self.partial.extend(bytes);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let whole: Vec<u8> = self.partial.drain(..=end).collect();
        for line in whole[..whole.len() - 1].split(|b| *b == b'\n') {
            if let Some(message) = parse(line) {
                self.seqs.insert(message.seq);
                self.messages.push(message);
            }
        }
    }
}

/// teelog's message in a raw RFC 5424 line, `... [teelog@32473 session=".." seq=".."
/// stream=".."] TEXT`; none for a line of someone else's (a probe). A UTF-8 BOM before the text,
/// which RFC 5424 allows, is not part of it.
fn parse(line: &[u8]) -> Option<Message> {
    const SD: &[u8] = b"[teelog@32473 ";
    let start = line.windows(SD.len()).position(|w| w == SD)? + SD.len();
    let (mut rest, mut params) = (&line[start..], Vec::new());
    loop {
        rest = rest.strip_prefix(b" ").unwrap_or(rest);
        if let Some(after) = rest.strip_prefix(b"]") {
            rest = after;
            break;
        }
        let eq = rest.iter().position(|b| *b == b'=')?;
        let name = String::from_utf8(rest[..eq].to_vec()).ok()?;
        rest = rest[eq + 1..].strip_prefix(b"\"")?;
        let mut value = Vec::new();
        loop {
            match *rest.first()? {
                b'\\' => value.push(*rest.get(1)?),
                b'"' => break,
                b => value.push(b),
            }
            rest = &rest[if rest[0] == b'\\' { 2 } else { 1 }..];
        }
        rest = &rest[1..];
        params.push((name, String::from_utf8(value).ok()?));
    }
    while rest.first() == Some(&b'[') {
        let mut i = 1;
        while *rest.get(i)? != b']' {
            i += if rest[i] == b'\\' { 2 } else { 1 };
        }
        rest = &rest[i + 1..];
    }
    rest = rest.strip_prefix(b" ").unwrap_or(rest);
    rest = rest.strip_prefix("\u{feff}".as_bytes()).unwrap_or(rest);
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    Some(Message {
        session: param("session")?,
        seq: param("seq")?.parse().ok()?,
        stream: param("stream"),
        text: rest.to_vec(),
    })
}

fn teelogs_structured_data_and_text_are_read_back_from_a_raw_line() {
    let line = b"<14>1 2026-12-03T13:20:00.000001Z db1 sh 42 - [teelog@32473 session=\"S\\\"x\" \
                 seq=\"12\" stream=\"stderr\"][other a=\"x\\]y\"] \xef\xbb\xbf \xff] text";
    let message = parse(line).unwrap();
    assert_eq!(message.session, "S\"x");
    assert_eq!(
        (message.seq, message.stream.as_deref()),
        (12, Some("stderr"))
    );
    assert_eq!(message.text, b" \xff] text");
    let start =
        parse(b"<13>1 - h sh 42 - [teelog@32473 session=\"S\" seq=\"1\"] start: sh").unwrap();
    assert_eq!(
        (start.seq, start.stream, start.text),
        (1, None, b"start: sh".to_vec())
    );
    let empty =
        parse(b"<14>1 - h sh 42 - [teelog@32473 session=\"S\" seq=\"2\" stream=\"stdout\"]");
    assert_eq!(empty.unwrap().text, b"");
    assert_eq!(parse(b"<13>1 - - probe - - - ready 1"), None);
}

crate::trials![teelogs_structured_data_and_text_are_read_back_from_a_raw_line];
