"""The student release: no solutions in it, and the same grades as grading here.

One release is built per test run (`grading.student_release`) and every known
submission is graded in it as well as here; the grades must agree check by check.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader import ROOT
from grader.course import release
from grader.course.checkoff import receipt, screen
from grader.course.stubs import BEGIN, END, expected_stubs
from grader.exercises import compares_with_reference
from grader.judging import environment
from grader.judging.reference import DeviceNotRecorded, RecordedReference, ReferenceUnavailable
from grader.judging.reports import gradescope, table
from grader.judging.results import CheckResult, DeviceRun, ExerciseResult, SubmissionResult
from grader.tests.grading import (
    asked_of_reference,
    graded,
    per_exercise,
    run_grader,
    same_plain,
    student_release,
)
from tests.probes import mcc as mcc_probes

RELEASE = pytest.mark.xdist_group("release")

# Lines that a solution region shares with a grading suite or a probe by coincidence:
# idioms any training loop or oracle has. Anything longer is a leak.
COMMON_LINES = {
    "loss.backward()", "optimizer.step()", "optimizer.zero_grad()", "model.train()",
    "return loss", "return targets", "return x, mask", "if unknown:", "break", "continue",
    "else:",
    "correct, scored = 0, 0", "return len(self.sequences)",
    "self.dropout = nn.Dropout(dropout)", "self.fc1 = nn.Linear(in_features, hidden_dim)",
    "for b, sequence in enumerate(sequences):", "for i, letter in enumerate(sequence):",
    "for name, history in histories.items():",
    'for epoch, loss in enumerate(history["train_loss"]):',
    "return figure", "losses.append(loss.item())",
}


def solution_lines() -> set[str]:
    """Lines (stripped) inside solution regions that a student does not see: in no stub and
    in no program (`programs/`, shipped, which calls the exercise's functions)."""
    stubs = expected_stubs()
    programs = [path.read_text() for path in (ROOT / "programs").glob("*.py")]
    shown = {line.strip() for text in [*stubs.values(), *programs] for line in text.splitlines()}
    secret = set()
    for name in stubs:
        inside = False
        for line in (ROOT / "solutions" / name).read_text().splitlines():
            if BEGIN.match(line) or END.match(line):
                inside = bool(BEGIN.match(line))
            elif inside and line.strip() and line.strip() not in shown:
                secret.add(line.strip())
    return secret - COMMON_LINES


def per_check(result: SubmissionResult) -> dict:
    """What a grade is made of: each exercise's status, each check's score per device."""
    return {
        "exercises": {e.name: (e.score, e.max_score, e.status, e.by_hand_violations,
                               e.tampering) for e in result.exercises},
        "checks": {check.name: (check.score, {run.device: run.outcome for run in check.runs})
                   for exercise in result.exercises for check in exercise.checks},
    }


@RELEASE
def test_release_holds_no_solution():
    dest = student_release()
    # .git holds what is committed: these same files (see the next test).
    files = [p for p in dest.rglob("*") if p.is_file() and ".git" not in p.relative_to(dest).parts]
    names = {str(p.relative_to(dest)) for p in files}
    assert not any(n.startswith("solutions/") for n in names)
    assert not any(n.endswith(".pyc") or n.startswith(".hypothesis") for n in names)
    secret = solution_lines()
    leaks = [f"{p.relative_to(dest)}: {line.strip()}" for p in files if p.suffix != ".pt"
             for line in p.read_text().splitlines() if line.strip() in secret]
    assert leaks == []


@RELEASE
def test_release_states_its_version():
    dest = student_release()
    manifest = json.loads((dest / "release.json").read_text())
    recordings = json.loads((dest / "tests" / "recordings" / "manifest.json").read_text())
    assert manifest["recordings"] == recordings["sha256"]
    assert manifest["commit"].startswith(environment.source_commit().removesuffix("-dirty"))
    readme = (dest / "README.md").read_text()
    assert environment.release_version(manifest) in readme
    assert "solutions" not in readme and "mutant" not in readme.lower()
    assert "make grade" in readme and "| exercise |" in readme


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                          check=True).stdout


