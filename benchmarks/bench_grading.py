"""Wall time of grading the reference, per exercise and in total, and the sandbox round trip."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from grader import ROOT
from grader.exercises import exercise_names
from grader.sandbox import Sandbox
from tests.probes import mcc as mcc_probes


def grading_seconds(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", "--target", "solutions",
                    "--device", "cpu", "--out", str(ROOT / "build" / "benchmark"), *args],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


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
             f"{grading_seconds('--exercise', name):.1f} s") for name in exercise_names()]
    rows.append(("grade the reference: all exercises (cpu, wall)", f"{grading_seconds():.1f} s"))
    rows.append(("sandbox round trip, median of 300 calls",
                 f"{round_trip_seconds() * 1e3:.2f} ms"))
    return rows

