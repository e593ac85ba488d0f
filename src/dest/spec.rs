//! Where a destination is that is not a file: the syslog targets of `-o syslog[=TARGET]`
//! (`unix:PATH`, `udp:HOST:PORT`, `tcp:HOST:PORT`, `tls:HOST:PORT`) and the RELP collectors of
//! `-o relp=[tls:]HOST:PORT`. Data only.

use std::path::PathBuf;

/// Where `-o syslog` sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket (`unix:PATH`; `/dev/log` by default).
    Unix(PathBuf),
    /// `udp:HOST:PORT`: best effort, one datagram per message.
    Udp(String),
    /// `tcp:HOST:PORT`: best effort, octet-counted, no acknowledgements.
    Tcp(String),
    /// `tls:HOST:PORT`: RFC 5425, octet-counted in TLS, shipped from a spool.
    Tls(String),
}

impl SyslogTarget {
    pub(crate) fn parse(text: &str) -> Result<SyslogTarget, String> {
        let bad = || {
            format!(
                "syslog target '{text}' is not unix:PATH, udp:HOST:PORT, tcp:HOST:PORT or \
                 tls:HOST:PORT"
            )
        };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let host_port =
            |rest: &str| host_port(rest).map_err(|why| format!("syslog target '{text}': {why}"));
        match kind {
            "unix" if !rest.is_empty() => Ok(SyslogTarget::Unix(rest.into())),
            "udp" => host_port(rest).map(SyslogTarget::Udp),
            "tcp" => host_port(rest).map(SyslogTarget::Tcp),
            "tls" => host_port(rest).map(SyslogTarget::Tls),
            _ => Err(bad()),
        }
    }

    /// `unix:/dev/log`, `udp:HOST:PORT`, `tcp:HOST:PORT`, `tls:HOST:PORT`.
    pub fn name(&self) -> String {
        match self {
            SyslogTarget::Unix(path) => format!("unix:{}", path.display()),
            SyslogTarget::Udp(addr) => format!("udp:{addr}"),
            SyslogTarget::Tcp(addr) => format!("tcp:{addr}"),
            SyslogTarget::Tls(addr) => format!("tls:{addr}"),
        }
    }
}

/// Whether a connection is in clear or in TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Clear,
    Tls,
}

/// A RELP collector (rsyslog's `imrelp`): `-o relp=HOST:PORT` or `-o relp=tls:HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelpTarget {
    /// `HOST:PORT`
    pub addr: String,
    pub security: Security,
}

impl RelpTarget {
    pub(crate) fn parse(text: &str) -> Result<RelpTarget, String> {
        let (security, rest) = match text.strip_prefix("tls:") {
            Some(rest) => (Security::Tls, rest),
            None => (Security::Clear, text),
        };
        let addr = host_port(rest).map_err(|why| format!("relp target '{text}': {why}"))?;
        Ok(RelpTarget { addr, security })
    }

    /// `HOST:PORT` or `tls:HOST:PORT`.
    pub fn name(&self) -> String {
        match self.security {
            Security::Clear => self.addr.clone(),
            Security::Tls => format!("tls:{}", self.addr),
        }
    }
}

/// `HOST:PORT` with a host and a port from 1 to 65535 (`[::1]:PORT` for an IPv6 literal); Err
/// says what is missing or wrong.
fn host_port(text: &str) -> Result<String, &'static str> {
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("not HOST:PORT (no port)");
    };
    if host.is_empty() {
        return Err("not HOST:PORT (no host)");
    }
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err("the port must be a number from 1 to 65535");
    }
    Ok(text.to_owned())
}

/// The host part of `HOST:PORT` (brackets of an IPv6 literal removed): the name a TLS
/// certificate is checked against unless `--tls-name` says otherwise.
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relp_targets() {
        let relp = |addr: &str, security| {
            Ok(RelpTarget {
                addr: addr.into(),
                security,
            })
        };
        assert_eq!(RelpTarget::parse("h:2514"), relp("h:2514", Security::Clear));
        assert_eq!(
            RelpTarget::parse("tls:h:2514"),
            relp("h:2514", Security::Tls)
        );
        assert_eq!(
            RelpTarget::parse("[::1]:1"),
            relp("[::1]:1", Security::Clear)
        );
        for bad in ["h", "h:", ":1", "h:0", "h:65536", "tls:", "tls:h", "h:x"] {
            assert!(RelpTarget::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(host_of("[::1]:1"), "::1");
        assert_eq!(host_of("server.test:2514"), "server.test");
    }

    #[test]
    fn syslog_targets() {
        assert_eq!(
            SyslogTarget::parse("tls:h:6514"),
            Ok(SyslogTarget::Tls("h:6514".into()))
        );
        assert!(SyslogTarget::parse("tls:h").is_err());
        assert!(SyslogTarget::parse("tcp:h:0").is_err());
        assert_eq!(SyslogTarget::Tls("h:1".into()).name(), "tls:h:1");
    }
}
