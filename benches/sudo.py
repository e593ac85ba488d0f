"""Issue 24's speed figure: `-o sudo-iolog=DIR` against `-o plain=FILE` on the lines workload.

Used by `python3 benches/compare.py --sections sudo`. compare.py's producer writes 200 MiB of
80-byte lines in 8 KiB writes (1/16 with --quick) through teelog into one log: a plain log, or a
sudo I/O log session (its stdout file, the timing file with a record per chunk, log and
log.json), on tmpfs and on disk, in alternating order. Per pair: wall and CPU (wait4 of teelog
and its children, the producer included) of sudo-iolog / plain; the median (min-max) of those
ratios, the medians in seconds, and peak RSS. Each run is checked: the plain log and the
session's stdout file hold every byte the producer wrote.
"""

import os
import shutil
import statistics
import subprocess
import sys

from timed import timed

MIB = 1 << 20


def sections(teelog, pairs, dirs, peak_rss, producer, quick):
    total = (200 * MIB) // (16 if quick else 1)
    cmd = producer("lines", total, 8192, dirs)

    def run(argv):
        return timed(argv, peak_rss)

    def check(path, what):
        if os.path.getsize(path) != total:
            sys.exit(f"{what}: {path} holds {os.path.getsize(path)} bytes, not {total}")

    rows = []
    for place, d in dirs.items():
        got = []
        for i in range(pairs):
            plain, iolog = os.path.join(d, "plain.log"), os.path.join(d, "iolog")
            variants = [("plain", [teelog, "-o", f"plain={plain}", "--", *cmd]),
                        ("sudo-iolog", [teelog, "-o", f"sudo-iolog={iolog}", "--", *cmd])]
            if i % 2:
                variants.reverse()
            result = {name: run(argv) for name, argv in variants}
            check(plain, "plain")
            check(os.path.join(iolog, "00", "00", "01", "stdout"), "sudo-iolog")
            got.append((result["plain"], result["sudo-iolog"]))
            os.unlink(plain)
            shutil.rmtree(iolog)
        spread = lambda r: f"{statistics.median(r):.2f} ({min(r):.2f}–{max(r):.2f})"
        rows.append((place, spread([s[0] / p[0] for p, s in got]), spread([s[1] / p[1] for p, s in got]),
                     f"{statistics.median(p[0] for p, _ in got):.3f}", f"{statistics.median(s[0] for _, s in got):.3f}",
                     f"{max(p[2] for p, _ in got) / 1024:.1f}", f"{max(s[2] for _, s in got) / 1024:.1f}"))
        print(f"  sudo-iolog, {place}: {rows[-1][1]}", file=sys.stderr)
    return [
        (["lines 8 KiB writes, one log", "wall sudo-iolog × plain: median (min–max)", "CPU × plain",
          "plain median s", "sudo-iolog median s", "peak RSS MiB, plain", "peak RSS MiB, sudo-iolog"], rows),
    ]
