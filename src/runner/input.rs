//! Forwarding teelog's stdin to the command (`--log-input`), recording what the command has
//! read of it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

use super::spawn::INPUT_PIPE_SIZE;
use super::{Clock, Reading};
use crate::error::{Error, report};
use crate::event::{Chunk, Events, Stream};
use crate::sys;

/// teelog's stdin passed on to the command (`--log-input`), one pipe-load at a time.
#[derive(Debug)]
pub(super) struct Input {
    /// teelog's stdin (a duplicate: its flags stay as they are, and reads wait for data only
    /// after poll said there is some).
    from: File,
    /// The command's stdin; `None` once forwarding has ended (end of input, the command gone).
    to: Option<File>,
    /// Read but not yet taken by the pipe.
    pending: Vec<u8>,
    /// The pipe held nothing when last looked at: the command has taken everything.
    empty: bool,
    /// Written into the pipe but not known to be read by the command yet: recorded once it is
    /// (see [`Input::settle`]); what is still there when the run ends was never read.
    unrecorded: Vec<u8>,
    /// The command's end of the pipe (a duplicate of it), to ask how much is unread.
    probe: File,
}

/// What forwarding waits for, on which descriptor.
#[derive(Debug)]
pub(super) enum Wait<'a> {
    /// Room in the pipe to the command's stdin.
    Room(BorrowedFd<'a>),
    /// Data on teelog's stdin.
    Data(BorrowedFd<'a>),
}

impl Input {
    /// Forwards teelog's stdin into `to`, the command's stdin; `probe` is the command's end of
    /// that pipe, to ask how much it has not read yet.
    pub(super) fn new(to: File, probe: File) -> Result<Input, Error> {
        Ok(Input {
            from: io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
                .map_err(Error::Input)?,
            to: Some(to),
            pending: Vec::new(),
            empty: true,
            unrecorded: Vec::new(),
            probe,
        })
    }

    /// What the loop waits for: room in the command's pipe while something is pending or the
    /// pipe was not empty when last looked at, else data on teelog's stdin; nothing once
    /// forwarding has ended.
    pub(super) fn wait(&self) -> Option<Wait<'_>> {
        let to = self.to.as_ref()?;
        Some(if !self.pending.is_empty() || !self.empty {
            Wait::Room(to.as_fd())
        } else {
            Wait::Data(self.from.as_fd())
        })
    }

    /// Reads what teelog's stdin has (at most what the pipe holds) and passes it on (it is
    /// recorded once the command has read it). End of input closes the command's stdin; a failed
    /// read (reported) ends forwarding too, and leaves the reading incomplete.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> Reading {
        let buf = &mut buf[..INPUT_PIPE_SIZE];
        let n = match self.from.read(buf) {
            Ok(0) => {
                self.to = None;
                return Reading::Complete;
            }
            Ok(n) => n,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) =>
            {
                return Reading::Complete;
            }
            Err(err) => {
                report(format_args!("cannot read standard input: {err}"));
                self.to = None;
                return Reading::Incomplete;
            }
        };
        self.pending.extend_from_slice(&buf[..n]);
        self.empty = false;
        self.room();
        Reading::Complete
    }

    /// Records what the command has read of what was written into its pipe: all of it but
    /// what the pipe still holds (`true < drop.sql` reads nothing, and nothing is recorded).
    pub(super) fn settle(&mut self, clock: &Clock, fanout: &mut impl Events) {
        if self.unrecorded.is_empty() {
            return;
        }
        let Ok(unread) = sys::bytes_ready(self.probe.as_fd()) else {
            return;
        };
        let read = self.unrecorded.len().saturating_sub(unread);
        if read > 0 {
            fanout.chunk(&Chunk {
                stream: Stream::Stdin,
                time: clock.now(),
                bytes: &self.unrecorded[..read],
            });
            self.unrecorded.drain(..read);
        }
    }

    /// Writes what is pending as far as the pipe takes it; when nothing is pending, the pipe
    /// just polled writable, which for a one-page pipe means empty. A command that has closed its
    /// stdin or exited (EPIPE) ends forwarding, quietly: that is its right.
    pub(super) fn room(&mut self) {
        let Some(to) = &mut self.to else {
            return;
        };
        if self.pending.is_empty() {
            self.empty = true;
            return;
        }
        match to.write(&self.pending) {
            Ok(n) => {
                self.unrecorded.extend(self.pending.drain(..n));
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) => {}
            Err(_) => {
                self.to = None;
                self.pending.clear();
            }
        }
    }
}
