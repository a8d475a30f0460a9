"""What crosses the process boundary between a worker and the judging process.

The worker turns whatever a probe returns into plain data: numbers, strings, lists,
dicts and CPU tensors. Each tensor travels with what was observed of it (device,
dtype, shape, type), and anything else is reduced to a description of its type.
It crosses as a frame of JSON and raw tensor bytes (grader.isolation.frame): the judging
side rebuilds only builtin values and tensors of a known dtype from it, so a submission can
never plant an object whose `__eq__` or `__reduce__` runs in the process that counts
points, and a frame it garbles is `frame.Unreadable`, never an error of the grader's.

A failed call crosses as typed facts (`WorkerError`: the exception, the by-hand rule, the
tampering; the sandbox adds a timeout's or a crash's), never as a sentence: the judging
wing alone words them for the student (grader.judging.feedback).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import torch

from grader.isolation import frame

_TENSOR = "__tensor__"
_OBJECT = "__object__"
_MAX_REPR = 200
# Terminal escape sequences (CSI, OSC), other control characters but tab and newline, and
# the Unicode marks that reorder text: what could redraw or disguise the grader's lines.
_UNPRINTABLE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


@dataclass(frozen=True)
class Returned:
    """A tensor as a submission returned it: the values on the CPU, and where they were."""

    value: torch.Tensor  # detached, on the CPU
    device: str  # e.g. "cpu", "cuda:0"
    type_name: str  # "Tensor", "Parameter", ...
    requires_grad: bool

    @property
    def dtype(self) -> torch.dtype:
        return self.value.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(frozen=True)
class Foreign:
    """Anything that is not plain data: only its type and a short repr survive."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"{self.type_name} {self.text}"


class ErrorKind(StrEnum):
    """Why a call into a submission failed. It crosses the wire as its plain value."""

    NOT_IMPLEMENTED = "not_implemented"
    MISSING_NAME = "missing_name"  # the module lacks a function or class a probe asks for
    MISSING_MODULE = "missing_module"
    IMPORT = "import"  # importing the submission failed
    EXCEPTION = "exception"
    BY_HAND = "by_hand"  # it used what the exercise asks it to write (grader.isolation.by_hand)
    TAMPERING = "tampering"  # it reached into the grader (grader.isolation.source_rules): 0 for it
    UNSENDABLE = "unsendable"  # what it returned is not plain data
    TIMEOUT = "timeout"  # found by the parent, as is CRASH
    CRASH = "crash"
    INTERNAL = "internal"  # the grader's own fault


class TimeLimit(StrEnum):
    """Which of a call's limits stopped it (grader.isolation.sandbox)."""

    CPU = "cpu"  # it used more CPU time than its limit
    WAIT = "wait"  # it waited (slept, blocked) past its ceiling without running
    WALL = "wall"  # it ran past the wall-clock ceiling


@dataclass(frozen=True)
class TimedOut:
    """A call its sandbox stopped; found by the judging side, never sent by a worker."""

    limit: TimeLimit
    seconds: float  # CPU: the call's CPU limit; WAIT: how long it waited; WALL: its wall time
    cpu_seconds: float = 0.0  # what the call used


@dataclass(frozen=True)
class Crashed:
    """A worker that died during a call, killed by a signal or exited; found by the judging
    side."""

    signal: str = ""  # e.g. "SIGSEGV"; empty when it exited
    exit_code: int | None = None


@dataclass(frozen=True)
class Raised:
    """An exception that escaped a call, reduced to data."""

    type_name: str  # "TypeError", "SystemExit", ...
    text: str = ""  # the first line of its message, capped; for SystemExit, its code's repr
    line: int | None = None  # for a SyntaxError, the line it points at


@dataclass(frozen=True)
class ByHandFinding:
    """A class or function of the submission (`owner`) that uses a library callable its
    exercise asks it to write (grader.isolation.by_hand)."""

    owner: str
    library: str  # dotted, as the rule names it: "torch.optim.Adam"
    line: int | None  # in the submission's file; None where its source cannot be read
    advice: str  # the rule's: what to do instead
    subclasses: bool = False  # the library callable is a base class of `owner`
    through: str = ""  # the module's function or class `owner` reaches it through
    on_path: bool = False  # only on `owner`'s by-hand path (by_hand.by_hand_path)


