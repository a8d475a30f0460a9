"""The grading API: grade targets, record the reference; the errors they raise.

The CLI (`grader.cli`), checkoffs and Gradescope call these functions (a class batch runs the
CLI in its warm graders). Each grade runs the grading suites in one pytest session
(`grader.judging.plugin`) in this process.
"""

from __future__ import annotations

import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch

from grader import ROOT
from grader.exercises import declared_points, exercise_names, suite_path
from grader.judging import environment, reports, split
from grader.judging.options import DEFAULTS, GradingOptions
from grader.judging.plugin import STATE, GradingState, SuiteError
from grader.judging.reference import RECORDINGS, has_solutions, read_manifest
from grader.judging.results import SubmissionResult


class UsageError(Exception):
    """Bad input from the person running the grader; printed without a traceback."""


class GraderError(Exception):
    """The grader cannot grade here (e.g. no reference); printed without a traceback."""


def grade(
    *,
    targets: list[Path],
    exercises: list[str] | None = None,
    options: GradingOptions = DEFAULTS,
    save_reference: Path | None = None,
    judges: int | None = 1,
) -> list[SubmissionResult]:
    """Grade each target directory on the chosen exercises; one result per target.

    With `options.quick` or `options.check`, each exercise's maximum is the points of the
    checks graded. save_reference: also save every reference result the grading compared with, as
    recordings in this folder (live reference only): what a release must hold to grade
    these targets as this checkout does. judges: judging processes (grader.judging.split);
    None: two where that is faster, one while saving the reference.
    """
    exercises = checked_exercises(targets, exercises)
    if not has_solutions() and read_manifest() is None:
        raise GraderError(f"no reference to grade against: neither solutions/ nor recordings in "
                          f"{RECORDINGS.relative_to(ROOT)} (rebuild the release: make release)")
    if save_reference is not None and not has_solutions():
        raise UsageError("--save-reference needs the reference itself (solutions/), which a "
                         "release does not have")
    if judges is None:
        judges = 1 if save_reference else split.judges(exercises, options.device)
    elif judges > 1 and not split.cpu_only(options.device):
        raise UsageError("two judges grade on the CPU only: add --device cpu, or use one "
                         "judge (--judges 1)")
    elif judges > 1 and save_reference:
        raise UsageError("--save-reference keeps what one judge asked of the reference: "
                         "use one judge (--judges 1)")
    state, started_at, seconds = _session(targets, exercises, options,
                                          *(["--grade-record"] if save_reference else []),
                                          *(["-p", "grader.judging.split"] if judges > 1 else []))
    if state.selected == 0:
        raise UsageError(f"no check of {', '.join(exercises)} matches "
                         f"{' or '.join(map(repr, options.check))}")
    if save_reference is not None:
        state.reference.save(save_reference, _recorded_devices(state))
    env = environment.describe(state.devices)
    hidden = (environment.installed() or {}).get("hidden_points", {})
    return [
        state.result(target.resolve(), exercises, env, started_at, seconds, hidden)
        for target in targets
    ]


def record(*, reference: Path, out: Path, device: str = "all") -> dict:
    """Grade the reference live with these suites and save its results as recordings.

    The reference must get full marks: a recording of a failing reference would grade
    every student against a wrong answer.
    """
    exercises = checked_exercises([reference], None)
    state, _, _ = _session([reference], exercises, GradingOptions(device=device),
                           f"--grade-reference={reference.resolve()}", "--grade-record")
    env = environment.describe(state.devices)
    result = state.result(reference.resolve(), exercises, env, "", 0.0, {})
    short = [f"{e.name} {e.score:g}/{e.max_score:g}" for e in result.exercises
             if e.score < e.max_score]
    if short or result.internal_errors:
        raise GraderError(f"the reference does not get full marks ({', '.join(short)}); "
                          f"nothing recorded\n{reports.table(result)}")
    return state.reference.save(out, _recorded_devices(state))


def _recorded_devices(state: GradingState) -> tuple[str, ...]:
    return tuple(d for d in state.devices if d == "cpu" or torch.cuda.is_available())


