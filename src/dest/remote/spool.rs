//! The spool: a file on local disk that an acknowledged destination (`relp=`, `syslog=tls:`)
//! is shipped from, so that the command never waits for the network and nothing is held in
//! memory for a collector that is down, slow or frozen.
//!
//! ```text
//! teelog-spool 1 {"target":"relp=h:2514","framing":"relp","addr":"h:2514","tls":null}\n
//! cursor 00000000000000000000 00000000000000000000\n
//! 87 <13>1 2026-12-03T13:20:00.000000Z host app 42 - [teelog@32473 ...] text\n
//! ...
//! ```
//!
//! The first line says where the messages go (so that `teelog ship SPOOL` needs nothing else);
//! the second is the [`Cursor`]: where the first message not yet acknowledged starts, and how
//! many were acknowledged before it, in fixed-width digits overwritten in place (one `pwrite`
//! per batch of acknowledgements). Each message follows as `LEN SP MSG LF`: octet counting, so
//! any byte may be in a message, and the tail of a RELP `syslog` frame as it is sent.
//!
//! Only the run appends (`O_APPEND`, under an exclusive `flock` for as long as it runs); only
//! the shipper moves the cursor. A cursor written after the records it passes lost in a crash
//! means those are sent again, never that a record is skipped.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::tls::TlsFiles;

const MAGIC: &str = "teelog-spool 1 ";

/// How the messages are framed for the collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// RELP `syslog` frames, each acknowledged.
    Relp,
    /// RFC 5425 octet counting in TLS: no acknowledgements.
    OctetCounted,
}

/// TLS settings of a destination: the files as given, and the name checked in the server's
/// certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSettings {
    pub files: TlsFiles,
    pub name: String,
}

/// Where a spool's messages go: its first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// How teelog's messages name the destination: `relp=tls:HOST:PORT`.
    pub target: String,
    pub framing: Framing,
    /// `HOST:PORT`
    pub addr: String,
    pub tls: Option<TlsSettings>,
}

/// Where shipping stands: `offset` is where the first message not acknowledged starts (the
/// spool's end when all are), `acked` how many came before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub offset: u64,
    pub acked: u64,
}

/// The run's side of a spool: appends messages.
#[derive(Debug)]
pub struct SpoolWriter {
    file: File,
    pub path: PathBuf,
    /// Messages appended by this run.
    pub written: u64,
    buf: Vec<u8>,
}

impl SpoolWriter {
    /// Creates `dir/NAME.spool` (mode 0600; `dir` 0700 if it is new) for `shipment`, and keeps
    /// it locked while the run lasts.
    pub fn create(dir: &Path, name: &str, shipment: &Shipment) -> io::Result<SpoolWriter> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(format!("{name}.spool"));
        // Made whole and locked under another name, then linked where `teelog ship DIR` looks:
        // it never finds a spool without its header.
        let new = dir.join(format!("{name}.spool.new"));
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_CLOEXEC)
            .open(&new)?;
        let made = (|| {
            file.lock()?;
            let header = serde_json::to_string(shipment).map_err(io::Error::other)?;
            let mut head = format!("{MAGIC}{header}\n").into_bytes();
            // The cursor starts where the first record will.
            let offset = (head.len() + CURSOR_LEN) as u64;
            push_cursor(&mut head, Cursor { offset, acked: 0 });
            file.write_all(&head)?;
            std::fs::hard_link(&new, &path)
        })();
        let _ = std::fs::remove_file(&new);
        made?;
        Ok(SpoolWriter {
            file,
            path,
            written: 0,
            buf: Vec::new(),
        })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Appends `messages` in one write; returns how many.
    pub fn append<'a>(&mut self, messages: impl Iterator<Item = &'a [u8]>) -> io::Result<u64> {
        self.buf.clear();
        let mut n = 0;
        for message in messages {
            push_record(&mut self.buf, message);
            n += 1;
        }
        if n > 0 {
            crate::dest::write_all_waiting(&mut self.file, &self.buf)?;
            self.written += n;
        }
        Ok(n)
    }
}

/// Appends `LEN SP MSG LF`.
pub fn push_record(out: &mut Vec<u8>, message: &[u8]) {
    out.extend_from_slice(itoa::Buffer::new().format(message.len()).as_bytes());
    out.push(b' ');
    out.extend_from_slice(message);
    out.push(b'\n');
}

/// `cursor OFFSET ACKED\n`, 20 digits each.
fn push_cursor(out: &mut Vec<u8>, cursor: Cursor) {
    let _ = writeln!(out, "cursor {:020} {:020}", cursor.offset, cursor.acked);
}

