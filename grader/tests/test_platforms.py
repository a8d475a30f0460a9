"""The platforms a course grades on: Gradescope's autograder and GitHub Classroom (the
release's runners and the instructor's workflow that grades the class)."""

from __future__ import annotations

import base64
import csv
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML

from grader import ROOT
from grader.course import class_report, gradescope
from grader.exercises import declared_points, exercise_files, exercise_names
from grader.judging import reports
from grader.judging.results import ExerciseStatus
from grader.tests.grading import checks, graded, run_grader
from grader.tests.test_class_grading import expected_total, module

SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())


def test_gradescope_autograder_grades_a_submission(tmp_path):
    """An autograder for an assignment of one exercise (the whole course's is the same
    release with every exercise, which test_student_release grades)."""
    zip_path = tmp_path / "autograder.zip"
    built = run_grader("gradescope", "--exercise", "mcc", "--out", str(zip_path))
    assert built.returncode == 0, built.stdout + built.stderr
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        assert {"setup.sh", "run_autograder", "requirements.txt", "release.json"} <= set(names)
        assert not any(n.startswith("solutions/") for n in names)
        per_exercise = {n for n in names for e in exercise_names() if n in exercise_files(e)}
        assert per_exercise == {"exercises/mcc.py", "tests/probes/mcc.py", "tests/test_mcc.py"}
        assert json.loads(z.read("release.json"))["exercises"] == ["mcc"]
        # Gradescope installs what grades here, every transitive dependency pinned.
        lock = z.read("requirements.lock").decode().splitlines()
        assert f"scipy=={importlib.metadata.version('scipy')}" in lock
        assert f"torch=={importlib.metadata.version('torch').split('+')[0]}+cpu" in lock
        root = tmp_path / "autograder"
        z.extractall(root / "source")
        mode = z.getinfo("run_autograder").external_attr >> 16
        assert mode & 0o111, "run_autograder must be executable"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    for name in ("reference", "sign_flipped"):
        submission = root / "submission"
        shutil.rmtree(submission, ignore_errors=True)
        (submission / "hw").mkdir(parents=True)
        (submission / "hw" / "mcc.py").write_text(module(name))
        process = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                                 capture_output=True, text=True, timeout=600)
        assert process.returncode == 0, process.stdout + process.stderr
        rendered = json.loads((root / "results" / "results.json").read_text())
        jsonschema.validate(rendered, SCHEMA)
        results = reports.load(root / "results" / "results.json")  # the document it carries
        assert f"{rendered['score']:g}" == f"{results.score:g}" == expected_total(name), name
        assert results.environment["release"]["recordings"]


def test_a_gradescope_submission_without_a_module_is_zero_and_missing_in_the_report(tmp_path):
    """Nothing graded, yet a results document (every exercise not submitted) in Gradescope's
    report: an export of the class lists the student as missing, not as unreadable."""
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("my answers are in my head")
    rendered = gradescope.run_submission(tmp_path)
    jsonschema.validate(rendered, SCHEMA)
    assert rendered["score"] == 0 and rendered["output"].startswith("No exercise module")
    result = reports.load(tmp_path / "results" / "results.json")
    assert {e.status for e in result.exercises} == {ExerciseStatus.NOT_SUBMITTED}
    (tmp_path / "export" / "ann").mkdir(parents=True)
    shutil.copy(tmp_path / "results" / "results.json", tmp_path / "export" / "ann")
    assert class_report.read_class(tmp_path / "export") == ([], ["ann"])


def test_classroom_runners_carry_each_exercises_points(tmp_path):
    results = graded("mcc")["sign_flipped"]
    path = tmp_path / "results.json"
    reports.save(results, path)
    process = run_grader("classroom", str(path))
    assert process.returncode == 0, process.stderr
    name, encoded = process.stdout.strip().split("=", 1)
    runner = json.loads(base64.b64decode(encoded))
    assert name == "mcc" and runner["max_score"] == declared_points("mcc")
    assert runner["status"] == "fail"
    assert sum(t["score"] for t in runner["tests"]) == results.score < declared_points("mcc")
    assert len(runner["tests"]) == len(checks(results))
    assert any("sign is flipped" in t["message"] for t in runner["tests"])
    path.write_text(json.dumps({"tests": [], "score": 0}))  # another autograder's report
    refused = run_grader("classroom", str(path))
    assert refused.returncode == 2 and "without a results document" in refused.stderr


