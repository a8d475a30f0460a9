"""The student's checkoff: the exercise graded on its checkoff checks, the verdict in large
letters for the TA, the TA's sign-off at a hidden prompt, and the receipt written."""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import grader
from grader.course.checkoff.receipt import (
    CHECKOFF,
    DEFAULT_RECEIPTS,
    FORMAT,
    PIN_VARIABLE,
    SignOff,
    fingerprint,
    sha256,
    sign,
    student_id,
    where_committed,
)
from grader.exercises import declared_points, exercise_names
from grader.git import git_or_none
from grader.judging.grading import GraderError, UsageError, grade
from grader.judging.results import ExerciseResult, ExerciseStatus, RunOutcome

WIDTH = 80


def check_off(*, exercise: str, target: Path, out: Path | None = None,
              student: str | None = None, ta: str | None = None,
              session: str | None = None) -> Path | None:
    """Grade `target/<exercise>.py` for a checkoff, print the verdict, ask the TA to sign,
    and write the receipt; return its path, or None when the TA did not sign."""
    module = target / f"{exercise}.py"
    if exercise not in exercise_names():
        raise UsageError(f"unknown exercise {exercise}; the exercises are: "
                         f"{', '.join(exercise_names())}")
    if not module.is_file():
        raise UsageError(f"{module} does not exist: a checkoff grades your exercise module")
    student = student or student_id(target)
    if not student:
        raise UsageError("who are you? Set your id once with `git config --global user.email "
                         "you@example.edu`, or pass --student ID")
    content = module.read_bytes()  # graded and hashed once: the receipt names what was graded
    print(f"grading {exercise} for a checkoff (on the CPU; a few seconds)...", flush=True)
    result, receipt = grade_checkoff(exercise=exercise, content=content, student=student)
    receipt["file"], receipt["commit"] = where_committed(module, content)
    print(verdict_text(result, student))
    print("\nTA sign-off: the TA types their id, the session and its PIN (hidden).")
    sign_off = ask_sign_off(ta=ta, session=session)
    if sign_off is None:
        print("no TA id: no receipt written")
        return None
    receipt = sign(receipt, sign_off)
    path = (out or DEFAULT_RECEIPTS) / f"{exercise}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(receipt, indent=2, sort_keys=True) + "\n")
    print(receipt_text(receipt, path))
    return path


def grade_checkoff(*, exercise: str, content: bytes,
                   student: str) -> tuple[ExerciseResult, dict]:
    """Grade a module's content on the checkoff checks; the result and the receipt's fields
    known so far (no file location, no signature)."""
    with tempfile.TemporaryDirectory(prefix="checkoff-") as tmp:
        (Path(tmp) / f"{exercise}.py").write_bytes(content)
        [graded] = grade(targets=[Path(tmp)], exercises=[exercise], options=CHECKOFF)
    if graded.internal_errors:
        raise GraderError(f"the grader itself failed on a check (internal error): no "
                          f"checkoff now; run `make grade EX={exercise}` and report it")
    [result] = graded.exercises
    env = graded.environment
    return result, {
        "format": FORMAT,
        "student": student,
        "exercise": exercise,
        "score": result.score,
        "max_score": result.max_score,
        "sha256": sha256(content),
        "grader": grader.__version__,
        "release": (env["release"] or {}).get("version"),
        "grader_commit": env["commit"],
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": fingerprint(env),
    }


def ask_sign_off(*, ta: str | None = None, session: str | None = None,
                 read: Callable[[str], str] = input,
                 read_secret: Callable[[str], str] = getpass.getpass) -> SignOff | None:
    """The TA's id, the session and its PIN; None when the TA leaves the id empty.

    The PIN is typed at a hidden prompt, or read from GRADER_CHECKOFF_PIN (automation only).
    """
    try:
        ta = ta or read("  TA id (empty: no receipt): ").strip()
        if not ta:
            return None
        session = session or read("  session: ").strip()
        pin = os.environ.get(PIN_VARIABLE) or read_secret("  session PIN (not shown): ")
    except EOFError as exc:
        raise UsageError(f"no TA at the keyboard: the TA types their id, the session and its "
                         f"PIN (automation: --ta, --session and {PIN_VARIABLE})") from exc
    if not session or not pin:
        raise UsageError("a receipt needs the session and its PIN: no receipt written")
    return SignOff(ta, session, pin)


