//! Destinations other than files: the systemd journal, checked against a real journald (started
//! by .ci/run when the machine has none) through `journalctl`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// The journal's entries of `session`, once there are `count` of them.
fn entries(session: &str, count: usize) -> Vec<Value> {
    journal_entries(&format!("TEELOG_SESSION={session}"), count)
}

/// The journal's entries that match `field` (`NAME=value`), once there are `count` of them.
fn journal_entries(field: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out = Command::new("journalctl")
            .args(["-o", "json", "--all", "--no-pager"])
            .arg(field)
            .output()
            .unwrap();
        let found: Vec<Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "journald has {} of {count} entries: {}",
            found.len(),
            text(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A journal field as bytes (journalctl gives non-UTF-8 values as arrays of numbers).
fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Array(a) => a.iter().map(|b| b.as_u64().unwrap() as u8).collect(),
        other => panic!("{other}"),
    }
}

fn the_journal_gets_one_entry_per_line_with_its_fields_in_seq_order() {
    require(&JOURNALD);
    let dir = tempdir();
    let jsonl = dir.path().join("j.jsonl");
    let script = "echo out; echo err >&2; printf '\\377\\376 not utf-8\\n'; \
                  head -c 65536 /dev/zero | tr '\\0' x; echo; printf 'a\\nno end'; exit 3";
    run(
        teelog()
            .args(["-q", "-o", "journal", "-o"])
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "sh", "-c", script]),
        3,
    );
    let records = records(&read(&jsonl));
    check_run(&records);
    let session = records[0]["session"].as_str().unwrap();
    let pid = records[0]["pid"].to_string();
    let mut got = entries(session, records.len());
    assert_eq!(got.len(), records.len());
    got.sort_by_key(|e| e["TEELOG_SEQ"].as_str().unwrap().parse::<u64>().unwrap());
    for (entry, record) in got.iter().zip(&records) {
        assert_eq!(entry["TEELOG_SEQ"], record["seq"].to_string(), "{entry}");
        assert_eq!(entry["SYSLOG_IDENTIFIER"], "sh");
        assert_eq!(entry["SYSLOG_PID"], pid);
        let priority = match (record["type"].as_str(), record["stream"].as_str()) {
            (Some("output"), Some("stderr")) => "3",
            (Some("output"), _) => "6",
            _ => "5",
        };
        assert_eq!(entry["PRIORITY"], priority, "{entry}");
        if record["type"] == "output" {
            let exact = match record.get("bytes") {
                Some(b64) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.as_str().unwrap())
                        .unwrap()
                }
                None => record["message"].as_str().unwrap().as_bytes().to_vec(),
            };
            assert!(bytes(&entry["MESSAGE"]) == exact, "{entry}");
            assert_eq!(entry["TEELOG_STREAM"], record["stream"]);
            assert_eq!(
                entry.get("TEELOG_EOL").is_some(),
                record.get("eol").is_some(),
                "{entry}"
            );
        }
    }
    let messages: Vec<Vec<u8>> = got.iter().map(|e| bytes(&e["MESSAGE"])).collect();
    assert!(
        messages.contains(&b"\xff\xfe not utf-8".to_vec()),
        "a non-UTF-8 line, exact"
    );
    assert!(
        messages.contains(&vec![b'x'; 65536]),
        "a 64 KiB line, whole, in one entry"
    );
    let start = &got[0];
    assert!(
        start["TEELOG_COMMAND"]
            .as_str()
            .unwrap()
            .starts_with("sh -c 'echo out;"),
        "{start}"
    );
    let exit = got.last().unwrap();
    assert_eq!(exit["TEELOG_EXIT_CODE"], "3");
    assert!(
        exit["TEELOG_DURATION_S"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .is_ok()
    );
    assert!(
        exit["MESSAGE"]
            .as_str()
            .unwrap()
            .starts_with("exit: status 3 after "),
        "{exit}"
    );
}

