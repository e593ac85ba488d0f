//! `teelog ship SPOOL`: a spool that a run left with messages not acknowledged, shipped again
//! with the settings it records, by the same shipper a run uses.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::session::Peer;
use super::ship::{Mode, Phase, Shared, Voice, shell_path, spawn};
use super::spool::{Spool, count_from};
use crate::error::{quote, report};

/// Why `teelog ship` did not send a spool: each a line to show.
#[derive(Debug)]
pub enum Unshipped {
    /// Not a spool, or unreadable.
    NotSpool(String),
    /// A running teelog holds it.
    Busy(String),
    /// The collector did not take it all, or the TLS settings do not load.
    Failed(String),
}

/// `teelog ship SPOOL`: sends what the spool holds beyond its cursor; removes it once all is
/// acknowledged, and returns how many were. Gives up after `timeout` without an
/// acknowledgement, or at a refusal; with `follow`, never gives up and keeps shipping what is
/// appended.
pub fn ship(
    path: &Path,
    peer: impl FnOnce(&Spool) -> Result<Peer, String>,
    timeout: Duration,
    follow: bool,
) -> Result<u64, Unshipped> {
    let spool = Spool::open(path).map_err(Unshipped::NotSpool)?;
    let name = quote(path);
    // Following, a spool a run is shipping is taken over once the run has ended.
    let locked = match follow {
        true => spool.file().lock().map_err(|_| ()),
        false => spool.file().try_lock().map_err(|_| ()),
    };
    if locked.is_err() {
        return Err(Unshipped::Busy(format!(
            "{name}: a running teelog is shipping it"
        )));
    }
    let (left, tail) = count_from(spool.file(), spool.cursor.offset)
        .map_err(|e| Unshipped::NotSpool(format!("{name}: {e}")))?;
    if let Some(at) = tail.filter(|_| !follow) {
        report(format_args!(
            "warning: {name}: the bytes from {at} on are not whole messages (a run cut short?); \
             they are not sent"
        ));
    }
    if left == 0 && !follow {
        std::fs::remove_file(path).map_err(|e| Unshipped::Failed(format!("{name}: {e}")))?;
        return Ok(0);
    }
    let peer = peer(&spool).map_err(Unshipped::Failed)?;
    let target = spool.shipment.target.clone();
    let acked_before = spool.cursor.acked;
    let mode = if follow { Mode::Follow } else { Mode::Finish };
    let shared = Arc::new(Shared::new(acked_before, !follow));
    let thread = spawn(spool, peer, shared.clone(), mode, Voice::Quiet)
        .map_err(|e| Unshipped::Failed(format!("{name}: {e}")))?;
    let mut acked = acked_before;
    let mut heard = Instant::now();
    loop {
        let phase = shared.wait(Instant::now() + Duration::from_millis(200));
        let now = shared.acked.load(Ordering::Relaxed);
        if now != acked {
            acked = now;
            heard = Instant::now();
        }
        match phase {
            Phase::Done => {
                let _ = thread.join();
                std::fs::remove_file(path)
                    .map_err(|e| Unshipped::Failed(format!("{name}: {e}")))?;
                return Ok(acked - acked_before);
            }
            Phase::Stopped(why) => {
                return Err(Unshipped::Failed(format!(
                    "{target}: {why}; {} messages left in {}",
                    left - (acked - acked_before),
                    shell_path(path)
                )));
            }
            Phase::Shipping if !follow && heard.elapsed() >= timeout => {
                shared.abandoned.store(true, Ordering::Relaxed);
                let why = shared.trouble.lock().unwrap().take();
                let why = why.unwrap_or_else(|| "no acknowledgement".into());
                return Err(Unshipped::Failed(format!(
                    "{target}: {why}; gave up after {} s; {} messages left in {}",
                    timeout.as_secs_f64(),
                    left - (acked - acked_before),
                    shell_path(path)
                )));
            }
            Phase::Shipping => {}
        }
    }
}
