//! What teelog can know of the messages written on a TCP connection that the server may not
//! have read: the kernel's unacknowledged bytes and the server's window, mapped back to messages
//! by their end offsets, and how the connection ended.

use std::collections::VecDeque;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsFd;

use nix::sys::socket::{MsgFlags, recv};

use crate::sys;

/// How many messages written whole between two looks at a connection's queues (see [`Flight`]).
const LOOK_EVERY: usize = 64;

/// What is added to the bound on a server's unread bytes that a look takes from its window, for
/// the window's rounding (to its scale, or to the MSS: 64 KiB on loopback) and the messages
/// written since.
const MARGIN: u64 = 64 * 1024;

/// The bound on a server's unread bytes when the kernel does not tell its window: more than
/// Linux's largest receive buffer by default (6 MiB).
const RECEIVER_BOUND: u64 = 16 * 1024 * 1024;

/// The messages written on the current connection that the server may not have read yet.
///
/// The kernel tells how many written bytes the server has not acknowledged (`SIOCOUTQ`), and the
/// receive window the server last advertised: the server's kernel holds unread at most what its
/// window has shrunk by since its largest (with the window's own rounding), so a message that
/// ends before `acknowledged - 2 × (largest - now) - MARGIN` has been read by the server. Each
/// look (every [`LOOK_EVERY`] messages) forgets those; the ones left are the ones in doubt when
/// the connection breaks: they were in teelog's send buffer, on the way, or in the server's.
#[derive(Debug, Default)]
pub(super) struct Flight {
    /// Bytes written on this connection.
    written: u64,
    /// Where each message written whole on this connection ends (counted as `written`), for
    /// those the server may not have read yet, oldest first.
    ends: VecDeque<u64>,
    /// The largest receive window the server advertised on this connection.
    window: u32,
    /// How many messages `ends` held just after the last look.
    looked: usize,
}

impl Flight {
    /// `n` more bytes were written, which may end a message.
    pub(super) fn wrote(&mut self, n: usize, end: MessageEnd) {
        self.written += n as u64;
        if end == MessageEnd::Reached {
            self.ends.push_back(self.written);
        }
    }

    /// Looks at the connection's queues once every [`LOOK_EVERY`] messages written.
    pub(super) fn now_and_then(&mut self, stream: &TcpStream) {
        if self.ends.len() >= self.looked + LOOK_EVERY {
            self.look(stream, MARGIN);
        }
    }

    /// Forgets the messages the server has read for certain, as the socket's queue and window
    /// tell now; `margin` is added to the bound on the server's unread bytes.
    fn look(&mut self, stream: &TcpStream, margin: u64) {
        let fd = stream.as_fd();
        let Ok(unacked) = sys::unacknowledged(fd) else {
            return;
        };
        let acked = self.written.saturating_sub(unacked as u64);
        let unread = match sys::peer_window(fd) {
            Some(now) => {
                self.window = self.window.max(now);
                2 * u64::from(self.window - now) + margin
            }
            None => RECEIVER_BOUND,
        };
        let read = acked.saturating_sub(unread);
        while self.ends.front().is_some_and(|end| *end <= read) {
            self.ends.pop_front();
        }
        self.looked = self.ends.len();
    }

    /// How many messages the server has not acknowledged whole (all of them when the kernel
    /// does not tell).
    fn unacknowledged(&self, stream: &TcpStream) -> u64 {
        let unacked = sys::unacknowledged(stream.as_fd()).map_or(u64::MAX, |n| n as u64);
        let acked = self.written.saturating_sub(unacked);
        self.ends.iter().filter(|end| **end > acked).count() as u64
    }

    /// How many messages may have been lost with a connection that ended so. The kernel's
    /// counts outlive the connection (`SIOCOUTQ` and the last window stay as they were when it
    /// was reset), so this is a fresh look, not the last one.
    pub(super) fn in_doubt(&mut self, stream: &TcpStream, ending: &Ending) -> u64 {
        match ending {
            Ending::Closed(_) => self.unacknowledged(stream),
            Ending::Failed(_) => {
                self.look(stream, MARGIN);
                self.ends.len() as u64
            }
        }
    }
}

/// Whether a write reached the end of the message it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MessageEnd {
    Reached,
    NotYet,
}