fn a_preset_names_the_entries_and_a_missing_journal_stops_the_run_before_it_starts() {
    require(&JOURNALD);
    let dir = tempdir();
    let presets = dir.path().join("presets.toml");
    std::fs::write(
        &presets,
        "[presets.greeter]\nprogram = \"sh\"\nargs = [\"-c\", \"echo hello\"]\n",
    )
    .unwrap();
    let jsonl = dir.path().join("j.jsonl");
    run(
        teelog()
            .arg("--presets-file")
            .arg(&presets)
            .args(["--preset", "greeter", "-q", "-o", "journal", "-o"])
            .arg(format!("jsonl={}", jsonl.display())),
        0,
    );
    let records = records(&read(&jsonl));
    let got = entries(records[0]["session"].as_str().unwrap(), 3);
    assert!(
        got.iter().all(|e| e["SYSLOG_IDENTIFIER"] == "greeter"),
        "{got:?}"
    );

    let marker = dir.path().join("ran");
    let out = run(
        teelog()
            .env("TEELOG_JOURNAL_SOCKET", dir.path().join("no-socket"))
            .args(["-o", "journal", "--", "touch"])
            .arg(&marker),
        125,
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the systemd journal at"), "{err}");
    assert!(!marker.exists(), "the command did not run");
}

// --- syslog, against a real rsyslogd ---------------------------------------------------------

/// An rsyslogd of the test's own: a unix socket with imuxsock's stock parser, UDP and TCP on
/// loopback, everything written to a file, one line per message: input, severity, facility,
/// app-name, procid, structured data, message.
struct Rsyslog {
    child: std::process::Child,
    dir: tempfile::TempDir,
    udp: u16,
    tcp: u16,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        require(&RSYSLOG);
        let dir = tempdir();
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (udp, tcp) = (free(), free());
        let d = dir.path().display();
        let conf = format!(
            "global(workDirectory=\"{d}\")\n\
             module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             input(type=\"imuxsock\" Socket=\"{d}/log.sock\")\n\
             module(load=\"imudp\")\n\
             input(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\")\n\
             module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\")\n\
             template(name=\"t\" type=\"string\" string=\"%inputname%|%syslogseverity-text%|\
             %syslogfacility-text%|%app-name%|%procid%|%structured-data%|%msg%\\n\")\n\
             *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"t\")\n"
        );
        std::fs::write(dir.path().join("rs.conf"), conf).unwrap();
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(dir.path().join("rs.conf"))
            .arg("-i")
            .arg(dir.path().join("pid"))
            .spawn()
            .unwrap();
        let rsyslog = Rsyslog {
            child,
            dir,
            udp,
            tcp,
        };
        // Ready once a probe sent to each input has been written out.
        let deadline = Instant::now() + PATIENCE;
        let sock = rsyslog.dir.path().join("log.sock");
        loop {
            let udp_probe = std::net::UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.send_to(b"<13>probe-udp: ready", ("127.0.0.1", udp)));
            let tcp_probe = std::net::TcpStream::connect(("127.0.0.1", tcp))
                .and_then(|mut s| std::io::Write::write_all(&mut s, b"<13>probe-tcp: ready\n"));
            let unix_probe = std::os::unix::net::UnixDatagram::unbound()
                .and_then(|s| s.send_to(b"<13>probe-unix: ready", &sock));
            let seen = std::fs::read_to_string(rsyslog.out()).unwrap_or_default();
            if udp_probe.is_ok()
                && tcp_probe.is_ok()
                && unix_probe.is_ok()
                && ["probe-udp", "probe-tcp", "probe-unix"]
                    .iter()
                    .all(|p| seen.contains(p))
            {
                return Some(rsyslog);
            }
            assert!(Instant::now() < deadline, "rsyslogd did not start: {seen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn out(&self) -> std::path::PathBuf {
        self.dir.path().join("out.log")
    }

    /// The messages `input` received from `app`, once there are `count`, as their fields.
    fn messages(&self, input: &str, app: &str, count: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got: Vec<Vec<String>> = std::fs::read_to_string(self.out())
                .unwrap_or_default()
                .lines()
                .map(|l| l.splitn(7, '|').map(str::to_owned).collect::<Vec<_>>())
                .filter(|f| f.len() == 7 && f[0] == input && f[3] == app)
                .collect();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{input} has {} of {count} messages",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn syslog_gets_every_line_in_order_with_its_severity_on_all_three_transports() {
    let Some(rsyslog) = Rsyslog::start() else {
        return;
    };
    let dir = tempdir();
    let jsonl = dir.path().join("j.jsonl");
    // 40 lines on stdout, 10 on stderr, interleaved; one line of 20000 bytes (split into
    // several messages by every transport); UTF-8 text.
    let long = "0".repeat(20000);
    let script = String::from(
        "i=0; while [ $i -lt 10 ]; do echo \"out $i a\"; echo \"out $i b\"; echo \"err $i\" >&2; \
         echo \"out $i c\"; echo \"out $i d\"; i=$((i+1)); sleep 0.01; done; printf '%020000d\\n' 0; echo 'café ☕'",
    );
    let sock = rsyslog.dir.path().join("log.sock");
    run(
        teelog()
            .args(["-q", "--syslog-facility", "local3", "-o"])
            .arg(format!("syslog=unix:{}", sock.display()))
            .arg("-o")
            .arg(format!("syslog=udp:127.0.0.1:{}", rsyslog.udp))
            .arg("-o")
            .arg(format!("syslog=tcp:127.0.0.1:{}", rsyslog.tcp))
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display()))
            .args(["--", "sh", "-c", &script]),
        0,
    );
    let records = records(&read(&jsonl));
    check_run(&records);
    let pid = records[0]["pid"].to_string();
    let session = records[0]["session"].as_str().unwrap();
    let lines: Vec<(&str, &str, u64)> = records[1..records.len() - 1]
        .iter()
        .map(|r| {
            (
                r["stream"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
                r["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    // On the network each message carries jsonl's seq for its line: the pieces of the long line
    // share its record's.
    let seq_is = |input: &str, m: &Vec<String>, seq: u64| {
        if input != "imuxsock" {
            assert!(
                m[5].starts_with(&format!(
                    "[teelog@32473 session=\"{session}\" seq=\"{seq}\""
                )),
                "{input}: seq {seq}: {m:?}"
            );
        }
    };
    for (input, max) in [("imuxsock", 7168), ("imudp", 1536), ("imtcp", 7168)] {
        let pieces = long.len().div_ceil(max);
        let count = records.len() + pieces - 1;
        let got = rsyslog.messages(input, "sh", count);
        assert_eq!(
            got.len(),
            count,
            "{input}: nothing more, nothing less: {got:?}"
        );
        assert!(
            got.iter().all(|m| m[2] == "local3" && m[4] == pid),
            "{input}: {got:?}"
        );
        // rsyslog keeps the space after "TAG:" of the traditional format in the message.
        let text = |m: &Vec<String>| {
            if input == "imuxsock" {
                m[6].strip_prefix(' ').unwrap_or(&m[6]).to_owned()
            } else {
                m[6].clone()
            }
        };
        assert!(
            text(&got[0]).starts_with("start: sh -c "),
            "{input}: {:?}",
            got[0]
        );
        assert_eq!(got[0][1], "notice");
        seq_is(input, &got[0], 1);
        let last = got.last().unwrap();
        seq_is(input, last, records.len() as u64);
        assert!(
            text(last).starts_with("exit: status 0 after "),
            "{input}: {last:?}"
        );
        assert_eq!(last[1], "notice");
        // Every line in order, with its severity; the long one in pieces.
        let mut body = got[1..got.len() - 1].iter();
        for (stream, line, seq) in &lines {
            let severity = if *stream == "stderr" { "err" } else { "info" };
            let mut whole = String::new();
            while whole.len() < line.len() {
                let m = body
                    .next()
                    .unwrap_or_else(|| panic!("{input}: {line:?} missing"));
                assert_eq!(m[1], severity, "{input}: {m:?}");
                seq_is(input, m, *seq);
                whole.push_str(&text(m));
            }
            assert_eq!(whole, *line, "{input}");
        }
    }
}

fn a_syslog_server_that_is_down_is_reported_once_and_the_run_goes_on() {
    let dir = tempdir();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("p.log");
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("syslog=tcp:127.0.0.1:{closed}"))
            .arg("-o")
            .arg(format!("plain={}", log.display()))
            .args(["--", "seq", "1", "1000"]),
        125,
    );
    let expected: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    assert_eq!(text(&out.stdout), expected, "the console got everything");
    assert_eq!(text(&read(&log)), expected, "the other log too");
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains(&format!("syslog tcp:127.0.0.1:{closed}: cannot connect")),
        "{err}"
    );
    assert!(
        lines[1].ends_with("1002 messages could not be delivered"),
        "{err}"
    );
    // A local socket that is not there stops the run before it starts, as a log file would.
    let marker = dir.path().join("ran");
    let out = run(
        teelog()
            .arg("-o")
            .arg(format!("syslog=unix:{}", dir.path().join("nope").display()))
            .args(["--", "touch"])
            .arg(&marker),
        125,
    );
    assert!(
        text(&out.stderr).contains("cannot reach syslog at unix:"),
        "{}",
        text(&out.stderr)
    );
    assert!(!marker.exists());
}

/// One octet-counted message (RFC 6587) from `reader`, or `None` at the end.
fn framed(reader: &mut impl std::io::BufRead) -> Option<String> {
    let mut len = Vec::new();
    reader.read_until(b' ', &mut len).ok()?;
    let len: usize = std::str::from_utf8(len.strip_suffix(b" ")?)
        .ok()?
        .parse()
        .ok()?;
    let mut message = vec![0; len];
    reader.read_exact(&mut message).ok()?;
    Some(text(&message))
}

fn a_tcp_syslog_connection_that_breaks_is_made_again() {
    // A server of the test's own takes the first connection, reads the start message and drops
    // the connection; teelog must connect again and send what comes later. (What it wrote just
    // after the drop may be lost unnoticed: syslog over TCP has no acknowledgements.)
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = teelog()
        .args(["-q", "-o"])
        .arg(format!("syslog=tcp:127.0.0.1:{port}"))
        .args([
            "--",
            "sh",
            "-c",
            "sleep 0.3; echo before; sleep 0.3; echo lost-or-not; sleep 0.3; echo after",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (first, _) = listener.accept().unwrap();
    first.set_read_timeout(Some(PATIENCE)).unwrap();
    let start = framed(&mut std::io::BufReader::new(first)).expect("the start message");
    assert!(start.contains("] start: sh -c"), "{start}");
    // (`first` is closed here.)
    let (second, _) = listener.accept().unwrap();
    second.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut second = std::io::BufReader::new(second);
    let mut later = Vec::new();
    while let Some(message) = framed(&mut second) {
        later.push(message);
    }
    assert!(later.iter().any(|m| m.ends_with("] after")), "{later:?}");
    assert!(
        later
            .last()
            .is_some_and(|m| m.contains("] exit: status 0 after")),
        "{later:?}"
    );
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("connection lost").count(),
        1,
        "reported once: {err}"
    );
}

fn journalds_syslog_socket_parses_the_local_format() {
    // journald's /dev/log (run/systemd/journal/dev-log) reads what syslog(3) sends; teelog's
    // local messages must come out with their identifier, pid, priority and text.
    require(&JOURNALD);
    let dev_log = "/run/systemd/journal/dev-log";
    let dir = tempdir();
    let name = format!(
        "teelogdevlog{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    );
    let presets = dir.path().join("presets.toml");
    std::fs::write(
        &presets,
        format!(
            "[presets.{name}]\nprogram = \"sh\"\nargs = [\"-c\", \"echo out; echo err >&2; echo 'tab\\there'\"]\n"
        ),
    )
    .unwrap();
    let jsonl = dir.path().join("j.jsonl");
    run(
        teelog()
            .arg("--presets-file")
            .arg(&presets)
            .args(["--preset", &name, "-q", "-o"])
            .arg(format!("syslog=unix:{dev_log}"))
            .arg("-o")
            .arg(format!("jsonl={}", jsonl.display())),
        0,
    );
    let records = records(&read(&jsonl));
    let got = journal_entries(&format!("SYSLOG_IDENTIFIER={name}"), records.len());
    let pid = records[0]["pid"].to_string();
    let wanted: Vec<(&str, String)> = records
        .iter()
        .map(|r| match r["type"].as_str().unwrap() {
            "output" if r["stream"] == "stderr" => ("3", r["message"].as_str().unwrap().to_owned()),
            "output" => ("6", r["message"].as_str().unwrap().to_owned()),
            _ => ("5", String::new()),
        })
        .collect();
    assert_eq!(got.len(), wanted.len());
    for (entry, (priority, message)) in got.iter().zip(&wanted) {
        assert_eq!(entry["PRIORITY"], *priority, "{entry}");
        assert_eq!(entry["SYSLOG_PID"], pid, "{entry}");
        if !message.is_empty() {
            assert_eq!(entry["MESSAGE"], *message.as_str(), "{entry}");
        }
    }
    assert!(
        got[0]["MESSAGE"]
            .as_str()
            .unwrap()
            .starts_with("start: sh -c")
    );
}

crate::trials![
    the_journal_gets_one_entry_per_line_with_its_fields_in_seq_order[JOURNALD],
    a_preset_names_the_entries_and_a_missing_journal_stops_the_run_before_it_starts[JOURNALD],
    syslog_gets_every_line_in_order_with_its_severity_on_all_three_transports[RSYSLOG],
    a_syslog_server_that_is_down_is_reported_once_and_the_run_goes_on,
    a_tcp_syslog_connection_that_breaks_is_made_again,
    journalds_syslog_socket_parses_the_local_format[JOURNALD],
];
