//! The policy of an acknowledged destination: the run appends each message to a spool on disk
//! ([`Spooled`]) and a thread of its own ships it from there, so that the command never waits
//! for the network and a collector that is down, slow or frozen costs disk, not memory. The
//! shipper connects, sends what the cursor has not passed, moves the cursor as acknowledgements
//! come, and when the connection breaks (a restart, a dead peer) connects again after a backoff
//! (doubling from 100 ms to 10 s, with jitter) and sends again what was not acknowledged. A
//! refusal (a certificate, a session the server will not open) stops it: the spool keeps
//! everything for `teelog ship`.
//!
//! At the end of the run teelog waits at most `--ship-timeout` for the last acknowledgements;
//! what is left is said in one line with the command that sends it (`super::resume`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::session::{Ended, Peer, Progress, Session, Stop};
use super::spool::{Cursor, Framing, Records, Shipment, Spool, SpoolWriter, TlsSettings};
use super::tls::{self, TlsFiles};
use crate::dest::spec::{Security, host_of};
use crate::error::report;

/// Backoff between connections: the first wait, and the longest.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// Once the run has ended, the longest wait between two tries.
const ENDING_RETRY: Duration = Duration::from_millis(250);

/// How long an idle live shipper waits for the run's next records (it is woken by each), and
/// how often `teelog ship --follow` looks for more.
const LIVE_IDLE: Duration = Duration::from_millis(50);
const FOLLOW_IDLE: Duration = Duration::from_millis(500);

/// How `relp=` and `syslog=tls:` destinations are shipped, from the flags.
#[derive(Clone, Debug)]
pub struct Shipping {
    /// `--tls-ca`, `--tls-cert`, `--tls-key`.
    pub tls: TlsFiles,
    /// `--tls-name`: the name the server's certificate must have, instead of the host's.
    pub tls_name: Option<String>,
    pub spool_dir: PathBuf,
    /// `--ship-timeout`
    pub timeout: Duration,
    /// `--max-message`
    pub max_message: usize,
    /// The run's session, which names its spools.
    pub session: String,
}

/// One shipped destination, as `-o` gives it.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// `relp=tls:HOST:PORT`
    pub name: String,
    pub framing: Framing,
    pub addr: &'a str,
    pub security: Security,
}

impl Shipping {
    /// The TLS settings of a destination, checked (files read, names parsed): Err is the
    /// usage error, one line.
    fn tls(&self, target: &Target<'_>) -> Result<Option<TlsSettings>, String> {
        Ok(match target.security {
            Security::Clear => None,
            Security::Tls => Some(TlsSettings {
                // Absolute, for a `teelog ship` started elsewhere.
                files: TlsFiles {
                    ca: self.tls.ca.as_deref().map(absolute),
                    cert: self.tls.cert.as_deref().map(absolute),
                    key: self.tls.key.as_deref().map(absolute),
                },
                name: self
                    .tls_name
                    .clone()
                    .unwrap_or_else(|| host_of(target.addr).to_owned()),
            }),
        })
    }
}

/// The connection settings of `shipment`, its TLS files loaded: Err is one line.
pub fn peer(shipment: &Shipment) -> Result<Peer, String> {
    let tls = match &shipment.tls {
        None => None,
        Some(settings) => {
            let config = tls::client_config(&settings.files)?;
            let name = tls::server_name(&settings.name)
                .map_err(|e| format!("--tls-name {}: {e}", settings.name))?;
            Some((config, name))
        }
    };
    Ok(Peer {
        addr: shipment.addr.clone(),
        framing: shipment.framing,
        tls,
    })
}

/// Where the shipping of a spool stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Shipping,
    /// Everything is acknowledged.
    Done,
    /// The server refused teelog, or the spool cannot be used: nothing more is sent.
    Stopped(String),
}

