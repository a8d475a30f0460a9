"""The engine on hostile submissions, and its reports: it survives, and says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from grader import ROOT
from grader.exercises import declared_points, exercise_names
from grader.isolation import forkserver
from grader.isolation.sandbox import Outcome, Sandbox
from grader.judging import reports
from grader.judging.grading import checks_left_out
from grader.judging.reference import LiveReference
from grader.judging.results import ExerciseResult, SubmissionResult
from grader.tests.grading import (
    checks,
    copy_of_checkout,
    failing_checks,
    graded,
    mcc_calls,
    run_grader,
    slow_checks,
    variants,
)
from tests.probes import autograd_basics as autograd_probes
from tests.probes import mcc as mcc_probes

HOSTILE = pytest.mark.xdist_group("mcc-hostile")
SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())


def hostile_results() -> dict[str, SubmissionResult]:
    # Short limits: the hanging submission would otherwise cost 20 s per check.
    return graded("mcc", ("HOSTILE",), timeout_scale=0.25)


@HOSTILE
@pytest.mark.parametrize("variant", variants("mcc", "HOSTILE"), ids=lambda v: v.name)
def test_hostile_submission_loses_only_what_it_breaks(variant):
    results = hostile_results()[variant.name]
    feedback = "\n".join(failing_checks(results).values())
    if variant.expect is not None:
        assert variant.expect.lower() in feedback.lower(), feedback
    kept = {check.name for check in checks(results) if check.score == check.max_score}
    assert set(variant.keeps) <= kept, f"{variant.description} broke {set(variant.keeps) - kept}"
    assert "Traceback" not in feedback and "grader/" not in feedback, feedback


@HOSTILE
def test_import_failures_are_failed_not_not_started():
    for name in ("raises_on_import", "syntax_error"):
        result = hostile_results()[name].exercise("mcc")
        assert (result.score, result.status) == (0, "failed")


@HOSTILE
def test_flooded_output_is_capped():
    results = hostile_results()["floods_output"]
    assert results.exercise("mcc").status == "passed"
    assert len(json.dumps(reports.gradescope(results))) < 200_000


@HOSTILE
def test_results_validate_against_gradescope_schema():
    for result in hostile_results().values():
        rendered = reports.gradescope(result)
        jsonschema.validate(rendered, SCHEMA)
        assert sum(t["score"] for t in rendered["tests"]) == rendered["score"]


def without_times(result: SubmissionResult) -> SubmissionResult:
    """The result less what differs from run to run: when, and seconds of CPU and wall."""
    result.started_at, result.seconds = "", 0.0
    for check in checks(result):
        for run in check.runs:
            run.seconds = run.cpu_seconds = 0.0
            run.longest_call, run.retries = None, 0
    return result


@pytest.mark.xdist_group("twice")
def test_same_submission_same_grade(tmp_path):
    """A submission with a known mistake in two exercises, graded twice, by two judges
    (grader.judging.split) then by one: identical reports, and a table that fits an
    80-column terminal.

    Two exercises: the one with the longest name (the table's widest row), which trains a
    model, and mcc. Every other exercise's checks are graded a second time in the release
    self-tests (the reference's and the stub's, check by check) and every reference result
    the self-tests ask is compared bit for bit with its recording, made in another process.
    """
    submission = tmp_path / "sub"
    submission.mkdir()
    exercises = sorted({max(exercise_names(), key=len), "mcc"})
    for exercise in exercises:
        mutant = variants(exercise, "MUTANTS")[0]
        (submission / f"{exercise}.py").write_text(mutant.source(exercise))
    outputs = []
    for run, judges in (("first", 2), ("second", 1)):
        out = tmp_path / run
        junit = tmp_path / f"{run}.xml"
        process = run_grader("grade", "--target", str(submission), "--device", "cpu",
                             *(f"--exercise={exercise}" for exercise in exercises),
                             "--out", str(out), "--junit", str(junit), f"--judges={judges}")
        assert process.returncode == 0, process.stderr
        assert "partial" in process.stdout
        widest = max(process.stdout.splitlines(), key=len)
        assert len(widest) <= 80, f"a line of {len(widest)} columns: {widest}"
        outputs.append(without_times(reports.load(out / "results.json")))
        suites = ET.parse(junit).getroot()
        assert int(suites.get("failures")) > 0
    assert outputs[0] == outputs[1]
    assert 0 < outputs[0].score < sum(declared_points(e) for e in exercises)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exercise", "nope"], "unknown exercise nope"),
        (["--target", "/does/not/exist"], "is not a directory"),
        (["--target", "{empty}"], "holds no exercise module"),
        (["--judges", "2", "--device", "cuda"], "two judges grade on the CPU only"),
        (["--judges", "2", "--device", "cpu", "--save-reference", "{empty}"],
         "use one judge (--judges 1)"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    args = [a.replace("{empty}", str(tmp_path / "empty")) for a in args]
    process = run_grader("grade", *args, "--out", str(tmp_path / "out"))
    assert process.returncode == 2
    assert message in process.stderr
    assert "Traceback" not in process.stderr


def test_fail_under_sets_the_exit_code(tmp_path):
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--fail-under", "1",
                         "--out", str(tmp_path))
    assert process.returncode == 1
    assert "not started" in process.stdout


def test_quick_grade_leaves_out_the_slow_checks_and_says_so(tmp_path):
    report = tmp_path / "results.json"
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--quick",
                         "--json", str(report), "--out", str(tmp_path))
    assert process.returncode == 0, process.stderr
    assert "quick grade: the slow checks" in process.stdout
    assert max(map(len, process.stdout.splitlines())) <= 80
    results = reports.load(report)  # Gradescope's, which carries the results document
    graded_checks = {check.name for check in checks(results)}
    assert slow_checks("mcc") and not slow_checks("mcc") & graded_checks
    assert "test_mcc_matches_sklearn" in graded_checks
    assert 0 < results.exercise("mcc").max_score < declared_points("mcc")


def test_check_pattern_grades_only_the_matching_checks(tmp_path):
    """An author debugging one check: only it runs, out of its own points."""
    report = tmp_path / "results.json"
    process = run_grader("grade", "--target", "solutions", "--exercise", "mcc", "--device",
                         "cpu", "--check", "confusion_counts", "--check", "test_mcc_*_sklearn",
                         "--json", str(report), "--out", str(tmp_path))
    assert process.returncode == 0, process.stderr
    assert "only the checks matching 'confusion_counts' or" in process.stdout
    results = reports.load(report)
    graded_checks = {check.name for check in checks(results)}
    assert "test_mcc_matches_sklearn" in graded_checks
    assert graded_checks - {"test_mcc_matches_sklearn"}
    assert all("confusion_counts" in name for name in graded_checks - {"test_mcc_matches_sklearn"})
    mcc = results.exercise("mcc")
    assert mcc.score == mcc.max_score == sum(check.max_score for check in checks(results))
    assert mcc.max_score < declared_points("mcc")
    nothing = run_grader("grade", "--exercise", "mcc", "--check", "no_such_check",
                         "--out", str(tmp_path))
    assert nothing.returncode == 2
    assert "no check of mcc matches 'no_such_check'" in nothing.stderr


def test_a_suite_runs_as_plain_pytest_for_its_author():
    """`pytest tests/test_mcc.py` (the conftest loads the plugin): --pdb and -k work there.
    Two targets in one run: the reference passes, the stub fails as not started."""
    process = subprocess.run([sys.executable, "-m", "pytest", "tests/test_mcc.py", "-q",
                              "-p", "no:cacheprovider", "--grade-device", "cpu",
                              "-k", "confusion_counts", "--grade-target", "solutions",
                              "--grade-target", "exercises"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert process.returncode == 1, process.stdout
    assert "2 failed, 2 passed" in process.stdout
    failed = [line for line in process.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2 and all("[exercises-cpu]" in line for line in failed), failed
    assert "not implemented yet (raises NotImplementedError)" in process.stdout


def test_fork_server_preloads_only_what_the_named_exercises_import():
    """A checkoff of one exercise does not wait for the imports of the others."""
    assert forkserver._named_exercises(["checkoff", "--exercise", "grad_accumulation"]) == (
        "grad_accumulation",)
    assert forkserver._named_exercises(["grade", "--exercise=mcc", "--exercise", "nope"]) is None
    everything = forkserver.preload(tuple(exercise_names()))
    assert {"sklearn.metrics", "matplotlib.figure"} <= set(everything)
    assert "matplotlib.figure" not in forkserver.preload(("mcc",))
    assert forkserver.preload(("grad_accumulation",)) == list(forkserver.PRELOAD)


def test_a_worker_imports_the_checkouts_packages_after_its_root_changed():
    """A confined worker may not list the checkout's root, so Python cannot find a top-level
    package there once the root has changed after the fork server started (a first grading
    run creates `.hypothesis/` or `build/` there): the packages probes import are preloaded."""
    sandbox = Sandbox()
    try:
        case = {"dtype": "float64", "features": 2, "outputs": 1, "samples": 3, "seed": 0}
        started = sandbox.run(ROOT / "solutions", "autograd_basics", autograd_probes.mse_loss,
                              case, "cpu")
        assert started.ok, started.error
        marker = ROOT / f".root-changed-{os.getpid()}"
        marker.touch()
        marker.unlink()
        outcome = sandbox.run(ROOT / "solutions", "autograd_basics",
                              autograd_probes.gene_expression_descent,
                              {"lr": 0.05, "split": "train", "steps": 2}, "cpu")
        assert outcome.ok, outcome.error  # was: ModuleNotFoundError: No module named 'data'
    finally:
        sandbox.close()


UNSEEDED = """
import random

import numpy as np
import torch

def confusion_counts(y_true, y_pred):
    return [random.random(), float(np.random.rand()), torch.rand(2)]
"""


def test_every_call_starts_from_the_same_random_state(tmp_path):
    """A submission that draws from Python's, NumPy's and torch's global generators without
    seeding gets the same numbers in every call: its result depends on the case alone, not
    on the calls before it."""
    case = {"y_true": [0, 1], "y_pred": [0, 1]}
    first, second = mcc_calls(tmp_path, UNSEEDED, case, case)
    assert first.ok and second.ok, (first.error, second.error)
    assert first.value[:2] == second.value[:2]
    assert first.value[2].value.equal(second.value[2].value)


class CountingSandbox:
    """Answers each reference call with how many it has been asked."""

    def __init__(self) -> None:
        self.calls = 0

    def run(self, *args, **kwargs) -> Outcome:
        self.calls += 1
        return Outcome(value=self.calls)


def test_the_reference_answers_once_per_case_while_its_modules_are_unchanged(tmp_path):
    """A warm grader's later sessions (later students) reuse the reference's answers; an
    edited reference module is asked again."""
    (tmp_path / "mcc.py").write_text("X = 1\n")
    sandbox, case = CountingSandbox(), {"y_true": [0, 1], "y_pred": [0, 1]}

    def asked() -> Outcome:  # by a new session's reference, as each grade makes one
        return LiveReference(sandbox, tmp_path.resolve()).run(
            "mcc", mcc_probes.confusion_counts, case, "cpu")

    assert (asked().value, asked().value, sandbox.calls) == (1, 1, 1)
    (tmp_path / "mcc.py").write_text("X = 2\n")
    assert (asked().value, sandbox.calls) == (2, 2)


def test_a_broken_suite_is_one_line_with_file_and_line_and_exit_3(tmp_path):
    """An author's syntax error: where it is, not a traceback, and the internal-error code."""
    checkout = copy_of_checkout(tmp_path / "checkout")
    suite = checkout / "tests" / "test_mcc.py"
    lines = suite.read_text().splitlines()
    suite.write_text("\n".join([*lines, "def broken(:"]) + "\n")
    process = run_grader("grade", "--exercise", "mcc", cwd=checkout)
    assert process.returncode == 3
    assert process.stderr.strip().splitlines() == [
        f"error: a grading suite cannot be loaded: tests/test_mcc.py:{len(lines) + 1}: "
        "SyntaxError: invalid syntax"]


def test_a_parametrized_check_is_refused_with_file_and_line(tmp_path):
    """Parameters would merge into one row of points: the author is told where, exit 3."""
    checkout = copy_of_checkout(tmp_path / "checkout")
    suite = checkout / "tests" / "test_mcc.py"
    lines = suite.read_text().splitlines()
    suite.write_text("\n".join([*lines, "", "", "@pytest.mark.points(1)",
                                "@pytest.mark.parametrize('n', [1, 2])",
                                "def test_twice(check, n):", "    pass"]) + "\n")
    process = run_grader("grade", "--exercise", "mcc", cwd=checkout)
    assert process.returncode == 3
    assert process.stderr.strip().splitlines() == [
        f"error: a grading suite cannot be loaded: tests/test_mcc.py:{len(lines) + 3}: "
        "test_twice is parametrized; a check is graded as one: draw its cases with "
        "hypothesis's @given, or loop over them inside it"]


def test_the_quick_note_appears_only_when_checks_were_left_out():
    def graded(name: str, max_score: float) -> list[SubmissionResult]:
        return [SubmissionResult("sub", [ExerciseResult(name, max_score)], {}, "", 0)]

    assert checks_left_out(graded("mcc", declared_points("mcc") - 1))
    assert not checks_left_out(graded("protein_features", declared_points("protein_features")))