const CURSOR_LEN: usize = "cursor ".len() + 20 + 1 + 20 + 1;

/// The shipper's side of a spool: reads messages from the cursor, and moves it.
#[derive(Debug)]
pub struct Spool {
    file: File,
    pub path: PathBuf,
    pub shipment: Shipment,
    /// Where the cursor line is.
    cursor_at: u64,
    pub cursor: Cursor,
}

impl Spool {
    /// Opens a spool for shipping (read and write, not appending: the cursor is written in
    /// place). Err names what is wrong with it.
    pub fn open(path: &Path) -> Result<Spool, String> {
        let name = crate::error::quote(path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| format!("{name}: {e}"))?;
        let mut head = vec![0u8; 64 * 1024];
        let n = read_at_most(&file, &mut head, 0).map_err(|e| format!("{name}: {e}"))?;
        head.truncate(n);
        let not_spool = || format!("{name}: not a teelog spool");
        let line_end = memchr::memchr(b'\n', &head).ok_or_else(not_spool)?;
        let header = head[..line_end]
            .strip_prefix(MAGIC.as_bytes())
            .ok_or_else(not_spool)?;
        let shipment: Shipment = serde_json::from_slice(header).map_err(|_| not_spool())?;
        let cursor_at = line_end as u64 + 1;
        let line = head
            .get(cursor_at as usize..cursor_at as usize + CURSOR_LEN)
            .ok_or_else(not_spool)?;
        let cursor = parse_cursor(line).ok_or_else(not_spool)?;
        Ok(Spool {
            file,
            path: path.to_owned(),
            shipment,
            cursor_at,
            cursor,
        })
    }

    /// Writes `cursor` in place.
    pub fn commit(&mut self, cursor: Cursor) -> io::Result<()> {
        let mut line = Vec::with_capacity(CURSOR_LEN);
        push_cursor(&mut line, cursor);
        self.file.write_all_at(&line, self.cursor_at)?;
        self.cursor = cursor;
        Ok(())
    }

    /// The file, to lock or to read records from.
    pub fn file(&self) -> &File {
        &self.file
    }
}

fn parse_cursor(line: &[u8]) -> Option<Cursor> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix("cursor ")?.strip_suffix('\n')?;
    let (offset, acked) = rest.split_once(' ')?;
    Some(Cursor {
        offset: offset.parse().ok()?,
        acked: acked.parse().ok()?,
    })
}

/// `pread` until `buf` is full or the file ends; how many bytes.
fn read_at_most(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(m) => n += m,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One record read back: where it starts and ends in the file, and its message.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub at: u64,
    pub end: u64,
    /// `LEN SP MSG LF`, as spooled.
    pub bytes: &'a [u8],
}

impl Record<'_> {
    /// The message without its length and the LF.
    pub fn message(&self) -> &[u8] {
        let space = memchr::memchr(b' ', self.bytes).unwrap_or(0);
        &self.bytes[space + 1..self.bytes.len() - 1]
    }

    /// `LEN SP MSG`: RFC 5425's frame.
    pub fn octet_counted(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - 1]
    }
}

/// Reads a spool's records from an offset on, as they are appended.
#[derive(Debug)]
pub struct Records {
    /// Read from the file: `buf[..end]`, allocated (and zeroed) once, grown for a long record.
    buf: Vec<u8>,
    end: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    /// `buf[start..end]` is not handed out yet.
    start: usize,
}

/// A spool whose bytes are not records: a crash cut the last one, or it is not teelog's.
#[derive(Debug)]
pub struct Damaged {
    pub at: u64,
}

impl Records {
    pub fn from(offset: u64) -> Records {
        Records {
            buf: Vec::new(),
            end: 0,
            base: offset,
            start: 0,
        }
    }

    /// Where the next record starts.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next whole record of `file`; `None` when none is whole yet (the end so far).
    pub fn next<'a>(&'a mut self, file: &File) -> io::Result<Result<Option<Record<'a>>, Damaged>> {
        loop {
            match frame(&self.buf[self.start..self.end]) {
                Frame::Whole(len) => {
                    let at = self.offset();
                    let bytes = &self.buf[self.start..self.start + len];
                    self.start += len;
                    return Ok(Ok(Some(Record {
                        at,
                        end: at + len as u64,
                        bytes,
                    })));
                }
                Frame::Bad => return Ok(Err(Damaged { at: self.offset() })),
                Frame::Short(want) => {
                    if self.start > 0 {
                        self.buf.copy_within(self.start..self.end, 0);
                        self.end -= self.start;
                        self.base += self.start as u64;
                        self.start = 0;
                    }
                    if self.buf.len() < want.max(256 * 1024) {
                        self.buf.resize(want.max(256 * 1024), 0);
                    }
                    let at = self.base + self.end as u64;
                    let n = read_at_most(file, &mut self.buf[self.end..], at)?;
                    self.end += n;
                    if n == 0 {
                        return Ok(Ok(None));
                    }
                }
            }
        }
    }
}