/// What the run (or `teelog ship`) and the shipper's thread share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) acked: AtomicU64,
    pub(super) resent: AtomicU64,
    /// No more records will be appended.
    pub(super) ending: AtomicBool,
    /// Nobody waits any more: the thread stops.
    pub(super) abandoned: AtomicBool,
    pub(super) phase: Mutex<Phase>,
    pub(super) changed: Condvar,
    /// The last trouble, for `teelog ship`'s message.
    pub(super) trouble: Mutex<Option<String>>,
}

impl Shared {
    pub(super) fn new(acked: u64, ending: bool) -> Shared {
        Shared {
            acked: AtomicU64::new(acked),
            resent: AtomicU64::new(0),
            ending: AtomicBool::new(ending),
            abandoned: AtomicBool::new(false),
            phase: Mutex::new(Phase::Shipping),
            changed: Condvar::new(),
            trouble: Mutex::new(None),
        }
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap() = phase;
        self.changed.notify_all();
    }

    /// Waits until the phase is no longer `Shipping`, an acknowledgement came, or `until`.
    pub(super) fn wait(&self, until: Instant) -> Phase {
        let phase = self.phase.lock().unwrap();
        let left = until.saturating_duration_since(Instant::now());
        let (phase, _) = self
            .changed
            .wait_timeout_while(phase, left, |p| *p == Phase::Shipping)
            .unwrap();
        phase.clone()
    }
}

/// Whether the shipper stops once everything is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// For a run, or `teelog ship`: when no more records will come and all are acknowledged.
    Finish,
    /// `teelog ship --follow`: never; it waits for more.
    Follow,
}

/// Who says what went wrong: a run's shipper, as it happens; for `teelog ship`, its one line
/// at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Voice {
    Live,
    Quiet,
}

/// The shipper's thread.
#[derive(Debug)]
struct Shipper {
    spool: Spool,
    peer: Peer,
    shared: Arc<Shared>,
    mode: Mode,
    voice: Voice,
    /// The next backoff.
    retry: Duration,
    /// When trouble was last reported, and whether a session has worked since.
    reported: Option<Instant>,
    worked: bool,
    random: u64,
}

impl Shipper {
    fn run(mut self) {
        let mut resend = 0;
        while !self.shared.abandoned.load(Ordering::Relaxed) {
            let result = Session::open(&self.peer).and_then(|mut session| {
                self.shared.resent.fetch_add(resend, Ordering::Relaxed);
                let mut records = Records::from(self.spool.cursor.offset);
                let before = self.spool.cursor.acked;
                let mut progress = Acks {
                    shared: &self.shared,
                    mode: self.mode,
                };
                let ended = session.run(&mut self.spool, &mut records, &mut progress);
                resend = session.unacknowledged();
                if self.spool.cursor.acked > before {
                    self.retry = FIRST_RETRY;
                    self.worked = true;
                }
                ended
            });
            match result {
                Ok(Ended::AllSent) => return self.shared.set(Phase::Done),
                Ok(Ended::Renew) => continue,
                Err(Stop::Broken(why)) => self.trouble(&why),
                Err(Stop::Refused(why)) => {
                    if self.voice == Voice::Live {
                        report(format_args!(
                            "{}: {why}; nothing more is sent to it by this run (the spool {} \
                             keeps every message)",
                            self.spool.shipment.target,
                            shell_path(&self.spool.path)
                        ));
                    }
                    return self.shared.set(Phase::Stopped(why));
                }
            }
            self.pause();
        }
    }

    /// Says what went wrong, once, and again only after a session has worked since (at most
    /// once a minute).
    fn trouble(&mut self, why: &str) {
        *self.shared.trouble.lock().unwrap() = Some(why.to_owned());
        if self.voice == Voice::Quiet {
            return;
        }
        let due = match self.reported {
            None => true,
            Some(at) => self.worked && at.elapsed() >= Duration::from_secs(60),
        };
        if due {
            report(format_args!(
                "{}: {why}; the messages wait in {} and are sent when it is back",
                self.spool.shipment.target,
                shell_path(&self.spool.path)
            ));
            self.reported = Some(Instant::now());
            self.worked = false;
        }
    }

