"""The student release checks itself: its recordings are intact and the grader runs on them."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from grader import ROOT
from grader.exercises import compares_with_reference, exercise_names
from grader.isolation import wire
from grader.judging import environment, reports
from grader.judging.reference import RECORDINGS, read_manifest, recordings_hash


def test_every_exercise_has_intact_recordings():
    """Every exercise whose checks compare with the reference has its recordings, intact;
    one whose checks compute their own answers (an oracle in the suite) needs none."""
    manifest = read_manifest()
    assert manifest is not None, "tests/recordings/manifest.json is missing"
    assert manifest["sha256"] == environment.installed()["recordings"] == recordings_hash(
        manifest["exercises"])
    assert exercise_names() == environment.installed()["exercises"]
    assert set(manifest["exercises"]) == {name for name in exercise_names()
                                          if compares_with_reference(name)}
    for name, entry in manifest["exercises"].items():
        data = (RECORDINGS / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name}: changed"
        records = wire.load_plain(data)  # plain data: nothing runs while it loads
        assert {device: len(r) for device, r in records.items()} == entry["records"]


def test_a_submission_that_has_not_started_is_graded(tmp_path):
    """Every check of every exercise runs against the recordings, without a grader error."""
    submission = tmp_path / "submission"
    submission.mkdir()
    for name in exercise_names():
        # Any function the suite asks for raises NotImplementedError, like a fresh stub.
        (submission / f"{name}.py").write_text(
            "def __getattr__(name):\n    raise NotImplementedError(name)\n")
    report = tmp_path / "results.json"
    process = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "--target", str(submission), "--device",
         "cpu", "--json", str(report), "--out", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr
    results = reports.load(report)  # Gradescope's results.json carries the results document
    assert results.score == 0
    assert {e.status for e in results.exercises} == {"not started"}
    assert results.environment["release"]["recordings"] == (
        environment.installed()["recordings"])
