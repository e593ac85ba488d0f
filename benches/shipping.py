"""Issue 22's speed figures: relp= and syslog= against private rsyslogd instances, in the same run.

Used by `python3 benches/compare.py --sections shipping`; kept apart from compare.py because it
needs rsyslogd (imrelp, imtcp, the openssl driver) and openssl, and starts servers of its own.

Three tables:
- The command's wall time with a RELP collector that is SIGSTOPped (its kernel took the
  connection; it answers nothing), paired with the same run without any network destination,
  both writing the same plain log on tmpfs, in alternating order. The command's time runs from
  just before teelog is started to the moment the command itself has written its last line (it
  stamps CLOCK_MONOTONIC into a file), so it leaves out the --ship-timeout wait that comes after
  the command. The spool is on disk (as /var/spool/teelog is) in one row, on tmpfs in the other.
  Peak RSS is teelog's (VmHWM, sampled). The server is let go on (SIGCONT) between runs and
  stopped again before the next, so that its listen queue never fills.
- Lines per second delivered end to end: from just before the sender is started until the
  collector's omfile output holds the last line (read as it grows), for teelog's relp=,
  relp=tls: (client certificate, imrelp with tls.authmode="name"), syslog=tcp: and util-linux
  `logger --tcp` reading the same lines from stdin. One rsyslogd takes them all, one input and one
  output file each (a Direct main queue, omfile with `%rawmsg%`). The four run in turn, the order
  rotated each round. Best-effort syslog=tcp: drops what the server does not take in time: its
  rate counts the lines that arrived, until the last that did. Lines lost are those missing once
  the sender has exited (a negative count would be duplicates).
  rsyslogd's CPU (/proc/PID/stat) and the sender's with the producer's (getrusage of the
  children) are per line, medians over the rounds: which side a rate is bound by. A fifth sender
  is the reference for what a RELP client gets out of this imrelp: `logger --tcp` into a second
  rsyslogd that relays with omrelp (librelp's own client, its defaults) into teelog's relp= input;
  its CPU column includes the relay's.
- The ratios the issue sets targets for, taken per round: median (min–max).
"""

import ctypes
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

LINES = 200_000
# Each line is 80 bytes with its newline and starts with its number, so the last one is known.
LINE_BODY = b" teelog shipping benchmark: one 80-byte line, as a service writes them.\n"
assert len(LINE_BODY) == 72
LAST_LINE = b"%08d" % (LINES - 1) + LINE_BODY
LINE_MARK = LINE_BODY[:40]

# The command: writes the prepared lines 8 KiB at a time (as stdio does), then stamps the
# monotonic clock into argv[2], so its own end is known whatever teelog does afterwards.
PRODUCER = r"""
import os, sys, time
with open(sys.argv[1], "rb") as f:
    data = memoryview(f.read())
off = 0
while off < len(data):
    off += os.write(1, data[off:off + 8192])
end = time.monotonic()
if sys.argv[2] != "-":
    with open(sys.argv[2], "w") as f:
        f.write(repr(end))
"""

CERTS = r"""
set -e
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Bench CA" -keyout ca.key -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
for n in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$n.test" -keyout $n.key -out $n.csr
  printf "subjectAltName=DNS:$n.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n" > $n.ext
  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $n.ext -out $n.pem
done
"""

CONF_HEAD = """
global(workDirectory="{work}" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off")
main_queue(queue.type="Direct")
template(name="raw" type="string" string="%rawmsg%\\n")
module(load="imrelp" tls.tlslib="openssl")
module(load="imtcp")
"""
INPUT = {
    "relp": 'input(type="imrelp" address="127.0.0.1" port="{port}" maxDataSize="256k" ruleset="{name}")',
    "relptls": 'input(type="imrelp" address="127.0.0.1" port="{port}" maxDataSize="256k" ruleset="{name}" '
               'tls="on" tls.cacert="{certs}/ca.pem" tls.mycert="{certs}/server.pem" '
               'tls.myprivkey="{certs}/server.key" tls.authmode="name" tls.permittedpeer=["client.test"])',
    "tcp": 'input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="{name}")',
}
RULESET = 'ruleset(name="{name}") {{ action(type="omfile" file="{dir}/{name}.out" template="raw") }}'
# A relay: what comes in goes on over RELP with librelp's own client (omrelp, its defaults).
RELAY = 'module(load="omrelp")\nruleset(name="{name}") {{ action(type="omrelp" target="127.0.0.1" port="{port}") }}'


