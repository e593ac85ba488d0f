//! A private rsyslogd for the shipping tests: one input (imrelp in clear, imrelp over TLS, or
//! imtcp over TLS with RFC 5425 octet counting) on a free port of 127.0.0.1, a Direct main queue
//! (imrelp acknowledges on enqueue, so with a queue a killed server would lose lines it had
//! acknowledged, which no client can help), and every message written raw, one a line, to a file
//! that the test reads back. Its configuration is docs/research/relp-tls.md, section 2.2.
//!
//! Also the harness's own checks, which need no teelog: a RELP exchange by hand (the exact bytes
//! of the research, section 1.3) and an `openssl s_client` land in the output file, and a client
//! without a certificate lands nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::certs::certs;
pub use crate::received::Message;
use crate::received::Output;
use crate::util::*;

/// Which input the rsyslogd has, and how teelog's `-o` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// imrelp in clear: `-o relp=HOST:PORT`.
    Relp,
    /// imrelp with openssl, mutual authentication by name: `-o relp=tls:HOST:PORT`.
    RelpTls,
    /// imtcp with the ossl driver, x509/name: `-o syslog=tls:HOST:PORT`.
    SyslogTls,
}

impl Input {
    /// teelog's `-o` value for this input on `port`, which is also how its messages name it.
    pub fn target(self, port: u16) -> String {
        match self {
            Input::Relp => format!("relp=127.0.0.1:{port}"),
            Input::RelpTls => format!("relp=tls:127.0.0.1:{port}"),
            Input::SyslogTls => format!("syslog=tls:127.0.0.1:{port}"),
        }
    }

    /// The input's lines of the configuration.
    fn config(self, port: u16) -> String {
        let ca = certs().file("ca.pem").display().to_string();
        let cert = certs().file("server.pem").display().to_string();
        let key = certs().file("server.key").display().to_string();
        match self {
            Input::Relp => format!(
                "module(load=\"imrelp\")\n\
                 input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{port}\" maxDataSize=\"256k\" \
                 ruleset=\"in\")\n"
            ),
            Input::RelpTls => format!(
                "module(load=\"imrelp\" tls.tlslib=\"openssl\")\n\
                 input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{port}\" maxDataSize=\"256k\" \
                 ruleset=\"in\" tls=\"on\" tls.cacert=\"{ca}\" tls.mycert=\"{cert}\" \
                 tls.myprivkey=\"{key}\" tls.authmode=\"name\" tls.permittedpeer=[\"client.test\"])\n"
            ),
            Input::SyslogTls => format!(
                "module(load=\"imtcp\" streamDriver.name=\"ossl\" streamDriver.mode=\"1\" \
                 streamDriver.authMode=\"x509/name\" permittedPeer=[\"client.test\"])\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"in\" \
                 streamDriver.CAFile=\"{ca}\" streamDriver.CertFile=\"{cert}\" \
                 streamDriver.KeyFile=\"{key}\")\n"
            ),
        }
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private rsyslogd. It may be stopped, killed and started again on the same port; it is
/// killed on drop (continued first, should it be stopped).
#[derive(Debug)]
pub struct Rsyslog {
    pub input: Input,
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// How many rsyslogds have been started (each has its own config, pid file and stderr).
    started: u32,
    output: Output,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            end_stopped_or_not(child);
        }
    }
}

impl Rsyslog {
    /// One for `input`, on a port of its own, not yet started.
    pub fn new(input: Input) -> Rsyslog {
        require(&RSYSLOG);
        if input != Input::SyslogTls {
            require(&RSYSLOG_RELP);
        }
        if input != Input::Relp {
            require(&RSYSLOG_TLS);
            require(&OPENSSL);
        }
        let dir = tempdir();
        let path = dir.path().join("out.log");
        Rsyslog {
            input,
            port: free_port(),
            child: None,
            dir,
            started: 0,
            output: Output::new(path),
        }
    }