CLASSROOM_WORKFLOW = ROOT / "release" / "instructor" / "grade-class.yml"


def test_the_instructor_workflow_and_the_gradescope_setup_pass_their_linters():
    """GitHub's workflow schema (check-jsonschema's copy: nothing downloaded) and bash's
    parser; the Gradescope image gets the Python this suite runs on."""
    checked = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"),
                              "--builtin-schema", "vendor.github-workflows",
                              str(CLASSROOM_WORKFLOW)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    setup = ROOT / "release" / "gradescope" / "setup.sh"
    parsed = subprocess.run(["bash", "-n", str(setup)], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert f"{version} -m venv" in setup.read_text()
    assert "--no-deps" in setup.read_text() and "requirements.lock" in setup.read_text()


def fetch_step(work: Path, token: str, deadline: str) -> subprocess.CompletedProcess:
    """The workflow's fetch step, run in `work` with GitHub replaced by the folder
    `work/github` (git's insteadOf) and the assignment `org/hw3`."""
    steps = YAML(typ="safe").load(CLASSROOM_WORKFLOW.read_text())["jobs"]["grade"]["steps"]
    script = next(step["run"] for step in steps if step.get("name", "").startswith("Fetch"))
    if not (work / ".venv").exists():
        (work / ".venv").symlink_to(ROOT / ".venv")
    # A good token reaches the folder; a bad one a folder that is not there.
    env = {**os.environ, "TOKEN": token, "ASSIGNMENT": "org/hw3", "ROSTER": "roster.csv",
           "DEADLINE": deadline, "PYTHONPATH": str(ROOT), "GIT_CONFIG_COUNT": "2",
           "GIT_CONFIG_KEY_0": f"url.{work / 'github'}/.insteadOf",
           "GIT_CONFIG_VALUE_0": "https://x-access-token:good@github.com/",
           "GIT_CONFIG_KEY_1": f"url.{work / 'nowhere'}/.insteadOf",
           "GIT_CONFIG_VALUE_1": "https://x-access-token:bad@github.com/"}
    return subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_instructor_workflow_grades_the_last_commit_before_the_deadline(tmp_path):
    """The roster's id column is found by its header; each repository is checked out at its
    last commit before the deadline, and the commit recorded; a clone that fails for
    another reason than a missing repository (a bad token) fails the run."""
    (tmp_path / "roster.csv").write_text("name,id,email\nAda,ada,ada@uni.edu\n")
    repository = tmp_path / "github" / "org" / "hw3-ada"
    repository.mkdir(parents=True)
    git = ["git", "-C", str(repository), "-c", "user.name=Ada", "-c", "user.email=a@uni.edu"]
    subprocess.run([*git[:3], "init", "--quiet"], check=True)
    for text, date in (("before", "2027-03-01T12:00:00Z"), ("after", "2027-03-02T12:00:00Z")):
        (repository / "mcc.py").write_text(text)
        subprocess.run([*git, "add", "mcc.py"], check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", text], check=True,
                       env={**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    fetched = fetch_step(tmp_path, "good", "2027-03-01T23:59:00Z")
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert (tmp_path / "submissions" / "ada" / "mcc.py").read_text() == "before"
    first = subprocess.run([*git[:3], "rev-list", "--max-parents=0", "HEAD"], text=True,
                           capture_output=True, check=True).stdout.strip()
    (row,) = csv.DictReader(io.StringIO((tmp_path / "build/class/commits.csv").read_text()))
    assert (row["id"], row["commit"]) == ("ada", first)
    shutil.rmtree(tmp_path / "submissions")
    refused = fetch_step(tmp_path, "bad", "")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "::error::cannot clone the repository of ada" in refused.stdout