def die_with_parent():
    """In the child: SIGKILL when the benchmark dies, however it dies (prctl PR_SET_PDEATHSIG),
    so that no private rsyslogd is left behind, stopped or not."""
    ctypes.CDLL(None, use_errno=True).prctl(1, 9)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rsyslogd:
    """A private rsyslogd (-n, its own config, pid file and work directory) with one input and
    one omfile output per entry of `inputs` ({name: "relp" | "relptls" | "tcp"}); a TLS input
    uses server.pem and server.key from `certs` and wants a client certificate from ca.pem. With
    `relay_to` (a port), the one input's messages go on to that RELP port instead (omrelp)."""

    def __init__(self, dir, label, inputs, certs=None, relay_to=None):
        self.dir, self.ports = dir, {name: free_port() for name in inputs}
        work = os.path.join(dir, f"{label}.work")
        os.makedirs(work)
        conf = [CONF_HEAD.format(work=work)]
        for name, kind in inputs.items():
            conf.append(INPUT[kind].format(port=self.ports[name], name=name, certs=certs))
            if relay_to:
                conf.append(RELAY.format(name=name, port=relay_to))
            else:
                conf.append(RULESET.format(name=name, dir=dir))
        path = os.path.join(dir, f"{label}.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.stderr = open(os.path.join(dir, f"{label}.stderr"), "w")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", path, "-i", os.path.join(dir, f"{label}.pid")],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                                     preexec_fn=die_with_parent)
        deadline = time.monotonic() + 10
        for port in self.ports.values():
            while not self.accepts(port):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"rsyslogd ({path}) did not start; see {self.stderr.name}")
                time.sleep(0.05)

    @staticmethod
    def accepts(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def output(self, name):
        return os.path.join(self.dir, f"{name}.out")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        self.proc.send_signal(18)  # SIGCONT first: a stopped process does not act on SIGTERM
        self.proc.terminate()
        self.proc.wait(10)
        self.stderr.close()


class Output:
    """An omfile output read as it grows, from where it ended when the run began."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0

    def wait_for(self, senders, deadline):
        """Polls every 2 ms until the last numbered line is there, or until every sender has
        exited and the file has not grown for 0.5 s (best-effort syslog=tcp: may have dropped
        it). Returns the time the last numbered line or the last growth was seen, and how many
        numbered lines had come by then; exits when `deadline` passes."""
        seen, partial, grown = 0, b"", time.monotonic()
        while not os.path.exists(self.path):
            self.check(deadline, seen)
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            while True:
                chunk = f.read()
                if not chunk:
                    if time.monotonic() - grown > 0.5 and all(p.poll() is not None for p in senders):
                        return grown, seen
                    self.check(deadline, seen)
                    continue
                grown = time.monotonic()
                data = partial + chunk
                cut = data.rfind(b"\n") + 1
                whole, partial = data[:cut], data[cut:]
                seen += whole.count(LINE_MARK)
                if LAST_LINE in whole:
                    return grown, seen

    def count(self):
        """How many numbered lines the file holds since the run began (more than there were:
        duplicates)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read().count(LINE_MARK)

    def check(self, deadline, seen):
        if time.monotonic() > deadline:
            sys.exit(f"{self.path}: {seen} of {LINES} lines after the deadline")
        time.sleep(0.002)


def make_lines(path):
    with open(path, "wb") as f:
        f.write(b"".join(b"%08d" % i + LINE_BODY for i in range(LINES)))


class Bench:
    """What the runs share: the teelog binary, the lines file, the certificates, the directories."""

    def __init__(self, teelog, pairs, dirs):
        self.teelog, self.pairs = teelog, pairs
        self.shm, self.disk = dirs["tmpfs"], dirs["disk"]
        self.lines = os.path.join(self.shm, "lines.txt")
        make_lines(self.lines)
        self.certs = os.path.join(self.shm, "certs")
        os.makedirs(self.certs)
        subprocess.run(["sh", "-c", CERTS], cwd=self.certs, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def producer(self, stamp="-"):
        return [sys.executable, "-c", PRODUCER, self.lines, stamp]

    def tls_flags(self):
        return ["--tls-ca", f"{self.certs}/ca.pem", "--tls-cert", f"{self.certs}/client.pem",
                "--tls-key", f"{self.certs}/client.key"]


def command_run(bench, flags):
    """One `teelog -q FLAGS -- producer`: (the command's wall s, teelog's peak RSS KiB)."""
    stamp = os.path.join(bench.shm, "end.stamp")
    cmd = [bench.teelog, "-q", *flags, "--", *bench.producer(stamp)]
    errors = os.path.join(bench.shm, "teelog.stderr")
    with open(errors, "w") as err:
        begun = time.monotonic()
        tool = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        done, peak = threading.Event(), []
        sampler = threading.Thread(target=lambda: peak.append(peak_rss_kib(tool.pid, done)))
        sampler.start()
        status = tool.wait()
        done.set()
        sampler.join()
    if status != 0:
        sys.exit(f"{' '.join(cmd)} exited {status}: {open(errors).read().strip()}")
    with open(stamp) as f:
        end = float(f.read())
    os.unlink(stamp)
    return end - begun, peak[0]


def stalled(bench):
    """Rows: the command's wall time with a SIGSTOPped RELP collector / with no network
    destination, and teelog's peak RSS in both."""
    server = Rsyslogd(bench.shm, "stopped", {"stopped": "relp"})
    relp = f"relp=127.0.0.1:{server.ports['stopped']}"
    log = os.path.join(bench.shm, "x.log")
    rows = []
    try:
        for place, spool_root in (("disk", bench.disk), ("tmpfs", bench.shm)):
            spool = os.path.join(spool_root, "spool")
            base = ["-o", f"plain={log}"]
            variant = base + ["-o", relp, "--spool-dir", spool, "--ship-timeout", "1"]
            got = []
            for i in range(bench.pairs):
                order = ["base", "relp"] if i % 2 == 0 else ["relp", "base"]
                pair = {}
                for which in order:
                    if which == "relp":
                        server.signal(19)  # SIGSTOP: the connection is taken by the kernel, never answered
                    pair[which] = command_run(bench, base if which == "base" else variant)
                    if which == "relp":
                        server.signal(18)  # SIGCONT, so that the next run finds a listen queue that moves
                        shutil.rmtree(spool, ignore_errors=True)
                    os.unlink(log)
                    time.sleep(0.2)
                got.append((pair["base"], pair["relp"]))
            rows.append((
                f"plain log on tmpfs; relp= spool on {place}",
                f"{statistics.median(b[0] for b, _ in got):.3f}",
                f"{statistics.median(r[0] for _, r in got):.3f}",
                spread([r[0] / b[0] for b, r in got]),
                f"{max(b[1] for b, _ in got) / 1024:.1f}",
                f"{max(r[1] for _, r in got) / 1024:.1f}",
            ))
            print(f"  stalled relp, spool on {place}: {rows[-1][3]}, RSS {rows[-1][5]} MiB", file=sys.stderr)
    finally:
        server.stop()
    return rows


def spread(ratios):
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


# The last is the reference for a RELP client: `logger --tcp` into a second rsyslogd that relays
# over RELP with omrelp (librelp's client) into the same imrelp input as teelog's relp=.
RELAYED = "logger → omrelp"
SENDERS = ["teelog relp=", "teelog relp=tls:", "teelog syslog=tcp:", "logger --tcp", RELAYED]
# Which of the live server's inputs each sender's lines come out of.
INPUT_OF = {"teelog relp=": "relp", "teelog relp=tls:": "relptls", "teelog syslog=tcp:": "tcp", "logger --tcp": "logger",
            RELAYED: "relp"}


def cpu_s(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sender_cmd(bench, server, sender):
    """The sender's processes, started: `logger` reading the producer, or teelog running it."""
    name = INPUT_OF[sender]
    port = bench.relay.ports["relay"] if sender == RELAYED else server.ports[name]
    if sender in ("logger --tcp", RELAYED):
        prod = subprocess.Popen(bench.producer(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        tool = subprocess.Popen(["logger", "--tcp", "-n", "127.0.0.1", "-P", str(port)], stdin=prod.stdout)
        prod.stdout.close()
        return [prod, tool]
    target = {"relp": f"relp=127.0.0.1:{port}", "relptls": f"relp=tls:127.0.0.1:{port}",
              "tcp": f"syslog=tcp:127.0.0.1:{port}"}[name]
    flags = bench.tls_flags() if name == "relptls" else []
    # --ship-timeout long enough for every line to be acknowledged before teelog exits: what is
    # measured is delivery, not how much a --ship-timeout lets through.
    cmd = [bench.teelog, "-q", "--spool-dir", os.path.join(bench.disk, "spool"), "--ship-timeout", "600",
           *flags, "-o", target, "--", *bench.producer()]
    errors = open(os.path.join(bench.shm, "sender.stderr"), "w+b")
    tool = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
    tool.stderr_file = errors
    return [tool]


def delivery_run(bench, server, sender):
    """One run of `sender` over all the lines: (lines per second until the collector's file
    holds the last one, lines that never arrived (negative: duplicates), rsyslogd's CPU s, the
    sender's CPU s with the producer's)."""
    out = Output(server.output(INPUT_OF[sender]))
    server_cpu, own_cpu, relay_cpu = cpu_s(server.proc.pid), children_cpu_s(), cpu_s(bench.relay.proc.pid)
    begun = time.monotonic()
    procs = sender_cmd(bench, server, sender)
    last, arrived = out.wait_for(procs, begun + 300)
    for proc in procs:
        proc.wait()
        errors = b""
        if hasattr(proc, "stderr_file"):
            proc.stderr_file.seek(0)
            errors = proc.stderr_file.read()
            proc.stderr_file.close()
        # Best-effort syslog=tcp: drops what the collector does not take in time, says how many
        # and exits 125: that is what it does, and the lines lost are counted here.
        if proc.returncode != 0 and not (sender == "teelog syslog=tcp:" and b"could not be delivered" in errors):
            sys.exit(f"{sender}: {proc.args} exited {proc.returncode}: {errors.decode(errors='replace')}")
    time.sleep(0.1)  # rsyslogd's last writes
    shutil.rmtree(os.path.join(bench.disk, "spool"), ignore_errors=True)
    sender_cpu = children_cpu_s() - own_cpu
    if sender == RELAYED:
        sender_cpu += cpu_s(bench.relay.proc.pid) - relay_cpu
    return (arrived / (last - begun), LINES - out.count(), cpu_s(server.proc.pid) - server_cpu, sender_cpu)


def delivery(bench):
    """Rows: lines per second of each sender, and the ratios the issue sets targets for, per round."""
    server = Rsyslogd(bench.shm, "live", {"relp": "relp", "relptls": "relptls", "tcp": "tcp", "logger": "tcp"},
                      bench.certs)
    bench.relay = Rsyslogd(bench.shm, "relay", {"relay": "tcp"}, relay_to=server.ports["relp"])
    rounds = []
    try:
        for i in range(bench.pairs):
            order = SENDERS[i % len(SENDERS):] + SENDERS[:i % len(SENDERS)]
            if i // len(SENDERS) % 2:
                order.reverse()
            got = {}
            for sender in order:
                got[sender] = delivery_run(bench, server, sender)
                time.sleep(0.2)
            rounds.append(got)
            print("  delivery round " + ", ".join(f"{s}: {got[s][0]:,.0f}/s, {got[s][1]} lost" for s in SENDERS),
                  file=sys.stderr)
    finally:
        bench.relay.stop()
        server.stop()

    def column(sender, i):
        return [r[sender][i] for r in rounds]

    def per_line_us(sender, i):
        return f"{statistics.median(column(sender, i)) / LINES * 1e6:.1f}"

    rates = [(s, f"{statistics.median(column(s, 0)):,.0f}", f"{min(column(s, 0)):,.0f}–{max(column(s, 0)):,.0f}",
              f"{statistics.median(column(s, 1)):,.0f} ({min(column(s, 1)):,}–{max(column(s, 1)):,})",
              per_line_us(s, 2), per_line_us(s, 3))
             for s in SENDERS]
    relp, tls, tcp, logger, relayed = SENDERS
    ratios = [
        ("relp= / logger --tcp (target ≥ 2)", spread([r[relp][0] / r[logger][0] for r in rounds])),
        ("syslog=tcp: / relp= (target ≤ 1.3)", spread([r[tcp][0] / r[relp][0] for r in rounds])),
        ("relp= / relp=tls: (target ≤ 1.5)", spread([r[relp][0] / r[tls][0] for r in rounds])),
        ("relp= / logger → omrelp (librelp's client, same imrelp)", spread([r[relp][0] / r[relayed][0] for r in rounds])),
    ]
    return rates, ratios


def sections(teelog, pairs, dirs, peak_rss):
    """The shipping tables as (header, rows), for compare.py to print; `peak_rss(pid, done)` is
    compare.py's sampler of a process's VmHWM."""
    global peak_rss_kib
    peak_rss_kib = peak_rss
    bench = Bench(teelog, pairs, dirs)
    return [
        (["command's wall time, RELP collector SIGSTOPped", "no network: median s", "with relp=: median s",
          "wall × no network: median (min–max)", "peak RSS MiB, no network", "peak RSS MiB, relp="],
         stalled(bench)),
        *zip(
            [["delivered end to end, 200,000 80-byte lines", "lines/s: median", "min–max",
              "lines lost: median (min–max)", "rsyslogd CPU µs/line", "sender + producer CPU µs/line (with the relay's)"],
             ["per round", "median (min–max)"]],
            delivery(bench),
        ),
    ]