    /// One for `input`, started.
    pub fn up(input: Input) -> Rsyslog {
        let mut rsyslog = Rsyslog::new(input);
        rsyslog.start();
        rsyslog
    }

    /// teelog's `-o` value for it.
    pub fn target(&self) -> String {
        self.input.target(self.port)
    }

    /// Starts an rsyslogd (the last one must have ended) and returns once it takes connections;
    /// in clear, once a RELP probe sent by hand is in its output.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "rsyslogd {} still runs", self.started);
        self.started += 1;
        let (n, d) = (self.started, self.dir.path().display());
        let conf = format!(
            "global(workDirectory=\"{d}\" maxMessageSize=\"256k\" \
             parser.escapeControlCharactersOnReceive=\"off\")\n\
             main_queue(queue.type=\"Direct\")\n\
             template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n\
             ruleset(name=\"in\") {{ action(type=\"omfile\" file=\"{d}/out.log\" template=\"raw\") }}\n\
             {}",
            self.input.config(self.port)
        );
        let conf_path = self.dir.path().join(format!("rs{n}.conf"));
        std::fs::write(&conf_path, conf).unwrap();
        let stderr = std::fs::File::create(self.dir.path().join(format!("stderr{n}"))).unwrap();
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(self.dir.path().join(format!("pid{n}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let probe = format!("<13>1 - - probe - - - ready {n}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = match self.input {
                Input::Relp => {
                    relp_by_hand(self.port, probe.as_bytes()).is_ok()
                        && self.raw_lines().iter().any(|l| l == probe.as_bytes())
                }
                Input::RelpTls | Input::SyslogTls => {
                    TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                }
            };
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd {n} did not start: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().expect("rsyslogd runs").id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).unwrap();
    }

    /// SIGKILLs it and waits until it has gone.
    pub fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.child.take().unwrap().wait().unwrap();
    }

    /// What every rsyslogd started so far said on stderr.
    pub fn stderr(&self) -> String {
        (1..=self.started)
            .map(|n| std::fs::read_to_string(self.dir.path().join(format!("stderr{n}"))))
            .filter_map(Result::ok)
            .collect()
    }

    /// Every line of the output file, teelog's or not (probes), as it is now.
    pub fn raw_lines(&self) -> Vec<Vec<u8>> {
        let bytes = std::fs::read(self.output.path()).unwrap_or_default();
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        lines.pop();
        lines
    }

    /// teelog's messages written out so far, in the order they were, duplicates included.
    pub fn messages(&mut self) -> &[Message] {
        self.output.messages()
    }

