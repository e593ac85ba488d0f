//! teelog: run a command, show its output live, and keep an exact, timestamped log of it.
//!
//! The data walks one way: [`cli`] → [`app`] (the plan) → [`runner`] (spawn; one loop polls the
//! pipes), which pushes [`event`]s into an [`event::Events`] → [`sink::Fanout`] (the filters) →
//! each [`sink::Sink`] = a [`format::Formatter`] + a [`dest`]ination.

pub mod app;
pub mod cli;
pub mod completions;
pub mod dest;
pub mod error;
pub mod event;
pub mod filter;
pub mod format;
pub mod keygen;
pub mod mask;
pub mod paths;
pub mod preset;
pub mod replay;
pub mod runner;
pub mod seal;
pub mod ship;
pub mod signal;
pub mod sink;
pub mod sys;
pub mod verify;

use cli::Cli;
use error::Error;
use event::Status;
use preset::Presets;

/// Runs what `cli` describes; returns how teelog should end: exit with a code, or die of the
/// signal the command died of.
pub fn run(cli: Cli) -> Result<Status, Error> {
    match &cli.action {
        Some(cli::Action::Replay(args)) => {
            replay::replay(args)?;
            return Ok(Status::Code(0));
        }
        Some(cli::Action::Ship(args)) => {
            return ship::ship(args).map(|code| Status::Code(code.into()));
        }
        Some(cli::Action::Verify(args)) => {
            return verify::verify(args).map(|code| Status::Code(code.into()));
        }
        Some(cli::Action::Keygen(args)) => {
            keygen::keygen(args)?;
            return Ok(Status::Code(0));
        }
        Some(cli::Action::Completions {
            shell,
            presets_file,
        }) => {
            match (shell, presets_file) {
                (cli::Completions::PresetNames, file) => {
                    completions::print_preset_names(file.as_deref())?
                }
                (cli::Completions::Shell(shell), None) => completions::print(*shell)?,
                (cli::Completions::Shell(shell), Some(_)) => {
                    return Err(Error::Usage(format!(
                        "completions {shell}: --presets-file goes with preset-names only"
                    )));
                }
            }
            return Ok(Status::Code(0));
        }
        None => {}
    }
    if cli.version {
        let version = format!("teelog {}\n", env!("CARGO_PKG_VERSION"));
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), version.as_bytes());
        return Ok(Status::Code(0));
    }
    let user = whoami::username().unwrap_or_else(|_| "unknown".into());
    let presets = if cli.preset.is_some() || cli.list_presets {
        Some(Presets::load(cli.presets_file.as_deref())?)
    } else {
        None
    };
    if cli.list_presets {
        let list = presets
            .as_ref()
            .map(|p| p.listing(&user))
            .unwrap_or_default();
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), list.as_bytes());
        return Ok(Status::Code(0));
    }
    app::record(cli, presets.as_ref(), user)
}
