#!/usr/bin/env python3
"""teelog against tee, in pairs, on the same machine in the same run.

    python3 benches/compare.py              # builds teelog --release, prints Markdown tables
    python3 benches/compare.py --quick      # small workloads, 3 pairs: a smoke test
    python3 benches/compare.py --pairs 9    # more pairs (at least 7 unless --quick)
    TEELOG=/path/to/teelog python3 benches/compare.py --no-build   # another build
    python3 benches/compare.py --base /path/to/old/teelog   # this build against an older one
    python3 benches/compare.py --sections shipping   # relp=, syslog= against rsyslogd (shipping.py)
    python3 benches/compare.py --sections sealing    # --seal against unsealed, and verify (sealing.py)
    python3 benches/compare.py --sections sudo       # -o sudo-iolog= against -o plain= (sudo.py)

One run on a shared machine is not a figure, so every figure here is a ratio taken in pairs: for
each teelog variant, `tee` and the variant run back to back (which goes first alternates), and the
pair's ratio is variant / tee. A table gives the median of those per-pair ratios and their min-max;
noise that hits a whole pair cancels out, and the range shows what is left. With `--base OLD`,
each variant is paired with the same format written by the teelog binary OLD instead of tee (the
two alternate as tee and teelog do), so a ratio is new / old: a change measured before and after
in the same run.

The producer is a separate process (this interpreter, from memory, no file reads) that writes a
fixed pattern 1 MiB at a time, or 8 KiB at a time as stdio programs do. The console goes to
/dev/null, and each variant writes one log, on tmpfs (/dev/shm) or on a disk-backed filesystem
(the system's temporary directory, unless that is tmpfs too), deleted after each run. Wall time
runs from the start of the producer to the end of the last process; CPU is wait4()'s user+system
time of every process, the producer included; peak RSS is the tool's own (VmHWM, sampled).

A last row per workload and filesystem pairs tee with the producer piped into `cat` with no log:
what a reader that copies through a buffer costs without writing any log. Where the producer
writes 8 KiB at a time it is the pace the producer's own writes set; with 1 MiB writes splice
lets teelog go under it. The first row per workload is the producer alone, writing straight into
/dev/null (no pipe, no reader, no log): no tool in the pipe can take less time than that.

Latency: a child writes a line every 5 ms stamped with CLOCK_MONOTONIC; the console is a pipe read
here, and a line's latency is its arrival minus its stamp. Each run's median and p99 are compared
with its pair's tee run.
"""

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEELOG = os.environ.get("TEELOG", os.path.join(ROOT, "target", "release", "teelog"))
QUICK = "--quick" in sys.argv
PAIRS = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else (3 if QUICK else 7)
BASE = sys.argv[sys.argv.index("--base") + 1] if "--base" in sys.argv else None
# What each variant is paired with: tee, or the same format written by the --base binary.
REF = "base" if BASE else "tee"
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
MIB = 1 << 20
FORMATS = ["plain", "classic", "jsonl"]
# A reader that writes no log at all: the producer into `cat`, paired with tee like a format.
FLOOR = "cat, no log"
# The producer with no reader at all, into /dev/null: the least any tool in the pipe can cost.
ALONE = "producer alone"

PRODUCER = r"""
import os, sys
kind, total, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if kind == "bulk":  # 4 KiB lines
    block = (b"x" * 4095 + b"\n") * 1024
elif kind == "lines":  # 80-byte log lines
    line = b"2026-11-25 20:13:13 INFO request served in 12 ms by worker 7 for /api/items?id="
    block = b"".join(line + b"%02d\n" % (i % 100) for i in range(52429))
else:  # random bytes: the same 8 MiB (made once per benchmark) again and again
    with open(kind, "rb") as f:
        block = f.read()
view = memoryview(block + block[:size])
off = 0
while total > 0:
    w = os.write(1, view[off:off + min(size, total)])
    total -= w
    off = (off + w) % len(block)
"""