    /// Waits the backoff (with jitter: between half and all of it), shortened once the run
    /// has ended; doubles it for next time.
    fn pause(&mut self) {
        // xorshift64: jitter needs no more.
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let fraction = 0.5 + (self.random % 1000) as f64 / 2000.0;
        let wait = self.retry.mul_f64(fraction);
        self.retry = (self.retry * 2).min(LAST_RETRY);
        let start = Instant::now();
        while !self.shared.abandoned.load(Ordering::Relaxed) {
            let cap = match self.shared.ending.load(Ordering::Relaxed) {
                true => wait.min(ENDING_RETRY),
                false => wait,
            };
            let Some(left) = cap.checked_sub(start.elapsed()) else {
                return;
            };
            thread::park_timeout(left);
        }
    }
}

/// The session's view of the shipper.
struct Acks<'a> {
    shared: &'a Shared,
    mode: Mode,
}

impl Progress for Acks<'_> {
    fn acked(&mut self, cursor: Cursor) {
        self.shared.acked.store(cursor.acked, Ordering::Relaxed);
        self.shared.changed.notify_all();
    }

    fn ending(&self) -> bool {
        self.mode == Mode::Finish && self.shared.ending.load(Ordering::Acquire)
    }

    fn idle(&self) {
        match self.mode {
            Mode::Finish => thread::park_timeout(LIVE_IDLE),
            Mode::Follow => thread::sleep(FOLLOW_IDLE),
        }
    }
}

pub(super) fn spawn(
    spool: Spool,
    peer: Peer,
    shared: Arc<Shared>,
    mode: Mode,
    voice: Voice,
) -> std::io::Result<JoinHandle<()>> {
    let random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1)
        ^ u64::from(std::process::id());
    let shipper = Shipper {
        spool,
        peer,
        shared,
        mode,
        voice,
        retry: FIRST_RETRY,
        reported: None,
        worked: false,
        random: random | 1,
    };
    // Signals are the runner's: the shipper's thread takes none (nor SIGTTOU, which would
    // stop teelog when it reports on a terminal it handed to the command).
    use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
    let mut old = SigSet::empty();
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut old));
    let spawned = thread::Builder::new()
        .name("teelog-ship".into())
        .spawn(move || shipper.run());
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    spawned
}

/// The run's side of an acknowledged destination: its spool, and the thread shipping it.
#[derive(Debug)]
pub struct Spooled {
    writer: SpoolWriter,
    /// Whether the spool still takes messages (not after a failed write: a full disk).
    writing: Writing,
    /// When the run ended: the wait for the last acknowledgements counts from then.
    ending_at: Option<Instant>,
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
    name: String,
    timeout: Duration,
}

/// Whether a spool takes messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writing {
    Open,
    Failed,
}

/// Why a shipped destination could not be set up.
#[derive(Debug)]
pub enum SetupError {
    /// A flag's value (a TLS file, a name): a usage error.
    Usage(String),
    /// The spool could not be created.
    Spool(PathBuf, std::io::Error),
}

impl Spooled {
    /// Checks `target`'s settings, creates its spool in the spool directory (named after the
    /// session and the target), and starts shipping it.
    pub fn open(target: &Target<'_>, shipping: &Shipping) -> Result<Spooled, SetupError> {
        let shipment = Shipment {
            target: target.name.clone(),
            framing: target.framing,
            addr: target.addr.to_owned(),
            tls: shipping.tls(target).map_err(SetupError::Usage)?,
        };
        let peer = peer(&shipment).map_err(SetupError::Usage)?;
        let stem: String = format!("{}.{}", shipping.session, target.name)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let dir = &absolute(&shipping.spool_dir);
        let writer = SpoolWriter::create(dir, &stem, &shipment)
            .map_err(|e| SetupError::Spool(dir.join(format!("{stem}.spool")), e))?;
        Spooled::start(writer, peer, shipping.timeout).map_err(SetupError::Usage)
    }

