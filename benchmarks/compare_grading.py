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
from pathlib import Path

from benchmarks.bench_grading import graded_cost
from grader import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for name, checkout in (("other", args.other.resolve()), ("this", ROOT)):
            cost = graded_cost(checkout, "solutions")
            print(f"{name:5s} {checkout}: {cost.wall:5.1f} s wall, {cost.cpu:5.1f} s CPU, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
