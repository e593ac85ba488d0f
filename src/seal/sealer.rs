//! What a sealed log's sink runs its records through: each gets `prev` (and, first in a new
//! file, `part` and `last_seal`), each becomes a leaf of the file's tree, and seals are written
//! when they are due. Pure: it fills a buffer the sink writes (docs/sealing.md).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::merkle::Tree;
use super::note::{Checkpoint, origin};
use super::{Hash, SigningKey, b64, chain_start, log_id, sha256};

/// How a run seals its jsonl logs: the plan's part (`--seal`, `--seal-every`, `--seal-interval`).
#[derive(Clone, Debug)]
pub struct Sealing {
    pub key: Arc<SigningKey>,
    /// A seal after this many records since the last one.
    pub every: u64,
    /// A seal this long after the first record not yet sealed.
    pub interval: Duration,
}

/// The default of `--seal-every`.
pub const EVERY: u64 = 1000;
/// The default of `--seal-interval`, in seconds.
pub const INTERVAL: u64 = 10;

/// The room a seal line takes at most, kept free under `--max-size` so that the seal before a
/// rotation fits in the file it seals.
pub const SEAL_ROOM: u64 = 2048;

/// The seal state of one log of one run.
#[derive(Debug)]
pub struct Sealer {
    sealing: Sealing,
    /// The `log` id of its seals.
    log: String,
    session: String,
    host: String,
    user: String,
    pid: Option<u32>,
    /// SHA-256 of the last line this run wrote to the log (any file of it).
    prev: Hash,
    /// SHA-256 of the last seal line, or the chain start.
    last_seal: Hash,
    /// The run's lines in the current file.
    tree: Tree,
    part: u64,
    /// The next line is the run's first in a new file (a part after the first).
    opens_part: bool,
    /// Records since the last seal, and when the first of them came.
    unsealed: u64,
    unsealed_since: Option<Instant>,
    /// The `seq` and `timestamp` of the last record stamped, read from it when a seal needs
    /// them or its buffer is let go ([`Sealer::settle`]), not for every record.
    seq: u64,
    time: String,
    /// Where the last line stamped starts in the buffer of the current write, until settled.
    last_at: Option<usize>,
}

impl Sealer {
    /// The sealer of the log at `path` (its id is the path as given).
    pub fn new(sealing: &Sealing, path: &Path) -> Sealer {
        Sealer {
            sealing: sealing.clone(),
            log: log_id(path),
            session: String::new(),
            host: String::new(),
            user: String::new(),
            pid: None,
            prev: [0; 32],
            last_seal: [0; 32],
            tree: Tree::new(),
            part: 0,
            opens_part: false,
            unsealed: 0,
            unsealed_since: None,
            seq: 0,
            time: String::new(),
            last_at: None,
        }
    }

    /// The run started: who and where, and the chain's start.
    pub fn start(&mut self, session: &str, host: &str, user: &str, pid: Option<u32>) {
        self.session = session.to_owned();
        self.host = host.to_owned();
        self.user = user.to_owned();
        self.pid = pid;
        self.prev = chain_start(session);
        self.last_seal = self.prev;
    }

    /// Stamps the record `line` (one whole jsonl line, newline included) onto `into` and adds
    /// it to the tree; then a seal when `--seal-every` records are unsealed, whose range in
    /// `into` it returns.
    pub fn stamp(&mut self, line: &[u8], into: &mut Vec<u8>) -> Option<std::ops::Range<usize>> {
        self.put(line, into);
        self.unsealed += 1;
        self.unsealed_since.get_or_insert_with(Instant::now);
        (self.unsealed >= self.sealing.every).then(|| self.seal(false, into))
    }

