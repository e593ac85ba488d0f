//! The TLS transport of `relp=tls:` and `syslog=tls:`: the files of --tls-ca, --tls-cert and
//! --tls-key, checked once into a rustls client config, and a blocking byte stream, plain TCP
//! or TLS over TCP, for the shipper's own thread; and one line for the user on why a connection
//! failed or was refused (the wire facts are in docs/research/relp-tls.md, section 3).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, ClientConfig, ClientConnection, RootCertStore};

use crate::error::quote;

/// The files of --tls-ca, --tls-cert, --tls-key (paths as the user gave them).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Loads and checks the files once, before the command starts, so that a mistake in them is a
/// usage error and not a shipper that fails later: the CA bundle (PEM), which replaces the
/// system's trust store; the client's certificate chain and its key, both or neither, and the
/// key must be the certificate's (rustls compares them). Err is one line naming the flag and
/// the file and what is wrong. The ring provider is given here, not installed for the process,
/// so that no other crate's choice of provider can change or break it.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, String> {
    let client = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err("--tls-cert given without --tls-key".into()),
        (None, Some(_)) => return Err("--tls-key given without --tls-cert".into()),
    };
    let roots = match &files.ca {
        Some(ca) => ca_roots(ca)?,
        None => system_roots(rustls_native_certs::load_native_certs())?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: cannot be set up: {err}"))?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certificates("--tls-cert", cert)?;
            builder
                .with_client_auth_cert(chain, private_key(key)?)
                .map_err(|err| match err {
                    rustls::Error::InconsistentKeys(_) => format!(
                        "--tls-cert {}: does not match the key in {}",
                        quote(cert),
                        quote(key)
                    ),
                    rustls::Error::InvalidCertificate(_) => {
                        format!("--tls-cert {}: not a valid certificate: {err}", quote(cert))
                    }
                    err => format!("--tls-key {}: cannot be used: {err}", quote(key)),
                })?
        }
    };
    Ok(Arc::new(config))
}

/// The trust anchors of --tls-ca: every certificate in the file must be usable as one, since a
/// CA quietly left out would show only later, as a server that is "not trusted".
fn ca_roots(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (n, cert) in certificates("--tls-ca", path)?.into_iter().enumerate() {
        roots.add(cert).map_err(|err| {
            format!(
                "--tls-ca {}: certificate {} in it is not usable as a CA: {err}",
                quote(path),
                n + 1
            )
        })?;
    }
    Ok(roots)
}

/// The system's trust store (rustls-native-certs: SSL_CERT_FILE / SSL_CERT_DIR, else the
/// distribution's bundle). The odd certificate there that webpki cannot parse is skipped, as
/// rustls-native-certs advises; none at all is an error, since nothing could be verified.
fn system_roots(found: rustls_native_certs::CertificateResult) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found
            .errors
            .first()
            .map(|err| format!(" ({err})"))
            .unwrap_or_default();
        return Err(format!(
            "no --tls-ca given, and the system's trust store has no CA certificate{why}"
        ));
    }
    Ok(roots)
}

/// The certificates (PEM) in the file of `flag`; at least one.
fn certificates(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read(flag, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{flag} {}: {}", quote(path), pem_reason(&err)))?;
    if certs.is_empty() {
        return Err(format!("{flag} {}: no certificate in it", quote(path)));
    }
    Ok(certs)
}

/// The private key (PEM: PKCS#8, PKCS#1 or SEC1) in the file of --tls-key.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read("--tls-key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|err| {
        let encrypted = bytes.windows(9).any(|w| w == b"ENCRYPTED");
        let why = match err {
            pem::Error::NoItemsFound if encrypted => {
                "an encrypted private key (teelog needs it without a passphrase)".into()
            }
            pem::Error::NoItemsFound => "not a private key (PEM)".into(),
            err => pem_reason(&err),
        };
        format!("--tls-key {}: {why}", quote(path))
    })
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|err| {
        format!(
            "{flag} {}: cannot read it: {}",
            quote(path),
            os_reason(&err)
        )
    })
}

/// An I/O error's text without the " (os error N)" that means nothing to a user.
fn os_reason(err: &io::Error) -> String {
    let mut text = err.to_string();
    if let Some(at) = text.find(" (os error ") {
        text.truncate(at);
    }
    text
}

/// A PEM syntax error in words (the parser's Display quotes raw bytes).
fn pem_reason(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { .. } => "not valid PEM: a section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "not valid PEM: a broken BEGIN line".into(),
        pem::Error::Base64Decode(_) => "not valid PEM: broken base64 in it".into(),
        err => format!("not valid PEM: {err}"),
    }
}

/// The name to verify the server's certificate against: a DNS name or an IP literal (an IPv6
/// one may keep the brackets of `[::1]:6514`). Err is one line.
pub fn server_name(name: &str) -> Result<ServerName<'static>, String> {
    let bare = name
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(name);
    ServerName::try_from(bare.to_owned()).map_err(|_| {
        format!(
            "{}: not a host name or an IP address to check the server's certificate against",
            quote(name)
        )
    })
}

