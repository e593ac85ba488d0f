"""Issue 23's speed figures: sealed jsonl against unsealed jsonl, and `teelog verify`.

Used by `python3 benches/compare.py --sections sealing`; kept apart from compare.py because it
makes a signer key (`teelog keygen`) and large logs of its own.

Two tables:
- The lines workload (compare.py's producer: 80-byte log lines, 8 KiB writes, 200 MiB; 1/16 with
  --quick) through teelog into one jsonl log, with and without `--seal KEY` (the defaults: a seal
  every 1000 records), on tmpfs and on disk, in alternating order: wall and CPU (wait4 of teelog
  and its children, the producer included) of sealed / unsealed per pair, median (min-max), and
  peak RSS.
- `teelog verify` of the sealed log each pair wrote (so as many runs as pairs): the log's size
  over verify's wall time, its CPU, and its peak RSS, which must not grow with the log: the same
  is measured on a log one sixteenth of the size, in the same run.
"""

import os
import statistics
import subprocess
import sys

from timed import timed

MIB = 1 << 20


def sections(teelog, pairs, dirs, peak_rss, producer, quick):
    """The tables as (header, rows); `peak_rss(pid, done)` samples VmHWM; `producer(kind,
    total, size, dirs)` is compare.py's producer command."""
    keys = os.path.join(dirs["tmpfs"], "keys")
    subprocess.run([teelog, "keygen", keys, "--name", "bench"], check=True, stdout=subprocess.DEVNULL)
    key, pub = os.path.join(keys, "bench.key"), os.path.join(keys, "bench.pub")
    total = (200 * MIB) // (16 if quick else 1)
    cmd = producer("lines", total, 8192, dirs)

    def run(argv):
        return timed(argv, peak_rss)

    rows, verify_rows = [], []
    for place, d in dirs.items():
        got, verified = [], []
        for i in range(pairs):
            plain_log, sealed_log = os.path.join(d, "plain.jsonl"), os.path.join(d, "sealed.jsonl")
            variants = [("unsealed", [teelog, "-o", f"jsonl={plain_log}", "--", *cmd]),
                        ("sealed", [teelog, "--seal", key, "-o", f"jsonl={sealed_log}", "--", *cmd])]
            if i % 2:
                variants.reverse()
            result = {name: run(argv) for name, argv in variants}
            got.append((result["unsealed"], result["sealed"]))
            size = os.path.getsize(sealed_log)
            wall, cpu, rss = run([teelog, "verify", "--key", pub, sealed_log])
            verified.append((size / MIB / wall, cpu, rss, size))
            os.unlink(plain_log)
            os.unlink(sealed_log)
        spread = lambda r: f"{statistics.median(r):.2f} ({min(r):.2f}–{max(r):.2f})"
        rows.append((place, spread([s[0] / u[0] for u, s in got]), spread([s[1] / u[1] for u, s in got]),
                     f"{statistics.median(u[0] for u, _ in got):.2f}", f"{statistics.median(s[0] for _, s in got):.2f}",
                     f"{max(u[2] for u, _ in got) / 1024:.1f}", f"{max(s[2] for _, s in got) / 1024:.1f}"))
        print(f"  sealing, {place}: {rows[-1][1]}", file=sys.stderr)
        rates = [v[0] for v in verified]
        verify_rows.append((place, f"{statistics.median(v[3] for v in verified) / MIB:,.0f}",
                            f"{statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})",
                            f"{statistics.median(v[1] for v in verified):.2f}", f"{max(v[2] for v in verified) / 1024:.1f}"))
    # Memory against the log's size: a log a sixteenth as long, verified the same way.
    small = os.path.join(dirs["tmpfs"], "small.jsonl")
    run([teelog, "--seal", key, "-o", f"jsonl={small}", "--", *producer("lines", total // 16, 8192, dirs)])
    wall, cpu, rss = run([teelog, "verify", "--key", pub, small])
    verify_rows.append((f"tmpfs, 1/16 of the log", f"{os.path.getsize(small) / MIB:,.0f}",
                        f"{os.path.getsize(small) / MIB / wall:,.0f}", f"{cpu:.2f}", f"{rss / 1024:.1f}"))
    os.unlink(small)
    return [
        (["lines 8 KiB writes, one jsonl log", "wall sealed × unsealed: median (min–max)", "CPU × unsealed",
          "unsealed median s", "sealed median s", "peak RSS MiB, unsealed", "peak RSS MiB, sealed"], rows),
        (["teelog verify of the sealed log", "log MiB", "MiB/s: median (min–max)", "CPU s: median", "peak RSS MiB"],
         verify_rows),
    ]