def workloads():
    scale = (lambda n: n // 16) if QUICK else (lambda n: n)
    every = [
        # name, producer kind, bytes, bytes per write
        ("bulk 1 MiB writes", "bulk", scale(1024 * MIB), MIB),
        ("bulk 8 KiB writes", "bulk", scale(1024 * MIB), 8192),
        ("lines 8 KiB writes", "lines", scale(200 * MIB), 8192),
        ("binary 1 MiB writes", "binary", scale(100 * MIB), MIB),
        ("binary 8 KiB writes", "binary", scale(100 * MIB), 8192),
    ]
    return [w for w in every if ONLY is None or any(o in w[0] for o in ONLY)]


def producer(kind, total, size, dirs):
    if kind == "binary":
        kind = os.path.join(dirs["tmpfs"], "random.bin")
        if not os.path.exists(kind):
            with open(kind, "wb") as f:
                f.write(os.urandom(8 * MIB))
    return [sys.executable, "-c", PRODUCER, kind, str(total), str(size)]


def start(variant, cmd, log, stdout):
    """Starts `cmd` with its output through `variant` into one log; returns (tool, processes)."""
    if variant == ALONE:
        prod = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        return prod, [prod]
    if variant in ("tee", FLOOR):
        prod = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        tool = subprocess.Popen(["tee", log] if variant == "tee" else ["cat"], stdin=prod.stdout, stdout=stdout)
        prod.stdout.close()
        return tool, [prod, tool]
    binary = TEELOG
    if variant.startswith("base:"):
        binary, variant = BASE, variant[len("base:"):]
    tool = subprocess.Popen([binary, "-o", f"{variant}={log}", "--", *cmd], stdin=subprocess.DEVNULL, stdout=stdout)
    return tool, [tool]


def peak_rss_kib(pid, done):
    """Samples VmHWM until `done` is set (wait4's ru_maxrss would not do: a child inherits its
    parent's high-water mark at exec)."""
    peak = 0
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        done.wait(0.02)
    return peak


def measure(variant, cmd, log, stdout=subprocess.DEVNULL, expect=None):
    """Runs one variant; returns (wall s, CPU s of every process, peak RSS KiB of the tool)."""
    begun = time.perf_counter()
    tool, procs = start(variant, cmd, log, stdout)
    done, peak = threading.Event(), []
    sampler = threading.Thread(target=lambda: peak.append(peak_rss_kib(tool.pid, done)))
    sampler.start()
    cpu = 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            sys.exit(f"{variant} on {cmd[-3:]} failed with {proc.returncode}")
    wall = time.perf_counter() - begun
    done.set()
    sampler.join()
    if variant in (FLOOR, ALONE):
        return wall, cpu, peak[0]
    if expect is not None and variant in ("tee", "plain", "base:plain") and os.path.getsize(log) != expect:
        sys.exit(f"{variant}: the log holds {os.path.getsize(log)} bytes, not {expect}")
    os.unlink(log)
    return wall, cpu, peak[0]


def pairs(variant, run):
    """`PAIRS` pairs of (reference, variant) results, the reference (tee, or with --base the
    same format from the old binary) first in even pairs, second in odd ones."""
    ref = f"base:{variant}" if BASE else "tee"
    out = []
    for i in range(PAIRS):
        order = [ref, variant] if i % 2 == 0 else [variant, ref]
        got = {v: run(v) for v in order}
        out.append((got[ref], got[variant]))
    return out


def spread(ratios):
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def throughput(dirs):
    rows = []
    for name, kind, total, size in workloads():
        cmd = producer(kind, total, size, dirs)
        # The producer alone writes no log; the tee it is paired with writes its log on tmpfs.
        extra = [] if BASE else [FLOOR]
        runs = ([] if BASE else [("tmpfs", ALONE, os.path.join(dirs["tmpfs"], "out.log"))]) + [
            (place, fmt, os.path.join(d, "out.log")) for place, d in dirs.items() for fmt in FORMATS + extra
        ]
        for place, fmt, log in runs:
            got = pairs(fmt, lambda v: measure(v, cmd, log, expect=total))
            tee_wall = statistics.median(t[0] for t, _ in got)
            rows.append((
                name, place, fmt,
                spread([v[0] / t[0] for t, v in got]),
                spread([v[1] / t[1] for t, v in got]),
                f"{total / MIB / statistics.median(v[0] for _, v in got):,.0f}",
                f"{total / MIB / tee_wall:,.0f}",
                "" if fmt in (FLOOR, ALONE) else f"{max(v[2] for _, v in got) / 1024:.1f}",
            ))
            print(f"  {name}, {place}, {fmt}: {rows[-1][3]}", file=sys.stderr)
    return rows


TRICKLE = r"""
import os, sys, time
for i in range(int(sys.argv[1])):
    os.write(1, b"%d trickle line %d\n" % (time.monotonic_ns(), i))
    time.sleep(0.005)
"""


def trickle(variant, log, lines):
    """One run: (median µs, p99 µs) from the child's write to the line's arrival."""
    r, w = os.pipe()
    arrivals = []

    def read():
        buf = b""
        while True:
            chunk = os.read(r, 65536)
            now = time.monotonic_ns()
            if not chunk:
                return
            buf += chunk
            *done, buf = buf.split(b"\n")
            arrivals.extend((now - int(line.split(b" ")[0])) / 1000 for line in done)

    reader = threading.Thread(target=read)
    reader.start()
    measure(variant, [sys.executable, "-c", TRICKLE, str(lines)], log, stdout=w)
    os.close(w)
    reader.join()
    os.close(r)
    if len(arrivals) != lines:
        sys.exit(f"{variant}: {len(arrivals)} of {lines} trickle lines arrived")
    return statistics.median(arrivals), percentile(arrivals, 99)


def latency(dirs):
    lines = 100 if QUICK else 400
    log = os.path.join(dirs["tmpfs"], "out.log")
    rows = []
    for fmt in FORMATS:
        got = pairs(fmt, lambda v: trickle(v, log, lines))
        rows.append((
            fmt,
            f"{statistics.median(t[0] for t, _ in got):.0f}",
            f"{statistics.median(v[0] for _, v in got):.0f}",
            spread([v[0] / t[0] for t, v in got]),
            f"{statistics.median(t[1] for t, _ in got):.0f}",
            f"{statistics.median(v[1] for _, v in got):.0f}",
            spread([v[1] / t[1] for t, v in got]),
        ))
        print(f"  trickle {fmt}: {rows[-1][3]} / {rows[-1][6]}", file=sys.stderr)
    return rows


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def idle(dirs):
    """CPU ms over `echo a; sleep 3; echo b`, in pairs with tee."""
    log = os.path.join(dirs["tmpfs"], "out.log")
    child = ["sh", "-c", "echo a; sleep 3; echo b"]
    rows = []
    for fmt in FORMATS:
        got = pairs(fmt, lambda v: measure(v, child, log)[1])
        rows.append((
            fmt,
            f"{statistics.median(t for t, _ in got) * 1000:.1f}",
            f"{statistics.median(v for _, v in got) * 1000:.1f}",
        ))
    return rows


def startup(dirs):
    """Wall time of `teelog -o x.log -- true` against coreutils `timeout 10 true` (the smallest
    wrapper that must also fork, exec and wait for its command) and `true`, alternating; the
    difference is taken per round, then its median and quartiles."""
    log = os.path.join(dirs["tmpfs"], "x.log")
    cases = {
        "true": ["true"],
        "timeout 10 true": ["timeout", "10", "true"],
        "teelog --version": [TEELOG, "--version"],
        "teelog -o x.log -- true": [TEELOG, "-o", log, "--", "true"],
    }
    if BASE:
        cases["base -o x.log -- true"] = [BASE, "-o", log, "--", "true"]
    runs = {name: [] for name in cases}
    for i in range(100 if QUICK else 500):
        names = list(cases) if i % 2 == 0 else list(reversed(cases))
        for name in names:
            begun = time.perf_counter()
            subprocess.run(cases[name], check=True, stdout=subprocess.DEVNULL)
            runs[name].append(time.perf_counter() - begun)
    base = runs["timeout 10 true"]
    rows = []
    for name, times in runs.items():
        diffs = sorted((t - b) * 1e3 for t, b in zip(times, base))
        q = statistics.quantiles(diffs, n=4)
        rows.append((name, f"{statistics.median(times) * 1e3:.3f}", f"{statistics.median(diffs):+.3f} ({q[0]:+.3f} to {q[2]:+.3f})"))
    return rows


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def main():
    if not QUICK and PAIRS < 7:
        sys.exit("at least 7 pairs make a figure (--quick for a smoke test)")
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    shm = tempfile.mkdtemp(prefix="teelog-bench-", dir="/dev/shm")
    disk = tempfile.mkdtemp(prefix="teelog-bench-", dir=os.environ.get("BENCH_DISK_DIR", "/var/tmp"))
    dirs = {"tmpfs": shm, "disk": disk}
    fs = subprocess.run(["findmnt", "-no", "FSTYPE", "-T", disk], capture_output=True, text=True).stdout.strip() or \
        subprocess.run(["stat", "-f", "-c", "%T", disk], capture_output=True, text=True).stdout.strip()
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    try:
        print(f"teelog benchmark ({rev or 'unknown revision'}), {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, "
              f"Linux {platform.release()}, tee: {subprocess.run(['tee', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}; "
              f"`python3 benches/compare.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`; {PAIRS} pairs per figure; "
              f"disk = {disk} ({fs})\n")
        sections = sys.argv[sys.argv.index("--sections") + 1].split(",") if "--sections" in sys.argv else \
            ["throughput", "latency", "idle", "startup"]
        if "throughput" in sections:
            print(table(["workload", "log on", "format", f"wall × {REF}: median (min–max)", f"CPU × {REF}", "teelog MB/s", f"{REF} MB/s", "peak RSS MiB"], throughput(dirs)))
            print()
        if "latency" in sections:
            print(table(["trickle: 1 line / 5 ms", f"{REF} median µs", "teelog median µs", f"median × {REF}", f"{REF} p99 µs", "teelog p99 µs", f"p99 × {REF}"], latency(dirs)))
            print()
        if "idle" in sections:
            print(table(["idle: a line, 3 s sleep, a line", f"{REF} CPU ms", "teelog CPU ms"], idle(dirs)))
            print()
        if "startup" in sections:
            print(table(["start-up", "median ms", "minus `timeout 10 true`, per round: median (quartiles) ms"], startup(dirs)))
            print()
        if "shipping" in sections:  # not run unless asked for: it needs rsyslogd and openssl
            sys.dont_write_bytecode = True  # no benches/__pycache__ in the work tree
            import shipping

            for header, rows in shipping.sections(TEELOG, PAIRS, dirs, peak_rss_kib):
                print(table(header, rows))
                print()
        if "sealing" in sections:  # not run unless asked for: large logs of its own
            sys.dont_write_bytecode = True
            import sealing

            for header, rows in sealing.sections(TEELOG, PAIRS, dirs, peak_rss_kib, producer, QUICK):
                print(table(header, rows))
                print()
        if "sudo" in sections:
            sys.dont_write_bytecode = True
            import sudo

            for header, rows in sudo.sections(TEELOG, PAIRS, dirs, peak_rss_kib, producer, QUICK):
                print(table(header, rows))
                print()
    finally:
        shutil.rmtree(shm)
        shutil.rmtree(disk)


if __name__ == "__main__":
    main()
