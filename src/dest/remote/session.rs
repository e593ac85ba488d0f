//! One connection to a collector, from the connect to its end: the transport (TCP, TLS), the
//! framing (RELP with its window, or octet counting), and the cursor moved as acknowledgements
//! come back. It blocks, with timeouts: it runs on the shipper's thread (`super::ship`).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::relp::{self, Replies, Reply};
use super::spool::{Cursor, Framing, Records, Spool};
use super::tls::{self, Stream};

/// How long a connection, with its TLS handshake and RELP's `open`, may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long unacknowledged messages wait for an answer before the collector is taken for dead
/// (a stopped rsyslogd keeps its connections open and answers nothing).
pub const DEAD_PEER: Duration = Duration::from_secs(10);

/// How long a TLS connection to a syslog server is read after the handshake for a refusal of
/// teelog's certificate, which TLS 1.3 servers send only then (docs/research/relp-tls.md, 3).
const REFUSAL_WAIT: Duration = Duration::from_millis(300);

/// The most bytes of frames written at once.
const BATCH: usize = 256 * 1024;

/// What a connection needs: where, and how.
#[derive(Debug)]
pub struct Peer {
    pub addr: String,
    pub framing: Framing,
    pub tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

/// Why a session did not go on.
#[derive(Debug)]
pub enum Stop {
    /// A network failure, a dead or closing peer: connect again after a while, and send again
    /// what was not acknowledged.
    Broken(String),
    /// The server refused teelog (its certificate, the session): trying again will not help.
    Refused(String),
}

/// How a session ended well.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Everything there was is acknowledged, and the session closed.
    AllSent,
    /// The session used up its transaction numbers: start another at once.
    Renew,
}

/// What stopped the framing of records for one write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Blocked {
    /// RELP's window is full (or the session's transaction numbers are used up).
    Window,
    /// The write is as big as one should be; more records are there.
    Batch,
    /// The spool has no more records yet.
    End,
}

/// What a session tells the shipper as it goes.
pub trait Progress {
    /// The cursor moved (already written to the spool).
    fn acked(&mut self, cursor: Cursor);
    /// Whether no more records will come (the run has ended), so that the session can close
    /// once all are acknowledged.
    fn ending(&self) -> bool;
    /// Nothing to do: wait a little for more records (or the end).
    fn idle(&self);
}

/// A connected, opened session.
#[derive(Debug)]
pub struct Session {
    stream: Stream,
    framing: Framing,
    replies: Replies,
    /// The next transaction number (RELP).
    txnr: u64,
    /// The last one a session uses before a new one is opened: [`relp::LAST_TXNR`], or for the
    /// tests, which cannot send a billion messages, `$TEELOG_RELP_LAST_TXNR`.
    last_txnr: u64,
    /// Frames sent and not acknowledged: transaction number, where the record ends in the spool.
    inflight: VecDeque<(u64, u64)>,
    heard: Instant,
    buf: Vec<u8>,
    /// What a read takes from the connection (allocated once: zeroing it per read cost more
    /// than the reading).
    scratch: Vec<u8>,
}

