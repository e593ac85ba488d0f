"""One timed run of a teelog command for the benchmark sections kept apart from compare.py
(sealing.py, sudo.py): wall time, CPU (wait4 of it and its children) and peak RSS."""

import os
import subprocess
import sys
import threading
import time


def timed(argv, peak_rss):
    """Runs `argv` with no input or output; returns (wall s, CPU s, peak RSS KiB), or ends the
    benchmark with its stderr if it fails. `peak_rss(pid, done)` samples VmHWM until `done`."""
    begun = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done, peak = threading.Event(), []
    sampler = threading.Thread(target=lambda: peak.append(peak_rss(proc.pid, done)))
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - begun
    done.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{argv[:4]} failed with {code}: {proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, peak[0]
