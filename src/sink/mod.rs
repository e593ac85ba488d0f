//! A sink is a formatter plus the destination its bytes go to (`crate::dest`: files, datagram
//! sockets, remote servers, and how each fails); [`Fanout`] feeds every sink the same events.
//! Building a sink from a `-o` spec, and writing one event to a log other runs share, are here.

use std::io;
use std::os::unix::fs::MetadataExt;

use crate::dest::Out;
use crate::error::{Error, quote};
use crate::event::Stream;
use crate::format::{Context, Format, Formatter};

mod fanout;
mod sealed;
pub mod spec;
mod splice;
use crate::dest::remote::ship::{SetupError, Shipping, Spooled, Target};
use crate::dest::remote::spool::Framing;
use crate::dest::spec::{Security, SyslogTarget};
use crate::dest::{Dest, FileLog, Kind, Shared, datagram, open_log, opening};
pub use crate::dest::{JOURNAL_SOCKET, Opening, Rotation, file_identity};
pub use fanout::Fanout;
pub use splice::SPLICE_MIN;

/// A formatter and the destination its bytes go to.
pub struct Sink {
    formatter: Box<dyn Formatter>,
    /// The formatter is `plain`: a chunk of output goes out as it is, without being copied into
    /// `buf` first.
    plain: bool,
    out: Dest,
    /// The plain console only: where stderr chunks go instead of `out`.
    err: Option<Dest>,
    buf: Out,
    /// A jsonl log with `--seal`: its records go through the sealer (see `sealed`).
    seal: Option<Box<sealed::Sealed>>,
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
            plain: format == Format::Plain,
            out: Dest::console(io::stdout(), "standard output"),
            err: (format == Format::Plain).then(|| Dest::console(io::stderr(), "standard error")),
            buf: Out::lending(),
            seal: None,
        }
    }

    /// Opens `path` for appending (created with mode 0600: logs hold whatever the command shows),
    /// with the checks in the module's doc; a format that holds one recording per file
    /// (asciicast) truncates it instead.
    pub fn log(
        spec: &crate::sink::spec::LogSpec,
        ctx: &Context,
        rotation: Rotation,
        shipping: &Shipping,
        sealing: Option<&crate::seal::Sealing>,
        opening: &mut Opening,
    ) -> Result<Sink, Error> {
        if let Some(target) = shipped(spec) {
            return Sink::shipped(&target, ctx, shipping, opening);
        }
        let (format, path) = match spec {
            spec::LogSpec::File { format, path } => (*format, path.as_path()),
            spec::LogSpec::Journal => return Sink::journal(ctx),
            spec::LogSpec::Syslog(target) => return Sink::syslog(target, ctx),
            spec::LogSpec::Relp(_) => unreachable!("shipped"),
            spec::LogSpec::SudoIolog(dir) => return Sink::sudo_iolog(dir, ctx),
        };
        let failed = |source: io::Error| Error::OpenLog {
            path: path.to_owned(),
            source,
        };
        let (file, created) = open_log(path)?;
        if created {
            opening.created(path, &file);
        }
        let meta = file.metadata().map_err(failed)?;
        let regular = meta.is_file();
        // After the checks, not with O_TRUNC: a file that is refused must stay as it was; and
        // once every log is open, so that a run that does not start empties nothing.
        if format.one_recording_per_file() && regular {
            opening.empty_later(path, &file)?;
        }
        let whole_lines = matches!(format, Format::Classic | Format::Jsonl);
        if whole_lines && regular {
            opening::end_cut_record(&file).map_err(failed)?;
        }
        // An asciicast file is one recording: never rotated, and never continued in a new file
        // (which would lack its header) when its path is moved away.
        let followed = regular && !format.one_recording_per_file();
        // Watched before its mode is looked at (see `Dest::reopen`).
        let watch = followed.then(|| opening.watch(path, &file)).flatten();
        let warned = opening::warn_if_open_to_others(path, &file);
        let seal = sealing
            .filter(|_| format == Format::Jsonl)
            .map(|sealing| sealed::Sealed::new(sealing, path, (meta.dev(), meta.ino())));
        let log = followed.then(|| FileLog {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
            checked: std::time::Instant::now(),
            rotation,
            watch,
            whole_lines,
            warned,
        });
        Ok(Sink {
            formatter: format.formatter(ctx),
            plain: format == Format::Plain,
            out: Dest {
                failed: false,
                to: Some(Kind::File(file)),
                log,
                name: format!("log {}", quote(path)),
                console: false,
                // Classic continues a record across writes (a prompt, then lines under it); a
                // jsonl record is written under the lock too, so that a run starting meanwhile
                // never sees it half-copied and takes it for one cut short (`end_cut_record`).
                shared: (whole_lines && regular).then(Shared::default),
                spliceable: true,
            },
            err: None,
            // A file written whole, without rotating, takes the output with writev; a sealed
            // one is stamped, so its records are copied anyway.
            buf: if rotation.max_size.is_none() && seal.is_none() {
                Out::lending()
            } else {
                Out::default()
            },
            seal,
        })
    }

    /// The systemd journal: a datagram socket connected to journald's native socket
    /// (`$TEELOG_JOURNAL_SOCKET`, else /run/systemd/journal/socket). No socket there (not a
    /// systemd machine, journald not running) is an error, as a log that cannot be opened.
    pub fn journal(ctx: &Context) -> Result<Sink, Error> {
        let path = std::env::var_os("TEELOG_JOURNAL_SOCKET")
            .map_or_else(|| JOURNAL_SOCKET.into(), std::path::PathBuf::from);
        let name = format!("the journal ({})", quote(&path));
        let socket = datagram::Datagram::open(path.clone(), name.clone()).map_err(|source| {
            Error::Journal {
                path: path.clone(),
                source,
            }
        })?;
        Ok(Sink {
            formatter: Box::new(crate::format::JournalFormatter::new(ctx)),
            plain: false,
            out: Dest {
                failed: false,
                to: Some(Kind::Datagram(socket)),
                log: None,
                name,
                console: false,
                shared: None,
                spliceable: true,
            },
            err: None,
            buf: Out::default(),
            seal: None,
        })
    }

    /// A sudo I/O log: a new session directory in `dir` (made 0700 when missing), made before
    /// the command starts, so that a directory that cannot be made is refused as a log that
    /// cannot be opened.
    pub fn sudo_iolog(dir: &std::path::Path, ctx: &Context) -> Result<Sink, Error> {
        use crate::dest::sudo_iolog::Session;
        let session = Session::create(dir)
            .map_err(|source| Error::OpenLog {
                path: dir.to_owned(),
                source,
            })?
            .under_pty(ctx.pty);
        Ok(Sink {
            formatter: Box::new(crate::format::SudoIologFormatter::new(ctx)),
            plain: false,
            out: Dest {
                failed: false,
                name: format!("sudo I/O log {}", quote(session.path())),
                to: Some(Kind::SudoIolog(session)),
                log: None,
                console: false,
                shared: None,
                // Its stream files take the chunks' bytes as they are (`sink::splice`).
                spliceable: true,
            },
            err: None,
            buf: Out::default(),
            seal: None,
        })
    }

    /// A destination shipped from a spool (`relp=`, `syslog=tls:`): RFC 5424 messages of up to
    /// `--max-message` bytes, appended to the spool that a thread of its own ships.
    fn shipped(
        target: &Target<'_>,
        ctx: &Context,
        shipping: &Shipping,
        opening: &mut Opening,
    ) -> Result<Sink, Error> {
        use crate::format::syslog::SyslogFormatter;
        let spooled = Spooled::open(target, shipping).map_err(|e| match e {
            SetupError::Usage(message) => Error::Usage(message),
            SetupError::Spool(path, source) => Error::OpenLog { path, source },
        })?;
        let (path, file) = spooled.spool();
        opening.created(path, file);
        let name = format!("the spool {} of {}", quote(path), target.name);
        Ok(Sink {
            formatter: Box::new(SyslogFormatter::shipped(
                ctx,
                ctx.facility,
                shipping.max_message,
            )),
            plain: false,
            out: Dest {
                failed: false,
                to: Some(Kind::Spooled(spooled)),
                log: None,
                name,
                console: false,
                shared: None,
                spliceable: false,
            },
            err: None,
            buf: Out::default(),
            seal: None,
        })
    }

    /// A syslog destination: a local datagram socket, which must be there when the run starts
    /// (as a log file must open), or a remote server over UDP or TCP, best effort.
    pub fn syslog(target: &SyslogTarget, ctx: &Context) -> Result<Sink, Error> {
        use crate::dest::remote::{Remote, Tcp, Udp};
        use crate::format::syslog::{SyslogFormatter, Wire};
        let name = format!("syslog {}", target.name());
        let failed = |source: io::Error| Error::Syslog {
            target: target.name(),
            source,
        };
        let resolve = |addr: &str| -> Result<std::net::SocketAddr, Error> {
            use std::net::ToSocketAddrs;
            addr.to_socket_addrs()
                .map_err(failed)?
                .next()
                .ok_or_else(|| failed(io::ErrorKind::NotFound.into()))
        };
        let (wire, to) = match target {
            SyslogTarget::Unix(path) => {
                let socket =
                    datagram::Datagram::open(path.clone(), name.clone()).map_err(failed)?;
                (Wire::Local, Kind::Datagram(socket))
            }
            SyslogTarget::Udp(addr) => {
                let udp = Udp::open(resolve(addr)?, name.clone()).map_err(failed)?;
                (Wire::Udp, Kind::Remote(Remote::Udp(udp)))
            }
            SyslogTarget::Tcp(addr) => {
                let tcp = Tcp::open(resolve(addr)?, name.clone());
                (Wire::Tcp, Kind::Remote(Remote::Tcp(tcp)))
            }
            SyslogTarget::Tls(_) => unreachable!("shipped from a spool (Sink::log)"),
        };
        Ok(Sink {
            formatter: Box::new(SyslogFormatter::new(ctx, wire, ctx.facility)),
            plain: false,
            out: Dest {
                failed: false,
                to: Some(to),
                log: None,
                name,
                console: false,
                shared: None,
                spliceable: true,
            },
            err: None,
            buf: Out::default(),
            seal: None,
        })
    }

    /// The device and inode of a log that is a regular file or a FIFO: two logs with the same
    /// identity would get each record twice, mixed.
    pub fn identity(&self) -> Option<(u64, u64)> {
        file_identity(self.out.file()?)
    }

    /// Where an event of `stream` goes: the plain console's stderr chunks to standard error,
    /// everything else to the main destination.
    fn dest(&mut self, stream: Option<Stream>) -> &mut Dest {
        match (stream, &mut self.err) {
            (Some(Stream::Stderr), Some(err)) => err,
            _ => &mut self.out,
        }
    }

    /// How error messages name this sink's destination.
    pub fn name(&self) -> &str {
        &self.out.name
    }
}

