//! The values the command line takes: clap's parsers for formats, sizes, seconds, speeds,
//! syslog facilities, preset names and completion shells, and the limits they enforce.

use std::ffi::OsString;
use std::time::Duration;

use crate::format::Format;

/// What `teelog completions` prints: a shell's script, or, for those scripts (a hidden value),
/// the name of every preset, built-in and the user's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completions {
    Shell(clap_complete::Shell),
    PresetNames,
}

/// `SHELL`, or the hidden `preset-names`; only the shells are offered and listed.
#[derive(Clone, Debug)]
pub(super) struct CompletionsParser;

impl clap::builder::TypedValueParser for CompletionsParser {
    type Value = Completions;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Completions, clap::Error> {
        if value == "preset-names" {
            return Ok(Completions::PresetNames);
        }
        clap::builder::EnumValueParser::<clap_complete::Shell>::new()
            .parse_ref(cmd, arg, value)
            .map(Completions::Shell)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::ValueEnum;
        Some(Box::new(
            clap_complete::Shell::value_variants()
                .iter()
                .filter_map(|s| s.to_possible_value()),
        ))
    }
}

/// `--program`'s PATH: not empty, not only blanks (it would only fail later, as "not found").
pub(super) fn program_path(path: OsString) -> Result<OsString, String> {
    if path.as_encoded_bytes().iter().all(u8::is_ascii_whitespace) {
        return Err("the program's path is empty".into());
    }
    Ok(path)
}

/// A console format (`--format`): a [`Format`]. Only these are
/// offered to shell completion; journal and syslog get a message that says why not.
#[derive(Clone, Debug)]
pub(super) struct ConsoleFormat {
    /// For `teelog replay --format`, which has no `-o` to point at.
    pub(super) replay: bool,
}

impl clap::builder::TypedValueParser for ConsoleFormat {
    type Value = Format;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Format, clap::Error> {
        if let Some(service) = value
            .to_str()
            .and_then(|v| crate::sink::spec::SERVICES.into_iter().find(|s| *s == v))
        {
            return Err(cmd.clone().error(
                clap::error::ErrorKind::InvalidValue,
                if self.replay {
                    format!(
                        "--format {service}: {service} is a destination, and replay writes to standard output"
                    )
                } else {
                    format!(
                        "--format {service}: {service} is a destination, not a console format (use -o {service})"
                    )
                },
            ));
        }
        let names = Format::ALL.map(Format::name);
        let name = clap::builder::PossibleValuesParser::new(names).parse_ref(cmd, arg, value)?;
        Ok(Format::from_name(&name).expect("a console format's name"))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::ValueEnum;
        Some(Box::new(
            Format::ALL
                .into_iter()
                .filter_map(|f| f.to_possible_value()),
        ))
    }
}

/// A preset's name: any name (user presets are only known once their file is read), with the
/// built-in ones offered to shell completion.
#[derive(Clone, Debug)]
pub(super) struct PresetName;

impl clap::builder::TypedValueParser for PresetName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            crate::preset::builtin_names().map(clap::builder::PossibleValue::new),
        ))
    }
}

/// A size such as `10M`: bytes, or K, M, G (powers of 1024); at least 1.
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("'{text}' is not a size (a number of bytes, or with K, M or G)");
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(bad()),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift)
        .filter(|size| *size > 0)
        .ok_or_else(bad)
}

/// The range of `--max-message`: a message must hold its header and some text; rsyslog's
/// `maxMessageSize` goes no higher than this makes sense for one line.
pub const MESSAGE_SIZES: (usize, usize) = (2 * 1024, 64 * 1024 * 1024);

/// A `--max-message` size, within [`MESSAGE_SIZES`].
pub(super) fn parse_message_size(text: &str) -> Result<usize, String> {
    let size = parse_size(text)?;
    let (min, max) = MESSAGE_SIZES;
    usize::try_from(size)
        .ok()
        .filter(|s| (min..=max).contains(s))
        .ok_or_else(|| format!("'{text}' is not between 2K and 64M"))
}

/// The most rotated files `--keep` may keep. Each rotation renames every kept file (PATH.N-1 to
/// PATH.N, ...), so the count bounds the work a rotation does; a thousand generations of a log
/// is more history than rotating by size is for (logrotate's own examples keep 4 to 14).
pub const MAX_KEEP: u32 = 1000;

/// A number of rotated files, 0 to [`MAX_KEEP`].
pub(super) fn parse_keep(text: &str) -> Result<u32, String> {
    match text.parse::<u64>() {
        Ok(n) if n <= u64::from(MAX_KEEP) => Ok(n as u32),
        Ok(_) => Err(format!(
            "'{text}' is more files than --keep keeps (at most {MAX_KEEP})"
        )),
        Err(_) => Err(format!(
            "'{text}' is not a number of files (0 to {MAX_KEEP})"
        )),
    }
}

/// `--syslog-facility`: [`parse_facility`], with the names offered to shell completion.
#[derive(Clone, Debug)]
pub(super) struct Facility;

impl clap::builder::TypedValueParser for Facility {
    type Value = u8;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<u8, clap::Error> {
        clap::builder::TypedValueParser::parse_ref(&parse_facility, cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use crate::format::syslog::FACILITIES;
        Some(Box::new(
            FACILITIES
                .iter()
                .map(|(name, _)| clap::builder::PossibleValue::new(*name)),
        ))
    }
}

/// A syslog facility's number, from its name.
pub(super) fn parse_facility(name: &str) -> Result<u8, String> {
    use crate::format::syslog::FACILITIES;
    FACILITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
        .ok_or_else(|| {
            let names: Vec<&str> = FACILITIES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown syslog facility '{name}' (known: {})",
                names.join(", ")
            )
        })
}

/// The slowest and the fastest `--speed`: a thousandth of the recorded pace (a second becomes
/// about 17 minutes) to a million times it. Beyond these a speed is surely a slip, and a gap
/// divided by a speed near 0 would not fit a `Duration`.
pub const SPEEDS: (f64, f64) = (0.001, 1_000_000.0);

/// A playing speed, from `SPEEDS.0` to `SPEEDS.1`; anything else (negative, 0, subnormal,
/// infinite, NaN, not a number: clap hands `-1` over as a value) is refused with the range.
pub(super) fn parse_speed(text: &str) -> Result<f64, String> {
    let (slowest, fastest) = SPEEDS;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| (slowest..=fastest).contains(s))
        .ok_or_else(|| format!("--speed takes a number from {slowest} to {fastest}, not '{text}'"))
}

/// When to colour the console (`--color`), as ripgrep and ls have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The longest `--pause` or `--grace`: a day. Longer is surely a slip (`1e19` would overflow the
/// clock), and is refused rather than capped.
pub const MAX_SECONDS: f64 = 86_400.0;

/// A number of seconds such as `2` or `0.05`, from 0 to [`MAX_SECONDS`].
pub(super) fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs = text
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| format!("'{text}' is not a number of seconds"))?;
    if secs > MAX_SECONDS {
        return Err(format!(
            "'{text}' seconds is too long (at most {MAX_SECONDS} seconds, a day)"
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{text}' is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("10m"), Ok(10 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in ["", "0", "K", "1T", "-1", "1.5M", "99999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.05"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_seconds("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_seconds("86400"), Ok(Duration::from_secs(86_400)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("inf").is_err());
        assert!(parse_seconds("1e19").unwrap_err().contains("too long"));
        assert!(parse_seconds("86400.5").unwrap_err().contains("too long"));
    }
}
