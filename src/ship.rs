//! `teelog ship SPOOL|DIR`: sends what a spool holds beyond its cursor (what a run's collector had
//! not acknowledged when the run ended), with the destination and TLS settings the spool
//! records; for a directory, every spool in it that no running teelog is shipping. With
//! `--follow` it does not end: a spool is kept shipped as it grows, a directory looked at again
//! every few seconds (the service `teelog-ship` runs it on /var/spool/teelog).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::ShipArgs;
use crate::dest::remote::ship;
use crate::error::{Error, quote, report};

/// How often `teelog ship --follow DIR` looks for spools left to ship.
const RESCAN: Duration = Duration::from_secs(2);

/// Ships `args.spool`; returns the exit code: 0 when everything is acknowledged, 1 when some
/// could not be sent. A spool that cannot be read, or whose TLS files no longer load, is a usage
/// error.
pub fn ship(args: &ShipArgs) -> Result<u8, Error> {
    if !args.spool.is_dir() {
        return match one(&args.spool, args, args.follow)? {
            Shipped::Sent | Shipped::Busy => Ok(0),
            Shipped::Failed => Ok(1),
        };
    }
    loop {
        let mut failed = false;
        for spool in spools(&args.spool)? {
            match one(&spool, args, false) {
                Ok(Shipped::Failed) => failed = true,
                Ok(_) => {}
                // One bad spool does not stop the others.
                Err(err) => {
                    report(&err);
                    failed = true;
                }
            }
        }
        if !args.follow {
            return Ok(u8::from(failed));
        }
        std::thread::sleep(RESCAN);
    }
}

/// The `*.spool` files of `dir`, oldest name first (names start with the run's time-ordered
/// session).
fn spools(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::Usage(format!("{}: {e}", quote(dir))))?;
    let mut spools: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "spool") && p.is_file())
        .collect();
    spools.sort();
    Ok(spools)
}

/// How shipping one spool went.
enum Shipped {
    Sent,
    /// A running teelog is shipping it (skipped in a directory).
    Busy,
    Failed,
}

fn one(path: &Path, args: &ShipArgs, follow: bool) -> Result<Shipped, Error> {
    let mut setup_failed = false;
    let shipped = ship::ship(
        path,
        |spool| ship::peer(&spool.shipment).inspect_err(|_| setup_failed = true),
        args.ship_timeout,
        follow,
    );
    match shipped {
        Ok(n) => {
            report(format_args!(
                "{}: {n} message{} sent and acknowledged",
                quote(path),
                if n == 1 { "" } else { "s" }
            ));
            Ok(Shipped::Sent)
        }
        Err(ship::Unshipped::Busy(_)) if args.spool.is_dir() => Ok(Shipped::Busy),
        Err(ship::Unshipped::Busy(message)) | Err(ship::Unshipped::Failed(message)) => {
            if setup_failed {
                return Err(Error::Usage(message));
            }
            report(message);
            Ok(Shipped::Failed)
        }
        Err(ship::Unshipped::NotSpool(message)) => Err(Error::Usage(message)),
    }
}
