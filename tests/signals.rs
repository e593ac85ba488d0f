//! Real signals: from a terminal, from `kill`, and the command's own death.

use std::fs::File;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::*;

/// The exit record of a jsonl log, after checking the whole run is there.
fn exit_record(log: &std::path::Path) -> serde_json::Value {
    let records = records(&read(log));
    check_run(&records);
    records.last().unwrap().clone()
}

fn ctrl_c_in_a_terminal_reaches_the_command_once_and_teelog_ends_as_it_did() {
    for (key, name, number) in [(b"\x03", "INT", 2), (b"\x1c", "QUIT", 3)] {
        let dir = tempdir();
        let log = dir.path().join("tty.jsonl");
        let pty = terminal();
        let slave = File::from(pty.slave);
        // setsid -c: a new session whose controlling terminal is the pty, so that the terminal's
        // Ctrl-C goes to its foreground process group: teelog and the command.
        let mut child = Command::new("setsid")
            .current_dir(dir.path())
            .arg("-c")
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .arg("--")
            .arg(fixture("signals.sh"))
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave)
            .spawn()
            .unwrap();
        let mut master = File::from(pty.master);
        let mut console = Collector::new(master.try_clone().unwrap());
        console.wait_for("ready");
        master.write_all(key).unwrap();
        assert_eq!(
            wait(&mut child),
            Status::Signal(number),
            "teelog ends by SIG{name}"
        );
        let signals = format!("signals: 1 {name}");
        let exit = exit_record(&log);
        assert_eq!(exit["signal"], format!("SIG{name}"));
        let records = records(&read(&log));
        assert!(
            messages(&records, "stdout").contains(&signals),
            "{records:?}"
        );
        drop(master);
        assert!(console.rest().contains(&signals));
    }
}

