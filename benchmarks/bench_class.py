"""Grading a class: 24 mixed submissions at --jobs 1 and --jobs 2, in warm graders.

CPU seconds per student are read from each student's grading.json: the warm grader's tree
(judge, fork server, workers) for that student, its start-up charged to the first student
it grades (reported apart: a correct student's figure is that of one graded by a grader
already started); those of its code's own calls from its results.json. Peak memory is the
summed PSS of the batch and every process under it.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.memory import peak_while_running
from grader import ROOT
from grader.exercises import exercise_names
from grader.judging import reports
from solutions.variants import Variant

STUDENTS = 24


def _class(folder: Path) -> dict[str, str]:
    """Two thirds correct, a sixth with a known mistake in each of two exercises, a sixth the
    untouched stubs; {student: kind}."""
    kinds = {}
    names = exercise_names()
    for i in range(STUDENTS):
        student = folder / f"student{i:02d}"
        kind = "correct" if i % 6 < 4 else "mistakes" if i % 6 == 4 else "stub"
        shutil.copytree(ROOT / ("exercises" if kind == "stub" else "solutions"), student,
                        ignore=shutil.ignore_patterns("variants", "similar", "__pycache__"))
        if kind == "mistakes":
            for exercise in (names[i % len(names)], names[(i + 3) % len(names)]):
                mutant: Variant = _mutants(exercise)[0]
                (student / f"{exercise}.py").write_text(mutant.source(exercise))
        kinds[student.name] = kind
    return kinds


def _mutants(exercise: str) -> list[Variant]:
    return importlib.import_module(f"solutions.variants.{exercise}").MUTANTS


def _batch(submissions: Path, out: Path, jobs: int) -> tuple[float, int]:
    """(wall seconds, peak bytes of the whole tree) of one class grading."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "grader", "grade", "--submissions",
                                str(submissions), "--device", "cpu", "--jobs", str(jobs),
                                "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = peak_while_running(process, interval=2.0)
    return time.perf_counter() - started, peak


def _gradings(out: Path, kinds: dict[str, str]) -> dict[str, dict]:
    return {student: json.loads((out / student / "grading.json").read_text())
            for student in kinds}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _calls_cpu(out: Path, student: str) -> float:
    """CPU seconds of the submission's own calls (its workers' while they ran): what no
    grader can save."""
    return sum(run.cpu_seconds for exercise in reports.load(out / student / "results.json")
               .exercises for check in exercise.checks for run in check.runs)


def run() -> list[tuple[str, str]]:
    rows, walls = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        kinds = _class(Path(tmp) / "submissions")
        for jobs in (1, 2):
            out = Path(tmp) / f"jobs{jobs}"
            walls[jobs], peak = _batch(Path(tmp) / "submissions", out, jobs)
            gradings = _gradings(out, kinds)
            # A correct student graded by a warm grader already started; the first student of
            # each grader also carries its start-up, shown apart.
            warm = [s for s, kind in kinds.items()
                    if kind == "correct" and not gradings[s]["started_grader"]]
            cpu = _mean([gradings[s]["cpu_seconds"] for s in warm])
            first = _mean([g["cpu_seconds"] for g in gradings.values() if g["started_grader"]])
            calls = _mean([_calls_cpu(out, s) for s in warm])
            rows += [
                (f"class of {STUDENTS}, --jobs {jobs}: wall", f"{walls[jobs]:.0f} s "
                 f"({walls[jobs] / STUDENTS:.1f} s per student)"),
                (f"class of {STUDENTS}, --jobs {jobs}: CPU per student (all, start-up "
                 "included; a correct one)",
                 f"{_mean([g['cpu_seconds'] for g in gradings.values()]):.1f} s; "
                 f"{cpu:.1f} s"),
                (f"class of {STUDENTS}, --jobs {jobs}: a correct student's CPU: its code's "
                 "calls; the grader's (the rest)", f"{calls:.1f} s; {cpu - calls:.1f} s"),
                (f"class of {STUDENTS}, --jobs {jobs}: a warm grader's first student "
                 "(start-up included)", f"{first:.1f} s"),
                (f"class of {STUDENTS}, --jobs {jobs}: peak memory of the job",
                 f"{peak / 2**30:.2f} GiB"),
            ]
    rows.append(("speed-up of --jobs 2 over --jobs 1", f"{walls[1] / walls[2]:.2f}x"))
    return rows