    /// Waits until messages of `count` different seqs are written out, at most `limit`.
    #[track_caller]
    pub fn wait_for(&mut self, count: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.output.seqs();
            if got >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd has {got} of {count} messages after {limit:?}; its stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The RELP exchange of docs/research/relp-tls.md, section 1.3, with `message` as the one
/// `syslog` frame: open, syslog, close in one write, then everything the server answers up to
/// its end of the connection.
pub fn relp_by_hand(port: u16, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let frames = framed(Input::Relp, message);
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(&frames)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}

/// Which certificate an `openssl s_client` shows the server.
#[derive(Clone, Copy, Debug)]
pub enum ClientCert {
    Permitted,
    Absent,
}

/// Sends `payload` to the TLS input on `port` with `openssl s_client`, verifying the server as
/// `server.test` against the test CA; returns once the client has ended.
pub fn openssl_client(port: u16, cert: ClientCert, payload: &[u8]) -> std::process::Output {
    let c = certs();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-quiet", "-no_ign_eof", "-verify_return_error"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "-servername",
            "server.test",
            "-verify_hostname",
            "server.test",
        ])
        .arg("-CAfile")
        .arg(c.file("ca.pem"));
    if let ClientCert::Permitted = cert {
        cmd.arg("-cert").arg(c.file("client.pem"));
        cmd.arg("-key").arg(c.file("client.key"));
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(payload).unwrap();
    child.wait_with_output().unwrap()
}

/// An RFC 5424 message a probe sends, tagged `tag`, in teelog's structured data; its text is
/// [`PROBE_TEXT`].
fn probe(tag: &str, seq: u64) -> Vec<u8> {
    let mut message = format!(
        "<13>1 2026-12-03T13:20:00Z host probe 42 - [teelog@32473 session=\"{tag}\" \
         seq=\"{seq}\" stream=\"stdout\"] "
    )
    .into_bytes();
    message.extend(PROBE_TEXT);
    message
}

/// UTF-8 and bytes that are not.
const PROBE_TEXT: &[u8] = b"gr\xc3\xbc\xc3\x9fe \xff\xfe";

fn the_collector_takes_a_relp_exchange_by_hand() {
    let mut rsyslog = Rsyslog::up(Input::Relp);
    let answer = relp_by_hand(rsyslog.port, &probe("hand", 7)).unwrap();
    let answer = text(&answer);
    assert!(answer.starts_with("1 rsp "), "{answer}");
    assert!(answer.contains("\n2 rsp 6 200 OK\n3 rsp 0\n"), "{answer}");
    rsyslog.wait_for(1, PATIENCE);
    let got = &rsyslog.messages()[0];
    assert_eq!((got.session.as_str(), got.seq), ("hand", 7));
    assert_eq!(got.stream.as_deref(), Some("stdout"));
    assert_eq!(got.text, PROBE_TEXT);
    // Killed, a new one takes the same port (the probe of start() is such an exchange again).
    rsyslog.kill();
    rsyslog.start();
    relp_by_hand(rsyslog.port, &probe("again", 8)).unwrap();
    rsyslog.wait_for(2, PATIENCE);
    assert_eq!(rsyslog.messages()[1].session, "again");
}

/// The octet-counted frame (RFC 5425) of `message`, or the RELP frames of a session with it.
fn framed(input: Input, message: &[u8]) -> Vec<u8> {
    match input {
        Input::SyslogTls => {
            let mut frame = format!("{} ", message.len()).into_bytes();
            frame.extend(message);
            frame
        }
        _ => {
            let offers = "relp_version=0\nrelp_software=teelog-tests\ncommands=syslog\n";
            let mut frames = format!("1 open {} {offers}\n", offers.len()).into_bytes();
            frames.extend(format!("2 syslog {} ", message.len()).as_bytes());
            frames.extend(message);
            frames.extend(b"\n3 close 0\n");
            frames
        }
    }
}

fn the_collectors_tls_inputs_take_an_openssl_client_with_a_permitted_certificate_only() {
    for input in [Input::RelpTls, Input::SyslogTls] {
        let mut rsyslog = Rsyslog::up(input);
        let refused = openssl_client(
            rsyslog.port,
            ClientCert::Absent,
            &framed(input, &probe("none", 1)),
        );
        let taken = openssl_client(
            rsyslog.port,
            ClientCert::Permitted,
            &framed(input, &probe("tls", 2)),
        );
        // Not its exit status: after RELP's serverclose, librelp ends the connection without a
        // close_notify, which s_client counts as an error once in a while.
        let taken = text(&taken.stderr);
        rsyslog.wait_for(1, PATIENCE);
        std::thread::sleep(Duration::from_millis(300));
        let got = rsyslog.messages().to_vec();
        assert_eq!(
            got.len(),
            1,
            "{input:?}: {got:?}\n{}\n{taken}",
            text(&refused.stderr)
        );
        assert_eq!(
            (got[0].session.as_str(), got[0].seq),
            ("tls", 2),
            "{input:?}"
        );
        assert_eq!(got[0].text, PROBE_TEXT, "{input:?}");
    }
}

crate::trials![
    the_collector_takes_a_relp_exchange_by_hand[RSYSLOG, RSYSLOG_RELP],
    the_collectors_tls_inputs_take_an_openssl_client_with_a_permitted_certificate_only[
        RSYSLOG, RSYSLOG_RELP, RSYSLOG_TLS, OPENSSL
    ],
];
