"""The instructor's `checkoff verify`: each receipt's signature, session window and identity
checked, and the file whose hash it names regraded."""

from __future__ import annotations

import csv
import hmac
import io
import tempfile
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from grader.course.checkoff.receipt import (
    CHECKOFF,
    DEFAULT_RECEIPTS,
    MIN_PIN_LENGTH,
    pin_check,
    read_receipt,
    session_key,
    sha256,
    signature,
    signed_at,
)
from grader.git import git_or_none
from grader.judging.grading import GraderError, UsageError, grade
from grader.judging.results import ExerciseResult

# What verify says of a receipt, in the order it is decided.
UNREADABLE = "unreadable receipt"


WRONG_SESSION = "wrong session"


WRONG_PIN = "bad signature: wrong PIN"


EDITED = "bad signature: edited after signing"


SELF_CHECKOFF = "TA checked off themselves"


NOT_THEIRS = "another student's receipt"


FILE_NOT_FOUND = "file not found"


SCORE_DIFFERS = "score differs"


VERIFIED = "verified"


@dataclass(frozen=True)
class Session:
    """A lab session: its PIN, and the window its receipts must be signed in."""

    name: str
    pin: str
    start: datetime
    end: datetime


@dataclass
class Verdict:
    """One receipt, verified: a row of checkoffs.csv."""

    submission: str
    receipt: str
    student: str = ""
    exercise: str = ""
    ta: str = ""
    session: str = ""
    time: str = ""
    status: str = ""
    receipt_score: str = ""
    regraded_score: str = ""
    max_score: str = ""
    detail: str = ""


def read_pins(path: Path) -> dict[str, Session]:
    """The sessions of the instructor's PIN file; a UsageError says what is wrong in it."""
    try:
        tables = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read the PIN file {path}: {exc}") from exc
    sessions = {name: _session(path, name, table) for name, table in tables.items()}
    if not sessions:
        raise UsageError(f"{path} names no session: add one table per lab session, "
                         "[name] with pin, start and end (see README)")
    return sessions


def _session(path: Path, name: str, table: object) -> Session:
    where = f"{path}, session [{name}]"
    if not isinstance(table, dict):
        raise UsageError(f"{where}: expected a table with pin, start and end")
    pin = table.get("pin")
    if not isinstance(pin, str) or len(pin) < MIN_PIN_LENGTH:
        raise UsageError(f"{where}: pin must be a string of {MIN_PIN_LENGTH} or more "
                         "characters, as a short one can be guessed from any receipt (make "
                         "one: python -c 'import secrets; print(secrets.token_hex(4))')")
    for bound in ("start", "end"):
        value = table.get(bound)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise UsageError(f"{where}: {bound} must be a date and time with its UTC offset, "
                             "e.g. 2027-02-09T14:00:00+01:00 (unquoted)")
    if table["end"] <= table["start"]:
        raise UsageError(f"{where}: end comes before start")
    return Session(name, pin, table["start"], table["end"])


def verify(*, receipts: Path, pins: Path, submissions: Path) -> list[Verdict]:
    """Check every receipt in `receipts/<submission>/` (or its `checkoffs/` folder), and
    regrade the file it names from `submissions/<submission>/`."""
    sessions = read_pins(pins)
    for folder in (receipts, submissions):
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a directory")
    verdicts, pending = [], []
    for folder in sorted(p for p in receipts.iterdir() if p.is_dir()):
        submission = submissions / folder.name
        authors = _authors(submission)
        for path in _receipt_files(folder):
            verdict, receipt, content = _examine(path, submission, authors, sessions)
            verdicts.append(verdict)
            if content is not None:
                pending.append((verdict, receipt, content))
    _regrade(pending)
    return verdicts


def _receipt_files(folder: Path) -> list[Path]:
    # The student's repository holds its receipts in checkoffs/ (and other JSON files at its
    # top, such as release.json); a folder of receipts alone holds them at the top.
    repository = any((folder / name).exists() for name in (".git", "exercises",
                                                           DEFAULT_RECEIPTS.name))
    return sorted((folder / DEFAULT_RECEIPTS.name if repository else folder).glob("*.json"))


def _examine(path: Path, submission: Path, authors: set[str], sessions: dict[str, Session],
             ) -> tuple[Verdict, dict, bytes | None]:
    """A verdict decided without grading, or the file content to regrade."""
    verdict = Verdict(submission=submission.name, receipt=path.name)
    receipt = read_receipt(path)
    if receipt is None:
        verdict.status = UNREADABLE
        verdict.detail = "not a checkoff receipt, or a field is missing or malformed"
        return verdict, {}, None
    for name in ("student", "exercise", "ta", "session", "time"):
        setattr(verdict, name, receipt[name])
    verdict.receipt_score = f"{receipt['score']:g}"
    verdict.max_score = f"{receipt['max_score']:g}"
    problem = _signature_problem(receipt, sessions) or _identity_problem(receipt, submission,
                                                                         authors)
    if problem:
        verdict.status, verdict.detail = problem
        return verdict, receipt, None
    content, verdict.detail = _find_file(submission, receipt)
    if content is None:
        verdict.status = FILE_NOT_FOUND
    return verdict, receipt, content




