//! The error lines of the config and the name, and `connect` + `reason` against real peers:
//! `openssl s_server`, and TCP listeners that close or say nothing.

use std::fs;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;

use tempfile::TempDir;

use super::*;

/// The openssl commands of docs/research/relp-tls.md 2.4: a CA, a server and a client
/// certificate signed by it (SAN DNS:NAME.test, IP:127.0.0.1), and a second, unrelated CA.
const MAKE_CERTIFICATES: &str = r#"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Test CA" -keyout ca.key -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
for n in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$n.test" -keyout $n.key -out $n.csr
  printf "subjectAltName=DNS:$n.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n" > $n.ext
  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile $n.ext -out $n.pem
done
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Other CA" -keyout other-ca.key -out other-ca.pem
"#;

/// The files the tests use, of those the commands make.
const MATERIAL: [&str; 6] = [
    "ca.pem",
    "other-ca.pem",
    "server.pem",
    "server.key",
    "client.pem",
    "client.key",
];

/// The certificates and keys, made once per test run and kept in memory; openssl missing is a
/// failure, never a skip.
fn material() -> &'static Vec<(&'static str, Vec<u8>)> {
    static MADE: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = TempDir::new().expect("a temporary directory");
        let made = Command::new("sh")
            .args(["-ec", MAKE_CERTIFICATES])
            .current_dir(dir.path())
            .output()
            .expect("sh runs");
        assert!(
            made.status.success(),
            "openssl is needed for these tests and failed: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let read = |name| fs::read(dir.path().join(name)).expect("made by openssl");
        MATERIAL
            .into_iter()
            .map(|name| (name, read(name)))
            .collect()
    })
}

/// A directory of the test's own with all of [`MATERIAL`] in it.
fn material_dir() -> TempDir {
    let dir = TempDir::new().expect("a temporary directory");
    for (name, bytes) in material() {
        fs::write(dir.path().join(name), bytes).expect("written");
    }
    dir
}

fn tls_files(dir: &TempDir, ca: &str, client: Option<(&str, &str)>) -> TlsFiles {
    TlsFiles {
        ca: Some(dir.path().join(ca)),
        cert: client.map(|(cert, _)| dir.path().join(cert)),
        key: client.map(|(_, key)| dir.path().join(key)),
    }
}

#[track_caller]
fn config_error(files: TlsFiles) -> String {
    client_config(&files).expect_err("a config error")
}

#[test]
fn client_certificate_and_key_come_together() {
    let cert = TlsFiles {
        cert: Some("c.pem".into()),
        ..TlsFiles::default()
    };
    let key = TlsFiles {
        key: Some("k.pem".into()),
        ..TlsFiles::default()
    };
    assert_eq!(config_error(cert), "--tls-cert given without --tls-key");
    assert_eq!(config_error(key), "--tls-key given without --tls-cert");
}

/// The error of the config of these files in `dir`, with `dir` written as `D`.
#[track_caller]
fn error_in(dir: &TempDir, ca: &str, client: Option<(&str, &str)>) -> String {
    let line = config_error(tls_files(dir, ca, client));
    assert!(!line.contains('\n'), "one line: {line}");
    line.replace(&dir.path().display().to_string(), "D")
}