/// How a connection ended, which decides what on it is in doubt.
#[derive(Debug)]
pub(super) enum Ending {
    /// The server closed it (its FIN, seen by a read, or `EPIPE` from a write, which Linux
    /// gives when a reset follows the FIN): it had then read everything its kernel had
    /// acknowledged, because a socket closed with unread data sends a reset instead of a FIN
    /// (RFC 2525 2.17, Linux's `tcp_close`). What it had not acknowledged is lost.
    Closed(io::Error),
    /// A reset, or any other failure: the server may not have read what it acknowledged either
    /// (see [`Flight`]).
    Failed(io::Error),
}

impl Ending {
    pub(super) fn of(err: io::Error) -> Ending {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Ending::Closed(err)
        } else {
            Ending::Failed(err)
        }
    }

    /// The end of a connection whose server is seen to have closed it.
    pub(super) fn closed() -> Ending {
        Ending::Closed(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "closed by the server",
        ))
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Closed(err) | Ending::Failed(err) => err.fmt(f),
        }
    }
}

/// Whether the server has closed or reset `stream`, as a read that does not wait tells. What a
/// server sent (syslog servers send nothing) is read and dropped, as nothing else reads it: left
/// there, it would hide a close behind it.
pub(super) fn ended(stream: &TcpStream) -> Option<Ending> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(stream);
    let mut scratch = [0u8; 4096];
    // A server that keeps sending is not read to its end here: the next look goes on.
    for _ in 0..16 {
        match recv(fd, &mut scratch, MsgFlags::MSG_DONTWAIT) {
            Ok(0) => return Some(Ending::closed()),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => return None,
            Err(errno) => return Some(Ending::of(errno.into())),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    /// A connected pair on loopback: (teelog's side, the server's).
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    /// Writes `message` as teelog does, counting it in `flight`.
    fn send(stream: &mut TcpStream, flight: &mut Flight, message: &[u8]) -> io::Result<()> {
        stream.write_all(message)?;
        flight.wrote(message.len(), MessageEnd::Reached);
        Ok(())
    }

    /// Waits until the server's data or close has reached `stream`.
    fn readable(stream: &TcpStream) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::from(10_000u16)), Ok(1));
    }

    /// Writes until the connection says it is over, as the next messages would.
    fn write_until_broken(stream: &mut TcpStream) -> io::Error {
        loop {
            if let Err(err) = stream.write_all(b"x") {
                return err;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn a_look_finds_the_servers_close_also_behind_what_it_sent() {
        let (client, mut server) = pair();
        assert!(ended(&client).is_none());
        server.write_all(b"hi").unwrap();
        readable(&client);
        assert!(ended(&client).is_none(), "data is not an end");
        server.write_all(b"bye").unwrap();
        drop(server);
        readable(&client);
        assert!(matches!(ended(&client), Some(Ending::Closed(_))));
    }

    #[test]
    fn after_a_clean_close_only_what_the_server_did_not_acknowledge_is_in_doubt() {
        let (mut client, mut server) = pair();
        let mut flight = Flight::default();
        for _ in 0..3 {
            send(&mut client, &mut flight, &[b'a'; 100]).unwrap();
        }
        let mut read = [0u8; 300];
        server.read_exact(&mut read).unwrap();
        drop(server);
        readable(&client);
        // Written into the connection the server had closed: lost, and counted.
        send(&mut client, &mut flight, &[b'b'; 100]).unwrap();
        let ending = Ending::of(write_until_broken(&mut client));
        assert!(matches!(ending, Ending::Closed(_)), "{ending}");
        assert_eq!(flight.in_doubt(&client, &ending), 1);
    }

    #[test]
    fn after_a_reset_what_the_server_may_not_have_read_is_in_doubt() {
        let (mut client, server) = pair();
        let mut flight = Flight::default();
        for _ in 0..3 {
            send(&mut client, &mut flight, &[b'a'; 100]).unwrap();
        }
        // Closed with the three unread: a reset, and all three are in doubt, though acknowledged.
        drop(server);
        let ending = Ending::of(write_until_broken(&mut client));
        assert!(matches!(ending, Ending::Failed(_)), "{ending}");
        assert_eq!(flight.in_doubt(&client, &ending), 3);
    }
}
