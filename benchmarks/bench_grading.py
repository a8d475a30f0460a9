"""Wall time of grading the reference, per exercise and in total (with two judges and with
one: wall, CPU, peak memory), the quick grade's CPU seconds per exercise, and the sandbox
round trip."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.memory import peak_while_running
from grader import ROOT
from grader.exercises import exercise_names
from grader.isolation.sandbox import Sandbox
from tests.probes import mcc as mcc_probes

FULL_TARGET_SECONDS = 15.0  # a full grade, wall, on two quiet cores (issue 32)
QUICK_TARGET_CPU = 5.0  # seconds of CPU a QUICK=1 grade of one exercise takes after start-up


@dataclass(frozen=True)
class GradedCost:
    wall: float  # seconds
    cpu: float  # seconds of the grader, its second judge, its fork server and the workers
    peak: int | None  # bytes: the largest summed PSS of that tree, where it was read


def graded_cost(checkout: Path, target: str, *args: str, memory: bool = False) -> GradedCost:
    """What one `python -m grader grade` in `checkout` costs (another checkout runs with its
    own .venv). The grader leaves its fork server to exit on its own: this process adopts it
    (a child subreaper) and reaps it, so that its CPU counts. memory: also read the peak
    memory, every half second; reading it costs CPU that the grading then lacks, so the
    wall time of such a run is not the one to report."""
    from grader.isolation import subreaper  # on import, this process becomes a subreaper

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    python = sys.executable if checkout == ROOT else str(checkout / ".venv" / "bin" / "python")
    process = subprocess.Popen(
        [python, "-m", "grader", "grade", "--target", target, "--device", "cpu",
         "--out", str(checkout / "build" / "benchmark"), *args], cwd=checkout,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_while_running(process, interval=0.5) if memory else None
    _, errors = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"grading {target} failed: {errors.decode()}")
    subreaper.wait_for_children(timeout=30)  # the adopted fork server, once it has exited
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return GradedCost(wall, (after.ru_utime - before.ru_utime)
                      + (after.ru_stime - before.ru_stime), peak)


def quick_cpu_rows() -> list[tuple[str, str]]:
    """QUICK=1 on the reference, per exercise: its CPU seconds after start-up, that is beyond
    those of the same quick grade of the stub (start-up, and every check stopping at its
    first call)."""
    rows = []
    for name in exercise_names():
        startup = graded_cost(ROOT, "exercises", "--exercise", name, "--quick").cpu
        total = graded_cost(ROOT, "solutions", "--exercise", name, "--quick").cpu
        over = "" if total - startup <= QUICK_TARGET_CPU else \
            f"  OVER the {QUICK_TARGET_CPU:g} s target"
        rows.append((f"QUICK=1 grade of the reference: {name} (CPU after start-up)",
                     f"{total - startup:.1f} s (start-up {startup:.1f} s){over}"))
    return rows


def round_trip_seconds(calls: int = 300) -> float:
    """Median time of one sandbox call minus the probe itself, with a warm worker."""
    sandbox = Sandbox()
    case = {"y_true": [1, 0, 1], "y_pred": [1, 1, 0]}
    try:
        sandbox.run(ROOT / "exercises", "mcc", mcc_probes.matthews_corrcoef, case, "cpu")
        sandbox.round_trips.clear()
        for _ in range(calls):
            sandbox.run(ROOT / "exercises", "mcc", mcc_probes.matthews_corrcoef, case, "cpu")
        return statistics.median(sandbox.round_trips)
    finally:
        sandbox.close()


def run() -> list[tuple[str, str]]:
    rows = [(f"grade the reference: {name} (cpu, wall)",
             f"{graded_cost(ROOT, 'solutions', '--exercise', name).wall:.1f} s")
            for name in exercise_names()]
    for judges in (2, 1):  # the default where two cores are free, then one judge
        cost = graded_cost(ROOT, "solutions", f"--judges={judges}")
        peak = graded_cost(ROOT, "solutions", f"--judges={judges}", memory=True).peak
        over = "" if cost.wall <= FULL_TARGET_SECONDS else \
            f"  OVER the {FULL_TARGET_SECONDS:g} s target"
        rows.append((f"grade the reference: all exercises, {judges} judge(s): wall, CPU of "
                     "the whole tree; peak memory (PSS, another run)",
                     f"{cost.wall:.1f} s{over}, {cost.cpu:.1f} s; {peak / 2**30:.2f} GiB"))
    rows += quick_cpu_rows()
    rows.append(("sandbox round trip, median of 300 calls",
                 f"{round_trip_seconds() * 1e3:.2f} ms"))
    return rows
