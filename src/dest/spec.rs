//! Where a destination is that is not a file: the syslog targets of `-o syslog[=TARGET]`
//! (`unix:PATH`, `udp:HOST:PORT`, `tcp:HOST:PORT`). Data only.

use std::path::PathBuf;

/// Where `-o syslog` sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket (`unix:PATH`; `/dev/log` by default).
    Unix(PathBuf),
    /// `udp:HOST:PORT`
    Udp(String),
    /// `tcp:HOST:PORT`
    Tcp(String),
}

impl SyslogTarget {
    pub(crate) fn parse(text: &str) -> Result<SyslogTarget, String> {
        let bad =
            || format!("syslog target '{text}' is not unix:PATH, udp:HOST:PORT or tcp:HOST:PORT");
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let host_port = |rest: &str| {
            rest.rsplit_once(':')
                .filter(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
                .map(|_| rest.to_owned())
                .ok_or_else(bad)
        };
        match kind {
            "unix" if !rest.is_empty() => Ok(SyslogTarget::Unix(rest.into())),
            "udp" => host_port(rest).map(SyslogTarget::Udp),
            "tcp" => host_port(rest).map(SyslogTarget::Tcp),
            _ => Err(bad()),
        }
    }

    /// `unix:/dev/log`, `udp:HOST:PORT`, `tcp:HOST:PORT`.
    pub fn name(&self) -> String {
        match self {
            SyslogTarget::Unix(path) => format!("unix:{}", path.display()),
            SyslogTarget::Udp(addr) => format!("udp:{addr}"),
            SyslogTarget::Tcp(addr) => format!("tcp:{addr}"),
        }
    }
}
