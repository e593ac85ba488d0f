//! TLS to a real rsyslogd (`relp=tls:` to imrelp, `syslog=tls:` to imtcp with openssl, both
//! requiring the client's certificate): mutual authentication delivers, every certificate
//! problem is one line and sends nothing, lines of any bytes arrive whole; and the flags that
//! cannot work stop teelog before the command starts.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use crate::certs::certs;
use crate::collector::{Input, Rsyslog, free_port};
use crate::shipped::*;
use crate::util::*;

/// What a TLS run presents and expects.
#[derive(Clone, Copy, Debug)]
enum Trust {
    /// The test CA, the permitted client certificate.
    Mutual,
    /// A CA that did not sign the server's certificate.
    WrongCa,
    /// The right CA, but `--tls-name wrong.test`.
    WrongName,
    /// No client certificate, which the server requires.
    NoClientCert,
}

impl Trust {
    fn flags(self) -> Vec<OsString> {
        let c = certs();
        let flag = |name: &str, file: &str| [name.into(), c.file(file).into_os_string()];
        let ca = flag("--tls-ca", "ca.pem");
        let client = [
            flag("--tls-cert", "client.pem"),
            flag("--tls-key", "client.key"),
        ]
        .concat();
        match self {
            Trust::Mutual => [&ca[..], &client].concat(),
            Trust::WrongCa => [&flag("--tls-ca", "other-ca.pem")[..], &client].concat(),
            Trust::WrongName => [
                &ca[..],
                &client,
                &["--tls-name".into(), "wrong.test".into()],
            ]
            .concat(),
            Trust::NoClientCert => ca.to_vec(),
        }
    }

    /// What the line of the failure must say besides the target, in lower case.
    fn reason(self) -> &'static [&'static str] {
        match self {
            Trust::Mutual => &[],
            Trust::WrongCa | Trust::NoClientCert => &["certificate"],
            Trust::WrongName => &["certificate", "wrong.test"],
        }
    }
}

const TLS_INPUTS: [Input; 2] = [Input::RelpTls, Input::SyslogTls];

fn tls_with_mutual_authentication_delivers_and_a_certificate_problem_sends_nothing() {
    for input in TLS_INPUTS {
        let mut rsyslog = Rsyslog::up(input);
        let target = rsyslog.target();
        for trust in [Trust::WrongCa, Trust::WrongName, Trust::NoClientCert] {
            let ended = Run::start(&target, 1, &trust.flags(), "seq 1 100; exit 3").end(PATIENCE);
            let case = format!("{input:?}, {trust:?}: {}", ended.stderr);
            assert_eq!(ended.status, Status::Code(3), "{case}");
            // One line for the certificate; the line of what was left unacknowledged may follow.
            let problems: Vec<&str> = ended
                .stderr
                .lines()
                .filter(|l| !l.contains("not acknowledged"))
                .collect();
            assert_eq!(problems.len(), 1, "{case}");
            assert!(
                problems[0].starts_with(&format!("teelog: {target}")),
                "{case}"
            );
            eprintln!("{input:?}, {trust:?}: {}", ended.stderr.trim_end());
            let lower = problems[0].to_lowercase();
            assert!(trust.reason().iter().all(|r| lower.contains(r)), "{case}");
            unshipped(&ended.stderr, &target);
            let records = ended.records();
            assert_eq!(
                text(&rebuild(&records, "stdout")),
                text(&lines(100)),
                "{case}"
            );
            // Whatever was sent would be there by now: the server answers in milliseconds.
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(rsyslog.raw_lines(), Vec::<Vec<u8>>::new(), "{case}");
        }
        let ended = Run::start(&target, 30, &Trust::Mutual.flags(), "seq 1 100; exit 3");
        let ended = ended.end(PATIENCE);
        ended.assert_clean(3);
        let records = ended.records();
        rsyslog.wait_for(records.len(), PATIENCE);
        check_arrived(rsyslog.messages(), &records);
    }
}

/// `1\n2\n...n\n`.
fn lines(n: u64) -> Vec<u8> {
    (1..=n)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect()
}

/// Lines of UTF-8, of bytes that are not, with a tab, and one of 100 KB, each ended by `\n`.
fn awkward_lines() -> Vec<Vec<u8>> {
    let long: Vec<u8> = noise(100_000, 7).iter().map(|b| b'a' + b % 26).collect();
    vec![
        b"plain".to_vec(),
        "gr\u{fc}\u{df}e, \u{65e5}\u{672c}\u{8a9e}, \u{1f389}".into(),
        b"\xff\xfe not UTF-8 \xc3( \xe2\x82".to_vec(),
        b"a\ttab and trailing spaces  ".to_vec(),
        long,
        b"after the long one".to_vec(),
    ]
}

