"""Two judging processes for one grading session, on a machine with two cores or more.

A grade alternates between the judge and one worker at a time, so it keeps one core busy.
Once the checks are collected, the judge forks a second judge (imports, suites and fork
server shared, nothing loaded twice), and both take exercises one at a time from a pipe
filled with them, the slowest first, until it is empty. An exercise's checks all run in one
judge, in file order, as the feedback that names an earlier failing check needs. The second
judge sends its checks' results back as the results document's data
(`grader.judging.results`) and exits; the first merges them, so the results are the same as
from one judge. Where the second judge dies or sends nothing readable, the first grades its
exercises again.

Used for a grade on the CPU of one or more targets (`python -m grader grade`, Gradescope);
not in a class batch, whose jobs use the cores, nor with CUDA (a forked process cannot use
CUDA once its parent has), nor while recording the reference (whose results one judge keeps).
"""

from __future__ import annotations

import json
import os

import pytest
import torch

from grader.isolation import forkserver
from grader.judging.plugin import STATE, GradingState, exercise_of
from grader.judging.results import DeviceRun


def judges(exercises: list[str], device: str) -> int:
    """How many judges grade `exercises` on `device` (an option's value: cpu, cuda, all):
    two where there are two exercises or more, the CPU only, and two cores."""
    # Linux only: elsewhere no affinity is read, and macOS does not survive a fork of a
    # process that has started its frameworks' threads.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return 2 if len(exercises) > 1 and cpu_only(device) and cores > 1 else 1


def cpu_only(device: str) -> bool:
    """Whether grading on `device` (cpu, cuda, all) uses the CPU alone: two judges need it."""
    return device == "cpu" or (device == "all" and not torch.cuda.is_available())


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Run this judge's share of the checks, then (the first judge) merge the second's."""
    state = session.config.stash[STATE]
    if session.testsfailed or session.config.option.collectonly or state.sandbox.has_workers:
        # pytest's own loop reports a broken collection; a judge that already has workers
        # would share their pipes with the one it forks.
        return None
    by_exercise: dict[str, list[pytest.Item]] = {}
    for item in session.items:
        by_exercise.setdefault(exercise_of(item.module), []).append(item)
    if len(by_exercise) < 2:
        return None
    order = sorted(by_exercise, key=lambda name: -_expected_cost(by_exercise[name]))
    reader, writer = os.pipe()  # the queue: one byte per exercise, its index in `order`
    os.write(writer, bytes(range(len(order))))
    os.close(writer)
    results_reader, results_writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(results_reader)
        _second_judge(session, by_exercise, order, reader, results_writer)
    os.close(results_writer)
    mine = _run_claimed(session, by_exercise, order, reader)
    os.close(reader)
    theirs = [name for name in order if name not in mine]
    with os.fdopen(results_reader) as results:
        sent = results.read()
    if not _merge(state, sent, theirs):
        for name in theirs:
            _run_items(session, by_exercise[name])
    os.waitpid(pid, 0)
    return True


def _expected_cost(items: list[pytest.Item]) -> float:
    """A check's CPU time limit (its `call_timeout`, else 20 s) stands for what it costs: the
    checks that train ask for more."""
    def limit(item: pytest.Item) -> float:
        marker = item.get_closest_marker("call_timeout")
        return float(marker.args[0]) if marker else 20.0
    return sum(limit(item) for item in items)


def _second_judge(session: pytest.Session, by_exercise: dict[str, list[pytest.Item]],
                  order: list[str], reader: int, results_writer: int) -> None:
    """The forked judge: grade what it claims, send the results, leave without pytest's
    teardown (the first judge's to do: its reports, the shared temporary folder)."""
    code, state = 1, session.config.stash[STATE]
    try:
        torch.set_num_threads(1)  # the parent's thread pool does not survive a fork
        forkserver.share_with_fork()
        _fresh_capture(session.config)
        mine = _run_claimed(session, by_exercise, order, reader)
        with os.fdopen(results_writer, "w") as results:
            json.dump(_results_of(state, mine), results)
        code = 0
    finally:
        state.sandbox.stop_workers()
        os._exit(code)


def _fresh_capture(config: pytest.Config) -> None:
    """Capture this process's output into files of its own: the ones inherited are the first
    judge's, which it reads and empties around every check."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None and capture.is_globally_capturing():
        capture._global_capturing = None  # noqa: SLF001 - closing them would empty the parent's
        capture.start_global_capturing()


def _run_claimed(session: pytest.Session, by_exercise: dict[str, list[pytest.Item]],
                 order: list[str], reader: int) -> list[str]:
    """Claim exercises from the queue and run their checks until it is empty."""
    claimed = []
    while index := os.read(reader, 1):
        name = order[index[0]]
        claimed.append(name)
        _run_items(session, by_exercise[name])
    return claimed


def _run_items(session: pytest.Session, items: list[pytest.Item]) -> None:
    for i, item in enumerate(items):
        following = items[i + 1] if i + 1 < len(items) else None
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)


def _results_of(state: GradingState, exercises: list[str]) -> dict:
    return {
        "checks": [[exercise, name, *about] for (exercise, name), about in state.checks.items()
                   if exercise in exercises],
        "runs": [[*key, [run.to_dict() for run in runs]] for key, runs in state.runs.items()
                 if key[1] in exercises],
    }


def _merge(state: GradingState, data: str, exercises: list[str]) -> bool:
    """Add the second judge's results for `exercises` to `state`; False where they are not
    all there."""
    try:
        results = json.loads(data)
        checks = {(exercise, name): (title, points, hidden)
                  for exercise, name, title, points, hidden in results["checks"]}
        runs = {(target, exercise, name): [DeviceRun.from_dict(run) for run in found]
                for target, exercise, name, found in results["runs"]}
    except (ValueError, KeyError, TypeError):
        return False
    if {exercise for exercise, _ in checks} != set(exercises):
        return False
    state.checks.update(checks)
    state.runs.update(runs)
    return True