/// The destination of `spec` if it is shipped from a spool: `relp=`, `syslog=tls:`.
fn shipped(spec: &spec::LogSpec) -> Option<Target<'_>> {
    match spec {
        spec::LogSpec::Syslog(SyslogTarget::Tls(addr)) => Some(Target {
            name: format!("syslog=tls:{addr}"),
            framing: Framing::OctetCounted,
            addr,
            security: Security::Tls,
        }),
        spec::LogSpec::Relp(relp) => Some(Target {
            name: format!("relp={}", relp.name()),
            framing: Framing::Relp,
            addr: &relp.addr,
            security: relp.security,
        }),
        _ => None,
    }
}

impl Sink {
    /// Formats and writes one event to a log other runs may append to: under an exclusive lock
    /// (`flock`, which every teelog takes), checks whether the file grew since this run's last
    /// write, and if so tells the formatter, so that its next line starts under a prompt of its
    /// own instead of under another run's.
    fn write_shared(
        &mut self,
        format: &mut impl FnMut(&mut dyn Formatter, &mut Out),
        chunk: &[u8],
    ) {
        let Some(file) = self.out.file() else {
            format(&mut *self.formatter, &mut self.buf);
            return;
        };
        // A lock that cannot be taken (a filesystem without flock) only costs the check's
        // certainty: go on without it.
        let locked = file.lock().is_ok();
        let size = file.metadata().map(|m| m.len()).ok();
        let end = self.out.shared.as_ref().and_then(|shared| shared.end);
        if end.is_some() && end != size {
            self.formatter.interleaved();
        }
        format(&mut *self.formatter, &mut self.buf);
        let after = if self.seal.is_some() {
            // Shorter than this run left it: copytruncate emptied it.
            let truncated = matches!((end, size), (Some(end), Some(size)) if size < end);
            self.write_sealed(size, truncated)
        } else {
            if self.buf.total() > 0 {
                self.out.write(&self.buf, chunk);
            }
            size.map(|size| size + self.buf.total() as u64)
        };
        // Under the lock the file now ends where this write did: no second fstat needed.
        if let Some(shared) = &mut self.out.shared {
            shared.end = after;
        }
        if locked && let Some(file) = self.out.file() {
            let _ = file.unlock();
        }
    }
}