fn lines_of_any_bytes_and_of_100_kb_arrive_whole_over_relp_and_tls() {
    let expected = awkward_lines();
    for input in [Input::Relp, Input::RelpTls, Input::SyslogTls] {
        let mut rsyslog = Rsyslog::up(input);
        let dir = tempdir();
        let file = dir.path().join("lines");
        std::fs::write(
            &file,
            expected
                .iter()
                .flat_map(|l| [&l[..], b"\n"].concat())
                .collect::<Vec<u8>>(),
        )
        .unwrap();
        let flags = match input {
            Input::Relp => Vec::new(),
            Input::RelpTls | Input::SyslogTls => Trust::Mutual.flags(),
        };
        let script = format!("cat '{}'", file.display());
        let ended = Run::start(&rsyslog.target(), 30, &flags, &script).end(PATIENCE);
        ended.assert_clean(0);
        let records = ended.records();
        assert_eq!(rebuild(&records, "stdout"), read(&file), "the local log");
        // start, the lines, exit: the long line is one message, whatever the jsonl log did.
        rsyslog.wait_for(expected.len() + 2, PATIENCE);
        let firsts = first_arrivals(rsyslog.messages());
        let got = texts(&firsts, "stdout");
        for (i, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert!(
                got == want,
                "{input:?}: line {i}: {:?}",
                text(&got[..got.len().min(80)])
            );
        }
        assert_eq!(got.len(), expected.len(), "{input:?}");
        assert_eq!(
            firsts.len(),
            expected.len() + 2,
            "{input:?}: {:?}",
            firsts.last()
        );
    }
}

/// Checks that `flags` (with a relp= target, before `--`) make teelog fail with exit 125 and one
/// line holding `needle`, without starting the command.
#[track_caller]
fn refused(flags: &[OsString], needle: &str) {
    let dir = tempdir();
    let marker = dir.path().join("ran");
    let out = teelog()
        .args(flags)
        .arg("--spool-dir")
        .arg(dir.path())
        .args(["--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    eprintln!("{flags:?}: {}", err.trim_end());
    assert_eq!(
        Status::of(out.status),
        Status::Code(125),
        "{flags:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
    assert!(
        err.starts_with("teelog: ") && err.contains(needle),
        "{flags:?}: {err}"
    );
    assert!(!marker.exists(), "{flags:?}: the command ran");
}

fn bad_targets_certificate_files_and_names_stop_teelog_before_the_command() {
    let os = |args: &[&str]| -> Vec<OsString> { args.iter().map(OsString::from).collect() };
    let path = |p: &Path| p.as_os_str().to_owned();
    let tls = [
        "-o".into(),
        format!("relp=tls:127.0.0.1:{}", free_port()).into(),
    ];
    refused(&os(&["-o", "relp=127.0.0.1"]), "relp=127.0.0.1");
    refused(&os(&["-o", "syslog=tls:127.0.0.1"]), "syslog=tls:127.0.0.1");
    refused(&os(&["-o", "relp=127.0.0.1:99999"]), "99999");
    let missing = "/nonexistent/ca.pem";
    refused(&[&tls[..], &os(&["--tls-ca", missing])].concat(), missing);
    let (cert, key) = (certs().file("client.pem"), certs().file("client.key"));
    refused(
        &[&tls[..], &["--tls-cert".into(), path(&cert)]].concat(),
        "--tls-key",
    );
    let dir = tempdir();
    let not_a_key = dir.path().join("not-a.key");
    std::fs::write(&not_a_key, "not a key\n").unwrap();
    let flags = [
        &tls[..],
        &[
            "--tls-cert".into(),
            path(&cert),
            "--tls-key".into(),
            path(&not_a_key),
        ],
    ];
    refused(&flags.concat(), &not_a_key.display().to_string());
    let flags = [
        &tls[..],
        &[
            "--tls-cert".into(),
            path(&cert),
            "--tls-key".into(),
            path(&key),
        ],
    ];
    refused(
        &[&flags.concat()[..], &os(&["--tls-name", ""])].concat(),
        "--tls-name",
    );
}

crate::trials![
    tls_with_mutual_authentication_delivers_and_a_certificate_problem_sends_nothing[
        RSYSLOG,
        RSYSLOG_RELP,
        RSYSLOG_TLS,
        OPENSSL
    ],
    lines_of_any_bytes_and_of_100_kb_arrive_whole_over_relp_and_tls[
        RSYSLOG,
        RSYSLOG_RELP,
        RSYSLOG_TLS,
        OPENSSL
    ],
    bad_targets_certificate_files_and_names_stop_teelog_before_the_command[OPENSSL],
];
