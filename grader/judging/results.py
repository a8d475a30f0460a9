"""The results model: one grading run of one submission. Every report is made from it.

Its JSON form, the results document, is what every part of the grader writes and reads
(`grader.judging.reports.save` and `load`): `SubmissionResult.to_dict()` and `from_dict()`.
The document names its format and version at the top; values derived from others (scores,
statuses, the rules broken) are written for readers and recomputed when it is read.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

FORMAT = "protein-ai-grader results"
VERSION = 1  # raised on any change a reader of the previous version would misread


class DocumentError(ValueError):
    """Data that is not a results document of this version; the message says what it is."""


class RunOutcome(StrEnum):
    """How a check went on one device (and a check's status: its runs together)."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"
    NOT_IMPLEMENTED = "not implemented"
    ERROR = "error"  # a fault of the grader, never of the submission


class Fault(StrEnum):
    """Why the submission's code did not return on a run, where it did not (a class report
    counts them per check)."""

    TIME_LIMIT = "time limit"
    OUT_OF_MEMORY = "out of memory"
    CRASH = "crash"  # the worker died: a segfault, os._exit, a kill
    EXCEPTION = "exception"  # it raised (on import too)


class ExerciseStatus(StrEnum):
    """How an exercise went: what the table's status column says."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    NOT_STARTED = "not started"  # every check hit NotImplementedError
    NOT_RUN = "not run"  # no check could run, e.g. --device cuda without a GPU
    NOT_SUBMITTED = "not submitted"  # the graded folder has no module for it


@dataclass
class CallTime:
    """How long one call into the submission took, against its limits (grader.isolation.sandbox)."""

    wall_seconds: float
    cpu_seconds: float  # its worker's process tree's
    cpu_limit: float  # what stops it: CPU time, or a wall-clock ceiling for code that waits
    wall_limit: float
    retried: bool = False  # it timed out on a loaded machine and ran again

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallTime:
        return cls(**_fields(cls, data, "a call's time"))


@dataclass
class DeviceRun:
    """One check on one device."""

    device: str
    outcome: RunOutcome
    message: str = ""
    seconds: float = 0.0
    by_hand: str = ""  # the by-hand rule the submission broke here, for staff (isolation.by_hand)
    tampering: str = ""  # how it reached into the grader here (grader.isolation.source_rules)
    hint: str = ""  # the known mistake the failure's symptom matched (grader.judging.judge.fail)
    fault: Fault | None = None
    cpu_seconds: float = 0.0  # used by the submission's calls
    longest_call: CallTime | None = None  # the submission's longest call
    retries: int = 0  # the submission's calls run again after a timeout on a loaded machine

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceRun:
        values = _fields(cls, data, "a device's run")
        values["outcome"] = _enum(RunOutcome, values["outcome"])
        if values.get("fault") is not None:
            values["fault"] = _enum(Fault, values["fault"])
        if values.get("longest_call") is not None:
            values["longest_call"] = CallTime.from_dict(values["longest_call"])
        return cls(**values)


@dataclass
class CheckResult:
    """A graded check: its points are earned when it passes on every device that ran it."""

    exercise: str
    name: str
    title: str
    max_score: float
    runs: list[DeviceRun] = field(default_factory=list)
    hidden: bool = False  # graded by the instructor only; students see it after publication

    @property
    def ran(self) -> list[DeviceRun]:
        return [run for run in self.runs if run.outcome != RunOutcome.NOT_RUN]

    @property
    def passed(self) -> bool:
        return bool(self.ran) and all(run.outcome == RunOutcome.PASSED for run in self.ran)

    @property
    def not_implemented(self) -> bool:
        return bool(self.ran) and all(run.outcome == RunOutcome.NOT_IMPLEMENTED
                                       for run in self.ran)

    @property
    def score(self) -> float:
        return self.max_score if self.passed else 0.0

    @property
    def status(self) -> RunOutcome:
        if self.passed:
            return RunOutcome.PASSED
        if not self.ran:
            return RunOutcome.NOT_RUN
        return RunOutcome.NOT_IMPLEMENTED if self.not_implemented else RunOutcome.FAILED

    @property
    def output(self) -> str:
        """What a student reads: each device's outcome, and why it failed."""
        lines = []
        for run in self.runs:
            lines.append(f"[{run.device}] {run.outcome}" + (f": {run.message}" if run.message
                                                             and run.outcome != RunOutcome.PASSED
                                                             else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "name": self.name, "title": self.title,
                "max_score": self.max_score, "hidden": self.hidden,
                "score": self.score, "status": self.status,
                "runs": [run.to_dict() for run in self.runs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        values = _fields(cls, data, "a check")
        values["runs"] = [DeviceRun.from_dict(run) for run in _list(values.get("runs", []))]
        return cls(**values)


@dataclass
class ExerciseResult:
    name: str
    max_score: float  # the points graded in this run
    checks: list[CheckResult] = field(default_factory=list)
    hidden_points: float = 0.0  # in a student release: points graded after submission
    submitted: bool = True  # the graded folder holds its module

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def status(self) -> ExerciseStatus:
        if not self.submitted:
            return ExerciseStatus.NOT_SUBMITTED
        if self.checks and all(check.not_implemented for check in self.checks):
            return ExerciseStatus.NOT_STARTED
        if not any(check.ran for check in self.checks):
            return ExerciseStatus.NOT_RUN
        if self.score >= self.max_score:
            return ExerciseStatus.PASSED
        return ExerciseStatus.PARTIAL if self.score > 0 else ExerciseStatus.FAILED

    @property
    def by_hand_violations(self) -> list[str]:
        """Each by-hand rule the submission broke, once: what staff look at."""
        return sorted({run.by_hand for check in self.checks for run in check.runs
                       if run.by_hand})

    @property
    def tampering(self) -> list[str]:
        """How the submission reached into the grader, once each: then no check counts."""
        return sorted({run.tampering for check in self.checks for run in check.runs
                       if run.tampering})

    def void_if_tampered(self) -> None:
        """Fail every passed run once tampering is found (it may be found after some passed):
        nothing such code returned can be trusted."""
        if self.tampering:
            for check in self.checks:
                for run in check.runs:
                    if run.outcome == RunOutcome.PASSED:
                        run.outcome = RunOutcome.FAILED
                        run.message = "not counted: your code tampered with the grader"

    @property
    def first_failure(self) -> CheckResult | None:
        return next((check for check in self.checks if not check.passed), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "hidden_points": self.hidden_points,
            "submitted": self.submitted,
            "by_hand_violations": self.by_hand_violations,
            "tampering": self.tampering,
            "checks": [check.to_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        values = _fields(cls, data, "an exercise")
        values["checks"] = [CheckResult.from_dict(c) for c in _list(values.get("checks", []))]
        return cls(**values)


@dataclass
class SubmissionResult:
    """A submission (a target directory) graded on some devices."""

    target: str
    exercises: list[ExerciseResult]
    environment: dict[str, Any]
    started_at: str
    seconds: float
    internal_errors: int = 0

    @property
    def score(self) -> float:
        return sum(exercise.score for exercise in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(exercise.max_score for exercise in self.exercises)

    def exercise(self, name: str) -> ExerciseResult:
        """The result of the exercise named `name` (a KeyError when it was not graded)."""
        for exercise in self.exercises:
            if exercise.name == name:
                return exercise
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The results document: plain JSON values, format and version first."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "target": self.target,
            "score": self.score,
            "max_score": self.max_score,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "internal_errors": self.internal_errors,
            "environment": self.environment,
            "exercises": [exercise.to_dict() for exercise in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: Any) -> SubmissionResult:
        """The result a results document holds; a DocumentError when `data` is not one of
        this version."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DocumentError(f"not a results document (no format {FORMAT!r} at the top): "
                                f"found {_described(data)}")
        if data.get("version") != VERSION:
            raise DocumentError(f"a results document of version {data.get('version')!r}; this "
                                f"grader reads version {VERSION}: grade again with it, or read "
                                "the document with the grader that wrote it")
        values = _fields(cls, data, "the document")
        values["exercises"] = [ExerciseResult.from_dict(e) for e in _list(values["exercises"])]
        return cls(**values)


def _fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    """The values of `cls`'s fields in `data`: what a document holds beside them (scores,
    statuses) is derived, and recomputed from these."""
    if not isinstance(data, dict):
        raise DocumentError(f"{what} in the results document is not an object: found "
                            f"{_described(data)}")
    names, required = _shape(cls)
    absent = [name for name in required if name not in data]
    if absent:
        raise DocumentError(f"{what} in the results document has no {', '.join(absent)}: "
                            f"found {_described(data)}")
    return {name: data[name] for name in names if name in data}


@functools.cache
def _shape(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the names of a dataclass's fields, those without a default): a class report reads
    tens of thousands of runs."""
    fields = dataclasses.fields(cls)
    return (tuple(f.name for f in fields),
            tuple(f.name for f in fields if f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING))


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise DocumentError(f"a list in the results document is {_described(value)}")
    return value


def _enum(kind: type[StrEnum], value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise DocumentError(f"{value!r} is not a {kind.__name__} (one of "
                            f"{', '.join(map(repr, map(str, kind)))})") from None


def _described(data: Any) -> str:
    """What a reader found instead of a document: its type, or an object's first keys."""
    if isinstance(data, dict):
        keys = sorted(map(str, data))
        return ("an object with keys " + ", ".join(keys[:8])
                + (", ..." if len(keys) > 8 else "")) if keys else "an empty object"
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return f"{kinds.get(type(data), type(data).__name__)}: {str(data)[:60]!r}"