#[test]
fn files_unreadable_or_without_what_they_should_hold_are_named() {
    let dir = material_dir();
    let write = |name: &str, pem: &str| fs::write(dir.path().join(name), pem).expect("written");
    let block = |label: &str| format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
    write("empty.pem", "");
    write("cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    write("junk-ca.pem", &block("CERTIFICATE"));
    write("junk.key", &block("PRIVATE KEY"));
    write("locked.key", &block("ENCRYPTED PRIVATE KEY"));
    let cases = [
        (
            "empty.pem",
            None,
            "--tls-ca 'D/empty.pem': no certificate in it",
        ),
        // A key given as the CA: no certificate in it either.
        (
            "server.key",
            None,
            "--tls-ca 'D/server.key': no certificate in it",
        ),
        (
            "cut.pem",
            None,
            "--tls-ca 'D/cut.pem': not valid PEM: a section has no END line",
        ),
        (
            "ca.pem",
            Some(("server.key", "client.key")),
            "--tls-cert 'D/server.key': no certificate in it",
        ),
        (
            "ca.pem",
            Some(("client.pem", "client.pem")),
            "--tls-key 'D/client.pem': not a private key (PEM)",
        ),
        (
            "ca.pem",
            Some(("client.pem", "locked.key")),
            "--tls-key 'D/locked.key': an encrypted private key (teelog needs it without a passphrase)",
        ),
        (
            "ca.pem",
            Some(("client.pem", "server.key")),
            "--tls-cert 'D/client.pem': does not match the key in 'D/server.key'",
        ),
    ];
    for (ca, client, line) in cases {
        assert_eq!(error_in(&dir, ca, client), line);
    }
    let junk_ca = error_in(&dir, "junk-ca.pem", None);
    let ca_line = "--tls-ca 'D/junk-ca.pem': certificate 1 in it is not usable as a CA: ";
    assert!(junk_ca.starts_with(ca_line), "{junk_ca}");
    let junk_key = error_in(&dir, "ca.pem", Some(("client.pem", "junk.key")));
    assert!(
        junk_key.starts_with("--tls-key 'D/junk.key': cannot be used: "),
        "{junk_key}"
    );
}

#[test]
fn good_files_and_the_system_store_make_a_config() {
    let dir = material_dir();
    client_config(&tls_files(
        &dir,
        "ca.pem",
        Some(("client.pem", "client.key")),
    ))
    .expect("a config");
    client_config(&tls_files(&dir, "ca.pem", None)).expect("a config without a client certificate");
    let empty = system_roots(rustls_native_certs::CertificateResult::default());
    assert_eq!(
        empty.expect_err("no CA at all"),
        "no --tls-ca given, and the system's trust store has no CA certificate"
    );
}

#[test]
fn server_names_are_dns_names_or_ip_literals() {
    assert!(matches!(
        server_name("server.test"),
        Ok(ServerName::DnsName(_))
    ));
    let is_ip = |name| matches!(server_name(name), Ok(ServerName::IpAddress(_)));
    assert!(is_ip("127.0.0.1") && is_ip("[::1]"));
    assert_eq!(
        server_name("bad name\n").expect_err("not a name"),
        "'bad name\\n': not a host name or an IP address to check the server's certificate against"
    );
    assert!(server_name("").is_err());
}

fn tls_error(err: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

#[test]
fn reasons_of_errors_no_test_server_makes() {
    let at = |secs| UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let expired = CertificateError::ExpiredContext {
        time: at(1_800_000_000),
        not_after: at(1_577_923_200),
    };
    let expired = tls_error(rustls::Error::InvalidCertificate(expired));
    assert_eq!(
        reason(&expired),
        "the server's certificate expired on 2020-01-02 00:00:00 UTC"
    );
    let bad = tls_error(rustls::Error::AlertReceived(
        AlertDescription::BadCertificate,
    ));
    assert_eq!(
        reason(&bad),
        "the server refused teelog's certificate (or its absence): alert BadCertificate"
    );
    assert!(is_refusal(&expired) && is_refusal(&bad));
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    assert_eq!(reason(&refused), refused.to_string());
    assert!(!is_refusal(&refused));
}

/// Whether `openssl s_server` asks for and verifies a client certificate (`-Verify 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientCertificate {
    NotAsked,
    Required,
}

/// `openssl s_server` on a port of its own, TLS 1.3 only; what it receives comes out of its
/// stdout. Killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    received: mpsc::Receiver<Vec<u8>>,
}