def checked_exercises(targets: list[Path], exercises: list[str] | None) -> list[str]:
    """The exercises asked for (default all), once each is known and every target holds
    one of their modules; else a UsageError that says what is wrong."""
    known = exercise_names()
    exercises = exercises or known
    unknown = [name for name in exercises if name not in known]
    if unknown:
        raise UsageError(f"unknown exercise {', '.join(unknown)}; the exercises are: "
                         f"{', '.join(known)}")
    for target in targets:
        if not target.is_dir():
            raise UsageError(f"{target} is not a directory")
        if not any((target / f"{name}.py").is_file() for name in exercises):
            raise UsageError(f"{target} holds no exercise module (expected one of: "
                             f"{', '.join(f'{n}.py' for n in exercises)})")
    return exercises


def _session(targets: list[Path], exercises: list[str], options: GradingOptions,
             *extra: str) -> tuple[GradingState, str, float]:
    """Run the grading suites in pytest; the state holds every check's runs."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.perf_counter()
    capture = _Capture()
    args = [
        *(str(suite_path(name)) for name in exercises),
        *(f"--grade-target={target.resolve()}" for target in targets),
        *options.flags(prefix="grade-"),
        f"--rootdir={ROOT}",
        "-p", "grader.judging.plugin",
        "-p", "no:cacheprovider",
        "-p", "no:terminal",
        # Nothing reads the log records pytest would capture around every phase of every
        # check: 0.5 to 1 CPU-s of a full grade (benchmarks/profile_grade.py).
        "-p", "no:logging",
        # Nor the unraisable exceptions of the judge's own code (the submission's are the
        # workers'): that plugin collects garbage twice at the end, 0.5 CPU-s of every grade.
        "-p", "no:unraisableexception",
        "-W", "ignore",
        *extra,
    ]
    code = pytest.main(args, plugins=[capture])
    if capture.broken_suite is not None:
        raise GraderError(f"a grading suite cannot be loaded: {capture.broken_suite}")
    ran = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    if capture.state is not None and capture.state.selected == 0:
        ran = (pytest.ExitCode.NO_TESTS_COLLECTED,)  # no check matches --check: grade() says so
    if capture.state is None or code not in ran:
        raise GraderError(f"the grading session failed (pytest exit code {int(code)})")
    return capture.state, started_at, time.perf_counter() - clock


class _Capture:
    """A plugin object that keeps the grading state when the session ends, and the first
    error that kept a suite from being collected (an author's mistake, not a student's)."""

    state: GradingState | None = None
    broken_suite: str | None = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.state = session.config.stash.get(STATE, None)

    def pytest_exception_interact(self, node, call, report) -> None:
        if isinstance(report, pytest.CollectReport) and self.broken_suite is None:
            self.broken_suite = _where(call.excinfo.value)


def _where(exc: BaseException) -> str:
    """'tests/test_x.py:42: SyntaxError: invalid syntax': the suite's line that failed."""
    if isinstance(exc, SuiteError):
        return str(exc)
    if isinstance(exc, pytest.Collector.CollectError) and exc.__cause__ is not None:
        exc = exc.__cause__  # pytest wraps import and syntax errors
    if isinstance(exc, SyntaxError):
        path, line, text = exc.filename or "?", exc.lineno, exc.msg
    else:
        ours = [frame for frame in traceback.extract_tb(exc.__traceback__)
                if Path(frame.filename).is_relative_to(ROOT)]
        frame = ours[-1] if ours else None
        path, line = (frame.filename, frame.lineno) if frame else ("?", None)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if Path(path).is_relative_to(ROOT):
        path = str(Path(path).relative_to(ROOT))
    return f"{path}:{line}: {type(exc).__name__}" + (f": {text}" if text else "")


def checks_left_out(results: list[SubmissionResult]) -> bool:
    """Whether a grading left out checks that count here (hidden ones a release lacks do
    not: they are graded after submission)."""
    return any(exercise.max_score + exercise.hidden_points < declared_points(exercise.name)
               for result in results for exercise in result.exercises)
