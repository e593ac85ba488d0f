//! `teelog ship SPOOL`: sends what a spool holds beyond its cursor (what a run's collector had
//! not acknowledged when the run ended), with the destination and TLS settings the spool
//! records.

use crate::cli::ShipArgs;
use crate::dest::remote::ship;
use crate::error::{Error, report};

/// Ships `args.spool`; says how many messages went. A spool that cannot be read, or whose TLS
/// files no longer load, is a usage error; a collector that does not take the messages is a
/// failure (exit 1).
pub fn ship(args: &ShipArgs) -> Result<u8, Error> {
    let mut setup_failed = None;
    let shipped = ship::ship(
        &args.spool,
        |spool| ship::peer(&spool.shipment).inspect_err(|e| setup_failed = Some(e.clone())),
        args.ship_timeout,
        args.follow,
    );
    match shipped {
        Ok(n) => {
            report(format_args!(
                "{}: {n} message{} sent and acknowledged",
                crate::error::quote(&args.spool),
                if n == 1 { "" } else { "s" }
            ));
            Ok(0)
        }
        Err(message) if setup_failed.is_some() => Err(Error::Usage(message)),
        Err(message) if message.contains("not a teelog spool") => Err(Error::Usage(message)),
        Err(message) => {
            report(message);
            Ok(1)
        }
    }
}