/// A connected byte stream, plain TCP or TLS over TCP, blocking (the shipper has a thread of
/// its own and bounds every wait with the socket's timeouts).
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Connects to `addr` (TCP, with SO_KEEPALIVE, so that a peer that vanished is noticed, and
    /// TCP_NODELAY, since every record is written whole), then with `tls` does the whole
    /// handshake; all before `deadline`, or Err of kind TimedOut. Under TLS 1.3 a server that
    /// refuses teelog's certificate (or its absence) says so only after the handshake: on the
    /// caller's first read. A handshake that fails returns Err and drops the socket, so that
    /// nothing is ever written on it in clear.
    pub fn connect(
        addr: SocketAddr,
        tls: Option<(&Arc<ClientConfig>, &ServerName<'static>)>,
        deadline: Instant,
    ) -> io::Result<Stream> {
        let mut tcp =
            TcpStream::connect_timeout(&addr, time_left(deadline, "the TCP connection")?)?;
        tcp.set_nodelay(true)?;
        setsockopt(&tcp, sockopt::KeepAlive, &true)?;
        let Some((config, name)) = tls else {
            return Ok(Stream::Plain(tcp));
        };
        let mut conn = ClientConnection::new(Arc::clone(config), name.clone())
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        while conn.is_handshaking() || conn.wants_write() {
            let left = time_left(deadline, "the TLS handshake")?;
            tcp.set_read_timeout(Some(left))?;
            tcp.set_write_timeout(Some(left))?;
            match conn.complete_io(&mut tcp) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    return Err(timed_out("the TLS handshake"));
                }
                Err(err) => return Err(err),
            }
        }
        tcp.set_read_timeout(None)?;
        tcp.set_write_timeout(None)?;
        Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
    }

    /// The timeout of every read, on the TCP socket (a read that times out is Err WouldBlock).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }

    /// The timeout of every write, on the TCP socket.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_write_timeout(timeout)
    }

    /// Ends teelog's side: with TLS sends close_notify (so that the server knows nothing was
    /// cut off) and flushes it; then shuts down the write side of the socket. Reading what the
    /// server still sends goes on working. Errors are ignored: the connection is ending anyway.
    pub fn close(&mut self) {
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }

    /// The socket under the stream, for poll(2) and socket options; reading or writing it
    /// directly would break a TLS stream.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    /// With TLS, encrypts what was written and writes the records to the socket.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// What is left until `deadline`, or Err TimedOut saying that `what` did not finish.
fn time_left(deadline: Instant, what: &str) -> io::Result<Duration> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(timed_out(what)),
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{what} did not finish in time"),
    )
}

/// One line saying why a TLS (or TCP) error happened, for the user. An end of file is taken for
/// the way GnuTLS servers refuse a client certificate, which is the one refusal without an
/// alert; a caller on plain TCP says its own words for an end of file.
pub fn reason(err: &io::Error) -> String {
    if let Some(tls) = rustls_error(err) {
        return match tls {
            rustls::Error::InvalidCertificate(cert) => certificate_reason(cert),
            rustls::Error::AlertReceived(alert) => alert_reason(*alert),
            other => format!("TLS failed: {other}"),
        };
    }
    if err.kind() == io::ErrorKind::UnexpectedEof {
        return "the server closed the connection during the TLS handshake or before answering \
                (a rejected client certificate, with GnuTLS)"
            .into();
    }
    err.to_string()
}

/// Whether the error is a TLS refusal (the server's certificate, an alert, nothing in common),
/// as opposed to a network failure: trying again soon would get the same answer. An end of
/// file is not one here, although GnuTLS refuses that way: only the caller knows whether the
/// server had accepted the session before.
pub fn is_refusal(err: &io::Error) -> bool {
    matches!(
        rustls_error(err),
        Some(
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::AlertReceived(_)
                | rustls::Error::PeerIncompatible(_)
                | rustls::Error::NoCertificatesPresented
        )
    )
}

fn rustls_error(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()?.downcast_ref::<rustls::Error>()
}

fn certificate_reason(err: &CertificateError) -> String {
    let theirs = "the server's certificate";
    match err {
        CertificateError::UnknownIssuer => format!("{theirs} is not signed by a trusted CA"),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<&str> = presented.iter().map(|name| presented_name(name)).collect();
            let names = match names.is_empty() {
                true => "no name in its subjectAltName".to_owned(),
                false => names.join(", "),
            };
            format!(
                "{theirs} is not valid for {} (it is for {names})",
                expected.to_str()
            )
        }
        CertificateError::NotValidForName => format!("{theirs} is not valid for its name"),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("{theirs} expired on {}", utc(*not_after))
        }
        CertificateError::Expired => format!("{theirs} has expired"),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "{theirs} is valid only from {} (is a clock wrong?)",
            utc(*not_before)
        ),
        CertificateError::NotValidYet => format!("{theirs} is not valid yet (is a clock wrong?)"),
        other => format!("{theirs} is not accepted: {other}"),
    }
}

/// `server.test` out of webpki's `DnsName("server.test")`, `127.0.0.1` out of
/// `IpAddress(127.0.0.1)`; any other kind of name as it is.
fn presented_name(name: &str) -> &str {
    let dns = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"));
    let ip = name
        .strip_prefix("IpAddress(")
        .and_then(|n| n.strip_suffix(')'));
    dns.or(ip).unwrap_or(name)
}

fn utc(time: UnixTime) -> String {
    let secs = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{secs} seconds after 1970"),
    }
}

fn alert_reason(alert: AlertDescription) -> String {
    use AlertDescription as A;
    match alert {
        A::CertificateRequired
        | A::BadCertificate
        | A::UnknownCA
        | A::AccessDenied
        | A::CertificateUnknown
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::NoCertificate => {
            format!("the server refused teelog's certificate (or its absence): alert {alert:?}")
        }
        // OpenSSL's answer under TLS 1.2 to a missing client certificate, as well as to
        // nothing in common.
        A::HandshakeFailure => "the server ended the TLS handshake (alert HandshakeFailure): no \
                                version or cipher in common, or it refused teelog's certificate \
                                (or its absence)"
            .into(),
        A::ProtocolVersion | A::InsufficientSecurity => {
            format!("the server refused the TLS versions or ciphers teelog offers: alert {alert:?}")
        }
        alert => format!("the server ended the connection with TLS alert {alert:?}"),
    }
}

#[cfg(test)]
mod tests;
