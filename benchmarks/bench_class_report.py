"""The class report of 200 students (every exercise): without and with the similarity check.

The class is made from two real gradings (the reference and the stubs): each student's
exercise is the reference's, the stub's, or the reference's with a few checks failed by
a known mistake, drawn with a fixed seed. For the similarity check each student's folder
holds the reference modules, each with a line of its own (fingerprinting is the cost;
copies of one text share every passage, an idiom, so no pair is compared: a class of
independent modules compares a few). Exercises not started are not fingerprinted.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import ROOT

STUDENTS = 200


def _graded(tmp: Path) -> dict[str, dict]:
    out = tmp / "graded"
    subprocess.run([sys.executable, "-m", "grader", "grade", "--target", str(ROOT / "solutions"),
                    "--target", str(ROOT / "exercises"), "--device", "cpu", "--quick",
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return {name: json.loads((out / name / "results.json").read_text())
            for name in ("solutions", "exercises")}


def _student(reference: dict, stub: dict, rng: random.Random) -> dict:
    tests, exercises = [], {}
    for name, summary in reference["extra_data"]["exercises"].items():
        draw = rng.random()
        source = stub if draw < 0.1 else reference
        own = [dict(t, extra_data=dict(t["extra_data"])) for t in source["tests"]
               if t["tags"] == [name]]
        if source is reference and draw > 0.5:
            for test in rng.sample(own, k=min(3, len(own))):
                test["score"] = 0.0
                test["extra_data"]["diagnosis"] = {"cpu": {"hint": f"mistake {rng.randint(1, 4)}"}}
        tests += own
        score = sum(t["score"] for t in own)
        exercises[name] = {**summary, "score": score, "status": (
            source["extra_data"]["exercises"][name]["status"] if source is stub
            else "passed" if score == summary["max_score"] else "partial")}
    return {"score": sum(t["score"] for t in tests), "execution_time": rng.uniform(20, 60),
            "tests": tests, "extra_data": {"exercises": exercises}}


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
            document = _student(graded["solutions"], graded["exercises"], rng)
            (folder / "results.json").write_text(json.dumps(document))
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
