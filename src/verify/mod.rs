//! `teelog verify FILE... [--key PUBKEY|FILE]... [--require-sealed] [--seals FILE]...`: walks a
//! sealed jsonl log (or a rotated set) line by line, checks its chain, its seq, its seals and
//! their signatures, and says one verdict with its exit code (docs/sealing.md, "What teelog
//! verify says"). It streams: memory grows with the runs in the log and their trees' height,
//! never with the log.

mod collected;
mod files;
mod line;
mod read;
mod seal;
mod session;
mod verdict;
mod walk;

#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::cli::VerifyArgs;
use crate::error::{Error, quote, report};
use crate::seal::VerifierKey;

use collected::Collected;
use verdict::{Names, Pos};
use walk::{Outcome, Walk};

/// Checks the log `args` names; returns the verdict's exit code. Usage errors (a key or a file
/// that cannot be read, a file that is not a jsonl log) are errors (125).
pub fn verify(args: &VerifyArgs) -> Result<u8, Error> {
    let keys = keys(&args.keys)?;
    let set = files::resolve(&args.files);
    let outcome = walk(&set, &args.seals, &keys, args.require_sealed)?;
    let mut out = std::io::stdout().lock();
    for line in &outcome.lines {
        let _ = writeln!(out, "{line}");
    }
    for warning in &outcome.warnings {
        report(warning);
    }
    Ok(outcome.code as u8)
}

/// The walk over the files of `set`, against the seals collected in `seals`.
fn walk(
    set: &files::Set,
    seals: &[PathBuf],
    keys: &[VerifierKey],
    require_sealed: bool,
) -> Result<Outcome, Error> {
    let names = Names(
        set.files
            .iter()
            .chain(seals)
            .map(|p| files::shown(p))
            .collect(),
    );
    let collected = Collected::load(seals, set.files.len(), &names, keys)?;
    let mut walk = Walk::new(keys, names, collected);
    if let Some(why) = &set.missing {
        let at = Pos { file: 0, line: 0 };
        let finding = walk.names().truncated(at, why);
        walk.found(finding);
        return Ok(walk.finish(require_sealed));
    }
    for (index, path) in set.files.iter().enumerate() {
        let named = |e: std::io::Error| Error::Usage(format!("cannot read {}: {e}", quote(path)));
        walk.open_file(index);
        read::lines(path, |line, hash, leaf| {
            walk.line(line, hash, leaf);
            match walk.done() {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        })
        .map_err(named)?;
        if walk.done() {
            return Ok(walk.finish(require_sealed));
        }
        if walk.file_had_no_record() {
            return Err(Error::Usage(format!(
                "{} is not a jsonl log (not one teelog record in it)",
                quote(path)
            )));
        }
    }
    Ok(walk.finish(require_sealed))
}

/// The trusted keys: those of `--key`, else every `*.pub` of the key directory.
fn keys(given: &[String]) -> Result<Vec<VerifierKey>, Error> {
    let mut keys = Vec::new();
    for arg in given {
        keys.extend(VerifierKey::load_all(arg).map_err(Error::Usage)?);
    }
    if !given.is_empty() {
        return Ok(keys);
    }
    let none = || {
        Error::Usage("no key to check the seals with: give --key (teelog keygen makes one)".into())
    };
    let dir = crate::paths::key_dir().ok_or_else(none)?;
    let mut pubs: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(Error::Usage(format!(
                "cannot read key directory {}: {e}",
                quote(&dir)
            )));
        }
    };
    pubs.sort();
    for path in &pubs {
        let arg = path.to_string_lossy();
        keys.extend(VerifierKey::load_all(&arg).map_err(Error::Usage)?);
    }
    if keys.is_empty() {
        return Err(none());
    }
    Ok(keys)
}