@RELEASE
def test_release_is_a_repository_with_the_course_commit_and_no_authoring_words():
    """Ready to push as a template: one commit, by the course, holding every file; and no
    file a student reads (the grader's own code aside) speaks of solutions or `make stubs`."""
    dest = student_release()
    assert git(dest, "log", "--format=%an <%ae>").splitlines() == [
        f"{release.COURSE_AUTHOR['GIT_AUTHOR_NAME']} <{release.COURSE_AUTHOR['GIT_AUTHOR_EMAIL']}>"]
    assert git(dest, "status", "--porcelain") == ""
    committed = set(git(dest, "ls-files").splitlines())
    assert committed == {str(p.relative_to(dest)) for p in dest.rglob("*")
                         if p.is_file() and ".git" not in p.relative_to(dest).parts}
    authoring = re.compile(r"solutions/|make stubs")
    mentions = [name for name in sorted(committed) if not name.startswith("grader/")
                and not name.endswith(".pt") and authoring.search((dest / name).read_text())]
    assert mentions == []
    assert all(text.startswith(f"# Exercise {Path(name).stem}: ")
               for name, text in expected_stubs(for_release=True).items())
    # A checkoff receipt in a clone records the commit and the path in the repository.
    stub = dest / "exercises" / "mcc.py"
    assert receipt.where_committed(stub, stub.read_bytes()) == (
        "exercises/mcc.py", git(dest, "rev-parse", "HEAD").strip())
    assert screen._shown(stub) == "exercises/mcc.py"


def make_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`make ARGS` in a release, with this interpreter's environment (no set-up)."""
    return subprocess.run(["make", "--no-print-directory", *args, f"PY={sys.executable}",
                           f"STAMP={sys.executable}"], cwd=folder, capture_output=True,
                          text=True, timeout=600)


@RELEASE
def test_release_passes_its_own_make_test_and_make_grade(tmp_path):
    """The README's two commands work in the release as shipped: `make test` passes (what
    `make release` runs before installing it), and `make grade` gives the reference full
    marks. On a copy: the tests' caches must not land in the shared release.
    About 10 s of CPU for make test and 4 for make grade."""
    copy = shutil.copytree(student_release(), tmp_path / "release")
    release.self_check(copy)
    reference = tmp_path / "reference"
    reference.mkdir()
    shutil.copy2(ROOT / "solutions" / "mcc.py", reference)
    # QUICK=1: the make plumbing is what is tested here; the release's full grades of every
    # exercise are compared with this repository's in test_release_grades_like_this_repository.
    graded_here = make_in(copy, "grade", "EX=mcc", "QUICK=1", f"TARGET={reference}",
                          "DEVICE=cpu")
    assert graded_here.returncode == 0, graded_here.stdout + graded_here.stderr
    assert re.search(r"^total\s+(\d+)/\1$", graded_here.stdout, re.MULTILINE), graded_here.stdout


def test_a_failing_release_is_not_installed(tmp_path):
    """`self_check` fails loudly, with the release's own test output."""
    (tmp_path / "Makefile").write_text("test:\n\t@echo recordings are missing; exit 1\n")
    with pytest.raises(release.ReleaseError, match="(?s)fails its own `make test`.*missing"):
        release.self_check(tmp_path)


@pytest.mark.parametrize("exercise", per_exercise())
def test_release_grades_like_this_repository(exercise):
    """The reference and the stub, graded in the release on every check: the same per-check
    grades as here. The other known submissions need not be graded there again: the release
    runs the same grading code, and the next test shows it holds every reference result
    their grading asks, bit for bit."""
    live, shipped = graded(exercise), graded(exercise, (), release=True)
    assert set(shipped) == {"reference", "stub"}
    for name in shipped:
        assert per_check(shipped[name]) == per_check(live[name]), name