def verdict_text(result: ExerciseResult, student: str) -> str:
    """PASSED or NOT YET with the score in large letters, then the failing checks."""
    passed = result.status == ExerciseStatus.PASSED
    word = "PASSED" if passed else "NOT YET"
    score = f"{result.score:g}/{result.max_score:g}"
    big = big_letters(f"{word} {score}")
    if max(map(len, big)) > WIDTH:
        big = [*big_letters(word), "", f"  score {score}"]
    rule = "=" * WIDTH
    # The student id on a line of its own, never cut: the TA checks it is the person present.
    lines = [rule, f"  CHECKOFF  {result.name}", f"  student: {student}", rule, "", *big, ""]
    lines.append(_fit(f"  {word}: {score} points on the checkoff checks of {result.name}"))
    skipped = declared_points(result.name) - result.hidden_points - result.max_score
    if skipped:
        lines.append(_fit(f"  ({skipped:g} points of slower checks are left out: "
                          f"make grade EX={result.name} runs them)"))
    failing = [check for check in result.checks if not check.passed]
    if failing:
        lines += ["", "  failing checks:"]
        for check in failing:
            mark = "TODO" if check.status == RunOutcome.NOT_IMPLEMENTED else "FAIL"
            lines.append(_fit(f"    {mark} {check.title}", f" [0/{check.max_score:g}]"))
        lines.append(_fit(f"  what failed and hints: make grade EX={result.name}"))
    return "\n".join(lines)


def receipt_text(receipt: dict, path: Path) -> str:
    """The receipt as the TA and the student read it, and what the student does next."""
    committed = (f"committed in {receipt['commit'][:12]}" if receipt["commit"]
                 else "NOT committed: commit it, or this version cannot be verified")
    rows = [
        ("student", receipt["student"]),
        ("exercise", f"{receipt['exercise']}: {receipt['score']:g}/{receipt['max_score']:g}"),
        ("file", f"{receipt['file']}, {committed}"),
        ("sha256", receipt["sha256"]),
        ("grader", receipt["grader"] + (f", release {receipt['release']}"
                                         if receipt["release"] else "")),
        ("time", receipt["time"]),
        ("environment", receipt["environment"]),
        ("TA", f"{receipt['ta']}, session {receipt['session']}"),
        ("signature", receipt["signature"][:32] + "..."),
    ]
    shown = _shown(path)
    return "\n".join([
        "", _fit(f"  receipt written to {shown}:"),
        *(_fit(f"    {label:<11} {value}") for label, value in rows), "",
        "  in your repository, commit it with your exercise file (the staff regrade it):",
        f"    git add {shown} {receipt['file']} && git commit -m 'checkoff {receipt['exercise']}'",
    ])


def _shown(path: Path) -> str:
    """The path as the student types it in their repository: relative to its top."""
    top = git_or_none(path.parent, "rev-parse", "--show-toplevel")
    try:
        return path.resolve().relative_to(Path(top.decode().strip()).resolve()).as_posix()
    except (AttributeError, ValueError):  # not in a git repository
        return str(path)


def _fit(text: str, end: str = "") -> str:
    """`text` + `end` in WIDTH columns: `text` is cut short when it must be."""
    room = WIDTH - len(end)
    return (text if len(text) <= room else text[:room - 3] + "...") + end


# Five rows per character, one column of space between characters.
GLYPHS = {
    "P": ("####", "#  #", "####", "#   ", "#   "),
    "A": (" ## ", "#  #", "####", "#  #", "#  #"),
    "S": (" ###", "#   ", " ## ", "   #", "### "),
    "E": ("####", "#   ", "### ", "#   ", "####"),
    "D": ("### ", "#  #", "#  #", "#  #", "### "),
    "N": ("#   #", "##  #", "# # #", "#  ##", "#   #"),
    "O": (" ## ", "#  #", "#  #", "#  #", " ## "),
    "T": ("#####", "  #  ", "  #  ", "  #  ", "  #  "),
    "Y": ("#   #", " # # ", "  #  ", "  #  ", "  #  "),
    "0": (" ## ", "#  #", "#  #", "#  #", " ## "),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("### ", "   #", " ## ", "#   ", "####"),
    "3": ("### ", "   #", " ## ", "   #", "### "),
    "4": ("#  #", "#  #", "####", "   #", "   #"),
    "5": ("####", "#   ", "### ", "   #", "### "),
    "6": (" ## ", "#   ", "### ", "#  #", " ## "),
    "7": ("####", "   #", "  # ", " #  ", " #  "),
    "8": (" ## ", "#  #", " ## ", "#  #", " ## "),
    "9": (" ## ", "#  #", " ###", "   #", " ## "),
    "/": ("   #", "  # ", " #  ", " #  ", "#   "),
    ".": (" ", " ", " ", " ", "#"),
    " ": ("  ", "  ", "  ", "  ", "  "),
}


def big_letters(text: str) -> list[str]:
    """`text` in letters five rows high, indented by two columns."""
    rows = ["  "] * 5
    for char in text:
        rows = [row + part + " " for row, part in zip(rows, GLYPHS[char], strict=True)]
    return [row.rstrip() for row in rows]
