"""In-class checkoffs: the student's checkoff and receipt, and the instructor's verify.

Two students check off mcc through the CLI, as in class: ada with the reference (PASSED),
bob with the stub (NOT YET). Then ada changes her file, and the instructor verifies a set
of receipts: the genuine two, and copies made the ways a receipt can go wrong. Three
gradings in all (two checkoffs, one verify session of two distinct files).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader import ROOT
from grader.course.checkoff import screen, verify
from grader.course.checkoff.receipt import PIN_VARIABLE, SignOff, sign
from grader.exercises import declared_points
from grader.judging.grading import UsageError
from grader.judging.results import ExerciseResult
from grader.tests.grading import run_grader

pytestmark = pytest.mark.xdist_group("checkoff")

PIN = "lab3-pin-7391"
NOW = datetime.now(UTC)


def git(repo: Path, *args: str, email: str) -> str:
    return subprocess.run(["git", "-c", f"user.email={email}", "-c", "user.name=Student", *args],
                          cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def student_repository(folder: Path, email: str, module: Path) -> Path:
    """A student's clone of the release: exercises/mcc.py committed by them."""
    (folder / "exercises").mkdir(parents=True)
    shutil.copy2(module, folder / "exercises" / "mcc.py")
    git(folder, "init", "-q", email=email)
    git(folder, "add", ".", email=email)
    git(folder, "commit", "-qm", "my work", email=email)
    return folder


