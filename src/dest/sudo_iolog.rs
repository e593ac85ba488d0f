//! A sudo I/O log session directory, as sudo 1.9 lays it out (sudo's `lib/iolog/`): under the
//! log directory, a session named by the sequence in its `seq` file (`00/00/01` for id `000001`,
//! `iolog_nextid.c`: base 36, six digits, the file locked with `lockf` while it is read and
//! rewritten), holding `log` and `log.json` (who ran what, where), `timing` (one line per
//! event) and a file per stream. Directories are 0700, files 0600 (sudo's defaults,
//! `iolog_conf.c`). While the command runs `timing` keeps its write bits: `sudoreplay` takes
//! that as "still running" (`sudoreplay.c`, `iolog_complete`) and `-F` follows it; at the end
//! they are dropped, as `sudo_logsrvd` does (`logsrvd_local.c`, `store_exit_local`).
//!
//! The formatter (`crate::format::SudoIologFormatter`) says what goes where: each record it
//! marks starts with the [`IologFile`] tag byte of the file it belongs to.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::event::Stream;

/// The files of a session, as the tag byte that starts each record for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum IologFile {
    /// The legacy `log` (written whole; `sudoreplay -l` of sudo 1.9.13 lists only directories
    /// that hold one).
    Log,
    /// `log.json` (written whole: at the start, and again at the exit with sudo's exit keys).
    LogJson,
    /// `timing`, appended to.
    Timing,
    Stdin,
    Stdout,
    Stderr,
    Ttyout,
}

impl IologFile {
    const ALL: [IologFile; 7] = [
        IologFile::Log,
        IologFile::LogJson,
        IologFile::Timing,
        IologFile::Stdin,
        IologFile::Stdout,
        IologFile::Stderr,
        IologFile::Ttyout,
    ];

    /// The file's name in the session directory.
    pub fn name(self) -> &'static str {
        match self {
            IologFile::Log => "log",
            IologFile::LogJson => "log.json",
            IologFile::Timing => "timing",
            IologFile::Stdin => "stdin",
            IologFile::Stdout => "stdout",
            IologFile::Stderr => "stderr",
            IologFile::Ttyout => "ttyout",
        }
    }

    pub fn tag(self) -> u8 {
        self as u8
    }

    fn of_tag(tag: u8) -> Option<IologFile> {
        IologFile::ALL.get(usize::from(tag)).copied()
    }

    /// Whether a record replaces the file's contents (else it is appended).
    fn whole(self) -> bool {
        matches!(self, IologFile::Log | IologFile::LogJson)
    }
}

/// The largest sequence number plus one (sudo's default `maxseq`, 36^6).
const MAX_SEQ: u64 = 36u64.pow(6);

/// One open session directory.
#[derive(Debug)]
pub struct Session {
    /// The session directory itself (`DIR/00/00/01`).
    path: PathBuf,
    /// By [`IologFile`] index, once opened.
    files: [Option<File>; 7],
    /// The command's stdout is a pty: its output goes to `ttyout`.
    pty: bool,
}

impl Session {
    /// Makes DIR (0700, with missing parents) unless it is there, takes the next id from its
    /// `seq` and creates the session's directory, with `timing`, `stdout` and `stderr` in it;
    /// the other files are made when first written.
    pub fn create(dir: &Path) -> io::Result<Session> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let seq = open_file(&dir.join("seq"), false)?;
        seq_lock(&seq)?;
        let mut last = read_seq(&seq)?;
        // A directory already there (the seq file was removed, or wrapped round) is skipped, as
        // a name sudo would not reuse while it holds a session.
        let (id, path) = loop {
            let id = (last + 1) % MAX_SEQ;
            let id = if id == 0 { 1 } else { id };
            let name = base36(id);
            let path = dir.join(&name[0..2]).join(&name[2..4]).join(&name[4..6]);
            if let Some(parent) = path.parent() {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)?;
            }
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => break (name, path),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && id != last => {
                    last = id;
                }
                Err(err) => return Err(err),
            }
        };
        seq.write_all_at(format!("{id}\n").as_bytes(), 0)?;
        drop(seq);
        let mut session = Session {
            path,
            files: Default::default(),
            pty: false,
        };
        for file in [IologFile::Timing, IologFile::Stdout, IologFile::Stderr] {
            session.file(file)?;
        }
        Ok(session)
    }

    /// The session of a command whose stdout is a pty when `pty`.
    pub fn under_pty(mut self, pty: bool) -> Session {
        self.pty = pty;
        self
    }

    /// The file a chunk of `stream` goes to, for bytes spliced or written around the
    /// formatter (`sink::splice`); the formatter's `timing` record follows them.
    pub fn stream_file(&mut self, stream: Stream) -> io::Result<&mut File> {
        let which = match stream {
            Stream::Stdout if self.pty => IologFile::Ttyout,
            Stream::Stdout => IologFile::Stdout,
            Stream::Stderr => IologFile::Stderr,
            Stream::Stdin => IologFile::Stdin,
        };
        self.file(which)
    }

    /// Writes `bytes` of `stream` to its file, as [`Session::stream_file`] says.
    pub fn write_stream(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        self.stream_file(stream)?.write_all(bytes)
    }

    /// The session directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&mut self, which: IologFile) -> io::Result<&mut File> {
        let slot = &mut self.files[which as usize];
        if slot.is_none() {
            // A stream file is the session's own (its directory was just made): written at its
            // offset rather than appended to, so that splice(2), which refuses O_APPEND, can
            // fill it.
            let append = which == IologFile::Timing;
            *slot = Some(open_file(&self.path.join(which.name()), append)?);
        }
        Ok(slot.as_mut().expect("opened above"))
    }

    /// Writes each record to the file its tag names.
    pub fn write<'a>(&mut self, records: impl Iterator<Item = &'a [u8]>) -> io::Result<()> {
        for record in records {
            let Some((&tag, bytes)) = record.split_first() else {
                continue;
            };
            let which = IologFile::of_tag(tag).expect("a record tagged by the formatter");
            let file = self.file(which)?;
            if which.whole() {
                // What follows begins with what was there (log.json gains its exit keys at
                // the end), so a reader never sees the file shorter than it was.
                file.write_all_at(bytes, 0)?;
                file.set_len(bytes.len() as u64)?;
            } else {
                file.write_all(bytes)?;
            }
        }
        Ok(())
    }

    /// The command is done: `timing` loses its write bits, so that sudoreplay sees the session
    /// complete (and `-F` stops following it).
    pub fn finish(&mut self) -> io::Result<()> {
        let timing = self.file(IologFile::Timing)?;
        timing.set_permissions(std::fs::Permissions::from_mode(0o400))
    }
}

