"""What a student reads about how a call into their code went: worded here, and only here.

The sandbox and the worker report a failed call as typed facts (grader.isolation.wire): the
limit it ran past, the signal that killed its worker or its exit code, the exception it
raised, whether it ran out of memory, the by-hand rule it broke, how it reached into the
grader. This module makes the sentences from them; nothing reads a fact back out of a
sentence. A failed check's run on one device (the results model's DeviceRun) takes its
message, its fault and the findings staff see from here.
"""

from __future__ import annotations

from typing import Any

from grader.isolation.sandbox import Outcome
from grader.isolation.wire import (
    ByHandFinding,
    Crashed,
    ErrorKind,
    Reach,
    Tampering,
    TimedOut,
    TimeLimit,
    WorkerError,
)
from grader.judging.judge import CheckFailure, show
from grader.judging.results import DeviceRun, Fault, RunOutcome

TAMPERING_ADVICE = ("a submission may use its own code, PyTorch and the libraries the "
                    "handout names, never the grader's modules or the interpreter's internals")
_SIGNALS = {
    "SIGSEGV": "crashed with a segmentation fault (SIGSEGV)",
    "SIGKILL": "was killed (SIGKILL), most likely for using too much memory",
    "SIGABRT": "aborted (SIGABRT)",
}


class StudentError(Exception):
    """The submission's code failed (raised, timed out, crashed) during a probe on `case`;
    the message is the student's."""

    def __init__(self, outcome: Outcome, exercise: str, case: Any):
        super().__init__(explain(outcome.error, exercise, case))
        self.outcome = outcome


def explain(error: WorkerError, exercise: str, case: Any, subject: str = "your code") -> str:
    """What went wrong in a call of `exercise`'s module on `case` (None: no case); `subject`
    names who ran it."""
    kind = error.kind
    if kind == ErrorKind.NOT_IMPLEMENTED:
        return "not implemented yet (raises NotImplementedError)"
    if kind == ErrorKind.MISSING_MODULE:
        return f"no {exercise}.py in the graded directory"
    if kind == ErrorKind.IMPORT:
        return f"could not import {exercise}.py: {_exception(error)}"
    if kind == ErrorKind.INTERNAL:
        return error.internal
    if kind == ErrorKind.TAMPERING:
        return f"tampering, so no check of this exercise counts:\n{tampering(error.tampering)}"
    where = f" on case {show(case)}" if case is not None else ""
    if kind == ErrorKind.MISSING_NAME:
        return f"{_exception(error)}{where}: a required function or class is missing"
    text = f"{subject} {_what_it_did(error)}{where}"
    if error.arguments:
        text += f"\ntensor arguments: {error.arguments}"
    if error.traceback:
        text += "\n" + error.traceback
    return text


def _what_it_did(error: WorkerError) -> str:
    if error.timed_out is not None:
        return _timed_out(error.timed_out)
    if error.crashed is not None:
        return _crashed(error.crashed)
    if error.kind == ErrorKind.UNSENDABLE and error.raised is not None:
        return f"returned what the grader cannot receive: {_exception(error)}"
    if error.oversized:
        return (f"returned over {error.oversized // 2**20} MiB in one call, more than a "
                "reply may take: the checks ask for results of kilobytes")
    if error.raised is None:  # forged or garbled by the submission
        return "sent the grader a reply it could not read"
    if error.by_hand is not None:
        return f"raised {error.raised.type_name}: {by_hand_rule(error.by_hand)}"
    if error.out_of_memory or _exited(error):
        return _exception(error)
    return f"raised {_exception(error)}"


def _timed_out(fact: TimedOut) -> str:
    if fact.limit == TimeLimit.CPU:
        return f"timed out: used over {fact.seconds:g} s of CPU time"
    if fact.limit == TimeLimit.WAIT:
        return (f"timed out: waited over {fact.seconds:.0f} s without running (a sleep, "
                "input(), a lock or a pipe that never comes)")
    return (f"timed out after {fact.seconds:.0f} s of wall-clock time (using "
            f"{fact.cpu_seconds:.1f} s of CPU time)")


def _crashed(fact: Crashed) -> str:
    if fact.signal:
        return _SIGNALS.get(fact.signal, f"was killed by {fact.signal}")
    return f"exited with code {fact.exit_code} (os._exit or a hard crash)"


def _exited(error: WorkerError) -> bool:
    return error.raised is not None and error.raised.type_name == "SystemExit"


