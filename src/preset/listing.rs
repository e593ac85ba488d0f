//! `--list-presets`: the presets as a table.

use super::{Presets, log_dir};

impl Presets {
    /// The `--list-presets` table: name, command, console format, default log, origin.
    pub fn listing(&self, user: &str) -> String {
        let dir = log_dir();
        let rows: Vec<[String; 5]> = self
            .iter()
            .map(|p| {
                let mut command = p.wrapper.clone();
                command.push(p.program.clone());
                command.extend(p.args.iter().cloned());
                let log = p.log.as_deref().map_or_else(
                    || "-".to_owned(),
                    |t| match crate::sink::spec::LogSpec::parse(&t.replace("{user}", user)) {
                        Ok(crate::sink::spec::LogSpec::File { format, path }) => {
                            format!("{}={}", format.name(), dir.join(path).display())
                        }
                        Ok(crate::sink::spec::LogSpec::Journal) => "journal".into(),
                        Ok(crate::sink::spec::LogSpec::Syslog(target)) => {
                            format!("syslog={}", target.name())
                        }
                        Ok(crate::sink::spec::LogSpec::Relp(target)) => {
                            format!("relp={}", target.name())
                        }
                        Ok(crate::sink::spec::LogSpec::SudoIolog(path)) => {
                            format!("sudo-iolog={}", dir.join(path).display())
                        }
                        Err(e) => e,
                    },
                );
                let mut command =
                    shlex::try_join(command.iter().map(String::as_str)).unwrap_or_default();
                if p.pty {
                    command.push_str(" (stdout on a pty)");
                }
                [
                    p.name.clone(),
                    command,
                    p.format.name().to_owned(),
                    log,
                    p.origin.clone(),
                ]
            })
            .collect();
        let header = ["PRESET", "COMMAND", "CONSOLE", "DEFAULT LOG", "FROM"].map(String::from);
        let mut widths = [0; 5];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            for (i, cell) in row.iter().enumerate() {
                if i + 1 < row.len() {
                    out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                } else {
                    out.push_str(cell);
                }
            }
            out.push('\n');
        }
        out
    }
}