class Reach(StrEnum):
    """How a submission reached into the grader (grader.isolation.source_rules)."""

    IMPORTS = "imports"  # it imports the grader's module `name`
    READS = "reads"  # it reads the interpreter's attribute `name` (__globals__, f_back, ...)
    USES = "uses"  # it uses the interpreter's internal `name` (sys.modules, gc, ...)
    CHANGED = "changed"  # at run time, it rebound or removed the harness's `name`


@dataclass(frozen=True)
class Tampering:
    """One way a submission reached into the grader."""

    reach: Reach
    name: str
    line: int | None = None  # in the submission's file; None: found at run time


@dataclass(frozen=True)
class WorkerError:
    """Why a call failed, as typed facts: the judging wing words them for the student
    (grader.judging.feedback)."""

    kind: ErrorKind
    raised: Raised | None = None  # the exception that escaped, where one did
    traceback: str = ""  # the submission's own frames, a line each
    out_of_memory: bool = False
    # For an exception of the submission's: the functions of its file the traceback passes
    # through (qualified names, outermost first), and the tensor arguments of the first.
    raised_in: tuple[str, ...] = ()
    arguments: str = ""
    by_hand: ByHandFinding | None = None  # BY_HAND: the rule it broke, where
    tampering: tuple[Tampering, ...] = ()  # TAMPERING: what it reached
    timed_out: TimedOut | None = None  # TIMEOUT (the sandbox's finding)
    crashed: Crashed | None = None  # CRASH (the sandbox's finding)
    oversized: int = 0  # UNSENDABLE: the bytes its reply passed, unread (the sandbox's finding)
    internal: str = ""  # INTERNAL: the grader's own fault, in its maintainers' words


@dataclass(frozen=True)
class Reply:
    """A worker's answer to one request: a value (plain data) or an error, and the output
    the call printed."""

    value: Any = None
    error: WorkerError | None = None
    output: str = ""
    seconds: float = 0.0  # the call's time inside the worker

    @property
    def ok(self) -> bool:
        return self.error is None


# The kinds a worker sends; the others are the sandbox's findings.
_SENT = frozenset(ErrorKind) - {ErrorKind.TIMEOUT, ErrorKind.CRASH}


def dump_reply(reply: Reply) -> bytes:
    """Worker side: a reply as a frame of plain data (enums and dataclasses do not cross:
    grader.isolation.frame)."""
    error = reply.error
    return frame.pack({
        "value": reply.value, "output": reply.output, "seconds": reply.seconds,
        "error": error and {"kind": error.kind.value, "raised": _plain_fact(error.raised),
                            "traceback": error.traceback, "out_of_memory": error.out_of_memory,
                            "raised_in": list(error.raised_in), "arguments": error.arguments,
                            "by_hand": _plain_fact(error.by_hand),
                            "tampering": [_plain_fact(found) for found in error.tampering],
                            "internal": error.internal},
    })


def load_reply(data: bytes) -> Reply:
    """Judge side: a reply rebuilt from plain data. Student code shares the worker's
    process and could send anything: every field is checked, every text made printable,
    and a kind of error the worker does not send, or one without its facts, is an
    exception of the submission's. frame.Unreadable: not a frame `dump_reply` makes."""
    plain = decode(frame.unpack(data))
    if not isinstance(plain, dict):
        plain = {"error": {}}
    seconds = plain.get("seconds")
    common = {"output": printable(str(plain.get("output", ""))),
              "seconds": float(seconds) if isinstance(seconds, int | float) else 0.0}
    error = plain.get("error")
    if error is None:
        return Reply(value=plain.get("value"), **common)
    error = error if isinstance(error, dict) else {}
    by_hand = _fact(ByHandFinding, error.get("by_hand"))
    found = error.get("tampering")
    tampering = tuple(fact for fact in (_fact(Tampering, item) for item in found)
                      if fact is not None) if isinstance(found, list) else ()
    try:
        kind = ErrorKind(error.get("kind"))
    except ValueError:
        kind = ErrorKind.EXCEPTION
    if (kind not in _SENT or (kind == ErrorKind.BY_HAND and by_hand is None)
            or (kind == ErrorKind.TAMPERING and not tampering)):
        kind = ErrorKind.EXCEPTION
    names = error.get("raised_in")
    return Reply(error=WorkerError(
        kind=kind, raised=_fact(Raised, error.get("raised")),
        traceback=printable(str(error.get("traceback", ""))),
        out_of_memory=error.get("out_of_memory") is True,
        raised_in=tuple(printable(name) for name in names if isinstance(name, str))
        if isinstance(names, list) else (),
        arguments=printable(str(error.get("arguments", ""))),
        by_hand=by_hand, tampering=tampering,
        internal=printable(str(error.get("internal", "")))), **common)