    /// Stamps `line` onto `into`: the fields of docs/sealing.md before its closing brace; the
    /// stamped line is the chain's and the tree's next.
    fn put(&mut self, line: &[u8], into: &mut Vec<u8>) {
        let body = line.strip_suffix(b"}\n").unwrap_or(line);
        let at = into.len();
        into.extend_from_slice(body);
        if self.opens_part {
            self.opens_part = false;
            into.extend_from_slice(b",\"part\":");
            into.extend_from_slice(itoa::Buffer::new().format(self.part).as_bytes());
            into.extend_from_slice(b",\"last_seal\":\"");
            push_b64(into, &self.last_seal);
            into.push(b'"');
        }
        into.extend_from_slice(b",\"prev\":\"");
        push_b64(into, &self.prev);
        into.extend_from_slice(b"\"}\n");
        let stamped = &into[at..];
        self.prev = sha256(stamped);
        self.tree.push(stamped);
        self.last_at = Some(at);
    }

    /// Reads the `seq` and `timestamp` of the last line stamped into `into`, which the caller
    /// is about to let go of (and which a seal needs).
    pub fn settle(&mut self, into: &[u8]) {
        let Some(at) = self.last_at.take() else {
            return;
        };
        let line = &into[at..];
        let line = &line[..memchr::memchr(b'\n', line).map_or(line.len(), |n| n + 1)];
        if let Some(seq) = seq_of(line) {
            self.seq = seq;
        }
        if let Some(time) = time_of(line) {
            self.time.clear();
            self.time.push_str(time);
        }
    }

    /// Whether records wait for a seal longer than `--seal-interval` at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|at| at <= now)
    }

    /// When the records not yet sealed are owed a seal (none when there are none).
    pub fn deadline(&self) -> Option<Instant> {
        self.unsealed_since.map(|t| t + self.sealing.interval)
    }

    /// Whether a record was stamped since the last seal.
    pub fn unsealed(&self) -> bool {
        self.unsealed > 0
    }

    /// Appends a seal of every line so far in this file (the run's last seal when
    /// `last_of_run`); returns the seal line's range in `into`.
    ///
    /// A seal's time is the one of the last record it covers: records of the same write stamped
    /// after it carry the time they were read, which can be earlier than the seal's writing, and
    /// times in a log never go back.
    pub fn seal(&mut self, last_of_run: bool, into: &mut Vec<u8>) -> std::ops::Range<usize> {
        self.settle(into);
        let time = if self.time.is_empty() {
            crate::seal::rfc3339(SystemTime::now())
        } else {
            self.time.clone()
        };
        let checkpoint = Checkpoint {
            origin: origin(&self.host, &self.session),
            size: self.tree.size(),
            root: self.tree.root(),
            seq: self.seq,
            time: time.clone(),
            log: self.log.clone(),
            part: self.part,
            last: self.last_seal,
            last_of_run,
        };
        let note = checkpoint.sign(&self.sealing.key);
        let json = |s: &str| serde_json::to_string(s).expect("a string");
        let pid = self.pid.map_or("null".to_owned(), |p| p.to_string());
        let record = format!(
            "{{\"type\":\"seal\",\"timestamp\":\"{time}\",\"session\":{},\"host\":{},\"user\":{},\"pid\":{pid},\"seq\":{},\"tree_size\":{},\"root\":\"{}\",\"final\":{last_of_run},\"note\":{}}}\n",
            json(&self.session),
            json(&self.host),
            json(&self.user),
            self.seq,
            checkpoint.size,
            b64(&checkpoint.root),
            json(&note),
        );
        let at = into.len();
        // Stamped as any record (a leaf of the seals after it), but not a record to seal.
        self.put(record.as_bytes(), into);
        self.last_seal = self.prev;
        self.unsealed = 0;
        self.unsealed_since = None;
        at..into.len()
    }

    /// The run's next line goes to a new file (a rotation): a tree of its own, the next part.
    pub fn new_file(&mut self) {
        self.tree = Tree::new();
        self.part += 1;
        self.opens_part = true;
    }
}