enum Frame {
    /// A whole record of this many bytes.
    Whole(usize),
    /// More bytes needed: at least this many in all.
    Short(usize),
    Bad,
}

/// Whether `buf` starts with a whole `LEN SP MSG LF`.
fn frame(buf: &[u8]) -> Frame {
    let mut len = 0usize;
    for (i, &b) in buf.iter().enumerate().take(11) {
        match b {
            b'0'..=b'9' if i < 10 => len = len * 10 + usize::from(b - b'0'),
            b' ' if i > 0 => {
                let total = i + 1 + len + 1;
                return match buf.get(total - 1) {
                    None => Frame::Short(total),
                    Some(b'\n') => Frame::Whole(total),
                    Some(_) => Frame::Bad,
                };
            }
            _ => return Frame::Bad,
        }
    }
    if buf.len() >= 11 {
        Frame::Bad
    } else {
        Frame::Short(12)
    }
}

/// How many whole records `file` holds from `offset` on, and whether bytes after them are cut
/// short or damaged (then, where).
pub fn count_from(file: &File, offset: u64) -> io::Result<(u64, Option<u64>)> {
    let mut records = Records::from(offset);
    let mut n = 0;
    loop {
        match records.next(file)? {
            Ok(Some(_)) => n += 1,
            Ok(None) => {
                let end = file.metadata()?.len();
                let tail = (records.offset() < end).then_some(records.offset());
                return Ok((n, tail));
            }
            Err(damaged) => return Ok((n, Some(damaged.at))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipment() -> Shipment {
        Shipment {
            target: "relp=h:1".into(),
            framing: Framing::Relp,
            addr: "h:1".into(),
            tls: None,
        }
    }

    #[test]
    fn records_come_back_as_written_and_the_cursor_moves_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWriter::create(dir.path(), "s", &shipment()).unwrap();
        let messages: [&[u8]; 3] = [b"one", b"", b"th\nree \xff"];
        assert_eq!(w.append(messages.into_iter()).unwrap(), 3);
        let mut spool = Spool::open(&w.path).unwrap();
        assert_eq!(spool.shipment, shipment());
        assert_eq!(spool.cursor.acked, 0);
        let mut records = Records::from(spool.cursor.offset);
        let mut got = Vec::new();
        let mut ends = Vec::new();
        while let Some(r) = records.next(spool.file()).unwrap().unwrap() {
            got.push(r.message().to_vec());
            ends.push(r.end);
        }
        assert_eq!(got, messages.map(<[u8]>::to_vec));
        // More appended later is read on from where the reader stopped.
        w.append([&b"four"[..]].into_iter()).unwrap();
        let r = records.next(spool.file()).unwrap().unwrap().unwrap();
        assert_eq!(r.octet_counted(), b"4 four");
        let cursor = Cursor {
            offset: ends[1],
            acked: 2,
        };
        spool.commit(cursor).unwrap();
        let again = Spool::open(&w.path).unwrap();
        assert_eq!(again.cursor, cursor);
        assert_eq!(count_from(again.file(), cursor.offset).unwrap(), (2, None));
    }

    #[test]
    fn a_cut_or_damaged_tail_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWriter::create(dir.path(), "s", &shipment()).unwrap();
        w.append([&b"whole"[..]].into_iter()).unwrap();
        let spool = Spool::open(&w.path).unwrap();
        let start = spool.cursor.offset;
        let end = start + 8;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&w.path)
            .unwrap()
            .write_all(b"10 cut")
            .unwrap();
        assert_eq!(count_from(spool.file(), start).unwrap(), (1, Some(end)));
        assert!(Spool::open(&dir.path().join("nothing")).is_err());
        std::fs::write(dir.path().join("x.spool"), "hello\n").unwrap();
        let err = Spool::open(&dir.path().join("x.spool")).unwrap_err();
        assert!(err.ends_with("not a teelog spool"), "{err}");
        assert!(matches!(frame(b"x 1"), Frame::Bad));
        assert!(matches!(frame(b"3 abcd"), Frame::Bad));
        assert!(matches!(frame(b"12345678901 "), Frame::Bad));
    }
}