def check_off(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    process = run_grader("checkoff", "--exercise", "mcc", "--target", str(repo / "exercises"),
                         "--out", str(repo / "checkoffs"), "--ta", "tom", "--session", "lab3",
                         *args, env={PIN_VARIABLE: PIN})
    assert process.returncode == 0, process.stdout + process.stderr
    return process, json.loads((repo / "checkoffs" / "mcc.json").read_text())


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("classroom")
    ada = student_repository(root / "ada", "ada@uni.edu", ROOT / "solutions" / "mcc.py")
    git(ada, "config", "user.email", "ada@uni.edu", email="ada@uni.edu")  # her own setting
    bob = student_repository(root / "bob", "bob@uni.edu", ROOT / "exercises" / "mcc.py")
    ada_run, ada_receipt = check_off(ada)
    bob_run, bob_receipt = check_off(bob, "--student", "bob@uni.edu")
    committed_at_checkoff = git(ada, "rev-parse", "HEAD", email="ada@uni.edu")
    # After the checkoff ada starts over: the checked-off version lives on in her history.
    shutil.copy2(ROOT / "exercises" / "mcc.py", ada / "exercises" / "mcc.py")
    git(ada, "commit", "-qam", "start again", email="ada@uni.edu")
    return {"root": root, "ada": ada, "bob": bob, "ada_run": ada_run, "bob_run": bob_run,
            "ada_receipt": ada_receipt, "bob_receipt": bob_receipt,
            "committed_at_checkoff": committed_at_checkoff}


def test_checkoff_of_the_reference_says_passed(classroom):
    out = classroom["ada_run"].stdout
    assert "PASSED:" in out and "NOT YET" not in out and "failing checks" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_checkoff_of_a_stub_says_not_yet_and_lists_the_checks(classroom):
    out = classroom["bob_run"].stdout
    assert "NOT YET: 0/" in out and "PASSED" not in out
    listed = out.split("failing checks:")[1].split("what failed")[0].strip().splitlines()
    assert len(listed) > 3 and all(line.strip().startswith("TODO ") for line in listed)
    assert max(len(line) for line in out.splitlines()) <= 80


def test_checkoff_leaves_the_slow_checks_out_and_says_so(classroom):
    receipt = classroom["ada_receipt"]
    assert receipt["score"] == receipt["max_score"] < declared_points("mcc")
    assert "make grade EX=mcc runs them" in classroom["ada_run"].stdout


def test_receipt_binds_the_graded_file_and_holds_no_pin(classroom):
    receipt = classroom["ada_receipt"]
    module = ROOT / "solutions" / "mcc.py"
    assert receipt["sha256"] == hashlib.sha256(module.read_bytes()).hexdigest()
    assert receipt["student"] == "ada@uni.edu"  # from her git config
    assert receipt["commit"] == classroom["committed_at_checkoff"]
    assert (receipt["file"], receipt["ta"], receipt["session"]) == ("exercises/mcc.py", "tom",
                                                                    "lab3")
    assert PIN not in (classroom["ada"] / "checkoffs" / "mcc.json").read_text()
    assert PIN not in classroom["ada_run"].stdout


def resigned(receipt: dict, pin: str = PIN, **changes) -> dict:
    """The receipt with fields changed and signed again, as a TA typing `pin` would."""
    fields = {**receipt, **changes}
    sign_off = SignOff(fields.pop("ta"), fields.pop("session"), pin)
    return sign({k: v for k, v in fields.items()
                          if k not in ("pin_check", "signature")}, sign_off)


@pytest.fixture(scope="module")
def verified(classroom) -> dict[tuple[str, str], dict]:
    """Verify the genuine receipts and the faulty ones; {(submission, receipt): CSV row}."""
    root, ada, bob = classroom["root"], classroom["ada_receipt"], classroom["bob_receipt"]
    # carol copied ada's file and her receipt, and committed them as her own.
    student_repository(root / "carol", "carol@uni.edu", ROOT / "solutions" / "mcc.py")
    receipts = {
        ("ada", "genuine.json"): ada,
        ("ada", "edited-score.json"): {**ada, "score": ada["score"] - 2},
        ("ada", "edited-hash.json"): {**ada, "sha256": bob["sha256"]},
        ("ada", "wrong-pin.json"): resigned(ada, pin="lab3-pin-7392"),
        ("ada", "unknown-session.json"): resigned(ada, session="lab9"),
        ("ada", "after-the-session.json"): resigned(
            ada, time=(NOW + timedelta(hours=5)).isoformat(timespec="seconds")),
        ("ada", "ta-is-the-student.json"): resigned(ada, ta="ada"),
        ("ada", "never-committed.json"): resigned(ada, sha256=hashlib.sha256(b"x").hexdigest()),
        ("bob", "genuine.json"): bob,
        # A modified grader on bob's laptop, the TA beside him: the regrade tells.
        ("bob", "inflated.json"): resigned(bob, score=bob["max_score"]),
        # Same file, same signature: only whose receipt it is gives it away.
        ("carol", "copied-from-ada.json"): ada,
    }
    for (submission, name), signed in receipts.items():
        path = root / "receipts" / submission / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(signed))
    pins = root / "pins.toml"
    pins.write_text(f'[lab3]\npin = "{PIN}"\nstart = {(NOW - timedelta(hours=1)).isoformat()}\n'
                    f'end = {(NOW + timedelta(hours=2)).isoformat()}\n')
    table = root / "checkoffs.csv"
    process = run_grader("checkoff", "verify", "--receipts", str(root / "receipts"), "--pins",
                         str(pins), "--submissions", str(root), "--csv", str(table))
    assert process.returncode == 0, process.stdout + process.stderr
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert len(rows) == len(receipts)
    return {(row["submission"], row["receipt"]): row for row in rows}


@pytest.mark.parametrize(("submission", "receipt", "status"), [
    ("ada", "genuine.json", verify.VERIFIED),
    ("bob", "genuine.json", verify.VERIFIED),
    ("ada", "edited-score.json", verify.EDITED),
    ("ada", "edited-hash.json", verify.EDITED),
    ("ada", "wrong-pin.json", verify.WRONG_PIN),
    ("ada", "unknown-session.json", verify.WRONG_SESSION),
    ("ada", "after-the-session.json", verify.WRONG_SESSION),
    ("ada", "ta-is-the-student.json", verify.SELF_CHECKOFF),
    ("ada", "never-committed.json", verify.FILE_NOT_FOUND),
    ("bob", "inflated.json", verify.SCORE_DIFFERS),
    ("carol", "copied-from-ada.json", verify.NOT_THEIRS),
])
def test_verify_gives_each_receipt_its_status(verified, submission, receipt, status):
    row = verified[(submission, receipt)]
    assert row["status"] == status, row


