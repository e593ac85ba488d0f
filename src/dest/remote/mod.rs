//! Remote destinations. `relp=` and `syslog=tls:` are acknowledged or encrypted and shipped from
//! a spool on disk by a thread of their own, in three layers: the transport (TCP, TLS: `tls`),
//! the framing (RELP: `relp`; octet counting) and the policy (spool, cursor, acknowledgements,
//! retries: `spool`, `session`, `ship`). The rest of this module is plain syslog over UDP and
//! TCP, best effort: a server that is down or goes away never stops or
//! slows the command, the console or the other logs. Nothing here waits: UDP sends without
//! blocking, and TCP connects without blocking, keeps what it cannot send yet in a bounded
//! backlog, and reconnects (at most once a second) when the connection is lost. Trouble is
//! reported once; messages that could not be delivered are counted, and the count is reported
//! at the end.
//!
//! Plain TCP syslog has no acknowledgements, so what a server that stalls, is killed or restarts
//! had in its buffers is lost without a word from it. What teelog can know, it counts as
//! possibly lost (see [`Flight`]): on a connection that breaks, every message the server may not
//! have read yet; at the end, those it has not confirmed by closing its side after teelog's.
//! A server's clean close is noticed before teelog writes into the dead connection (a read that
//! does not wait, once the connection has been quiet for [`QUIET`]), so one restarted between
//! two messages loses none. What no client can see: messages a server has read into its own
//! memory but not yet written out when it is killed (rsyslogd's in-memory main queue); only the
//! server's own disk queue protects those.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrStorage, connect, getsockopt, socket, sockopt,
};

use crate::error::report;

mod flight;
pub mod relp;
pub mod resume;
pub mod session;
pub mod ship;
pub mod spool;
pub mod tls;

use flight::{Ending, Flight, MessageEnd, ended};

/// The most bytes of messages kept for a TCP server that cannot take them yet.
pub const BACKLOG: usize = 4 * 1024 * 1024;

/// How long, at most, the end of a run waits for a TCP server to take the backlog.
const LAST_WAIT: Duration = Duration::from_secs(2);

/// How often a lost TCP connection is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// How long a connection must have had no write before teelog first looks whether the server
/// has closed it (a read that does not wait, one system call): a server that shuts down or
/// restarts between two messages is then noticed before anything is written into the dead
/// connection. A busy stream finds out from its writes instead.
const QUIET: Duration = Duration::from_millis(1);

/// A remote syslog server.
#[derive(Debug)]
pub enum Remote {
    Udp(Udp),
    Tcp(Tcp),
}

impl Remote {
    /// Sends one framed message, or keeps or counts it.
    pub fn send(&mut self, message: &[u8]) {
        match self {
            Remote::Udp(udp) => udp.send(message),
            Remote::Tcp(tcp) => tcp.send(message),
        }
    }

    /// At the end of the run: delivers what it can within a short wait, then reports, in one
    /// line, what was not delivered and what may have been lost; returns that number of messages.
    pub fn finish(&mut self) -> u64 {
        let (name, lost, doubtful) = match self {
            Remote::Udp(udp) => (&udp.name, udp.lost, 0),
            Remote::Tcp(tcp) => {
                tcp.drain();
                tcp.close();
                (&tcp.name, tcp.lost + tcp.backlog.len() as u64, tcp.doubtful)
            }
        };
        let messages = |n: u64| format!("{n} message{}", if n == 1 { "" } else { "s" });
        let why = "sent on a connection that then broke, or not confirmed by the server at the \
                   end: plain TCP syslog has no acknowledgements";
        match (lost, doubtful) {
            (0, 0) => {}
            (lost, 0) => report(format_args!(
                "{name}: {} could not be delivered",
                messages(lost)
            )),
            (0, doubtful) => report(format_args!(
                "{name}: {} may have been lost ({why})",
                messages(doubtful)
            )),
            (lost, doubtful) => report(format_args!(
                "{name}: {} could not be delivered, and {doubtful} more may have been lost ({why})",
                messages(lost)
            )),
        }
        lost + doubtful
    }
}

#[derive(Debug)]
pub struct Udp {
    socket: UdpSocket,
    name: String,
    lost: u64,
    reported: bool,
}