def _signature_problem(receipt: dict, sessions: dict[str, Session]) -> tuple[str, str] | None:
    session = sessions.get(receipt["session"])
    if session is None:
        return WRONG_SESSION, f"session {receipt['session']!r} is not in the PIN file"
    key = session_key(session.name, session.pin)
    if not hmac.compare_digest(receipt["pin_check"], pin_check(key)):
        return WRONG_PIN, (f"not signed with the PIN of session {session.name}: a mistyped PIN, "
                           "or a receipt made without the TA")
    if not hmac.compare_digest(receipt["signature"], signature(key, receipt)):
        return EDITED, "a field was changed after the TA signed"
    if not session.start <= signed_at(receipt) <= session.end:
        return WRONG_SESSION, (f"signed at {receipt['time']}, outside session {session.name} "
                               f"({session.start.isoformat()} to {session.end.isoformat()})")
    return None


def _identity_problem(receipt: dict, submission: Path, authors: set[str],
                      ) -> tuple[str, str] | None:
    student, ta = receipt["student"].lower(), receipt["ta"].lower()
    if ta in (student, student.split("@")[0]):
        return SELF_CHECKOFF, f"TA {receipt['ta']} signed for {receipt['student']}"
    owners = authors | {submission.name.lower()}
    if student not in owners:
        return NOT_THEIRS, (f"the receipt is {receipt['student']}'s; {submission.name} is the "
                            f"work of {', '.join(sorted(owners))}")
    return None


def _authors(submission: Path) -> set[str]:
    """The emails on the submission's commits: a student's receipt carries theirs."""
    out = git_or_none(submission, "rev-list", "--all", "--format=%ae", ceiling=submission.parent)
    lines = out.decode(errors="replace").splitlines() if out else []
    return {line.strip().lower() for line in lines if line and not line.startswith("commit ")}


def _find_file(submission: Path, receipt: dict) -> tuple[bytes | None, str]:
    """The version of the receipt's file whose SHA-256 it names, and where it was found."""
    file, wanted = receipt["file"], receipt["sha256"]
    current = submission / file
    if current.is_file() and sha256(current.read_bytes()) == wanted:
        return current.read_bytes(), "the current file"
    history = git_or_none(submission, "rev-list", "--all", "--", file, ceiling=submission.parent)
    commits = [receipt["commit"]] if receipt["commit"] else []
    commits += history.decode().split() if history else []
    for commit in dict.fromkeys(commits):
        content = git_or_none(submission, "cat-file", "blob", f"{commit}:{file}",
                       ceiling=submission.parent)
        if content is not None and sha256(content) == wanted:
            now = "the current file differs" if current.is_file() else "the file is gone now"
            return content, f"from commit {commit[:12]}; {now}"
    return None, (f"no version of {file} in {submission.name} (current files, git history) "
                  "has the receipt's SHA-256")


def _regrade(pending: list[tuple[Verdict, dict, bytes]]) -> None:
    """Grade each distinct file once, per exercise in one session, and judge the receipts."""
    files: dict[str, dict[str, bytes]] = {}
    for _, receipt, content in pending:
        files.setdefault(receipt["exercise"], {})[receipt["sha256"]] = content
    graded: dict[tuple[str, str], ExerciseResult] = {}
    with tempfile.TemporaryDirectory(prefix="checkoff-verify-") as tmp:
        for exercise, contents in files.items():
            targets = []
            for digest, content in contents.items():
                (Path(tmp) / digest).mkdir()
                (Path(tmp) / digest / f"{exercise}.py").write_bytes(content)
                targets.append(Path(tmp) / digest)
            for result in grade(targets=targets, exercises=[exercise], options=CHECKOFF):
                if result.internal_errors:
                    raise GraderError(f"the grader itself failed on a check of {exercise} "
                                      "while regrading: nothing verified")
                graded[(exercise, Path(result.target).name)] = result.exercises[0]
    for verdict, receipt, _ in pending:
        result = graded[(receipt["exercise"], receipt["sha256"])]
        verdict.regraded_score, verdict.max_score = f"{result.score:g}", f"{result.max_score:g}"
        if (result.score, result.max_score) == (receipt["score"], receipt["max_score"]):
            verdict.status = VERIFIED
        else:
            verdict.status = SCORE_DIFFERS
            verdict.detail += (f"; regraded {result.score:g}/{result.max_score:g}, the receipt "
                               f"says {receipt['score']:g}/{receipt['max_score']:g}")


def verdicts_csv(verdicts: list[Verdict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f.name for f in fields(Verdict)])
    writer.writerows(asdict(verdict).values() for verdict in verdicts)
    return buffer.getvalue()


def verdicts_summary(verdicts: list[Verdict]) -> str:
    """How many receipts got each status, then every receipt that is not verified."""
    counts = Counter(verdict.status for verdict in verdicts)
    lines = [f"{len(verdicts)} receipt{'' if len(verdicts) == 1 else 's'}: "
             + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))]
    lines += [f"  {v.submission}/{v.receipt}: {v.status} ({v.detail})"
              for v in verdicts if v.status != VERIFIED]
    return "\n".join(lines)
