"""Grading a class: 1 job against 2 on 8 submissions, time and peak memory of one full grade.

CPU seconds are the whole process tree's (judge, fork server, workers): what a grading
service must provision per student, read from each student's grading.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import ROOT
from grader.course.warm import session_members

SUBMISSIONS = 8


def _class(folder: Path) -> Path:
    for i in range(SUBMISSIONS):
        shutil.copytree(ROOT / "solutions", folder / f"student{i:02d}")
    return folder


def _batch_seconds(submissions: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall seconds of the batch, CPU seconds per student)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", "--submissions", str(submissions),
                    "--device", "cpu", "--jobs", str(jobs), "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    cpu = [json.loads(path.read_text())["cpu_seconds"] for path in out.glob("*/grading.json")]
    return time.perf_counter() - started, sum(cpu) / len(cpu)


def _rss_bytes(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * 4096


def one_grade(submission: Path, out: Path) -> tuple[float, int]:
    """Seconds and peak memory (summed RSS of the grader and all its workers) of one grade."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "grader", "grade", "--target",
                                str(submission), "--device", "cpu", "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_bytes(pid) for pid in session_members(process.pid)))
        time.sleep(0.1)
    return time.perf_counter() - started, peak


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        submissions = _class(Path(tmp) / "submissions")
        seconds, peak = one_grade(submissions / "student00", Path(tmp) / "one")
        one_job, one_job_cpu = _batch_seconds(submissions, Path(tmp) / "jobs1", 1)
        two_jobs, two_jobs_cpu = _batch_seconds(submissions, Path(tmp) / "jobs2", 2)
    return [
        ("one full grade, all exercises (cpu, wall)", f"{seconds:.1f} s"),
        ("one full grade, peak memory (grader + workers)", f"{peak / 2**20:.0f} MiB"),
        (f"class of {SUBMISSIONS}, --jobs 1", f"{one_job:.1f} s "
         f"({one_job / SUBMISSIONS:.1f} s per submission, {one_job_cpu:.1f} CPU-s each)"),
        (f"class of {SUBMISSIONS}, --jobs 2", f"{two_jobs:.1f} s "
         f"({two_jobs / SUBMISSIONS:.1f} s per submission, {two_jobs_cpu:.1f} CPU-s each)"),
        ("speed-up of 2 jobs over 1", f"{one_job / two_jobs:.2f}x"),
    ]
