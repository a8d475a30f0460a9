"""A full grade of the reference here against the same in another checkout, alternating:
`python -m benchmarks.compare_grading OTHER [--rounds 3]` (OTHER: e.g. a `git worktree` of an
older commit, with its own `.venv` or a link to this one).

Each round grades `solutions/` cold (`python -m grader grade --device cpu`) in each checkout
and prints its wall time and the CPU seconds of the whole tree (judge, fork server, workers:
this process becomes a subreaper, so the detached fork server is reaped and counted).
Alternating rounds on the same machine is what makes a "within 5%" claim fair on shared cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from grader import ROOT


def _reap_adopted(seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.05)
        except ChildProcessError:
            return


def full_grade(checkout: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole tree) of one cold full grade in `checkout`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-m", "grader", "grade",
                    "--target", "solutions", "--device", "cpu", "--out", str(out)],
                   cwd=checkout, check=True, capture_output=True)
    wall = time.perf_counter() - started
    _reap_adopted()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # Here, not at the top: importing it makes this process a subreaper (a self-test imports
    # every benchmark module, and its process must stay as it is).
    import grader.isolation.subreaper  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="compare-grading-") as tmp:
        for _ in range(args.rounds):
            for name, checkout in (("other", args.other.resolve()), ("this", ROOT)):
                wall, cpu = full_grade(checkout, Path(tmp) / name)
                print(f"{name:5s} {checkout}: {wall:5.1f} s wall, {cpu:5.1f} s CPU, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
