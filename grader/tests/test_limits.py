"""A call's time limit is on CPU time: waiting is not charged as running, and a call that
waits forever is still stopped."""

from __future__ import annotations

import pytest

from grader.isolation import forkserver, processes
from grader.isolation import sandbox as sandbox_module
from grader.isolation.sandbox import WAIT_CEILING, Sandbox
from grader.isolation.wire import ErrorKind, TimeLimit
from tests.probes import mcc as mcc_probes

CASE = {"y_true": [0, 1], "y_pred": [0, 1]}
SLEEPS = '''
import time

def confusion_counts(y_true, y_pred):
    time.sleep({seconds})
    return "done"
'''


def test_a_call_is_limited_by_the_cpu_it_uses_and_by_how_long_it_waits(tmp_path):
    """A limit of 0.6 CPU-s: a call that sleeps 1.5 s first, then returns, is not a
    timeout (a wall-clock limit would stop it); one that sleeps forever is stopped once it
    has waited WAIT_CEILING times that, and says it waited."""
    for name, seconds in (("naps", 1.5), ("sleeps", 1e6)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mcc.py").write_text(SLEEPS.format(seconds=seconds))
    forkserver.ensure_running(("mcc",))  # where none runs yet: only what mcc imports
    sandbox = Sandbox(startup_allowance=0.3)
    try:
        naps = sandbox.run(tmp_path / "naps", "mcc", mcc_probes.confusion_counts, CASE, "cpu",
                           timeout=0.3)
        assert naps.ok, naps.error
        assert naps.value == "done"
        assert naps.wall_seconds > 1.5 > naps.cpu_limit > naps.cpu_seconds
        sleeps = sandbox.run(tmp_path / "sleeps", "mcc", mcc_probes.confusion_counts, CASE,
                             "cpu", timeout=0.3)
        assert sleeps.kind == ErrorKind.TIMEOUT, sleeps
        assert sleeps.error.timed_out.limit == TimeLimit.WAIT, sleeps
        assert WAIT_CEILING * 0.6 < sleeps.wall_seconds < sleeps.wall_limit
    finally:
        sandbox.close()


def test_a_call_stopped_by_the_wall_clock_runs_again_only_on_a_loaded_machine(tmp_path,
                                                                              monkeypatch):
    """With the wall-clock ceiling made shorter than the call, it stops the call: once more,
    in a fresh worker, when the machine is loaded; at once otherwise."""
    (tmp_path / "naps").mkdir()
    (tmp_path / "naps" / "mcc.py").write_text(SLEEPS.format(seconds=1.5))
    monkeypatch.setattr(sandbox_module, "WALL_CEILING", 0.5)
    sandbox = Sandbox(startup_allowance=0.3)
    try:
        for loaded in (False, True):
            monkeypatch.setattr(sandbox_module, "machine_is_loaded", lambda: loaded)  # noqa: B023
            outcome = sandbox.run(tmp_path / "naps", "mcc", mcc_probes.confusion_counts, CASE,
                                  "cpu", timeout=0.3)
            assert outcome.kind == ErrorKind.TIMEOUT, outcome
            assert outcome.error.timed_out.limit == TimeLimit.WALL, outcome
            assert outcome.retried == loaded
    finally:
        sandbox.close()


FORKS_A_BURNER = '''
import os

def confusion_counts(y_true, y_pred):
    if os.fork() == 0:
        while True:
            pass
    os.wait()
    return "done"
'''


@pytest.mark.parametrize("lists_children", [True, False], ids=["children-files", "scan"])
def test_the_cpu_of_a_calls_children_counts_against_its_limit(tmp_path, monkeypatch,
                                                               lists_children):
    """A call that waits while its child process burns the CPU is stopped at its CPU limit,
    well before the wait ceiling: the limit is on the worker's whole process tree, and its
    child is runnable. The tree is read from each thread's list of children where the kernel
    keeps one, else from a scan of every process."""
    if lists_children and not processes._LISTS_CHILDREN:  # noqa: SLF001
        pytest.skip("this kernel lists no children under /proc/PID/task/TID")
    monkeypatch.setattr(processes, "_LISTS_CHILDREN", lists_children)
    (tmp_path / "forks").mkdir()
    (tmp_path / "forks" / "mcc.py").write_text(FORKS_A_BURNER)
    sandbox = Sandbox(startup_allowance=0.3)
    try:
        outcome = sandbox.run(tmp_path / "forks", "mcc", mcc_probes.confusion_counts, CASE,
                              "cpu", timeout=0.3)
        assert outcome.kind == ErrorKind.TIMEOUT, outcome
        assert outcome.error.timed_out.limit == TimeLimit.CPU, outcome
        assert outcome.cpu_seconds > outcome.cpu_limit
    finally:
        sandbox.close()
