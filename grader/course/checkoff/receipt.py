"""A checkoff receipt: its fields, where the graded file is committed, and its signature
with the session's PIN (HMAC keyed by scrypt of the PIN)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader import ROOT
from grader.exercises import exercise_names
from grader.git import git_or_none
from grader.judging.options import GradingOptions

FORMAT = "checkoff receipt 1"
# On the CPU, the quick checks: the same grading on every laptop and when staff regrade.
CHECKOFF = GradingOptions(device="cpu", quick=True)
DEFAULT_RECEIPTS = ROOT / "checkoffs"


# For automation and tests only: a PIN in the student's environment is not hidden.
PIN_VARIABLE = "GRADER_CHECKOFF_PIN"


MIN_PIN_LENGTH = 8


@dataclass(frozen=True)
class SignOff:
    """What the TA types."""

    ta: str
    session: str
    pin: str


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


def sign(receipt: dict, sign_off: SignOff) -> dict:
    """The receipt with the TA's id, the session, and its signature with the session's PIN."""
    key = session_key(sign_off.session, sign_off.pin)
    signed = {**receipt, "ta": sign_off.ta, "session": sign_off.session,
              "pin_check": pin_check(key)}
    return {**signed, "signature": signature(key, signed)}


@functools.cache
def session_key(session: str, pin: str) -> bytes:
    # A PIN is short enough to guess from a receipt: scrypt makes each guess cost a tenth of
    # a second and 16 MB, and salting with the session keeps one table of guesses from
    # serving every session.
    return hashlib.scrypt(pin.encode(), salt=f"checkoff session {session}".encode(),
                          n=2**14, r=8, p=1, dklen=32)


def pin_check(key: bytes) -> str:
    # Tells a mistyped PIN from a receipt edited after signing. It reveals nothing the
    # signature does not: either one lets a guess of the PIN be tested.
    return hmac.new(key, b"pin check", hashlib.sha256).hexdigest()[:16]


def signature(key: bytes, receipt: dict) -> str:
    signed = {name: value for name, value in receipt.items() if name != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


HEX64 = re.compile(r"[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


RECEIPT_TYPES = {"format": str, "student": str, "exercise": str, "score": (int, float),
                 "max_score": (int, float), "file": str, "sha256": str,
                 "commit": (str, type(None)), "time": str, "ta": str, "session": str,
                 "pin_check": str, "signature": str}


def read_receipt(path: Path) -> dict | None:
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
             and signed_at(receipt) is not None)
    return receipt if sound else None


def signed_at(receipt: dict) -> datetime | None:
    try:
        time = datetime.fromisoformat(receipt["time"])
    except ValueError:
        return None
    return time if time.tzinfo is not None else None