/// Appends the base64 of a hash (44 bytes) without allocating.
fn push_b64(into: &mut Vec<u8>, hash: &Hash) {
    use base64::Engine as _;
    let mut buf = [0u8; 44];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(hash, &mut buf)
        .expect("44 bytes hold the base64 of 32");
    into.extend_from_slice(&buf[..n]);
}

/// The `timestamp` of a stamped record: the first `"timestamp":"` key's string (RFC 3339, as
/// jsonl writes it, which has no escapes).
fn time_of(line: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"timestamp\":\"";
    let head = &line[..line.len().min(64)];
    let at = memchr::memmem::find(head, KEY)? + KEY.len();
    let end = at + memchr::memchr(b'"', line.get(at..)?)?;
    std::str::from_utf8(&line[at..end]).ok()
}

/// The `seq` of a stamped record: the first `"seq":` key's number (in a flat object of
/// escaped strings, `"seq":` can only be a key).
pub fn seq_of(line: &[u8]) -> Option<u64> {
    let at = memchr::memmem::find(line, b"\"seq\":")? + 6;
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::note;

    fn sealing(every: u64) -> Sealing {
        let (signer, _) = SigningKey::generate("db1").unwrap();
        Sealing {
            key: Arc::new(SigningKey::parse(&signer).unwrap()),
            every,
            interval: Duration::from_secs(10),
        }
    }

    fn record(seq: u64) -> Vec<u8> {
        format!("{{\"type\":\"output\",\"seq\":{seq},\"message\":\"m {seq}\"}}\n").into_bytes()
    }

    #[test]
    fn records_chain_and_seals_cover_the_files_lines() {
        let mut sealer = Sealer::new(&sealing(3), Path::new("/var/log/x.jsonl"));
        sealer.start("S", "db1", "ops", Some(7));
        let mut out = Vec::new();
        for seq in 1..=7 {
            sealer.stamp(&record(seq), &mut out);
        }
        let lines: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
        // 7 records and a seal after the 3rd and the 6th.
        assert_eq!(lines.len(), 9);
        let mut prev = chain_start("S");
        let mut tree = Tree::new();
        for line in &lines {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert_eq!(v["prev"], b64(&prev), "{}", String::from_utf8_lossy(line));
            if v["type"] == "seal" {
                let (text, _) = note::open(v["note"].as_str().unwrap()).unwrap();
                let cp = Checkpoint::parse(text).unwrap();
                assert_eq!(cp.size, tree.size());
                assert_eq!(cp.root, tree.root());
                assert_eq!(v["seq"], cp.seq);
            }
            prev = sha256(line);
            tree.push(line);
        }
        assert_eq!(seq_of(lines[3]), Some(3), "a seal has the seq before it");
    }

    #[test]
    fn a_new_file_starts_a_tree_and_names_the_last_seal() {
        let mut sealer = Sealer::new(&sealing(1000), Path::new("x"));
        sealer.start("S", "h", "u", None);
        let mut out = Vec::new();
        sealer.stamp(&record(1), &mut out);
        let seal = sealer.seal(false, &mut out);
        let seal_hash = sha256(&out[seal]);
        sealer.new_file();
        let mut next = Vec::new();
        sealer.stamp(&record(2), &mut next);
        let v: serde_json::Value = serde_json::from_slice(&next).unwrap();
        assert_eq!(v["part"], 1);
        assert_eq!(v["last_seal"], b64(&seal_hash));
        assert_eq!(v["prev"], b64(&seal_hash));
        let at = next.len();
        sealer.seal(true, &mut next);
        let v: serde_json::Value = serde_json::from_slice(&next[at..]).unwrap();
        let (text, _) = note::open(v["note"].as_str().unwrap()).unwrap();
        let cp = Checkpoint::parse(text).unwrap();
        assert_eq!((cp.size, cp.part, cp.last_of_run), (1, 1, true));
        assert_eq!(cp.last, seal_hash);
    }
}
