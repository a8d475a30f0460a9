"""Imported by the fork server (`forkserver.PRELOAD`): it becomes a child subreaper. A
benchmark or a self-test that measures a grading's whole CPU imports it too, then calls
`wait_for_children`.

A process that a submission detaches (setsid, a double fork) would be re-parented to init
and outlive the grader. With the fork server as subreaper it is re-parented there instead,
where `grader.isolation.sandbox` finds every process that is not a live worker and kills it.
"""

import atexit
import os
import sys
import time
import warnings

from grader.isolation import processes

if sys.platform == "linux":
    import ctypes

    _PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # The server reaps such processes as it reaps workers; they are expected here.
    warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")


def _reap_before_exit(server: int = os.getpid()) -> None:
    """At the server's exit, kill what is left under it and wait for all of it, so that
    the CPU time of every worker counts in the server's children's time, and the server's
    in the judge's (which waits for it: `grader.isolation.forkserver.stop`)."""
    if os.getpid() != server:  # a process forked from the server that exits normally
        return
    processes.kill_under(server)
    wait_for_children()
    # The judge waits for the server's exit: leave without the interpreter's teardown
    # (freeing torch's modules), which took 1.4 s of every grade's wall time. The server
    # has nothing else to close: its workers are gone, its output is flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def wait_for_children(timeout: float | None = None) -> None:
    """Wait until this process has no child left, adopted ones included (so that their CPU
    counts in its children's time); with `timeout`, give up after that many seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            if deadline is None:
                os.wait()
            elif os.waitpid(-1, os.WNOHANG)[0] == 0:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)
        except ChildProcessError:
            return


atexit.register(_reap_before_exit)
