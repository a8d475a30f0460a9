"""Submissions that reach outside their worker (issue 11): the kernel refuses, nothing changes.

The breakouts (`grader.tests.breakouts`) are graded in a copy of this checkout, so that a
protection that failed harms only the copy. Then the copy grades the reference and the
stub again: full marks and 0, from files that are byte for byte what they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import site
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from grader import ROOT, confinement
from grader.tests.breakouts import DAEMON_NAME, breakouts
from grader.tests.grading import copy_of_checkout, failing_checks, run_grader
from grader.wire import printable

AVAILABLE = confinement.available()
CONFINED = pytest.mark.skipif(
    bool(AVAILABLE.missing()),
    reason=f"this machine cannot confine a worker fully (no {', '.join(AVAILABLE.missing())})")
# The copy's checks write no bytecode, so that any new file in it is a breakout's; the
# grader runs with a secret in its environment, as on a CI runner.
SECRET = "ghp_breakout0secret0token"
ENVIRONMENT = {"PYTHONDONTWRITEBYTECODE": "1", "GITHUB_TOKEN": SECRET}


def _snapshot(root: Path) -> dict[str, str]:
    """{file: sha256} of the checkout, but .hypothesis/, the judge's own cache (charmaps)."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] != ".hypothesis"}


def _grade(checkout: Path, out: Path, targets: list[Path]) -> dict[str, dict]:
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--quick",
                         "--out", str(out), *(f"--target={t}" for t in targets),
                         cwd=checkout, env=ENVIRONMENT)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "\x1b" not in process.stdout + process.stderr
    return {target.name: json.loads((out / target.name / "results.json").read_text())
            for target in targets}


def _daemons() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == DAEMON_NAME:
                found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded_breakouts(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("breakouts")
    checkout = copy_of_checkout(tmp / "checkout")
    targets = []
    for breakout in breakouts():
        (tmp / breakout.name).mkdir()
        (tmp / breakout.name / "mcc.py").write_text(breakout.for_checkout(checkout))
        targets.append(tmp / breakout.name)
    sites = [Path(p) for p in site.getsitepackages()]
    before = _snapshot(checkout)
    results = _grade(checkout, tmp / "out", targets)
    time.sleep(1)  # a detached process that survived would rewrite the reports meanwhile
    reports = {t.name: json.loads((tmp / "out" / t.name / "results.json").read_text())
               for t in targets}
    daemons = _daemons()
    after = _snapshot(checkout)
    planted = [p for s in sites for p in (s / "breakout.pth", s / "sitecustomize.py")
               if p.exists()] + [p for p in [Path(torch.__file__).parent / "_breakout.py"]
                                 if p.exists()]
    shutil.copytree(checkout / "solutions", tmp / "reference")
    again = _grade(checkout, tmp / "again", [tmp / "reference", checkout / "exercises"])
    return {"results": results, "reports": reports, "daemons": daemons, "before": before,
            "after": after, "planted": planted, "again": again}


@CONFINED
@pytest.mark.parametrize("breakout", breakouts(), ids=lambda b: b.name)
def test_breakout_scores_only_its_honest_work(graded_breakouts, breakout):
    results = graded_breakouts["results"][breakout.name]
    full = sum(test["max_score"] for test in results["tests"])
    expected = full if breakout.honest else 0
    assert results["score"] == expected, (breakout.description,
                                          failing_checks(results) or results["score"])


@CONFINED
def test_no_breakout_changes_the_checkout_or_site_packages(graded_breakouts):
    before, after = graded_breakouts["before"], graded_breakouts["after"]
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    assert changed == []
    assert graded_breakouts["planted"] == []


@CONFINED
def test_after_the_breakouts_the_reference_gets_full_marks_and_the_stub_zero(graded_breakouts):
    again = graded_breakouts["again"]
    assert again["reference"]["score"] == sum(t["max_score"] for t in again["reference"]["tests"])
    assert again["exercises"]["score"] == 0


@CONFINED
def test_no_detached_process_outlives_the_grader(graded_breakouts):
    assert graded_breakouts["daemons"] == []
    assert graded_breakouts["reports"] == graded_breakouts["results"]


@CONFINED
def test_feedback_shows_neither_the_reference_nor_the_suite(graded_breakouts):
    feedback = "\n".join(failing_checks(graded_breakouts["results"]["prints_reference"]).values())
    stub = set((ROOT / "exercises" / "mcc.py").read_text().splitlines())
    secret = [line for name in ("solutions/mcc.py", "tests/test_mcc.py")
              for line in (ROOT / name).read_text().splitlines()
              if len(line.strip()) > 20 and line not in stub]
    assert not [line for line in secret if line in feedback]
    assert "Permission denied" in feedback


@CONFINED
def test_no_secret_of_the_graders_environment_reaches_a_submission(graded_breakouts):
    feedback = "\n".join(failing_checks(graded_breakouts["results"]["prints_environment"])
                         .values())
    assert "PATH" in feedback and SECRET not in feedback


@CONFINED
def test_forged_output_is_marked_and_stripped(graded_breakouts):
    results = graded_breakouts["results"]["forges_output"]
    text = json.dumps(results, ensure_ascii=False)
    assert "\x1b" not in text and "\u202e" not in text
    feedback = "\n".join(failing_checks(results).values())
    assert "| total              20/20" in feedback
    assert not [line for line in feedback.splitlines() if line.startswith("total")]


def test_printable_strips_escape_sequences_and_control_characters():
    assert printable("a\x1b[2Jb\x1b]0;title\x07c\rd\x00e\u202ef\tg\nh") == "abcdef\tg\nh"


def test_a_directory_at_the_report_path_is_a_clear_error(tmp_path):
    (tmp_path / "results.json").mkdir()
    process = run_grader("grade", "--exercise", "mcc", "--json",
                         str(tmp_path / "results.json"))
    assert process.returncode == 2
    assert "cannot write the report" in process.stderr and "Traceback" not in process.stderr


@CONFINED
def test_results_say_how_workers_were_confined(graded_breakouts):
    results = graded_breakouts["results"]["writes_checkout"]
    assert results["extra_data"]["environment"]["confinement"] == asdict(AVAILABLE)