impl Udp {
    pub fn open(addr: SocketAddr, name: String) -> io::Result<Udp> {
        let any: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("an address")
        } else {
            "[::]:0".parse().expect("an address")
        };
        let socket = UdpSocket::bind(any)?;
        socket.connect(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Udp {
            socket,
            name,
            lost: 0,
            reported: false,
        })
    }

    fn send(&mut self, message: &[u8]) {
        if let Err(err) = self.socket.send(message) {
            self.lost += 1;
            if !self.reported {
                self.reported = true;
                report(format_args!(
                    "{}: {err}; going on without it (lost messages are counted)",
                    self.name
                ));
            }
        }
    }
}

/// What [`Tcp::pump`] does after a step: take the next one, or stop until it is called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Again,
    Wait,
}

#[derive(Debug)]
enum State {
    Down { retry_at: Instant },
    Connecting(OwnedFd),
    Up(TcpStream),
}

#[derive(Debug)]
pub struct Tcp {
    addr: SocketAddr,
    name: String,
    state: State,
    /// Framed messages not sent yet, and how much of the first has been.
    backlog: VecDeque<Vec<u8>>,
    sent: usize,
    bytes: usize,
    flight: Flight,
    /// When teelog last tried to write to the connection (see [`QUIET`]).
    tried_at: Instant,
    /// Messages dropped because the backlog was full.
    lost: u64,
    /// Messages that may have been lost with a connection (see [`Flight`]).
    doubtful: u64,
    reported: bool,
}

impl Tcp {
    pub fn open(addr: SocketAddr, name: String) -> Tcp {
        let mut tcp = Tcp {
            addr,
            name,
            state: State::Down {
                retry_at: Instant::now(),
            },
            backlog: VecDeque::new(),
            sent: 0,
            bytes: 0,
            flight: Flight::default(),
            tried_at: Instant::now(),
            lost: 0,
            doubtful: 0,
            reported: false,
        };
        tcp.pump();
        tcp
    }

    fn trouble(&mut self, what: impl std::fmt::Display) {
        if !self.reported {
            self.reported = true;
            report(format_args!(
                "{}: {what}; going on, reconnecting and keeping up to {} MiB of messages \
                 (lost ones are counted)",
                self.name,
                BACKLOG / (1024 * 1024)
            ));
        }
    }

    /// Queues `message` framed by octet counting (RFC 6587 3.4.1: its length in decimal, a
    /// space, the message), which rsyslog's imtcp and syslog-ng read, and sends what it can.
    fn send(&mut self, message: &[u8]) {
        let mut framed = Vec::with_capacity(message.len() + 6);
        framed.extend_from_slice(message.len().to_string().as_bytes());
        framed.push(b' ');
        framed.extend_from_slice(message);
        let message = &framed[..];
        if self.bytes + message.len() > BACKLOG {
            self.lost += 1;
        } else {
            self.bytes += message.len();
            self.backlog.push_back(message.to_vec());
        }
        self.pump();
    }

    /// The connection ended: what was in doubt on it is counted (see [`Ending`]), and it is
    /// tried again at once.
    fn broken(&mut self, ending: Ending) {
        // The message being sent starts again on the next connection, which is tried at once
        // (a server restarting, a connection reset); a refused one waits a second.
        self.sent = 0;
        let state = std::mem::replace(
            &mut self.state,
            State::Down {
                retry_at: Instant::now(),
            },
        );
        let mut flight = std::mem::take(&mut self.flight);
        self.doubtful += match &state {
            State::Up(stream) => flight.in_doubt(stream, &ending),
            _ => 0,
        };
        self.trouble(format_args!("connection lost: {ending}"));
    }

    /// Moves the connection on as far as it goes without waiting, and sends what it can.
    fn pump(&mut self) {
        loop {
            let step = match &self.state {
                State::Down { retry_at } if Instant::now() < *retry_at => Step::Wait,
                State::Down { .. } => self.connect(),
                State::Connecting(_) => self.connected(),
                State::Up(_) => self.write_backlog(),
            };
            if step == Step::Wait {
                return;
            }
        }
    }

    /// Starts a connection, or says why not and waits [`RETRY`].
    fn connect(&mut self) -> Step {
        match start_connect(self.addr) {
            Ok(fd) => {
                self.state = State::Connecting(fd);
                Step::Again
            }
            Err(err) => self.refused(err),
        }
    }

