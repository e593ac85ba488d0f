#!/usr/bin/env python3
"""teelog against tee and a bare pipe (`cmd | cat`), side by side, in one run.

    python3 benches/compare.py            # builds teelog --release, prints a Markdown table
    python3 benches/compare.py --quick    # smaller workloads, one round: a smoke test

Every variant of a workload runs once per round, in turn, so machine noise hits them alike;
figures are medians over the rounds and ratios are to tee's median in the same run. The console
goes to /dev/null (the latency workload reads it through a pipe) and each variant writes one log
file (on tmpfs, so that disk writeback does not swamp the figures), deleted after each run. CPU is
wait4()'s user+system time of every process of the variant, the producer included; peak RSS is the
tool's own (VmHWM, sampled).
"""

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEELOG = os.path.join(ROOT, "target", "release", "teelog")
QUICK = "--quick" in sys.argv
ROUNDS = 1 if QUICK else 3
MIB = 1 << 20


def make_workloads(tmp):
    """Files the fast child (`cat`, `dd`) streams from the page cache."""
    size = (lambda n: n // 16) if QUICK else (lambda n: n)
    lines = os.path.join(tmp, "lines.txt")
    line = b"2026-11-25 20:13:13 INFO request served in 12 ms by worker 7 for /api/items?id=\n"
    with open(lines, "wb") as f:
        block = b"".join(line[:-3] + b"%02d\n" % (i % 100) for i in range(1000))
        for _ in range(size(200 * MIB) // len(block)):
            f.write(block)
    binary = os.path.join(tmp, "random.bin")
    with open(binary, "wb") as f:
        for _ in range(size(100 * MIB) // MIB):
            f.write(os.urandom(MIB))
    bulk = os.path.join(tmp, "bulk.txt")
    with open(bulk, "wb") as f:
        block = (b"x" * 4095 + b"\n") * 256
        for _ in range(size(1024 * MIB) // len(block)):
            f.write(block)
    return {
        # 1 GiB of 4 KiB lines; cat writes them 128 KiB at a time.
        "bulk": (["cat", bulk], os.path.getsize(bulk)),
        "lines": (["cat", lines], os.path.getsize(lines)),
        "binary": (["cat", binary], os.path.getsize(binary)),
    }


VARIANTS = ["cat", "tee", "teelog plain", "teelog classic", "teelog jsonl"]


def start(variant, cmd, log, stdout):
    """Starts `cmd` with its output through `variant` into one log; returns (tool, processes)."""
    if variant in ("cat", "tee"):
        producer = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        argv = ["cat"] if variant == "cat" else ["tee", log]
        tool = subprocess.Popen(argv, stdin=producer.stdout, stdout=stdout)
        producer.stdout.close()
        return tool, [producer, tool]
    fmt = variant.split()[1]
    tool = subprocess.Popen([TEELOG, "-o", f"{fmt}={log}", "--", *cmd], stdin=subprocess.DEVNULL, stdout=stdout)
    return tool, [tool]


def peak_rss_kib(pid, done):
    """Samples VmHWM (the high-water mark of the process's own memory) until `done` is set.
    wait4()'s ru_maxrss would not do: a child inherits its parent's high-water mark at exec."""
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


def measure(variant, cmd, log, stdout=subprocess.DEVNULL):
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
            sys.exit(f"{variant} on {cmd} failed with {proc.returncode}")
    wall = time.perf_counter() - begun
    done.set()
    sampler.join()
    if os.path.exists(log):
        os.unlink(log)
    return wall, cpu, peak[0]


def throughput(workloads, tmp):
    rows = []
    log = os.path.join(tmp, "out.log")
    for name, (cmd, size) in workloads.items():
        results = {}
        for _ in range(ROUNDS):
            for variant in VARIANTS:
                results.setdefault(variant, []).append(measure(variant, cmd, log))
        tee = statistics.median(r[0] for r in results["tee"])
        cat = statistics.median(r[0] for r in results["cat"])
        for variant, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            rows.append(
                (
                    name,
                    variant,
                    f"{size / MIB / wall:,.0f}",
                    f"{wall:.3f}",
                    f"{wall / tee:.2f}",
                    f"{wall / cat:.2f}",
                    f"{statistics.median(r[1] for r in runs):.3f}",
                    f"{max(r[2] for r in runs) / 1024:.1f}",
                )
            )
    return rows


TRICKLE = r"""
import os, sys, time
for i in range(int(sys.argv[1])):
    os.write(1, b"%d trickle line %d\n" % (time.monotonic_ns(), i))
    time.sleep(0.005)
"""


def latency(tmp):
    """Median and p99 microseconds from the child's write to the line's arrival on the console."""
    lines = 200 if QUICK else 1000
    log = os.path.join(tmp, "out.log")
    child = [sys.executable, "-c", TRICKLE, str(lines)]
    found = {}
    for _ in range(ROUNDS):
        for variant in VARIANTS[1:]:
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
                    arrivals.extend((int(line.split(b" ")[0]), now) for line in done)

            reader = threading.Thread(target=read)
            reader.start()
            measure(variant, child, log, stdout=w)
            os.close(w)
            reader.join()
            os.close(r)
            found.setdefault(variant, []).extend((t1 - t0) / 1000 for t0, t1 in arrivals)
    rows = []
    tee = found["tee"]
    tee_median, tee_p99 = statistics.median(tee), percentile(tee, 99)
    for variant, samples in found.items():
        median, p99 = statistics.median(samples), percentile(samples, 99)
        rows.append(
            (variant, f"{median:.0f}", f"{median / tee_median:.2f}", f"{p99:.0f}", f"{p99 / tee_p99:.2f}")
        )
    return rows


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def idle(tmp):
    """CPU seconds over `echo a; sleep 3; echo b`, minus the same for the bare command."""
    log = os.path.join(tmp, "out.log")
    child = ["sh", "-c", "echo a; sleep 3; echo b"]
    cpu = {}
    for _ in range(1 if QUICK else 2):
        for variant in VARIANTS[1:]:
            cpu.setdefault(variant, []).append(measure(variant, child, log)[1])
    tee = statistics.median(cpu["tee"])
    return [(v, f"{statistics.median(c) * 1000:.1f}", f"{(statistics.median(c) - tee) * 1000:+.1f}") for v, c in cpu.items()]


def startup(tmp):
    """Median wall time of `teelog -o x.log -- true`, of `true`, and of coreutils `timeout`, the
    smallest wrapper that must also fork, exec and wait for its command: alternating."""
    log = os.path.join(tmp, "x.log")
    cases = {
        "true": ["true"],
        "timeout 10 true (C wrapper)": ["timeout", "10", "true"],
        "teelog --version (no command)": [TEELOG, "--version"],
        "teelog -o x.log -- true": [TEELOG, "-o", log, "--", "true"],
    }
    runs = {name: [] for name in cases}
    for _ in range(50 if QUICK else 300):
        for name, argv in cases.items():
            begun = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            runs[name].append(time.perf_counter() - begun)
    base = statistics.median(runs["true"])
    return [(k, f"{statistics.median(v) * 1e3:.3f}", f"{(statistics.median(v) - base) * 1e3:+.3f}") for k, v in runs.items()]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    # Logs on tmpfs where there is one: the figures are about the tools, not the disk's writeback.
    tmp = tempfile.mkdtemp(prefix="teelog-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        workloads = make_workloads(tmp)
        print(f"teelog benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
              f"{os.cpu_count()} cores, {platform.release()}; `python3 benches/compare.py`"
              f"{' --quick' if QUICK else ''}; medians of {ROUNDS} alternating rounds\n")
        print(table(["workload", "variant", "MB/s", "wall s", "× tee", "× cat", "CPU s", "peak RSS MiB"], throughput(workloads, tmp)))
        print()
        print(table(["trickle: 1 line / 5 ms", "median µs", "× tee", "p99 µs", "× tee"], latency(tmp)))
        print()
        print(table(["idle: a line, 3 s sleep, a line", "CPU ms", "vs tee ms"], idle(tmp)))
        print()
        print(table(["start-up", "median ms", "vs true ms"], startup(tmp)))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
