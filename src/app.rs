//! The plan for recording a command (ripgrep's `HiArgs`): the preset applied, the argv and its
//! masked command line, the redactor, the sinks opened all or none, the filters, the runner's
//! spec, and every check that needs several flags at once; then the run and how teelog ends.

use std::ffi::OsString;

use crate::cli::{self, Cli};
use crate::dest::remote::ship::Shipping;
use crate::error::{self, Error};
use crate::event::{self, Status};
use crate::filter::Chain;
use crate::filter::line_mask::LineMask;
use crate::filter::redact::{self, Redactor};
use crate::filter::strip::AnsiStripper;
use crate::format::{self, Context};
use crate::preset::{self, Presets};
use crate::runner;
use crate::sink::spec::LogSpec;
use crate::sink::{self, Fanout, Sink};

/// Runs the command `cli` describes, with its preset from `presets`, as `user`.
pub fn record(mut cli: Cli, presets: Option<&Presets>, user: String) -> Result<Status, Error> {
    let preset = match (&cli.preset, presets) {
        (Some(name), Some(presets)) if cli.echo => Some(presets.get(name)?.echoing()?),
        (Some(name), Some(presets)) => Some(presets.get(name)?.clone()),
        _ => None,
    };
    let preset = preset.as_ref();
    if cli.log_input && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::Usage(
            "--log-input: standard input is a terminal; give the input as a file or a pipe \
             (teelog --log-input -- CMD < script), or leave --log-input out"
                .into(),
        ));
    }
    let argv = match preset {
        Some(preset) => preset.command(cli.program.as_deref(), &cli.command),
        None => std::mem::take(&mut cli.command),
    };
    if argv.is_empty() {
        return Err(Error::NoCommand);
    }
    let redactor = redactor(&cli.redact_env, preset)?;
    // teelog's own messages can quote the command, a path or a flag's value.
    let messages = redactor.clone();
    error::redact_messages(Box::new(move |message| messages.text(message)));
    let display: Vec<String> = preset::masked_command_line(&argv, preset)
        .iter()
        .map(|w| redactor.text(w))
        .collect();
    let ctx = Context {
        utc: cli.utc,
        preset: preset.map(|p| p.name.clone()),
        facility: cli.syslog_facility,
        colour: false,
        pty: cli.pty || preset.is_some_and(|p| p.pty),
    };
    let session = uuid::Uuid::now_v7().to_string();
    let mut logs = std::mem::take(&mut cli.logs);
    if logs.is_empty()
        && let Some(template) = preset.and_then(|p| p.log.as_deref())
    {
        logs.push(preset::default_log(template, &user)?);
    }
    let shipping = shipping(&cli, &logs, &session)?;
    let sealing = sealing(&cli, &logs, preset)?;
    let sinks = sinks(&cli, logs, preset, &ctx, &shipping, sealing.as_ref())?;
    let mut fanout = Fanout::new(sinks, chain(&cli, preset, redactor));
    let spec = runner::Spec {
        argv,
        display,
        wiring: wiring(&cli, preset),
        who: runner::Who {
            session,
            user,
            host: whoami::hostname().unwrap_or_else(|_| "localhost".into()),
        },
        pause: cli.pause,
        grace: cli.grace,
    };
    let ended = runner::run(&spec, &mut fanout)?;
    Ok(match ended.status {
        Status::Code(0) if fanout.failed() || ended.reading == runner::Reading::Incomplete => {
            Status::Code(error::EXIT_FAILED.into())
        }
        status => status,
    })
}

/// The run's sinks: the console unless `--quiet`, then every log (`logs`: the `-o`s, else the
/// preset's default log), all opened or none.
fn sinks(
    cli: &Cli,
    logs: Vec<LogSpec>,
    preset: Option<&preset::Preset>,
    ctx: &Context,
    shipping: &Shipping,
    sealing: Option<&crate::seal::Sealing>,
) -> Result<Vec<Sink>, Error> {
    let format = cli
        .format
        .or(preset.map(|p| p.format))
        .unwrap_or(format::Format::Plain);
    let mut sinks = Vec::with_capacity(logs.len() + 1);
    // A log that is also the console (`teelog -o x.log -- cmd > x.log`) would mix both.
    let mut seen = std::collections::HashMap::new();
    if !cli.quiet {
        sinks.push(console(cli.color, format, ctx, &mut seen));
    }
    if cli.max_size.is_some()
        && let Some(cast) = logs.iter().find_map(|l| match l {
            LogSpec::File { format, path } if format.one_recording_per_file() => Some(path),
            _ => None,
        })
    {
        return Err(Error::Usage(format!(
            "--max-size: {} is an asciicast recording, which holds one run and is not rotated",
            error::quote(cast)
        )));
    }
    let rotation = sink::Rotation {
        max_size: cli.max_size,
        keep: cli.keep,
    };
    open_logs(
        &logs, ctx, rotation, shipping, sealing, &mut seen, &mut sinks,
    )?;
    Ok(sinks)
}

