//! The `teelog` binary: parse, run, turn the result into the exit status.

use std::process::ExitCode;

use teelog::cli::Cli;
use teelog::error::{Error, report};
use teelog::event::Status;
use teelog::runner::relay;

fn main() -> ExitCode {
    // clap's errors quote the flags: the values --redact-env names are masked from the start.
    teelog::app::redact_messages_named();
    let cli = match Cli::parse_checked(std::env::args_os()) {
        Ok(cli) => cli,
        // --help
        Err(err) if !err.use_stderr() => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let err = Error::from_clap(&err);
            report(&err);
            return ExitCode::from(err.exit_code());
        }
    };
    match teelog::run(cli) {
        // A code is a process's (0..=255): the command's passed through, or teelog's own.
        Ok(Status::Code(code)) => ExitCode::from(code as u8),
        Ok(Status::Signal(signal)) => {
            relay::die_by(signal);
            // Only if the signal did not end teelog: the shell's way of saying the same.
            ExitCode::from((128 + signal) as u8)
        }
        Err(err) => {
            report(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