    /// The connection being made: up once the socket is writable and has no error.
    fn connected(&mut self) -> Step {
        let State::Connecting(fd) = &self.state else {
            return Step::Again;
        };
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
        if !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0) {
            return Step::Wait;
        }
        match getsockopt(fd, sockopt::SocketError) {
            Ok(0) => {
                let State::Connecting(fd) = std::mem::replace(
                    &mut self.state,
                    State::Down {
                        retry_at: Instant::now(),
                    },
                ) else {
                    unreachable!()
                };
                self.state = State::Up(TcpStream::from(fd));
                self.flight = Flight::default();
                Step::Again
            }
            Ok(code) => self.refused(io::Error::from_raw_os_error(code)),
            Err(errno) => self.refused(errno.into()),
        }
    }

    /// A connection that could not be made: tried again after [`RETRY`].
    fn refused(&mut self, err: io::Error) -> Step {
        self.state = State::Down {
            retry_at: Instant::now() + RETRY,
        };
        self.trouble(format_args!("cannot connect: {err}"));
        Step::Wait
    }

    /// Writes the backlog to the connection until it is empty or the socket is full; a
    /// connection found ended (after [`QUIET`]) or failing is [`Tcp::broken`].
    fn write_backlog(&mut self) -> Step {
        let State::Up(stream) = &mut self.state else {
            return Step::Again;
        };
        if self.backlog.is_empty() {
            return Step::Wait;
        }
        let quiet = self.tried_at.elapsed() >= QUIET;
        self.tried_at = Instant::now();
        if let Some(ending) = quiet.then(|| ended(stream)).flatten() {
            self.broken(ending);
            return Step::Again;
        }
        let flight = &mut self.flight;
        let mut failed = None;
        while let Some(front) = self.backlog.front() {
            match stream.write(&front[self.sent..]) {
                Ok(n) => {
                    self.sent += n;
                    if self.sent == front.len() {
                        self.bytes -= front.len();
                        self.backlog.pop_front();
                        self.sent = 0;
                        flight.wrote(n, MessageEnd::Reached);
                    } else {
                        flight.wrote(n, MessageEnd::NotYet);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        match failed {
            // Tried again on the next message, or at the end.
            Some(err) => self.broken(Ending::of(err)),
            None => flight.now_and_then(stream),
        }
        Step::Wait
    }

    /// Waits, at most [`LAST_WAIT`], for a server that is connected (or connecting) to take the
    /// backlog; a server that is down is tried once more at once (it may have come back within
    /// the last second: a restart), and not waited for.
    fn drain(&mut self) {
        let until = Instant::now() + LAST_WAIT;
        if let State::Down { retry_at } = &mut self.state
            && !self.backlog.is_empty()
        {
            *retry_at = Instant::now();
        }
        loop {
            self.pump();
            let now = Instant::now();
            if self.backlog.is_empty() || now >= until {
                return;
            }
            let fd = match &self.state {
                State::Up(stream) => stream.as_fd(),
                State::Connecting(fd) => fd.as_fd(),
                State::Down { .. } => return,
            };
            let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
            let ms = until.saturating_duration_since(now).as_millis().min(1000) as u16;
            let _ = poll(&mut fds, PollTimeout::from(ms));
        }
    }

    /// Ends the connection: shuts down teelog's side and waits, at most [`LAST_WAIT`], for the
    /// server to close its own, which a syslog server (rsyslog, syslog-ng) does once it has read
    /// everything before; then nothing is in doubt. A server that resets the connection instead
    /// leaves in doubt what [`Tcp::broken`] says, and one that does neither in that time, what
    /// it has not acknowledged or may not have read.
    fn close(&mut self) {
        let State::Up(stream) = &mut self.state else {
            return;
        };
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let until = Instant::now() + LAST_WAIT;
        let mut scratch = [0u8; 4096];
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
            let ms = until.saturating_duration_since(now).as_millis().min(1000) as u16;
            let _ = poll(&mut fds, PollTimeout::from(ms));
            match io::Read::read(stream, &mut scratch) {
                Ok(0) => {
                    self.doubtful += self.flight.in_doubt(stream, &Ending::closed());
                    self.flight = Flight::default();
                    return;
                }
                Ok(_) => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(err) => {
                    self.broken(Ending::of(err));
                    return;
                }
            }
        }
        let silent = Ending::Failed(io::ErrorKind::TimedOut.into());
        self.doubtful += self.flight.in_doubt(stream, &silent);
        self.flight = Flight::default();
    }
}

/// Starts a non-blocking connection to `addr`.
fn start_connect(addr: SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let target = SockaddrStorage::from(addr);
    match connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &target) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(fd),
        Err(errno) => Err(errno.into()),
    }
}