def test_a_file_changed_after_the_checkoff_is_verified_from_the_committed_version(
        verified, classroom):
    row = verified[("ada", "genuine.json")]
    assert row["detail"].startswith(f"from commit {classroom['committed_at_checkoff'][:12]}")
    assert row["regraded_score"] == row["receipt_score"] == row["max_score"]


def test_a_not_yet_checkoff_verifies_with_its_score(verified):
    row = verified[("bob", "genuine.json")]
    assert (row["detail"], row["regraded_score"]) == ("the current file", "0")
    inflated = verified[("bob", "inflated.json")]
    assert "regraded 0/" in inflated["detail"]


def test_the_pin_is_typed_at_a_hidden_prompt(monkeypatch):
    monkeypatch.delenv(PIN_VARIABLE, raising=False)
    shown, hidden = iter(["tom", "lab3"]), iter([PIN])
    sign_off = screen.ask_sign_off(read=lambda prompt: next(shown),
                                     read_secret=lambda prompt: next(hidden))
    assert sign_off == SignOff("tom", "lab3", PIN)
    assert screen.ask_sign_off(read=lambda prompt: "", read_secret=lambda prompt: PIN) is None


@pytest.mark.parametrize(("session", "message"), [
    ('pin = "1234"\nstart = 2027-02-09T14:00:00+01:00\nend = 2027-02-09T17:00:00+01:00',
     "8 or more characters"),
    (f'pin = "{PIN}"\nstart = 2027-02-09T14:00:00\nend = 2027-02-09T17:00:00',
     "with its UTC offset"),
    (f'pin = "{PIN}"\nstart = 2027-02-09T17:00:00+01:00\nend = 2027-02-09T14:00:00+01:00',
     "end comes before start"),
])
def test_a_faulty_pin_file_is_refused_with_the_reason(tmp_path, session, message):
    pins = tmp_path / "pins.toml"
    pins.write_text(f"[lab3]\n{session}\n")
    with pytest.raises(UsageError, match=message):
        verify.read_pins(pins)


def test_receipts_are_read_from_a_repository_s_checkoffs_folder_or_a_plain_folder(tmp_path):
    repository, loose, not_checked_off = tmp_path / "ada", tmp_path / "bob", tmp_path / "carol"
    (repository / "checkoffs").mkdir(parents=True)
    (not_checked_off / "exercises").mkdir(parents=True)
    for folder in (repository, not_checked_off):
        (folder / "release.json").write_text("{}")  # the release's own, not a receipt
    loose.mkdir()
    for path in (repository / "checkoffs" / "mcc.json", loose / "mcc.json"):
        path.write_text("{}")
    pins = tmp_path / "pins.toml"
    pins.write_text(f'[lab3]\npin = "{PIN}"\nstart = 2027-02-09T14:00:00+01:00\n'
                    'end = 2027-02-09T17:00:00+01:00\n')
    verdicts = verify.verify(receipts=tmp_path, pins=pins, submissions=tmp_path)
    assert [(v.submission, v.receipt, v.status) for v in verdicts] == [
        ("ada", "mcc.json", verify.UNREADABLE), ("bob", "mcc.json", verify.UNREADABLE)]


def test_the_banner_shows_a_long_student_id_whole():
    student = "maximiliane.von-habsburg-lothringen@students.uni-heidelberg.example.edu"
    result = ExerciseResult("variant_classifier", 5, [])
    assert f"  student: {student}" in screen.verdict_text(result, student).splitlines()