def _plain_fact(fact: Raised | ByHandFinding | Tampering | None) -> dict | None:
    return fact and {name: value.value if isinstance(value, StrEnum) else value
                     for name, value in vars(fact).items()}


class _NotAFact(Exception):
    pass


def _checked(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise _NotAFact
        return value
    return check


# A fact's field, by its annotation, from what a worker sent: texts made printable.
_FIELDS: dict[str, Callable[[Any], Any]] = {
    "str": lambda value: printable(_checked(str)(value)),
    "int | None": lambda value: None if value is None else _checked(int)(value),
    "bool": lambda value: value is True,
    "Reach": lambda value: Reach(_checked(str)(value)),
}


def _fact(cls: type, plain: Any) -> Any:
    """The fact `cls` rebuilt from a worker's plain data; None where it is not one."""
    if not isinstance(plain, dict):
        return None
    try:
        return cls(**{f.name: _FIELDS[f.type](plain[f.name]) for f in fields(cls)
                      if f.name in plain})
    except (_NotAFact, TypeError, ValueError):  # a field missing, of a wrong type or value
        return None


def printable(text: str) -> str:
    """A submission's text made safe to show: no escape sequence or control character."""
    return _UNPRINTABLE.sub("", text)


def to_plain(obj: Any) -> Any:
    """Worker side: turn a probe's result into data that `decode` can trust."""
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, torch.Tensor) and obj.layout == torch.strided:
        return {
            _TENSOR: obj.detach().cpu().clone().as_subclass(torch.Tensor),
            "device": str(obj.device),
            "type": type(obj).__name__,
            "requires_grad": bool(obj.requires_grad),
        }
    if type(obj) in (list, tuple):
        return [to_plain(item) for item in obj] if type(obj) is list else tuple(
            to_plain(item) for item in obj
        )
    if type(obj) is dict and all(type(k) in (str, int) for k in obj):
        return {k: to_plain(v) for k, v in obj.items()}
    return {_OBJECT: type(obj).__module__ + "." + type(obj).__qualname__, "repr": _short_repr(obj)}


def _short_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except BaseException:  # a submission's __repr__ may raise anything
        return "<repr failed>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "..."


def load_plain(data: bytes) -> Any:
    """Plain data saved with `torch.save` (the recorded reference results); no code runs
    while loading it."""
    return torch.load(io.BytesIO(data), weights_only=True)


_TENSOR_KEYS = frozenset({_TENSOR, "device", "type", "requires_grad"})
_OBJECT_KEYS = frozenset({_OBJECT, "repr"})


def decode(obj: Any) -> Any:
    """`Returned` and `Foreign` rebuilt from `to_plain`'s dicts; frame.Unreadable for such
    a dict that `to_plain` would not make (a forged one)."""
    if isinstance(obj, dict):
        if _TENSOR in obj:
            if obj.keys() != _TENSOR_KEYS or not isinstance(obj[_TENSOR], torch.Tensor):
                raise frame.Unreadable("a tensor's description")
            return Returned(
                value=obj[_TENSOR],
                device=printable(str(obj["device"])),
                type_name=printable(str(obj["type"])),
                requires_grad=bool(obj["requires_grad"]),
            )
        if _OBJECT in obj:
            if obj.keys() != _OBJECT_KEYS:
                raise frame.Unreadable("an object's description")
            return Foreign(type_name=printable(str(obj[_OBJECT])),
                           text=printable(str(obj["repr"])))
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(decode(item) for item in obj)
    return obj


def encode(obj: Any) -> Any:
    """The inverse of `decode`: judge-side values back to plain data, e.g. to record them."""
    if isinstance(obj, Returned):
        return {_TENSOR: obj.value, "device": obj.device, "type": obj.type_name,
                "requires_grad": obj.requires_grad}
    if isinstance(obj, Foreign):
        return {_OBJECT: obj.type_name, "repr": obj.text}
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [encode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(encode(item) for item in obj)
    return obj