fn start_signals_fixture(log: &std::path::Path) -> (Child, Collector) {
    let mut child = teelog()
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .arg("--")
        .arg(fixture("signals.sh"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    console.wait_for("ready");
    (child, console)
}

fn signals_sent_to_teelog_are_forwarded_and_logged() {
    let signals = [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ];
    let runs: Vec<_> = signals
        .into_iter()
        .map(|signal| {
            std::thread::spawn(move || {
                let dir = tempdir();
                let log = dir.path().join("k.jsonl");
                let (mut child, console) = start_signals_fixture(&log);
                kill(Pid::from_raw(child.id() as i32), signal).unwrap();
                assert_eq!(wait(&mut child), Status::Signal(signal as i32), "{signal}");
                let short = &signal.as_str()[3..];
                assert!(
                    console.rest().contains(&format!("signals: 1 {short}")),
                    "{signal}"
                );
                assert_eq!(exit_record(&log)["signal"], signal.as_str());
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

fn a_second_sigterm_does_not_cut_the_log_short() {
    let dir = tempdir();
    let log = dir.path().join("k.jsonl");
    let (mut child, console) = start_signals_fixture(&log);
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(pid, Signal::SIGTERM).unwrap();
    assert_eq!(wait(&mut child), Status::Signal(15));
    assert!(
        console.rest().contains("signals: 2 TERM"),
        "both reached the command"
    );
    assert_eq!(exit_record(&log)["signal"], "SIGTERM");
}

fn the_command_starts_with_default_dispositions_and_an_empty_mask() {
    let script = "grep -E '^Sig(Blk|Ign)' /proc/self/status";
    let direct = Command::new("sh").args(["-c", script]).output().unwrap();
    let out = run(teelog().args(["--", "sh", "-c", script]), 0);
    // Signals 32 and 33 are glibc's own (thread cancellation and set*id across threads), left
    // out of the comparison: glibc installs its handlers for them whatever the process inherited,
    // and its posix_spawn, which teelog uses without a terminal, sets them to ignored in the child
    // (as for any program spawned with it, std's `Command` included).
    let without_glibcs = |status: &str| {
        status
            .lines()
            .map(|line| {
                let (name, mask) = line.split_once(":\t").unwrap();
                let mask = u64::from_str_radix(mask, 16).unwrap() & !(0b11 << 31);
                format!("{name}: {mask:016x}")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_glibcs(&text(&out.stdout)),
        without_glibcs(&text(&direct.stdout))
    );
    assert!(
        text(&out.stdout).contains("SigBlk:\t0000000000000000"),
        "{}",
        text(&out.stdout)
    );
    // SIGPIPE is not ignored in the command (std ignores it in teelog itself).
    run(
        teelog().args(["--", "sh", "-c", "kill -PIPE $$; echo survived"]),
        Status::Signal(13),
    );
}

/// Starts `fixture` under teelog in a process group of teelog's own (as a shell starts a job), with
/// a jsonl log; waits for its "ready".
fn start_job(fixture_args: &[&str], log: &std::path::Path) -> (Child, Collector) {
    use std::os::unix::process::CommandExt;
    let mut child = teelog()
        .arg("-o")
        .arg(format!("jsonl={}", log.display()))
        .arg("--")
        .arg(fixture(fixture_args[0]))
        .args(&fixture_args[1..])
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut console = Collector::new(child.stdout.take().unwrap());
    console.wait_for("ready");
    (child, console)
}

fn stray_signals_do_not_kill_teelog_and_reach_the_command_once() {
    // Every catchable signal that is not job control (tested below) or teelog's own business:
    // the ones the first release died of, real-time ones, and the fault signals sent by kill.
    let rtmin = nix::libc::SIGRTMIN();
    let rtmax = nix::libc::SIGRTMAX();
    let signals = [
        nix::libc::SIGALRM,
        nix::libc::SIGVTALRM,
        nix::libc::SIGPROF,
        nix::libc::SIGPWR,
        nix::libc::SIGIO,
        nix::libc::SIGXCPU,
        nix::libc::SIGXFSZ,
        nix::libc::SIGSTKFLT,
        nix::libc::SIGTRAP,
        nix::libc::SIGBUS,
        nix::libc::SIGSYS,
        nix::libc::SIGSEGV,
        nix::libc::SIGABRT,
        nix::libc::SIGWINCH,
        rtmin,
        rtmin + 3,
        rtmax - 1,
        rtmax,
    ];
    let runs: Vec<_> = signals
        .into_iter()
        .map(|signal| {
            std::thread::spawn(move || {
                let dir = tempdir();
                let log = dir.path().join("s.jsonl");
                let (mut child, console) = start_job(&["catch.sh", &signal.to_string()], &log);
                assert_eq!(
                    kill_by_number(child.id() as i32, signal),
                    0,
                    "kill {signal}"
                );
                assert_eq!(wait(&mut child), Status::Code(0), "signal {signal}");
                assert!(
                    console.rest().contains("caught 1\n"),
                    "signal {signal} reached the command once"
                );
                let records = records(&read(&log));
                check_run(&records);
                assert_eq!(messages(&records, "stdout"), ["ready", "caught 1"]);
                assert_eq!(records.last().unwrap()["code"], 0);
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

/// `kill -SIGNAL PID` through the shell's builtin: real-time signals have no nix `Signal`.
fn kill_by_number(pid: i32, signal: i32) -> i32 {
    Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{signal} {pid}"))
        .status()
        .unwrap()
        .code()
        .unwrap()
}

fn a_signal_sent_to_teelogs_process_group_reaches_the_command_once() {
    // From outside the group, as `kill %1` or `kill -- -PGID`.
    let dir = tempdir();
    let log = dir.path().join("g.jsonl");
    let (mut child, console) = start_job(&["signals.sh"], &log);
    let group = Pid::from_raw(child.id() as i32);
    nix::sys::signal::killpg(group, Signal::SIGTERM).unwrap();
    assert_eq!(wait(&mut child), Status::Signal(15));
    assert!(console.rest().contains("signals: 1 TERM"));
    assert_eq!(exit_record(&log)["signal"], "SIGTERM");
}

/// Runs `command` (a fixture and its arguments) under teelog under `timeout -s SIGNAL 1`, with a
/// jsonl log; returns the console and the exit record, after checking timeout timed out.
fn under_timeout(signal: &str, command: &[&str]) -> (String, serde_json::Value) {
    let dir = tempdir();
    let log = dir.path().join("t.jsonl");
    let out = run(
        Command::new("timeout")
            .args(["-s", signal, "1"])
            .arg(env!("CARGO_BIN_EXE_teelog"))
            .arg("-o")
            .arg(format!("jsonl={}", log.display()))
            .arg("--")
            .arg(fixture(command[0]))
            .args(&command[1..])
            .stdin(Stdio::null()),
        124, // timeout's "it timed out"
    );
    (text(&out.stdout), exit_record(&log))
}

fn timeout_reaches_the_command_once() {
    // timeout(1) sends its signal to teelog and then to its own process group, teelog's.
    for (signal, name) in [("TERM", "SIGTERM"), ("USR1", "SIGUSR1")] {
        let (console, exit) = under_timeout(signal, &["signals.sh"]);
        assert!(
            console.contains(&format!("signals: 1 {signal}\n")),
            "{console}"
        );
        assert_eq!(exit["signal"], name);
    }
}

fn timeout_with_a_real_time_signal_reaches_the_command_once() {
    // Real-time signals queue: timeout's two sends would be two deliveries if relayed both.
    let (console, exit) = under_timeout("RTMIN+2", &["catch.sh", "RTMIN+2"]);
    assert!(console.contains("caught 1\n"), "{console}");
    assert_eq!(exit["code"], 0);
}

fn a_real_time_signal_death_is_named_and_mirrored() {
    let dir = tempdir();
    let (jsonl, classic) = (dir.path().join("rt.jsonl"), dir.path().join("rt.log"));
    let rt3 = nix::libc::SIGRTMIN() + 3;
    for (signal, name) in [(rt3, "SIGRTMIN+3"), (nix::libc::SIGSTKFLT, "SIGSTKFLT")] {
        run(
            teelog()
                .arg("-o")
                .arg(format!("jsonl={}", jsonl.display()))
                .arg("-o")
                .arg(&classic)
                .args(["--", "sh", "-c", &format!("kill -{signal} $$")]),
            Status::Signal(signal),
        );
        let records = records(&read(&jsonl));
        assert_eq!(records.last().unwrap()["signal"], name);
        assert!(
            text(&read(&classic)).contains(&format!(
                "] exit: killed by {name} (signal {signal}) after "
            )),
            "{}",
            text(&read(&classic))
        );
    }
}

/// [`in_a_terminal`] for `sh -c script`, the shell as the session leader.
fn script_in_a_terminal(dir: &std::path::Path, script: &str) -> (Child, File, Collector) {
    in_a_terminal(dir, &["sh".as_ref(), "-c".as_ref(), script.as_ref()])
}

fn the_command_has_the_terminal_and_teelog_takes_it_back_after() {
    // The command reads the terminal itself (as mysql -p does for a password): it must be the
    // terminal's foreground. After teelog the shell reads the terminal again.
    let dir = tempdir();
    let script = format!(
        "{} -- sh -c 'echo ready; read x < /dev/tty; echo \"got $x\"'; read y; echo \"after $y\"",
        env!("CARGO_BIN_EXE_teelog")
    );
    let (mut child, mut master, mut console) = script_in_a_terminal(dir.path(), &script);
    console.wait_for("ready");
    master.write_all(b"secret\n").unwrap();
    console.wait_for("got secret");
    master.write_all(b"more\n").unwrap();
    console.wait_for("after more");
    assert_eq!(wait(&mut child), Status::Code(0));
}

fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(") ").unwrap().1.chars().next().unwrap()
}

fn ctrl_z_stops_the_job_and_sigcont_resumes_it_in_the_foreground() {
    let dir = tempdir();
    let log = dir.path().join("z.jsonl");
    let teelog = env!("CARGO_BIN_EXE_teelog");
    let log_arg = format!("jsonl={}", log.display());
    let fixture = fixture("signals.sh");
    let (mut child, mut master, mut console) = in_a_terminal(
        dir.path(),
        &[
            teelog.as_ref(),
            "-o".as_ref(),
            log_arg.as_ref(),
            "--".as_ref(),
            fixture.as_os_str(),
        ],
    );
    console.wait_for("ready");
    master.write_all(b"\x1a").unwrap(); // Ctrl-Z
    let deadline = Instant::now() + PATIENCE;
    while state(child.id()) != 'T' {
        assert!(
            Instant::now() < deadline,
            "teelog did not stop with the command"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT).unwrap(); // `fg`
    // Back in the foreground, the command gets the terminal's Ctrl-C, once.
    std::thread::sleep(Duration::from_millis(300));
    master.write_all(b"\x03").unwrap();
    assert_eq!(wait(&mut child), Status::Signal(2));
    drop(master);
    assert!(console.rest().contains("signals: 1 INT"));
    assert_eq!(exit_record(&log)["signal"], "SIGINT");
}

fn ctrl_c_still_stops_the_script_that_runs_teelog() {
    // Without teelog the terminal's Ctrl-C reaches the script's shell too, and its loop stops;
    // with the command holding the terminal, teelog passes the signal on to its own group.
    let dir = tempdir();
    let script = format!(
        "for i in 1 2 3; do {} -- sh -c 'echo ready; sleep 30'; echo continued; done",
        env!("CARGO_BIN_EXE_teelog")
    );
    let (mut child, mut master, mut console) = script_in_a_terminal(dir.path(), &script);
    console.wait_for("ready");
    until_running(&child, "sleep");
    master.write_all(b"\x03").unwrap();
    assert_eq!(
        wait_showing_session(&mut child),
        Status::Signal(2),
        "the script died of SIGINT"
    );
    drop(master);
    assert!(!console.rest().contains("continued"));
}

fn without_a_terminal_stops_and_continues_reach_the_command_and_teelog_goes_on() {
    // SIGTSTP sent to teelog stops the command; SIGCONT sent to teelog continues it. And a
    // command stopped and continued directly (a debugger, kill -STOP) does not leave teelog
    // stopped behind it.
    let dir = tempdir();
    let log = dir.path().join("c.jsonl");
    let (mut child, console) = start_job(&["catch.sh", "USR1"], &log);
    let teelog = Pid::from_raw(child.id() as i32);
    kill(teelog, Signal::SIGTSTP).unwrap();
    let command = loop {
        let children = std::fs::read_to_string(format!("/proc/{teelog}/task/{teelog}/children"))
            .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            break pid.parse::<u32>().unwrap();
        }
    };
    let deadline = Instant::now() + PATIENCE;
    while state(command) != 'T' {
        assert!(Instant::now() < deadline, "the command did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(state(child.id()), 'T', "teelog goes on reading");
    kill(teelog, Signal::SIGCONT).unwrap();
    while state(command) == 'T' {
        assert!(Instant::now() < deadline, "the command was not continued");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = command;
    let command = Pid::from_raw(command as i32);
    kill(command, Signal::SIGSTOP).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    kill(command, Signal::SIGCONT).unwrap();
    // SIGTSTP to the command alone: it stops, teelog (no terminal, no job) does not.
    kill(command, Signal::SIGTSTP).unwrap();
    while state(pid) != 'T' {
        assert!(
            Instant::now() < deadline,
            "the command did not stop by SIGTSTP"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_ne!(state(child.id()), 'T', "teelog goes on reading");
    kill(command, Signal::SIGCONT).unwrap();
    kill(teelog, Signal::SIGUSR1).unwrap();
    assert_eq!(wait(&mut child), Status::Code(0));
    assert!(console.rest().contains("caught 1"));
    assert_eq!(exit_record(&log)["code"], 0);
}

fn a_shell_sees_teelog_stopped_by_the_signal_that_stopped_the_command() {
    // bash with job control runs teelog as a job in a terminal: the status it reports for the
    // stopped job (128 + the signal) is the bare command's, and `fg` continues both.
    require(&BASH);
    let read = "read x; echo \"resumed $x\"";
    for (stop, status) in [
        ("", 148),
        ("kill -TTIN $$; ", 149),
        ("kill -TTOU $$; ", 150),
        ("kill -STOP $$; ", 147),
    ] {
        let dir = tempdir();
        let log = dir.path().join("z.jsonl");
        let script = format!(
            "set -m; {} -o jsonl={} -- sh -c 'echo ready; {stop}{read}'; echo \"status $?\"; fg; \
             echo \"end $?\"",
            env!("CARGO_BIN_EXE_teelog"),
            log.display()
        );
        let (mut child, mut master, mut console) = in_a_terminal(
            dir.path(),
            &["bash".as_ref(), "-c".as_ref(), script.as_ref()],
        );
        console.wait_for("ready");
        if stop.is_empty() {
            master.write_all(b"\x1a").unwrap(); // Ctrl-Z
        }
        console.wait_for(&format!("status {status}"));
        master.write_all(b"go\n").unwrap();
        console.wait_for("end 0");
        assert_eq!(wait(&mut child), Status::Code(0), "{stop}");
        drop(master);
        let shown = console.rest();
        assert!(shown.contains("resumed go"), "{stop}: {shown:?}");
        assert!(
            shown.contains("Stopped"),
            "{stop}: bash said nothing: {shown:?}"
        );
        assert_eq!(exit_record(&log)["code"], 0);
    }
}

crate::trials![
    ctrl_c_in_a_terminal_reaches_the_command_once_and_teelog_ends_as_it_did,
    signals_sent_to_teelog_are_forwarded_and_logged,
    a_second_sigterm_does_not_cut_the_log_short,
    the_command_starts_with_default_dispositions_and_an_empty_mask,
    stray_signals_do_not_kill_teelog_and_reach_the_command_once,
    a_signal_sent_to_teelogs_process_group_reaches_the_command_once,
    timeout_reaches_the_command_once,
    timeout_with_a_real_time_signal_reaches_the_command_once,
    a_real_time_signal_death_is_named_and_mirrored,
    the_command_has_the_terminal_and_teelog_takes_it_back_after,
    ctrl_z_stops_the_job_and_sigcont_resumes_it_in_the_foreground,
    ctrl_c_still_stops_the_script_that_runs_teelog,
    without_a_terminal_stops_and_continues_reach_the_command_and_teelog_goes_on,
    a_shell_sees_teelog_stopped_by_the_signal_that_stopped_the_command[BASH],
];
