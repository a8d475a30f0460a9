"""The pytest plugin that turns grading suites into scores.

Options, markers, fixtures and state are registered here, in one place; state lives in
`config.stash`. A grading test takes the `check` fixture, which binds it to one
(target, device) pair and runs probes in the sandbox:

    @pytest.mark.points(2)
    def test_counts(check):
        '''confusion_counts agrees with scikit-learn'''
        got = check.student(probes.confusion_counts, case)

Each test module `tests/test_<exercise>.py` grades one exercise and declares its
total once, as `EXERCISE_POINTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, settings

from grader import ROOT
from grader.exercises import declared_points
from grader.isolation.sandbox import DEFAULT_TIMEOUT, STARTUP_ALLOWANCE, Outcome, Sandbox
from grader.isolation.wire import ErrorKind
from grader.judging import feedback
from grader.judging.feedback import StudentError
from grader.judging.judge import show
from grader.judging.options import GradingOptions, add_flags
from grader.judging.reference import (
    SEED,
    DeviceNotRecorded,
    LiveReference,
    RecordedReference,
    open_reference,
)
from grader.judging.results import (
    CallTime,
    CheckResult,
    DeviceRun,
    ExerciseResult,
    RunOutcome,
    SubmissionResult,
)

pytest_plugins = ["grader.judging.cases"]  # its checks' cases drawn once, then replayed

DEVICES = ("cpu", "cuda")
NOT_SUBMITTED = "not submitted: the graded folder has no module for this exercise"

settings.register_profile(
    "grading",
    derandomize=True,
    database=None,
    deadline=None,
    # Stop at the first failing example: the cases asked of the reference are then always
    # among those a passing run asks, which is what the release records.
    report_multiple_bugs=False,
    print_blob=False,
    # Shrinking re-runs student code many times; the case is already small by construction.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class GradingState:
    """Everything one pytest session of grading holds, kept in `config.stash`."""

    targets: list[Path]
    options: GradingOptions
    devices: tuple[str, ...]
    sandbox: Sandbox
    reference: LiveReference | RecordedReference
    runs: dict[tuple[str, str, str], list[DeviceRun]] = field(default_factory=dict)
    # (exercise, check) -> (title, points, hidden)
    checks: dict[tuple[str, str], tuple[str, float, bool]] = field(default_factory=dict)
    # exercise -> points of the checks left out (--grade-quick, --grade-check)
    left_out: dict[str, float] = field(default_factory=dict)
    # checks kept by the --grade-check patterns (None: no pattern given)
    selected: int | None = None

    def result(self, target: Path, exercises: list[str], environment: dict, started_at: str,
               seconds: float, hidden: dict[str, float]) -> SubmissionResult:
        """The results model of one graded target: what every report is made from.

        hidden: exercise -> points of the checks a release lacks (graded after submission).
        """
        results = []
        for name in exercises:
            # A checkoff or --grade-check leaves out the checks it does not grade.
            exercise = ExerciseResult(name=name,
                                      max_score=declared_points(name) - hidden.get(name, 0.0)
                                      - self.left_out.get(name, 0.0),
                                      hidden_points=hidden.get(name, 0.0),
                                      submitted=(target / f"{name}.py").is_file())
            for (check_exercise, check_name), (title, points, secret) in self.checks.items():
                if check_exercise == name:
                    runs = self.runs.get((str(target), name, check_name), [])
                    exercise.checks.append(CheckResult(name, check_name, title, points, runs,
                                                       hidden=secret))
            exercise.void_if_tampered()
            results.append(exercise)
        errors = sum(run.outcome == RunOutcome.ERROR
                     for e in results for c in e.checks for run in c.runs)
        return SubmissionResult(str(target), results, environment, started_at, seconds, errors)


STATE = pytest.StashKey[GradingState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading")
    group.addoption("--grade-target", action="append", default=[], metavar="DIR",
                    help="directory of exercise modules to grade (repeatable; default exercises/)")
    add_flags(group.addoption, prefix="grade-")
    group.addoption("--grade-reference", metavar="DIR",
                    help="run the reference modules in DIR live (default: solutions/ when "
                         "present, else the recordings in tests/recordings)")
    group.addoption("--grade-recordings", metavar="DIR",
                    help="read the reference's results from the recordings in DIR")
    group.addoption("--grade-record", action="store_true",
                    help="keep the live reference's results, to be saved as recordings")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points a grading check is worth")
    config.addinivalue_line("markers", "call_timeout(seconds): time limit of each call into "
                            "the submission (pytest-timeout's `timeout` limits a whole test)")
    config.addinivalue_line("markers", "hidden: a check kept out of the student release, "
                            "graded only by the instructor (visible after publication)")
    config.addinivalue_line("markers", "full_grade_only: a slow check that `make grade` runs "
                            "and an in-class checkoff (`make checkoff`) leaves out")
    config.addinivalue_line("markers", "uses(function=[checks]): the submission's functions "
                            "this check runs besides its own, and the earlier checks of each")
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile("grading")
    if not config.pluginmanager.has_plugin("terminal"):
        # A grading session words each failure from its exception and prints no pytest
        # report: skip pytest's traceback text, which parses the source of every frame.
        config.option.tbstyle = "no"
    targets = [Path(t).resolve() for t in config.getoption("--grade-target")] or [
        ROOT / "exercises"
    ]
    options = GradingOptions.read(config.getoption, prefix="grade-")
    sandbox = Sandbox(startup_allowance=STARTUP_ALLOWANCE * options.timeout_scale)
    config.stash[STATE] = GradingState(
        targets=targets,
        options=options,
        devices=DEVICES if options.device == "all" else (options.device,),
        sandbox=sandbox,
        reference=open_reference(sandbox, directory=config.getoption("--grade-reference"),
                                 recordings=config.getoption("--grade-recordings"),
                                 recording=config.getoption("--grade-record")),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.sandbox.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out what this grading does not grade. A checkoff grades in seconds: it leaves
    out the slow checks, and the hidden ones, which a student release lacks, so that a
    checkoff grades the same checks everywhere. --grade-check keeps the checks an author
    (or a student) names, to debug one."""
    state = config.stash[STATE]
    quick, patterns = state.options.quick, state.options.check
    if not quick and not patterns:
        return
    kept, left_out, points = [], [], {}
    for item in items:
        outside_checkoff = (item.get_closest_marker("full_grade_only")
                            or item.get_closest_marker("hidden"))
        unmatched = patterns and not check_matches(item.originalname, patterns)
        if (quick and outside_checkoff) or unmatched:
            left_out.append(item)
            # Counted once per check, not once per (target, device) it is parametrized with.
            points[(exercise_of(item.module), item.originalname)] = _points(item)
        else:
            kept.append(item)
    for (exercise, _), value in points.items():
        state.left_out[exercise] = state.left_out.get(exercise, 0.0) + value
    if patterns:
        state.selected = len({(exercise_of(i.module), i.originalname) for i in kept})
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def check_matches(name: str, patterns: tuple[str, ...]) -> bool:
    """A pattern with a wildcard is a glob on the whole name; one without is a part of it."""
    return any(fnmatchcase(name, p if any(c in p for c in "*?[") else f"*{p}*")
               for p in patterns)