@pytest.mark.parametrize(("exercise", "kinds", "timeout_scale"), [
    *(pytest.param(*param.values, ("MUTANTS", "ALTERNATIVES"), 1.0, marks=param.marks,
                   id=param.id) for param in per_exercise()),
    pytest.param("mcc", ("HOSTILE",), 0.25, marks=pytest.mark.xdist_group("mcc-hostile"),
                 id="mcc-hostile"),
])
def test_release_holds_every_reference_result_the_known_submissions_ask(exercise, kinds,
                                                                        timeout_scale):
    """Grading every known submission here (mutants, alternatives, hostile ones) asked the
    reference only what the release recorded, and the records are identical. The release
    runs the same grading code, so it grades those submissions as this repository does,
    without grading each of them a second time."""
    shipped = recorded_results(student_release() / "tests" / "recordings", exercise)
    asked = 0
    for session in asked_of_reference(exercise, kinds, timeout_scale):
        for device, by_key in recorded_results(session, exercise).items():
            held = shipped.get(device, {})
            missing = sorted(set(by_key) - set(held))
            assert missing == [], f"{session.name}: {len(missing)} results not in the release"
            differ = [key for key in by_key if not same_plain(by_key[key], held[key])]
            assert differ == [], f"{session.name}: {len(differ)} results differ on {device}"
            asked += len(by_key)
    if compares_with_reference(exercise):
        assert asked > 0, "nothing was asked of the reference: no evidence"
    else:  # an oracle-only suite: nothing asked, nothing shipped
        assert (asked, shipped) == (0, {})


def recorded_results(folder: Path, exercise: str) -> dict:
    """{device kind: {key: result}} that a recordings folder holds for one exercise."""
    recordings = RecordedReference(folder)
    return recordings.results(exercise) if exercise in recordings.manifest["exercises"] else {}


@RELEASE
def test_stale_recordings_are_a_grader_error_that_says_how_to_fix_it(tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(student_release(), copy)
    recordings = copy / "tests" / "recordings"
    manifest = json.loads((recordings / "manifest.json").read_text())
    torch.save({"cpu": {}}, recordings / "mcc.pt")  # a recording that answers nothing
    manifest["exercises"]["mcc"]["sha256"] = hashlib.sha256(
        (recordings / "mcc.pt").read_bytes()).hexdigest()
    (recordings / "manifest.json").write_text(json.dumps(manifest))
    submission = tmp_path / "sub"
    submission.mkdir()
    shutil.copy2(ROOT / "solutions" / "mcc.py", submission)
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--target",
                         str(submission), "--out", str(tmp_path / "out"), cwd=copy)
    assert process.returncode == 3, process.stdout + process.stderr
    assert "rebuild the release" in process.stdout
    assert "Traceback" not in process.stdout