/// How the jsonl logs are sealed: `--seal KEYFILE` (else the preset's `seal`), with its
/// cadence. The cadence flags without a key, or a key without a jsonl log, are mistakes.
fn sealing(
    cli: &Cli,
    logs: &[LogSpec],
    preset: Option<&preset::Preset>,
) -> Result<Option<crate::seal::Sealing>, Error> {
    use crate::seal::{SigningKey, sealer};
    let Some(path) = cli.seal.as_ref().or(preset.and_then(|p| p.seal.as_ref())) else {
        if cli.seal_every.is_some() || cli.seal_interval.is_some() {
            return Err(Error::Usage(
                "--seal-every and --seal-interval go with --seal KEYFILE".into(),
            ));
        }
        return Ok(None);
    };
    let jsonl = |log: &LogSpec| {
        matches!(
            log,
            LogSpec::File {
                format: format::Format::Jsonl,
                ..
            }
        )
    };
    if !logs.iter().any(jsonl) {
        return Err(Error::Usage(
            "--seal seals jsonl logs, and this run has none: add -o jsonl=FILE".into(),
        ));
    }
    if cli.seal_interval == Some(std::time::Duration::ZERO) {
        return Err(Error::Usage("--seal-interval: give a time above 0".into()));
    }
    let key = SigningKey::load(path).map_err(|e| Error::Usage(format!("--seal: {e}")))?;
    Ok(Some(crate::seal::Sealing {
        key: std::sync::Arc::new(key),
        every: cli.seal_every.unwrap_or(sealer::EVERY),
        interval: cli
            .seal_interval
            .unwrap_or(std::time::Duration::from_secs(sealer::INTERVAL)),
    }))
}

/// How `relp=` and `syslog=tls:` are shipped. The TLS flags go with a TLS destination: without
/// one they are a mistake, said before anything starts.
fn shipping(cli: &Cli, logs: &[LogSpec], session: &str) -> Result<Shipping, Error> {
    use crate::dest::spec::{Security, SyslogTarget};
    let tls = logs.iter().any(|log| match log {
        LogSpec::Relp(relp) => relp.security == Security::Tls,
        LogSpec::Syslog(SyslogTarget::Tls(_)) => true,
        _ => false,
    });
    let flags = [
        ("--tls-ca", cli.tls_ca.is_some()),
        ("--tls-cert", cli.tls_cert.is_some()),
        ("--tls-key", cli.tls_key.is_some()),
        ("--tls-name", cli.tls_name.is_some()),
    ];
    if let Some((flag, _)) = flags.iter().find(|(_, given)| *given).filter(|_| !tls) {
        return Err(Error::Usage(format!(
            "{flag} goes with a TLS destination (-o relp=tls:HOST:PORT or -o \
             syslog=tls:HOST:PORT), and there is none"
        )));
    }
    if cli.tls_name.as_deref() == Some("") {
        return Err(Error::Usage("--tls-name: the name is empty".into()));
    }
    Ok(Shipping {
        tls: crate::dest::remote::tls::TlsFiles {
            ca: cli.tls_ca.clone(),
            cert: cli.tls_cert.clone(),
            key: cli.tls_key.clone(),
        },
        tls_name: cli.tls_name.clone(),
        spool_dir: cli
            .spool_dir
            .clone()
            .unwrap_or_else(crate::paths::spool_dir),
        timeout: cli.ship_timeout,
        max_message: cli.max_message,
        session: session.to_owned(),
    })
}

/// The filters between the events and the sinks: secrets masked line by line where lines can
/// carry them, the redactor, and for the logs `--strip-ansi`.
fn chain(cli: &Cli, preset: Option<&preset::Preset>, redactor: Redactor) -> Chain {
    // Recorded input is a script, and echoed output holds statements: both may carry passwords.
    let mut masked = Vec::new();
    if cli.log_input {
        masked.push(event::Stream::Stdin);
    }
    // A SQL client's output quotes failing statements (mysql's echo, psql's `LINE 1: ...`).
    if cli.echo || preset.is_some_and(|p| p.sql) {
        masked.extend([event::Stream::Stdout, event::Stream::Stderr]);
    }
    Chain::new(
        LineMask::of(&masked),
        Some(redactor),
        cli.strip_ansi.then(AnsiStripper::default),
    )
}

/// How the command's stdin, stdout and stderr are wired, from the flags and the preset.
fn wiring(cli: &Cli, preset: Option<&preset::Preset>) -> runner::Wiring {
    runner::Wiring {
        stdout: match cli.pty || preset.is_some_and(|p| p.pty) {
            true => runner::Stdout::Pty,
            false => runner::Stdout::Pipe,
        },
        stderr: match cli.merge {
            true => runner::Stderr::Merged,
            false => runner::Stderr::Own,
        },
        stdin: match cli.log_input {
            true => runner::Stdin::Recorded,
            false => runner::Stdin::Inherited,
        },
    }
}

