"""In-class checkoffs: one exercise graded in seconds, and a receipt the TA signs.

A student runs `make checkoff EX=mcc` with a TA beside them. The exercise is graded on the
CPU on its checkoff checks (all but those marked `full_grade_only`, slow ones that
`make grade` runs), the screen says PASSED or NOT YET in large letters, and the TA signs by
typing their id, the session and the session's PIN at a hidden prompt. The receipt,
`checkoffs/<exercise>.json`, binds the score to the SHA-256 of the graded file, and carries
an HMAC over every field keyed with the PIN.

The signature proves only that a TA typed the session's PIN on the machine that made the
receipt; that machine is the student's, so no field is trusted beyond it. The instructor's
`verify` regrades the file whose hash the receipt names, taken from the student's current
files or their git history.

The instructor's PIN file (TOML, never in a student's repository) has a table per session:

    [lab3]
    pin = "k7m2p9x4"                    # 8 characters or more
    start = 2027-02-09T14:00:00+01:00   # receipts of the session are signed in this window
    end = 2027-02-09T17:00:00+01:00
"""

from __future__ import annotations

import csv
import functools
import getpass
import hashlib
import hmac
import io
import json
import os
import re
import tempfile
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import grader
from grader import ROOT
from grader.exercises import declared_points, exercise_names
from grader.git import git_or_none
from grader.judging.grading import GraderError, UsageError, grade
from grader.judging.options import GradingOptions
from grader.judging.results import ExerciseResult, ExerciseStatus, RunOutcome

FORMAT = "checkoff receipt 1"
DEFAULT_RECEIPTS = ROOT / "checkoffs"
# On the CPU, the quick checks: the same grading on every laptop and when staff regrade.
CHECKOFF = GradingOptions(device="cpu", quick=True)
# For automation and tests only: a PIN in the student's environment is not hidden.
PIN_VARIABLE = "GRADER_CHECKOFF_PIN"
MIN_PIN_LENGTH = 8
WIDTH = 80

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


# ---------------------------------------------------------------- the student's checkoff

@dataclass(frozen=True)
class SignOff:
    """What the TA types."""

    ta: str
    session: str
    pin: str


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


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def fingerprint(environment: dict) -> str:
    """A short hash of what the grade depended on besides the file (versions, platform)."""
    return sha256(json.dumps(environment, sort_keys=True).encode())[:16]


def student_id(folder: Path) -> str | None:
    """The student's git email: what their commits carry, so verify can match the two."""
    email = (git_or_none(folder, "config", "user.email") or b"").decode().strip()
    return email or None


def where_committed(module: Path, content: bytes) -> tuple[str, str | None]:
    """The module's path in its git repository, and HEAD when HEAD holds exactly `content`;
    outside git, ("<folder>/<name>", None)."""
    top = git_or_none(module.parent, "rev-parse", "--show-toplevel")
    if top is None:
        return f"{module.parent.name}/{module.name}", None
    path = module.resolve().relative_to(Path(top.decode().strip()).resolve()).as_posix()
    head = git_or_none(module.parent, "rev-parse", "HEAD")
    committed = git_or_none(module.parent, "cat-file", "blob", f"HEAD:{path}")
    return path, head.decode().strip() if head and committed == content else None


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


def sign(receipt: dict, sign_off: SignOff) -> dict:
    """The receipt with the TA's id, the session, and its signature with the session's PIN."""
    key = session_key(sign_off.session, sign_off.pin)
    signed = {**receipt, "ta": sign_off.ta, "session": sign_off.session,
              "pin_check": _pin_check(key)}
    return {**signed, "signature": _signature(key, signed)}


@functools.cache
def session_key(session: str, pin: str) -> bytes:
    # A PIN is short enough to guess from a receipt: scrypt makes each guess cost a tenth of
    # a second and 16 MB, and salting with the session keeps one table of guesses from
    # serving every session.
    return hashlib.scrypt(pin.encode(), salt=f"checkoff session {session}".encode(),
                          n=2**14, r=8, p=1, dklen=32)


def _pin_check(key: bytes) -> str:
    # Tells a mistyped PIN from a receipt edited after signing. It reveals nothing the
    # signature does not: either one lets a guess of the PIN be tested.
    return hmac.new(key, b"pin check", hashlib.sha256).hexdigest()[:16]


def _signature(key: bytes, receipt: dict) -> str:
    signed = {name: value for name, value in receipt.items() if name != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- what the TA reads

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


# ---------------------------------------------------------------- the instructor's verify

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
    receipt = _read_receipt(path)
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


HEX64 = re.compile(r"[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
RECEIPT_TYPES = {"format": str, "student": str, "exercise": str, "score": (int, float),
                 "max_score": (int, float), "file": str, "sha256": str,
                 "commit": (str, type(None)), "time": str, "ta": str, "session": str,
                 "pin_check": str, "signature": str}


def _read_receipt(path: Path) -> dict | None:
    """The receipt, or None when it is not one. A signed field is still the student's
    machine's word, so those that reach git or the file system are checked too."""
    try:
        receipt = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(receipt, dict) or not all(
            isinstance(receipt.get(name), kind) for name, kind in RECEIPT_TYPES.items()):
        return None
    file = PurePosixPath(receipt["file"])
    sound = (receipt["format"] == FORMAT and receipt["exercise"] in exercise_names()
             and file.name == f"{receipt['exercise']}.py" and not file.is_absolute()
             and ".." not in file.parts and not receipt["file"].startswith("-")
             and HEX64.fullmatch(receipt["sha256"]) is not None
             and (receipt["commit"] is None or COMMIT.fullmatch(receipt["commit"]) is not None)
             and _signed_at(receipt) is not None)
    return receipt if sound else None


def _signed_at(receipt: dict) -> datetime | None:
    try:
        time = datetime.fromisoformat(receipt["time"])
    except ValueError:
        return None
    return time if time.tzinfo is not None else None


def _signature_problem(receipt: dict, sessions: dict[str, Session]) -> tuple[str, str] | None:
    session = sessions.get(receipt["session"])
    if session is None:
        return WRONG_SESSION, f"session {receipt['session']!r} is not in the PIN file"
    key = session_key(session.name, session.pin)
    if not hmac.compare_digest(receipt["pin_check"], _pin_check(key)):
        return WRONG_PIN, (f"not signed with the PIN of session {session.name}: a mistyped PIN, "
                           "or a receipt made without the TA")
    if not hmac.compare_digest(receipt["signature"], _signature(key, receipt)):
        return EDITED, "a field was changed after the TA signed"
    if not session.start <= _signed_at(receipt) <= session.end:
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