    /// The spool's path and file.
    pub fn spool(&self) -> (&Path, &std::fs::File) {
        (&self.writer.path, self.writer.file())
    }

    /// Starts shipping the spool `writer` made to `peer`.
    fn start(writer: SpoolWriter, peer: Peer, timeout: Duration) -> Result<Spooled, String> {
        let spool = Spool::open(&writer.path)?;
        let name = spool.shipment.target.clone();
        let shared = Arc::new(Shared::new(0, false));
        let thread = spawn(spool, peer, shared.clone(), Mode::Finish, Voice::Live)
            .map_err(|e| format!("{name}: cannot start its shipper: {e}"))?;
        Ok(Spooled {
            writer,
            writing: Writing::Open,
            ending_at: None,
            shared,
            thread,
            name,
            timeout,
        })
    }

    /// Appends `messages` to the spool and wakes the shipper.
    pub fn send<'a>(&mut self, messages: impl Iterator<Item = &'a [u8]>) -> std::io::Result<()> {
        if self.writing == Writing::Failed {
            return Ok(());
        }
        if self.writer.append(messages)? > 0 {
            self.thread.thread().unpark();
        }
        Ok(())
    }

    /// Takes no more messages (a write failed and was reported): the shipper goes on with what
    /// the spool holds.
    pub fn stop_writing(&mut self) {
        self.writing = Writing::Failed;
    }

    /// No more messages will come: the shipper may close its session once all is acknowledged.
    pub fn end_soon(&mut self) {
        if self.ending_at.is_none() {
            self.ending_at = Some(Instant::now());
            self.shared.ending.store(true, Ordering::Release);
            self.thread.thread().unpark();
        }
    }

    /// Messages sent again after a reconnect so far (the collector may have them twice).
    pub fn resent(&self) -> u64 {
        self.shared.resent.load(Ordering::Relaxed)
    }

    /// At the end of the run: waits at most the ship timeout for the last acknowledgements.
    /// When all came the spool is removed; otherwise one line says how many did not, where
    /// they are, and how to send them. Nothing is lost either way: returns 0.
    pub fn finish(&mut self) -> u64 {
        self.end_soon();
        // A Ctrl-C or a kill meanwhile ends the wait (checked every 100 ms).
        let until = self.ending_at.unwrap_or_else(Instant::now) + self.timeout;
        let mut phase = Phase::Shipping;
        let mut stop = None;
        while phase == Phase::Shipping && Instant::now() < until {
            stop = crate::signal::stop_asked();
            if stop.is_some() {
                break;
            }
            phase = self
                .shared
                .wait(until.min(Instant::now() + Duration::from_millis(100)));
        }
        self.shared.abandoned.store(true, Ordering::Relaxed);
        self.thread.thread().unpark();
        let left = self
            .writer
            .written
            .saturating_sub(self.shared.acked.load(Ordering::Relaxed));
        if phase == Phase::Done {
            let _ = std::fs::remove_file(&self.writer.path);
            return 0;
        }
        let path = shell_path(&self.writer.path);
        let stopped = stop.map_or_else(String::new, |s| {
            format!(" (the wait ended at {})", crate::signal::name(s))
        });
        report(format_args!(
            "{}: {left} message{} not acknowledged{stopped}; kept in {path}; send them with: \
             teelog ship {path}",
            self.name,
            if left == 1 { "" } else { "s" }
        ));
        0
    }
}

/// `path` made absolute (from the current directory), as it is (the error comes when it is
/// read) if that fails.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// A path as a shell takes it, to copy into a command line.
pub(super) fn shell_path(path: &Path) -> String {
    let text = path.display().to_string();
    shlex::try_quote(&text).map_or(text.clone(), |p| p.into_owned())
}
