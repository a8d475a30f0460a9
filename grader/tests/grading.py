"""Grade many submissions of one exercise in a single grading session, as an instructor would.

One session shares the reference's cached results and the fork server across all the
submissions, which keeps the mutant sets fast. Results are cached for the whole test run,
across xdist workers (a file per grading, made under a lock), so each grading runs once.
"""

from __future__ import annotations

import fcntl
import functools
import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import ROOT
from grader.tests.variants import Variant

BASELINES = {"reference": ROOT / "solutions", "stub": ROOT / "exercises"}


def variants(exercise: str, kind: str) -> list[Variant]:
    """MUTANTS, ALTERNATIVES or HOSTILE of an exercise (empty when it has none)."""
    module = importlib.import_module(f"grader.tests.variants.{exercise}")
    return list(getattr(module, kind, []))


def run_grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1200)


@functools.cache
def graded(exercise: str, kinds: tuple[str, ...] = ("MUTANTS", "ALTERNATIVES"),
           timeout_scale: float = 1.0) -> dict:
    """{submission name: results.json} for the reference, the stub and the variants."""
    folder = Path(os.environ.get("GRADER_SELFTEST_CACHE") or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{exercise}-{'-'.join(kinds)}-{timeout_scale}.json"
    with open(stored.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be grading the same set
        if not stored.exists():
            stored.write_text(json.dumps(_grade_variants(exercise, kinds, timeout_scale)))
    return json.loads(stored.read_text())


def _grade_variants(exercise: str, kinds: tuple[str, ...], timeout_scale: float) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"variants-{exercise}-") as tmp:
        targets = dict(BASELINES)
        for kind in kinds:
            for variant in variants(exercise, kind):
                folder = Path(tmp) / "submissions" / variant.name
                folder.mkdir(parents=True)
                (folder / f"{exercise}.py").write_text(variant.source(exercise))
                targets[variant.name] = folder
        out = Path(tmp) / "out"
        # Targets are named by folder: the baselines are `solutions` and `exercises`.
        process = run_grader("grade", "--exercise", exercise, "--device", "cpu", "--out",
                             str(out), f"--timeout-scale={timeout_scale}",
                             *(f"--target={path}" for path in targets.values()))
        if process.returncode != 0:
            raise RuntimeError(f"grading failed ({process.returncode}):\n{process.stdout}\n"
                               f"{process.stderr}")
        return {name: json.loads((out / path.name / "results.json").read_text())
                for name, path in targets.items()}


def exercise_result(results: dict, exercise: str) -> dict:
    return results["extra_data"]["exercises"][exercise]


def failing_checks(results: dict) -> dict[str, str]:
    """{check (test function) name: output} of the checks that lost points."""
    return {check_name(test): test["output"] for test in results["tests"]
            if test["score"] < test["max_score"]}


def check_name(test: dict) -> str:
    return test["extra_data"]["check"]
