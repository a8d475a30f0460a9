"""`make test`'s own duration, wall and CPU, with `make benchmark SUITE=1` (it takes minutes)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

from grader import ROOT


def run() -> list[tuple[str, str]]:
    if not os.environ.get("SUITE"):
        return [("make test (pytest part)", "not run: make benchmark SUITE=1 runs it")]
    # A child subreaper: the warm graders' fork servers, adopted when their parents exit,
    # are reaped here, so that their CPU counts.
    from grader.isolation import subreaper

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist",
                           "loadgroup", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    subreaper.wait_for_children()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = (done.stdout.strip().splitlines() or ["no output"])[-1]
    return [("make test (pytest part): wall", f"{wall:.0f} s ({summary})"),
            ("make test (pytest part): CPU", f"{usage.ru_utime + usage.ru_stime:.0f} s")]
