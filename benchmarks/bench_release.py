"""The student release: build time, size of the recordings, grading time against live grading."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import ROOT


def _timed(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        dest = Path(tmp) / "release"
        build = _timed("release", "--dest", str(dest), cwd=ROOT)
        recordings = sum(p.stat().st_size for p in (dest / "tests" / "recordings").iterdir())
        # A student's submission: the reference's modules in a folder of their own, so that
        # live grading runs the reference beside it as it would for any student.
        submission = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", submission)
        grade = ("grade", "--target", str(submission), "--device", "cpu", "--out",
                 str(Path(tmp) / "out"))
        live = _timed(*grade, cwd=ROOT)
        shipped = _timed(*grade, cwd=dest)
    return [
        ("make release (build and record, cpu)", f"{build:.1f} s"),
        ("recordings, all exercises", f"{recordings / 1e6:.2f} MB"),
        ("grade a full-marks submission here (live reference)", f"{live:.1f} s"),
        ("grade it in the release (recorded reference)", f"{shipped:.1f} s"),
        ("release / live grading time", f"{shipped / live:.2f}"),
    ]
