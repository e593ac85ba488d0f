//! A sink is a formatter plus where its bytes go; [`Fanout`] feeds every sink the same events.
//!
//! All write errors are handled here. A log that fails is reported once (naming it) and dropped
//! while the console and the other logs go on; a console whose reader went away (EPIPE, as in
//! `teelog -o x.log -- cmd | head -1`) is dropped silently, since that is how pipelines end.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, quote, report};
use crate::event::{Chunk, Exit, Start, Stream};
use crate::format::{Context, Format, Formatter};

/// One open destination.
#[derive(Debug)]
struct Dest {
    /// `None` once writing to it has failed.
    file: Option<File>,
    /// How error messages name it.
    name: String,
    /// A console is allowed to go away without that being an error.
    console: bool,
}

impl Dest {
    /// Writes `bytes` in one `write` (bar a short write); returns true on a failure to report.
    fn write(&mut self, bytes: &[u8]) -> bool {
        let Some(file) = &mut self.file else {
            return false;
        };
        let Err(err) = write_all_waiting(file, bytes) else {
            return false;
        };
        self.file = None;
        if self.console && err.kind() == io::ErrorKind::BrokenPipe {
            return false;
        }
        report(format_args!("cannot write to {}: {err}", self.name));
        true
    }

    fn console(fd: impl AsFd, name: &str) -> Dest {
        // A duplicate of the descriptor gives an unbuffered `File`: std's `Stdout` would buffer
        // a partial line until its newline, and nothing may wait in teelog.
        Dest {
            file: fd.as_fd().try_clone_to_owned().ok().map(File::from),
            name: name.to_owned(),
            console: true,
        }
    }
}

/// `write_all`, except that a descriptor left non-blocking by whoever started teelog (a console
/// shared with such a program) is waited for when full, instead of failing with EAGAIN.
fn write_all_waiting(file: &mut File, mut bytes: &[u8]) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    while !bytes.is_empty() {
        match file.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(errno) => return Err(errno.into()),
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// A formatter and the destination its bytes go to.
pub struct Sink {
    formatter: Box<dyn Formatter>,
    out: Dest,
    /// The plain console only: where stderr chunks go instead of `out`.
    err: Option<Dest>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("out", &self.out.name).finish()
    }
}

impl Sink {
    /// teelog's own stdout. In `plain` the command's stderr goes to teelog's stderr, so the
    /// console looks as if teelog were not there; the other formats write every record to stdout.
    pub fn console(format: Format, ctx: &Context) -> Sink {
        Sink {
            formatter: format.formatter(ctx),
            out: Dest::console(io::stdout(), "standard output"),
            err: (format == Format::Plain).then(|| Dest::console(io::stderr(), "standard error")),
            buf: Vec::new(),
        }
    }

    /// Opens `path` for appending (created with mode 0600: logs hold whatever the command shows).
    pub fn log(format: Format, path: &Path, ctx: &Context) -> Result<Sink, Error> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| Error::OpenLog {
                path: path.to_owned(),
                source,
            })?;
        Ok(Sink {
            formatter: format.formatter(ctx),
            out: Dest {
                file: Some(file),
                name: format!("log {}", quote(path)),
                console: false,
            },
            err: None,
            buf: Vec::new(),
        })
    }
}

/// Every sink of a run, fed the same events in the same order.
#[derive(Debug, Default)]
pub struct Fanout {
    sinks: Vec<Sink>,
    failed: bool,
}

impl Fanout {
    pub fn new(sinks: Vec<Sink>) -> Fanout {
        Fanout {
            sinks,
            failed: false,
        }
    }

    pub fn start(&mut self, ev: &Start) {
        self.each(None, |f, out| f.start(ev, out));
    }

    pub fn chunk(&mut self, ev: &Chunk<'_>) {
        self.each(Some(ev.stream), |f, out| f.chunk(ev, out));
    }

    pub fn pause(&mut self) {
        self.each(None, |f, out| f.pause(out));
    }

    pub fn exit(&mut self, ev: &Exit) {
        self.each(None, |f, out| f.exit(ev, out));
    }

    /// Whether writing to a log (or to a console that did not just go away) failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn each(
        &mut self,
        stream: Option<Stream>,
        mut format: impl FnMut(&mut dyn Formatter, &mut Vec<u8>),
    ) {
        for sink in &mut self.sinks {
            sink.buf.clear();
            format(&mut *sink.formatter, &mut sink.buf);
            if sink.buf.is_empty() {
                continue;
            }
            let dest = match (stream, &mut sink.err) {
                (Some(Stream::Stderr), Some(err)) => err,
                _ => &mut sink.out,
            };
            self.failed |= dest.write(&sink.buf);
        }
    }
}