def _exception(error: WorkerError) -> str:
    """The exception that escaped: "TypeError: ...", "called sys.exit(1)", ..."""
    raised = error.raised
    if raised is None:  # forged or garbled by the submission
        return "a reply the grader could not read"
    if _exited(error):
        text = f"called sys.exit({raised.text})"
    elif raised.line is not None:
        text = f"{raised.type_name}: {raised.text} (line {raised.line})"
    else:
        text = raised.type_name + (f": {raised.text}" if raised.text else "")
    return f"ran out of memory: {text}" if error.out_of_memory else text


def by_hand_rule(finding: ByHandFinding) -> str:
    """The by-hand rule a submission broke, and where: what the student and staff read."""
    line = "?" if finding.line is None else finding.line
    through = f" (through {finding.through})" if finding.through else ""
    path = " on its by-hand path" if finding.on_path else ""
    verb = "subclasses" if finding.subclasses else "uses"
    return (f"line {line}: {finding.owner}{through}{path} {verb} {finding.library}; "
            f"{finding.advice}")


def tampering(found: tuple[Tampering, ...]) -> str:
    """How a submission reached into the grader, a line each."""
    return "\n".join(f"{_reached(fact)}; {TAMPERING_ADVICE}" for fact in found)


def _reached(fact: Tampering) -> str:
    if fact.reach == Reach.CHANGED:
        return f"your code changed the grader's {fact.name}"
    what = "imports the grader's module" if fact.reach == Reach.IMPORTS else fact.reach.value
    return f"line {fact.line}: {what} {fact.name}"


def failed_run(exc: BaseException | None, device: str, seconds: float, printed: str,
               ) -> DeviceRun:
    """A check's run on `device` that ended in `exc`: the student's failure (a call into
    their code, or a judge's verdict, with what the code `printed`), else the grader's."""
    if isinstance(exc, StudentError):
        error = exc.outcome.error
        outcome = (RunOutcome.NOT_IMPLEMENTED if error.kind == ErrorKind.NOT_IMPLEMENTED
                   else RunOutcome.FAILED)
        return DeviceRun(device, outcome, with_output(str(exc), exc.outcome.output), seconds,
                         by_hand=by_hand_rule(error.by_hand) if error.by_hand else "",
                         tampering=tampering(error.tampering), fault=_fault(error))
    if isinstance(exc, CheckFailure):
        return DeviceRun(device, RunOutcome.FAILED, with_output(str(exc), printed), seconds,
                         hint=exc.hint or "")
    return DeviceRun(device, RunOutcome.ERROR, "internal error of the grader (please report "
                     f"it): {type(exc).__name__}: {exc}", seconds)


def _fault(error: WorkerError) -> Fault | None:
    """Why a call into the submission did not return, for the class report's counts."""
    if error.out_of_memory:
        return Fault.OUT_OF_MEMORY
    return {ErrorKind.TIMEOUT: Fault.TIME_LIMIT, ErrorKind.CRASH: Fault.CRASH,
            ErrorKind.EXCEPTION: Fault.EXCEPTION, ErrorKind.IMPORT: Fault.EXCEPTION,
            }.get(error.kind)


def raised_in(exc: BaseException | None) -> tuple[str, ...] | None:
    """The submission's functions an exception that failed the check passed through
    (outermost first); None when the check failed on a value, a time-out or a crash."""
    if isinstance(exc, StudentError):
        error = exc.outcome.error
        return error.raised_in if error.kind == ErrorKind.EXCEPTION else None
    return exc.raised_in if isinstance(exc, CheckFailure) else None


def root_causes(failed_above: list[str], raised_in: tuple[str, ...] | None) -> str:
    """'fix `f` first' for each function the check uses whose own checks failed earlier
    (`failed_above`), and that this failure plausibly comes from.

    A failure downstream of a broken function is most likely a knock-on of it: saying so
    first keeps students from chasing correct code. The evidence: a wrong value may be one
    `f` returned; an exception must have gone through `f` (`raised_in`, a method of class
    `f` included), else the message names where it was raised, and `f` is not blamed.
    """
    return "".join(f"fix `{function}` first: this check uses it, and a check of "
                   f"`{function}` failed above\n" for function in failed_above
                   if raised_in is None or any(name == function or name.startswith(
                       f"{function}.") for name in raised_in))


def with_output(message: str, output: str) -> str:
    """The message, then what the submission printed, each line marked as its own."""
    if not output.strip():
        return message
    printed = "\n".join(f"| {line}" for line in output.rstrip().splitlines())
    return f"{message}\nyour code printed (lines marked |):\n{printed}"
