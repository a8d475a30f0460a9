"""The memory of a process tree: its proportional set size, summed, and its peak."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from grader.isolation import processes


def pss_bytes(pid: int) -> int:
    """A process's proportional set size: pages it shares (a worker forked from the fork
    server shares PyTorch with it) count once across the processes sharing them."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:")), 0)


def peak_while_running(process: subprocess.Popen, interval: float) -> int:
    """The largest summed PSS of `process`'s tree, read every `interval` seconds until it
    exits (reading every process's smaps costs CPU the measured work would miss)."""
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(pss_bytes(pid) for pid in processes.tree(process.pid)))
        time.sleep(interval)
    return peak
