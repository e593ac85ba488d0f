//! teelog: run a command, show its output live, and keep an exact, timestamped log of it.
//!
//! The data walks one way: [`cli`] → [`runner`] (spawn, one reader thread per pipe) → [`event`]s
//! → [`sink::Fanout`] → each [`sink::Sink`] = a [`format::Formatter`] + a destination.

pub mod cli;
pub mod error;
pub mod event;
pub mod format;
pub mod runner;
pub mod sink;

use cli::Cli;
use error::Error;
use event::Status;
use format::Context;
use sink::{Fanout, Sink};

/// How teelog should end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit with this status.
    Exit(u8),
    /// Die of this signal, as the command did.
    Signal(i32),
}

/// Runs what `cli` describes; returns how teelog should end.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    if cli.command.is_empty() {
        return Err(Error::NoCommand);
    }
    let ctx = Context {
        user: whoami::username().unwrap_or_else(|_| "unknown".into()),
        host: whoami::hostname().unwrap_or_else(|_| "localhost".into()),
        session: uuid::Uuid::now_v7().to_string(),
        utc: cli.utc,
    };
    let mut sinks = Vec::with_capacity(cli.logs.len() + 1);
    if !cli.quiet {
        sinks.push(Sink::console(cli.format, &ctx));
    }
    for log in &cli.logs {
        sinks.push(Sink::log(log.format, &log.path, &ctx)?);
    }
    let mut fanout = Fanout::new(sinks);
    let spec = runner::Spec {
        argv: cli.command,
        merge: cli.merge,
        pause: cli.pause,
        grace: cli.grace,
    };
    let status = runner::run(&spec, &mut fanout)?;
    Ok(match status {
        Status::Code(0) if fanout.failed() => Outcome::Exit(error::EXIT_FAILED),
        Status::Code(code) => Outcome::Exit(code as u8),
        Status::Signal(signal) => Outcome::Signal(signal),
    })
}