impl Server {
    #[track_caller]
    fn start(dir: &TempDir, asks: ClientCertificate) -> Server {
        let file = |name: &str| dir.path().join(name);
        let free = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = free.local_addr().expect("its address");
        drop(free);
        let mut command = Command::new("openssl");
        command.args([
            "s_server",
            "-tls1_3",
            "-quiet",
            "-accept",
            &addr.to_string(),
        ]);
        command
            .arg("-cert")
            .arg(file("server.pem"))
            .arg("-key")
            .arg(file("server.key"));
        if asks == ClientCertificate::Required {
            command
                .arg("-CAfile")
                .arg(file("ca.pem"))
                .args(["-Verify", "1"]);
        }
        let stderr = fs::File::create(file("s_server.err")).expect("a log");
        // stdin stays open while the child lives: at its end s_server ends the session.
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().expect("openssl s_server starts");
        let mut stdout = child.stdout.take().expect("piped");
        let (sender, received) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                let _ = sender.send(buf[..n].to_vec());
            }
        });
        let mut server = Server {
            child,
            addr,
            received,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            let gone = server.child.try_wait().expect("its state");
            let log = || fs::read_to_string(file("s_server.err")).unwrap_or_default();
            assert!(gone.is_none(), "openssl s_server ended: {}", log());
            assert!(
                Instant::now() < until,
                "openssl s_server does not listen: {}",
                log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Everything it received, until `expected` is in it (or ten seconds are over).
    fn received_until(&self, expected: &[u8]) -> Vec<u8> {
        let until = Instant::now() + Duration::from_secs(10);
        let mut all = Vec::new();
        while !all.windows(expected.len()).any(|w| w == expected) {
            let left = until.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(bytes) => all.extend(bytes),
                Err(_) => break,
            }
        }
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

#[test]
fn a_good_handshake_carries_the_bytes_and_closes_cleanly() {
    let dir = material_dir();
    let server = Server::start(&dir, ClientCertificate::Required);
    let config = client_config(&tls_files(
        &dir,
        "ca.pem",
        Some(("client.pem", "client.key")),
    ))
    .expect("a config");
    let name = server_name("server.test").expect("a name");
    let mut stream =
        Stream::connect(server.addr, Some((&config, &name)), soon()).expect("connected");
    stream.write_all(b"hello over TLS\n").expect("written");
    stream.flush().expect("flushed");
    let received = server.received_until(b"hello over TLS\n");
    assert_eq!(received, b"hello over TLS\n");
    stream.close();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    // s_server answers teelog's close_notify with its own: an end without an error.
    assert_eq!(stream.read(&mut [0u8; 64]).expect("a clean end"), 0);
}

#[test]
fn a_server_signed_by_another_ca_is_not_trusted() {
    let dir = material_dir();
    let server = Server::start(&dir, ClientCertificate::NotAsked);
    let config = client_config(&tls_files(&dir, "other-ca.pem", None)).expect("a config");
    let name = server_name("server.test").expect("a name");
    let err = Stream::connect(server.addr, Some((&config, &name)), soon()).expect_err("refused");
    assert_eq!(
        reason(&err),
        "the server's certificate is not signed by a trusted CA"
    );
    assert!(is_refusal(&err));
}

#[test]
fn a_server_certificate_for_another_name_is_named() {
    let dir = material_dir();
    let server = Server::start(&dir, ClientCertificate::NotAsked);
    let config = client_config(&tls_files(&dir, "ca.pem", None)).expect("a config");
    let name = server_name("wrong.test").expect("a name");
    let err = Stream::connect(server.addr, Some((&config, &name)), soon()).expect_err("refused");
    assert_eq!(
        reason(&err),
        "the server's certificate is not valid for wrong.test (it is for server.test, 127.0.0.1)"
    );
    assert!(is_refusal(&err));
}

#[test]
fn a_missing_client_certificate_is_refused_on_the_first_read() {
    let dir = material_dir();
    let server = Server::start(&dir, ClientCertificate::Required);
    let config = client_config(&tls_files(&dir, "ca.pem", None)).expect("a config");
    let name = server_name("127.0.0.1").expect("a name");
    // TLS 1.3: the client's side of the handshake completes before the server has looked.
    let mut stream =
        Stream::connect(server.addr, Some((&config, &name)), soon()).expect("handshake");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    let err = stream.read(&mut [0u8; 64]).expect_err("refused");
    assert_eq!(
        reason(&err),
        "the server refused teelog's certificate (or its absence): alert CertificateRequired"
    );
    assert!(is_refusal(&err));
}

#[test]
fn a_server_gone_after_the_handshake_is_an_end_of_file_on_the_read() {
    let dir = material_dir();
    let server = Server::start(&dir, ClientCertificate::NotAsked);
    let config = client_config(&tls_files(&dir, "ca.pem", None)).expect("a config");
    let name = server_name("server.test").expect("a name");
    let mut stream =
        Stream::connect(server.addr, Some((&config, &name)), soon()).expect("handshake");
    stream
        .write_all(b"read all\n")
        .and_then(|()| stream.flush())
        .expect("written");
    assert_eq!(server.received_until(b"read all\n"), b"read all\n");
    // Killed with nothing unread, its socket ends without close_notify (and without a reset):
    // what a GnuTLS server's refusal looks like.
    drop(server);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    let err = stream.read(&mut [0u8; 64]).expect_err("an unclean end");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(reason(&err).starts_with("the server closed the connection during the TLS handshake"));
}

/// A listener on a port of its own whose one connection gets `answer`, on a thread.
fn listener(answer: impl FnOnce(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let addr = listener.local_addr().expect("its address");
    thread::spawn(move || {
        if let Ok((peer, _)) = listener.accept() {
            answer(peer);
        }
    });
    addr
}

/// Reads until the client closes, so that the client sees no reset.
fn drain(mut peer: TcpStream) {
    let _ = io::copy(&mut peer, &mut io::sink());
}

#[test]
fn a_server_that_closes_during_the_handshake_is_an_end_of_file() {
    let addr = listener(|peer| {
        let _ = peer.shutdown(Shutdown::Write);
        drain(peer);
    });
    let dir = material_dir();
    let config = client_config(&tls_files(&dir, "ca.pem", None)).expect("a config");
    let name = server_name("server.test").expect("a name");
    let err = Stream::connect(addr, Some((&config, &name)), soon()).expect_err("closed");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(
        reason(&err),
        "the server closed the connection during the TLS handshake or before answering \
         (a rejected client certificate, with GnuTLS)"
    );
    assert!(!is_refusal(&err));
}

#[test]
fn a_silent_server_times_the_handshake_out_at_the_deadline() {
    let addr = listener(drain);
    let dir = material_dir();
    let config = client_config(&tls_files(&dir, "ca.pem", None)).expect("a config");
    let name = server_name("server.test").expect("a name");
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    let err = Stream::connect(addr, Some((&config, &name)), deadline).expect_err("timed out");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(reason(&err), "the TLS handshake did not finish in time");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let late = Stream::connect(addr, None, started).expect_err("already too late");
    assert_eq!(late.kind(), io::ErrorKind::TimedOut);
}

#[test]
fn plain_tcp_carries_the_bytes_and_closes() {
    let (sender, received) = mpsc::channel();
    let addr = listener(move |mut peer| {
        let mut all = Vec::new();
        let _ = peer.read_to_end(&mut all);
        let _ = sender.send(all);
    });
    let mut stream = Stream::connect(addr, None, soon()).expect("connected");
    assert!(matches!(stream, Stream::Plain(_)));
    assert!(stream.tcp().nodelay().expect("a socket option"));
    stream.write_all(b"plain\n").expect("written");
    stream.close();
    let all = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the end of the stream");
    assert_eq!(all, b"plain\n");
}
