"""docs/authoring.md's walkthrough is real: its blocks, written into a copy of this
checkout, make an eleventh exercise that grades as the document says."""

from __future__ import annotations

import re
import subprocess
import sys

from grader import ROOT
from grader.course.stubs import make_stub
from grader.exercises import title_problem
from grader.judging import reports
from grader.tests.grading import checks, copy_of_checkout, failing_checks, run_grader
from solutions import variants

# A block whose first line names a file: ```python PATH (+: append to it).
FILE_BLOCK = re.compile(r"^```python (\S+)( \+)?\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NAME = "contact_map"


def walkthrough_blocks() -> list[tuple[str, bool, str]]:
    """(path, append, text) of every file block of docs/authoring.md, in order."""
    text = (ROOT / "docs" / "authoring.md").read_text()
    return [(path, bool(append), body) for path, append, body in FILE_BLOCK.findall(text)]


def test_the_walkthrough_builds_an_exercise_that_grades_as_it_says(tmp_path, monkeypatch):
    blocks = walkthrough_blocks()
    assert {path for path, _, _ in blocks} >= {
        f"solutions/{NAME}.py", f"tests/probes/{NAME}.py", f"tests/test_{NAME}.py",
        f"solutions/variants/{NAME}.py", f"programs/{NAME}.py", "tests/strategies.py"}
    checkout = copy_of_checkout(tmp_path / "checkout")
    for path, append, text in blocks:
        target = checkout / path
        target.write_text((target.read_text() if append else "") + text)
    reference = checkout / "solutions" / f"{NAME}.py"
    (checkout / "exercises" / f"{NAME}.py").write_text(make_stub(reference.read_text(), NAME))

    # The known submissions, made from the walkthrough's reference as the self-tests do.
    namespace: dict = {}
    exec(compile((checkout / "solutions" / "variants" / f"{NAME}.py").read_text(),
                 "variants", "exec"), namespace)
    monkeypatch.setattr(variants, "SOLUTIONS", checkout / "solutions")
    targets = {"solutions": checkout / "solutions", "exercises": checkout / "exercises"}
    for variant in namespace["MUTANTS"] + namespace["ALTERNATIVES"]:
        folder = tmp_path / variant.name
        folder.mkdir()
        (folder / f"{NAME}.py").write_text(variant.source(NAME))
        targets[variant.name] = folder

    out = tmp_path / "out"
    process = run_grader("grade", "--exercise", NAME, "--device", "cpu", "--out", str(out),
                         *(f"--target={folder}" for folder in targets.values()), cwd=checkout)
    assert process.returncode == 0, process.stdout + process.stderr
    results = {name: reports.load(out / name / "results.json") for name in targets}
    assert results["solutions"].exercise(NAME).score == 4, failing_checks(
        results["solutions"])
    assert results["exercises"].exercise(NAME).status == "not started"
    for variant in namespace["ALTERNATIVES"]:
        assert results[variant.name].exercise(NAME).score == 4
    for variant in namespace["MUTANTS"]:
        assert results[variant.name].exercise(NAME).score < 4
        assert variant.expect in "\n".join(failing_checks(results[variant.name]).values())
    for check in checks(results["solutions"]):
        assert title_problem(check.title, {NAME}) is None, check.title

    program = subprocess.run([sys.executable, "-m", f"programs.{NAME}", "--reference",
                              "--length", "5", "--device", "cpu"], cwd=checkout,
                             capture_output=True, text=True, timeout=120)
    assert program.returncode == 0, program.stderr
    rows = program.stdout.splitlines()
    assert len(rows) == 5 and all(row[i:i + 2] in ("##", "#") for i, row in enumerate(rows)), (
        program.stdout)  # each residue touches itself and the next one, 3.8 angstroms on