/// The console's sink, in `format`, coloured as `--color` says; notes in `seen` the files that
/// stand behind stdout (and stderr, which the plain console writes too).
fn console(
    color: cli::Color,
    format: format::Format,
    ctx: &Context,
    seen: &mut std::collections::HashMap<(u64, u64), String>,
) -> Sink {
    let colour = match color {
        cli::Color::Always => true,
        cli::Color::Never => false,
        cli::Color::Auto => {
            std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let consoles = [
        (sink::file_identity(std::io::stdout()), "standard output"),
        (sink::file_identity(std::io::stderr()), "standard error"),
    ];
    let shown = if format == format::Format::Plain {
        2
    } else {
        1
    };
    for (id, name) in consoles.into_iter().take(shown) {
        if let Some(id) = id {
            seen.entry(id).or_insert_with(|| name.to_owned());
        }
    }
    Sink::console(
        format,
        &Context {
            colour,
            ..ctx.clone()
        },
    )
}

/// Opens every log of `logs` into `sinks`, or none: on an error, the files this run created are
/// removed again. A log that is a file already in `seen` (the console, or another log) is an
/// error.
fn open_logs(
    logs: &[LogSpec],
    ctx: &Context,
    rotation: sink::Rotation,
    shipping: &Shipping,
    sealing: Option<&crate::seal::Sealing>,
    seen: &mut std::collections::HashMap<(u64, u64), String>,
    sinks: &mut Vec<Sink>,
) -> Result<(), Error> {
    let mut opening = sink::Opening::new();
    for log in logs {
        let sink = Sink::log(log, ctx, rotation, shipping, sealing, &mut opening)?;
        if let Some(id) = sink.identity()
            && let Some(first) = seen.insert(id, sink.name().to_owned())
        {
            return Err(Error::SameLog {
                first,
                second: sink.name().to_owned(),
            });
        }
        sinks.push(sink);
    }
    opening.done()
}

/// The values to redact: each `--redact-env NAME` (unset: a warning; shorter than
/// [`redact::MIN_SECRET`] bytes: an error), and the preset's client variables when they are set
/// and long enough.
fn redactor(names: &[String], preset: Option<&preset::Preset>) -> Result<Redactor, Error> {
    use std::os::unix::ffi::OsStringExt;
    let mut values = Vec::new();
    for name in names {
        match std::env::var_os(name) {
            None => error::report(format_args!(
                "warning: --redact-env {}: the variable is not set, so there is nothing to redact",
                error::quote(name)
            )),
            Some(value) if value.len() < redact::MIN_SECRET => {
                return Err(Error::Usage(format!(
                    "--redact-env {}: its value is {} bytes, too short to mask safely (at least {})",
                    error::quote(name),
                    value.len(),
                    redact::MIN_SECRET
                )));
            }
            Some(value) => values.push(value.into_vec()),
        }
    }
    for name in preset.map_or(&[][..], |p| p.redact_env.as_slice()) {
        match std::env::var_os(name) {
            Some(value) if value.len() >= redact::MIN_SECRET => values.push(value.into_vec()),
            Some(_) => error::report(format_args!(
                "warning: {name} is too short to mask safely (under {} bytes): not redacted",
                redact::MIN_SECRET
            )),
            None => {}
        }
    }
    Ok(Redactor::new(values.iter().map(Vec::as_slice)))
}

/// Until the flags are read and checked (clap's errors quote them), teelog's own messages mask
/// the values of the variables that `--redact-env` names on teelog's command line, looked up
/// when a message is written: a run that says nothing before then does none of that work.
pub fn redact_messages_named() {
    error::redact_messages(Box::new(|message| {
        secrets_named(std::env::args_os()).text(message)
    }));
}

/// The values, long enough to mask, of the variables named by `--redact-env NAME` or
/// `--redact-env=NAME` among `args` (before a `--`).
fn secrets_named(args: impl IntoIterator<Item = OsString>) -> Redactor {
    use std::os::unix::ffi::OsStringExt;
    let mut names = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        } else if arg == "--redact-env" {
            names.extend(args.next());
        } else if let Some(name) = arg.strip_prefix("--redact-env=") {
            names.push(name.into());
        }
    }
    let values: Vec<Vec<u8>> = names
        .iter()
        .filter_map(std::env::var_os)
        .map(OsString::into_vec)
        .filter(|v| v.len() >= redact::MIN_SECRET)
        .collect();
    Redactor::new(values.iter().map(Vec::as_slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_named_by_redact_env_are_found_before_a_double_dash() {
        // cargo sets both for the tests it runs.
        let path = std::env::var("PATH").unwrap();
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        let args = [
            "teelog",
            "--redact-env",
            "PATH",
            "--redact-env=CARGO_MANIFEST_DIR",
            "--",
            "--redact-env",
            "CARGO_PKG_NAME",
        ];
        let secrets = secrets_named(args.map(OsString::from));
        let text = secrets.text(&format!("{path} {dir} teelog"));
        assert_eq!(text, "*** *** teelog");
    }
}