/// Opens (creating with mode 0600) a file of the log directory, for appending or not.
fn open_file(path: &Path, append: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(!append)
        .write(true)
        .append(append)
        .create(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}

/// Takes the `lockf(F_LOCK)` lock sudo takes on `seq` (a POSIX record lock of the whole file,
/// which `flock` would not see), waiting for it; closing the file lets it go.
fn seq_lock(file: &File) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, fcntl};
    use nix::libc;
    let whole = libc::flock {
        l_type: libc::F_WRLCK as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    loop {
        match fcntl(file, FcntlArg::F_SETLKW(&whole)) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// The id `seq` holds, in base 36 (0 when empty or unreadable as one, as sudo takes it).
fn read_seq(mut file: &File) -> io::Result<u64> {
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        return Ok(0);
    }
    let text = text.trim_end_matches(['\n', '\0']);
    Ok(u64::from_str_radix(text, 36)
        .ok()
        .filter(|id| *id < MAX_SEQ)
        .unwrap_or(0))
}

/// `id` as sudo names a session: six base-36 digits, upper case.
fn base36(mut id: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = [b'0'; 6];
    for digit in name.iter_mut().rev() {
        *digit = DIGITS[(id % 36) as usize];
        id /= 36;
    }
    String::from_utf8(name.to_vec()).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_six_base36_digits_as_sudo_writes_them() {
        assert_eq!(base36(1), "000001");
        assert_eq!(base36(36), "000010");
        assert_eq!(base36(MAX_SEQ - 1), "ZZZZZZ");
    }

    #[test]
    fn sessions_follow_the_seq_file_and_skip_a_directory_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("io");
        let first = Session::create(&log).unwrap();
        assert_eq!(first.path(), log.join("00/00/01"));
        assert_eq!(std::fs::read(log.join("seq")).unwrap(), b"000001\n");
        std::fs::create_dir(log.join("00/00/02")).unwrap();
        let next = Session::create(&log).unwrap();
        assert_eq!(next.path(), log.join("00/00/03"));
        assert_eq!(std::fs::read(log.join("seq")).unwrap(), b"000003\n");
        std::fs::write(log.join("seq"), "00000Z\n").unwrap();
        assert_eq!(Session::create(&log).unwrap().path(), log.join("00/00/10"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&log), 0o700);
        assert_eq!(mode(&log.join("00/00")), 0o700);
        assert_eq!(mode(&log.join("00/00/01/timing")), 0o600);
        assert_eq!(mode(&log.join("seq")), 0o600);
    }

    #[test]
    fn records_go_to_their_files_and_the_end_drops_timing_write_bits() {
        let dir = tempfile::tempdir().unwrap();
        let mut session = Session::create(dir.path()).unwrap();
        let tagged = |file: IologFile, bytes: &[u8]| [&[file.tag()], bytes].concat();
        let records = [
            tagged(IologFile::LogJson, b"{\n}\n"),
            tagged(IologFile::Stdout, b"out"),
            tagged(IologFile::Timing, b"1 0.000001000 3\n"),
            tagged(IologFile::Stdout, b"\0\xff"),
            tagged(IologFile::LogJson, b"{\n\"a\": 1\n}\n"),
        ];
        session.write(records.iter().map(Vec::as_slice)).unwrap();
        let read = |name: &str| std::fs::read(session.path().join(name)).unwrap();
        assert_eq!(read("stdout"), b"out\0\xff");
        assert_eq!(read("log.json"), b"{\n\"a\": 1\n}\n");
        assert_eq!(read("timing"), b"1 0.000001000 3\n");
        assert_eq!(read("stderr"), b"");
        session.finish().unwrap();
        let meta = std::fs::metadata(session.path().join("timing")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o400);
    }
}