def _points(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker else 0.0


def exercise_of(module) -> str:
    """`tests/test_mcc.py` grades the exercise `mcc`."""
    return module.__name__.rsplit(".", 1)[-1].removeprefix("test_")


class SuiteError(Exception):
    """An author's mistake in a grading suite, found at collection: 'path:line: what'."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "check" not in metafunc.fixturenames:
        return
    if any(metafunc.definition.iter_markers("parametrize")):
        # A check is one row of points and feedback; parameters would merge into it silently.
        code = metafunc.function.__code__
        path = Path(code.co_filename)
        raise SuiteError(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:"
                         f"{code.co_firstlineno}: {metafunc.function.__name__} is parametrized; "
                         "a check is graded as one: draw its cases with hypothesis's @given, "
                         "or loop over them inside it")
    state = metafunc.config.stash[STATE]
    params = [(target, device) for target in state.targets for device in state.devices]
    ids = [f"{target.name}-{device}" for target, device in params]
    metafunc.parametrize("check", params, ids=ids, indirect=True)


@pytest.fixture
def check(request: pytest.FixtureRequest) -> Check:
    """The sandbox bound to this test's exercise, target and device."""
    target, device = request.param
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    state = request.config.stash[STATE]
    exercise = exercise_of(request.module)
    if not (target / f"{exercise}.py").is_file():
        pytest.skip(NOT_SUBMITTED)  # no worker started for it: a batch grades partial work
    marker = request.node.get_closest_marker("call_timeout")
    return Check(
        state.sandbox, state.reference, target, exercise, device,
        timeout=(marker.args[0] if marker else DEFAULT_TIMEOUT) * state.options.timeout_scale,
    )


@dataclass
class Check:
    """Runs probes for one test: on the submission, and on the reference for comparison."""

    sandbox: Sandbox
    references: LiveReference | RecordedReference
    target: Path
    exercise: str
    device: str
    timeout: float = DEFAULT_TIMEOUT
    output: str = ""  # what the submission printed in the last call
    cpu_seconds: float = 0.0  # used by the submission's calls so far
    longest_call: CallTime | None = None
    retries: int = 0
    _broken: StudentError | None = None

    def __repr__(self) -> str:
        return f"Check({self.exercise}, {self.target.name}, {self.device})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        # Hypothesis prints a failing example's arguments, this fixture included: the
        # dataclass's fields (the sandbox, every cached reference result) took seconds.
        printer.text(repr(self))

    def student(self, probe: Callable, case: Any, *, timeout: float | None = None) -> Any:
        """The probe's result on the submission; a failure of its code raises StudentError.

        timeout: seconds for this call; default the check's limit (`timeout` marker).
        """
        if self._broken is not None:
            # After a hang or a crash, fail fast: hypothesis would otherwise rerun it.
            raise self._broken
        if self.references.serves(self.target):
            # Grading the reference itself: its results are the ones already cached.
            outcome = self.references.run(self.exercise, probe, case, self.device,
                                          timeout=timeout or self.timeout, record=False)
        else:
            outcome = self.sandbox.run(self.target, self.exercise, probe, case, self.device,
                                       timeout=timeout or self.timeout, seed=SEED)
            self._time(outcome)
        self.output = outcome.output
        if outcome.ok:
            return outcome.value
        error = StudentError(outcome, self.exercise, case)
        if outcome.kind in (ErrorKind.TIMEOUT, ErrorKind.CRASH, ErrorKind.IMPORT,
                            ErrorKind.MISSING_MODULE, ErrorKind.TAMPERING):
            self._broken = error
        raise error

    def _time(self, outcome: Outcome) -> None:
        self.cpu_seconds += outcome.cpu_seconds
        self.retries += outcome.retried
        if self.longest_call is None or outcome.wall_seconds > self.longest_call.wall_seconds:
            self.longest_call = CallTime(outcome.wall_seconds, outcome.cpu_seconds,
                                         outcome.cpu_limit, outcome.wall_limit, outcome.retried)

    def reference(self, probe: Callable, case: Any, *, timeout: float | None = None) -> Any:
        """The probe's result on the reference (live and cached, or recorded).

        Its failure is the grader's fault. On a device the recordings do not hold, the
        check is reported as not run on that device.
        """
        try:
            outcome = self.references.run(self.exercise, probe, case, self.device,
                                          timeout=timeout or self.timeout)
        except DeviceNotRecorded as exc:
            pytest.skip(str(exc))
        if not outcome.ok:
            raise RuntimeError(f"the reference failed on {show(case)}: "
                               f"{feedback.explain(outcome.error, self.exercise, None, 'it')}"
                               f"\n{outcome.output}")
        return outcome.value

    def both(self, probe: Callable, case: Any, *, timeout: float | None = None):
        """(submission's result, reference's result) for the same probe and case."""
        return self.student(probe, case, timeout=timeout), self.reference(probe, case,
                                                                           timeout=timeout)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    callspec = getattr(item, "callspec", None)
    if callspec is None or "check" not in callspec.params:
        return report
    if call.when == "setup" and not report.skipped and report.passed:
        return report
    if call.when == "teardown" and report.passed:
        return report
    state = item.config.stash[STATE]
    target, device = callspec.params["check"]
    exercise = exercise_of(item.module)
    name = item.originalname
    title = (item.obj.__doc__ or name).strip().splitlines()[0]
    state.checks[(exercise, name)] = (title, _points(item),
                                      item.get_closest_marker("hidden") is not None)
    run = _device_run(item, call, report, device)
    if run.outcome == RunOutcome.FAILED:
        run.message = feedback.root_causes(
            _failed_above(item, state, str(target), exercise, device),
            feedback.raised_in(_failure(call))) + run.message
    state.runs.setdefault((str(target), exercise, name), []).append(run)
    return report


def _device_run(item: pytest.Item, call: pytest.CallInfo, report, device: str) -> DeviceRun:
    check = item.funcargs.get("check") if hasattr(item, "funcargs") else None
    check = check if isinstance(check, Check) else None
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
        run = DeviceRun(device, RunOutcome.NOT_RUN, reason.removeprefix("Skipped: "),
                        call.duration)
    elif report.passed:
        run = DeviceRun(device, RunOutcome.PASSED, "", call.duration)
    else:
        run = feedback.failed_run(_failure(call), device, call.duration,
                                  check.output if check else "")
    if check is not None:
        run.cpu_seconds, run.longest_call = round(check.cpu_seconds, 3), check.longest_call
        run.retries = check.retries
    return run


def _failure(call: pytest.CallInfo) -> BaseException | None:
    """The exception that failed a check: the first of a group (hypothesis raises one)."""
    exc = call.excinfo.value if call.excinfo else None
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _failed_above(item: pytest.Item, state: GradingState, target: str, exercise: str,
                  device: str) -> list[str]:
    """The functions this check uses (its `uses` marker) of which a check failed earlier on
    `device`; checks run in file order, so those named have already run."""
    marker = item.get_closest_marker("uses")
    return [function for function, checks in (marker.kwargs.items() if marker else ())
            if any(run.device == device and run.outcome == RunOutcome.FAILED
                   for check in checks
                   for run in state.runs.get((target, exercise, check.__name__), []))]
