"""The class report of 200 students (every exercise): without and with the similarity check.

The class is made from two real gradings (the reference and the stubs): each student's
exercise is the reference's, the stub's, or the reference's with a few checks failed by
a known mistake, drawn with a fixed seed. For the similarity check each student's folder
holds the reference modules, each with a line of its own (fingerprinting is the cost;
copies of one text share every passage, an idiom, so no pair is compared: a class of
independent modules compares a few). Exercises not started are not fingerprinted.
"""

from __future__ import annotations

import copy
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import ROOT
from grader.judging import reports
from grader.judging.results import ExerciseResult, RunOutcome, SubmissionResult

STUDENTS = 200


def _graded(tmp: Path) -> dict[str, SubmissionResult]:
    out = tmp / "graded"
    subprocess.run([sys.executable, "-m", "grader", "grade", "--target", str(ROOT / "solutions"),
                    "--target", str(ROOT / "exercises"), "--device", "cpu", "--quick",
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return {name: reports.load(out / name / "results.json") for name in ("solutions", "exercises")}


def _student(reference: SubmissionResult, stub: SubmissionResult,
             rng: random.Random) -> SubmissionResult:
    exercises: list[ExerciseResult] = []
    for own, stubbed in zip(reference.exercises, stub.exercises, strict=True):
        draw = rng.random()
        exercise = copy.deepcopy(stubbed if draw < 0.1 else own)
        if draw > 0.5:
            for check in rng.sample(exercise.checks, k=min(3, len(exercise.checks))):
                for run in check.ran:
                    run.outcome = RunOutcome.FAILED
                    run.hint = f"mistake {rng.randint(1, 4)}"
        exercises.append(exercise)
    return SubmissionResult(reference.target, exercises, reference.environment,
                            reference.started_at, rng.uniform(20, 60))


def _report(out: Path, *args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of `python -m grader report OUT ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "report", str(out), *args], cwd=ROOT,
                   check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - started, cpu


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        graded = _graded(Path(tmp))
        rng = random.Random(0)
        out = Path(tmp) / "class"
        for i in range(STUDENTS):
            folder = out / f"student{i:03d}"
            (folder / "submission").mkdir(parents=True)
            reports.save(_student(graded["solutions"], graded["exercises"], rng),
                         folder / "results.json")
        plain = _report(out, "--similarity-threshold", "2")
        for module in (ROOT / "solutions").glob("[a-z]*.py"):
            for i in range(STUDENTS):
                # A text of its own (no fingerprint can be reused), the same tokens.
                (out / f"student{i:03d}" / "submission" / module.name).write_text(
                    f"# student {i}\n{module.read_text()}")
        similar = _report(out)
    return [
        (f"report, {STUDENTS} results documents, no similarity",
         f"{plain[0]:.1f} s wall, {plain[1]:.1f} s CPU"),
        (f"report, {STUDENTS} students x every exercise's module, with similarity",
         f"{similar[0]:.1f} s wall, {similar[1]:.1f} s CPU"),
    ]