@RELEASE
def test_edited_recordings_are_refused(tmp_path):
    copy = tmp_path / "recordings"
    shutil.copytree(student_release() / "tests" / "recordings", copy)
    with open(copy / "mcc.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ReferenceUnavailable, match="changed after the release was built"):
        RecordedReference(copy).run("mcc", mcc_probes.evaluate_classifier, {"seed": 3}, "cpu")


@RELEASE
def test_a_device_without_recordings_is_not_graded_against_them():
    reference = RecordedReference(student_release() / "tests" / "recordings")
    with pytest.raises(DeviceNotRecorded, match="not graded on cuda"):
        reference.run("mcc", mcc_probes.evaluate_classifier, {"seed": 3}, "cuda")


def test_a_nonempty_destination_is_refused_without_replace(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(release.ReleaseError, match="--replace"):
        release.build(tmp_path)
    with pytest.raises(release.ReleaseError, match="not a release"):
        release.build(tmp_path, replace=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_rebuild_keeps_the_stubs_a_student_edited(tmp_path):
    def tree(stub_text: str) -> Path:
        folder = tmp_path / f"tree-{len(list(tmp_path.iterdir()))}"
        (folder / "exercises").mkdir(parents=True)
        (folder / "exercises" / "mcc.py").write_text(stub_text)
        (folder / "exercises" / "optimizers.py").write_text(stub_text)
        (folder / "grader.py").write_text(stub_text)
        return folder

    dest = tmp_path / "dest"
    old = tree("old stub\n")
    release._install(old, dest, None)
    previous = {"stubs": {"mcc.py": release._file_hash(old / "exercises" / "mcc.py"),
                          "optimizers.py": release._file_hash(old / "exercises" / "mcc.py")},
                "files": ["exercises/mcc.py", "exercises/optimizers.py", "grader.py"]}
    (dest / "exercises" / "mcc.py").write_text("my work\n")
    kept = release._install(tree("new stub\n"), dest, previous)
    assert kept == ["exercises/mcc.py"]
    assert (dest / "exercises" / "mcc.py").read_text() == "my work\n"
    assert (dest / "exercises" / "optimizers.py").read_text() == "new stub\n"
    assert (dest / "grader.py").read_text() == "new stub\n"


def test_a_rebuild_is_committed_on_top_of_the_release_history(tmp_path):
    dest = tmp_path / "dest"
    for text in ("old stub\n", "new stub\n"):
        tree = tmp_path / text.split()[0]
        (tree / "exercises").mkdir(parents=True)
        (tree / "exercises" / "mcc.py").write_text(text)
        (tree / "exercises" / "optimizers.py").write_text(text)
        if text.startswith("old"):
            release._commit(dest, "first", release._install(tree, dest, None))
            (dest / "exercises" / "mcc.py").write_text("my work\n")
        else:
            previous = {"stubs": {name: release._file_hash(tmp_path / "old" / "exercises" / name)
                                  for name in ("mcc.py", "optimizers.py")},
                        "files": ["exercises/mcc.py", "exercises/optimizers.py"]}
            release._commit(dest, "update", release._install(tree, dest, previous))
    assert git(dest, "log", "--format=%s").split() == ["update", "first"]
    assert git(dest, "show", "HEAD:exercises/optimizers.py") == "new stub\n"
    # The edited stub is the student's: kept, and not committed as the course's.
    assert git(dest, "status", "--porcelain").split() == ["M", "exercises/mcc.py"]


HIDDEN_SUITE = '''
@pytest.mark.points(2)
def test_public(check):
    """public"""


@pytest.mark.hidden
@pytest.mark.points(3)
@given(case=strategies.binary_labels())
def test_secret(check, case):
    """secret"""


@pytest.mark.points(1)
def test_last(check):
    """last"""
'''


def test_hidden_checks_are_stripped_from_the_release_and_their_points_counted():
    text, points = release.strip_hidden(HIDDEN_SUITE)
    assert points == 3
    assert "secret" not in text and "hidden" not in text
    assert "def test_public" in text and "def test_last" in text


def test_hidden_checks_are_published_later_and_announced_to_students():
    check = CheckResult("mcc", "test_secret", "secret", 3, [DeviceRun("cpu", "passed")],
                        hidden=True)
    public = CheckResult("mcc", "test_public", "public", 2, [DeviceRun("cpu", "passed")])
    instructor = SubmissionResult("sub", [ExerciseResult("mcc", 5, [public, check])], {}, "", 0)
    visibility = {t["name"]: t["visibility"] for t in gradescope(instructor)["tests"]}
    assert visibility == {"mcc: public": "visible", "mcc: secret": "after_published"}
    student = SubmissionResult("sub", [ExerciseResult("mcc", 2, [public], hidden_points=3)],
                               {}, "", 0)
    assert "mcc: 3 more points are graded after you submit" in table(student)