impl Session {
    /// Connects, shakes hands, opens the session.
    pub fn open(peer: &Peer) -> Result<Session, Stop> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let addr = resolve(&peer.addr).map_err(|e| Stop::Broken(format!("{e}")))?;
        let tls = peer.tls.as_ref().map(|(config, name)| (config, name));
        let stream =
            Stream::connect(addr, tls, deadline).map_err(|e| failure(&e, "cannot connect"))?;
        let broken = |e: io::Error| failure(&e, "connection failed");
        stream.set_write_timeout(Some(DEAD_PEER)).map_err(broken)?;
        let mut session = Session {
            stream,
            framing: peer.framing,
            replies: Replies::default(),
            txnr: 1,
            last_txnr: std::env::var("TEELOG_RELP_LAST_TXNR")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n| (3..=relp::LAST_TXNR).contains(&n))
                .unwrap_or(relp::LAST_TXNR),
            inflight: VecDeque::new(),
            heard: Instant::now(),
            buf: Vec::with_capacity(BATCH + 1024),
            scratch: vec![0; 16 * 1024],
        };
        match peer.framing {
            Framing::Relp => session.open_relp(deadline)?,
            Framing::OctetCounted if peer.tls.is_some() => session.await_refusal()?,
            Framing::OctetCounted => {}
        }
        Ok(session)
    }

    /// Sends `open` and waits for its answer, which is also where a server that refuses
    /// teelog's certificate after a TLS 1.3 handshake says so.
    fn open_relp(&mut self, deadline: Instant) -> Result<(), Stop> {
        let frame = relp::open_frame();
        self.send(&frame)
            .map_err(|e| failure(&e, "cannot open the session"))?;
        self.txnr = 2;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Stop::Broken("no answer to the session's opening".into()));
            }
            match self.read(left) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e)
                    if (is_closed(&e) || e.kind() == io::ErrorKind::UnexpectedEof)
                        && self.tls() =>
                {
                    // Not a refusal for certain (a restart, a proxy whose backend is down): tried
                    // again after the backoff. An alert is one (`failure`).
                    return Err(Stop::Broken(
                        "the server closed the connection before opening the session (a GnuTLS \
                         server that rejects teelog's certificate does that)"
                            .into(),
                    ));
                }
                Err(e) => return Err(failure(&e, "no answer to the session's opening")),
            }
            match self.replies.take() {
                Ok(Some(reply)) => return relp::check_open(&reply).map_err(Stop::Refused),
                Ok(None) => {}
                Err(e) => return Err(Stop::Broken(e.to_string())),
            }
        }
    }

    /// Syslog over TLS has no answers: a refusal shows as an alert or a close right after the
    /// handshake, and silence means teelog was let in.
    fn await_refusal(&mut self) -> Result<(), Stop> {
        let mut scratch = [0u8; 512];
        self.stream.set_read_timeout(Some(REFUSAL_WAIT)).ok();
        match self.stream.read(&mut scratch) {
            Ok(0) => Err(Stop::Refused(
                "the server closed the connection right after the TLS handshake (did it reject \
                 teelog's certificate?)"
                    .into(),
            )),
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(failure(&e, "connection failed")),
        }
    }

    fn tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Sends the spool's records from `records` on, reads the acknowledgements and moves the
    /// cursor, until the run has ended and all is acknowledged, or the session breaks.
    pub fn run(
        &mut self,
        spool: &mut Spool,
        records: &mut Records,
        progress: &mut dyn Progress,
    ) -> Result<Ended, Stop> {
        let broken = |e: io::Error| lost(&e);
        loop {
            // Asked before the spool is read: the run appends its last records before it says
            // it has ended, so a read after this that finds nothing has found the end.
            let ending = progress.ending();
            let (sent, blocked) = self.fill(spool, records)?;
            if sent > 0 {
                self.send_buf().map_err(broken)?;
                if self.framing == Framing::OctetCounted {
                    let cursor = Cursor {
                        offset: records.offset(),
                        acked: spool.cursor.acked + sent,
                    };
                    spool.commit(cursor).map_err(|e| spool_failed(&e))?;
                    progress.acked(cursor);
                }
            }
            if !self.inflight.is_empty() {
                // More to send at once: only what has come; else wait for answers.
                let wait = match blocked {
                    Blocked::Batch => Duration::ZERO,
                    Blocked::Window | Blocked::End => Duration::from_millis(100),
                };
                self.take_replies(wait, spool, progress)?;
                if self.heard.elapsed() >= DEAD_PEER {
                    return Err(Stop::Broken(format!(
                        "no acknowledgement for {} s",
                        DEAD_PEER.as_secs()
                    )));
                }
                continue;
            }
            if self.txnr >= self.last_txnr {
                self.close();
                return Ok(Ended::Renew);
            }
            if sent == 0 {
                if ending {
                    self.close();
                    return Ok(Ended::AllSent);
                }
                if self.framing == Framing::OctetCounted {
                    self.check_open_end()?;
                }
                progress.idle();
            }
        }
    }

    /// Frames the next records into the buffer, within the window; how many, and what stopped
    /// it.
    fn fill(&mut self, spool: &Spool, records: &mut Records) -> Result<(u64, Blocked), Stop> {
        self.buf.clear();
        let mut n = 0;
        loop {
            let window_full = self.framing == Framing::Relp
                && (self.inflight.len() >= relp::WINDOW || self.txnr >= self.last_txnr);
            if window_full {
                return Ok((n, Blocked::Window));
            }
            if self.buf.len() >= BATCH {
                return Ok((n, Blocked::Batch));
            }
            let record = match records.next(spool.file()) {
                Ok(Ok(Some(record))) => record,
                Ok(Ok(None)) => return Ok((n, Blocked::End)),
                Ok(Err(damaged)) => {
                    return Err(Stop::Refused(format!(
                        "{}: not a teelog spool record at byte {}",
                        crate::error::quote(&spool.path),
                        damaged.at
                    )));
                }
                Err(e) => return Err(spool_failed(&e)),
            };
            match self.framing {
                Framing::Relp => {
                    relp::push_head(&mut self.buf, self.txnr, "syslog");
                    self.buf.extend_from_slice(record.bytes);
                    self.inflight.push_back((self.txnr, record.end));
                    if self.inflight.len() == 1 {
                        self.heard = Instant::now();
                    }
                    self.txnr += 1;
                }
                Framing::OctetCounted => self.buf.extend_from_slice(record.octet_counted()),
            }
            n += 1;
        }
    }

    fn send_buf(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let sent = self.send(&buf);
        self.buf = buf;
        sent
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Reads what has arrived, waiting at most `wait` for something: whether any bytes came.
    /// The end of the connection is [`Closed`].
    fn read(&mut self, wait: Duration) -> io::Result<bool> {
        if wait.is_zero() {
            use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
            let mut fds = [PollFd::new(self.stream.tcp().as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0) {
                return Ok(false);
            }
        }
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match self.stream.read(&mut self.scratch) {
            Ok(0) => Err(io::Error::other(Closed)),
            Ok(n) => {
                self.replies.feed(&self.scratch[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads the answers that have come (waiting at most `wait`), and moves the cursor past the
    /// records they acknowledge: whether any came.
    fn take_replies(
        &mut self,
        wait: Duration,
        spool: &mut Spool,
        progress: &mut dyn Progress,
    ) -> Result<bool, Stop> {
        if !self.read(wait).map_err(|e| lost(&e))? {
            return Ok(false);
        }
        let mut cursor = spool.cursor;
        // The acknowledgements before a bad frame or a close in the same read still count.
        let stopped = loop {
            let reply = match self.replies.take() {
                Ok(Some(reply)) => reply,
                Ok(None) => break None,
                Err(e) => break Some(Stop::Broken(e.to_string())),
            };
            let Reply::Rsp { txnr, .. } = &reply else {
                break Some(Stop::Broken("the server closed the session".into()));
            };
            let Some(&(oldest, end)) = self.inflight.front() else {
                break Some(Stop::Broken(format!(
                    "an answer to transaction {txnr}, not sent"
                )));
            };
            if *txnr != oldest {
                break Some(Stop::Broken(format!(
                    "an answer to transaction {txnr} where {oldest} was next"
                )));
            }
            if !reply.ok() {
                break Some(Stop::Broken(format!(
                    "the server did not take a message: {}",
                    reply.text()
                )));
            }
            self.inflight.pop_front();
            cursor = Cursor {
                offset: end,
                acked: cursor.acked + 1,
            };
        };
        if cursor != spool.cursor {
            self.heard = Instant::now();
            spool.commit(cursor).map_err(|e| spool_failed(&e))?;
            progress.acked(cursor);
        }
        match stopped {
            Some(stop) => Err(stop),
            None => Ok(true),
        }
    }

    /// A quiet syslog/TLS connection: has the server closed it?
    fn check_open_end(&mut self) -> Result<(), Stop> {
        match self.read(Duration::ZERO) {
            Ok(_) => Ok(()),
            Err(e) => Err(lost(&e)),
        }
    }

    /// How many records were sent and not acknowledged (sent again by the next session).
    pub fn unacknowledged(&self) -> u64 {
        self.inflight.len() as u64
    }

    /// Ends the session: RELP's `close`, answered (briefly waited for); TLS's close_notify.
    fn close(&mut self) {
        if self.framing == Framing::Relp {
            let mut frame = Vec::new();
            relp::push_frame(&mut frame, self.txnr, "close", b"");
            if self.send(&frame).is_ok() {
                let until = Instant::now() + Duration::from_secs(1);
                while Instant::now() < until {
                    if self.read(Duration::from_millis(100)).is_err() {
                        break;
                    }
                    if let Ok(Some(Reply::Rsp { txnr, .. })) = self.replies.take()
                        && txnr == self.txnr
                    {
                        break;
                    }
                }
            }
        }
        self.stream.close();
    }
}

/// The first address `HOST:PORT` resolves to, looked up again on each connection.
fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{addr}: no address found")))
}

/// A failed connect, handshake, read or write: a refusal when TLS says so.
fn failure(err: &io::Error, what: &str) -> Stop {
    if tls::is_refusal(err) {
        Stop::Refused(tls::reason(err))
    } else {
        Stop::Broken(format!("{what}: {}", tls::reason(err)))
    }
}

/// A connection that broke after it was made: a close without TLS's close_notify is a close.
fn lost(err: &io::Error) -> Stop {
    if is_closed(err) || err.kind() == io::ErrorKind::UnexpectedEof {
        Stop::Broken("connection lost: the server closed it".into())
    } else {
        failure(err, "connection lost")
    }
}

/// The server closed the connection (a read of 0 bytes).
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server closed the connection")
    }
}

impl std::error::Error for Closed {}

fn is_closed(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<Closed>())
}

fn spool_failed(err: &io::Error) -> Stop {
    Stop::Refused(format!("cannot use the spool: {err}"))
}
