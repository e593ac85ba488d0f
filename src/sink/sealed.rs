//! A sealed jsonl log (`--seal`): the records the formatter made go through the [`Sealer`],
//! which stamps each one and adds the seals, into one buffer written whole. A rotation starts a
//! new part: teelog's own (`--max-size`) after a seal as the old file's last line; logrotate's
//! rename or copytruncate as soon as it is seen. The format is docs/sealing.md.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use super::Sink;
use crate::dest::Kind;
use crate::seal::sealer::SEAL_ROOM;
use crate::seal::{Sealer, Sealing};

/// What a sealed log's sink keeps beside its destination.
#[derive(Debug)]
pub(super) struct Sealed {
    pub(super) sealer: Sealer,
    /// The stamped records and seals of one write.
    staged: Vec<u8>,
    /// The seal lines made since the fan-out last took them, for the logging services.
    pub(super) made: Vec<Vec<u8>>,
    /// The device and inode of the file the run's current part is in.
    identity: (u64, u64),
    /// The run has ended: the next write ends with the final seal.
    pub(super) ending: bool,
}

impl Sealed {
    pub(super) fn new(sealing: &Sealing, path: &Path, identity: (u64, u64)) -> Box<Sealed> {
        Box::new(Sealed {
            sealer: Sealer::new(sealing, path),
            staged: Vec::new(),
            made: Vec::new(),
            identity,
            ending: false,
        })
    }

    /// Keeps the seal line at `range` of `staged` for the logging services.
    fn keep(&mut self, range: Option<std::ops::Range<usize>>) {
        if let Some(range) = range {
            self.made.push(self.staged[range].to_vec());
        }
    }
}

impl Sink {
    /// Writes the records in `buf` through the sealer, with a seal when one is due (or the
    /// final one when the run has ended). `size` is the file's size before, when known; returns
    /// its size after. A copytruncate (the file shorter than this run left it, `truncated`) or
    /// a rename by logrotate (the path reopened on another file) starts a new part.
    pub(super) fn write_sealed(&mut self, size: Option<u64>, truncated: bool) -> Option<u64> {
        let Sink {
            seal: Some(sealed),
            out,
            buf,
            ..
        } = self
        else {
            return size;
        };
        let identity = out.log.as_ref().map(|log| log.identity);
        if truncated || identity.is_some_and(|id| id != sealed.identity) {
            sealed.sealer.new_file();
            sealed.identity = identity.unwrap_or(sealed.identity);
        }
        let max = out
            .log
            .as_ref()
            .and_then(|log| log.rotation.max_size)
            .unwrap_or(u64::MAX);
        let mut size = size.or_else(|| out.file().and_then(|f| f.metadata().ok()).map(|m| m.len()));
        sealed.staged.clear();
        let [bytes, _, _] = buf.slices(&[]);
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let before = size.unwrap_or(0) + sealed.staged.len() as u64;
            if before > 0 && before + line.len() as u64 + SEAL_ROOM > max {
                let range = sealed.sealer.seal(false, &mut sealed.staged);
                sealed.keep(Some(range));
                sealed.sealer.settle(&sealed.staged);
                out.write_whole(&sealed.staged);
                sealed.staged.clear();
                if let Err(err) = out.rotate() {
                    out.fail(err);
                    return None;
                }
                sealed.sealer.new_file();
                if let Some(Kind::File(file)) = &out.to
                    && let Ok(meta) = file.metadata()
                {
                    sealed.identity = (meta.dev(), meta.ino());
                    size = Some(meta.len());
                }
            }
            let range = sealed.sealer.stamp(line, &mut sealed.staged);
            sealed.keep(range);
        }
        if sealed.ending {
            let range = sealed.sealer.seal(true, &mut sealed.staged);
            sealed.keep(Some(range));
        } else if sealed.sealer.due(Instant::now()) {
            let range = sealed.sealer.seal(false, &mut sealed.staged);
            sealed.keep(Some(range));
        }
        if sealed.staged.is_empty() {
            return size;
        }
        sealed.sealer.settle(&sealed.staged);
        out.write_whole(&sealed.staged);
        size.map(|size| size + sealed.staged.len() as u64)
    }

    /// Opens the log's path again if logrotate moved the file away ([`crate::dest::Dest`]'s
    /// `follow_path`); a sealed log first ends the old file with a seal of it (which
    /// logrotate's `compress` without `delaycompress` may miss: the chain still covers those
    /// lines, and the new file's first record names the last seal).
    pub(super) fn follow_path(&mut self) {
        let Sink { seal, out, .. } = self;
        let Some(sealed) = seal else {
            out.follow_path();
            return;
        };
        out.follow_path_with(|old| {
            if !sealed.sealer.unsealed() {
                return;
            }
            sealed.staged.clear();
            let range = sealed.sealer.seal(false, &mut sealed.staged);
            sealed.keep(Some(range));
            sealed.sealer.settle(&sealed.staged);
            old.write_whole(&sealed.staged);
        });
    }

    /// Whether the sink seals and has records waiting for a seal past `--seal-interval`.
    pub(super) fn seal_due(&self, now: Instant) -> bool {
        self.seal.as_ref().is_some_and(|s| s.sealer.due(now))
    }

    /// When the sink's records are owed a seal (none: nothing waits).
    pub(super) fn seal_deadline(&self) -> Option<Instant> {
        self.seal.as_ref().and_then(|s| s.sealer.deadline())
    }
}
