"""Imported by the fork server only (`grader.forkserver.PRELOAD`): it becomes a child subreaper.

A process that a submission detaches (setsid, a double fork) would be re-parented to init
and outlive the grader. With the fork server as subreaper it is re-parented there instead,
where `grader.sandbox` finds every process that is not a live worker and kills it.
"""

import sys
import warnings

if sys.platform == "linux":
    import ctypes

    _PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # The server reaps such processes as it reaps workers; they are expected here.
    warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")
