"""The fork server every worker is forked from, and its early start.

The server imports torch once (seconds), so a fresh worker costs milliseconds. The judging
process imports torch too; started first thing, the server does its imports while the
judging process does its own, on another core, instead of after them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# Imported once, in the server. torch.use_deterministic_algorithms imports
# torch._inductor.config, which takes seconds; the rest are what probes and submissions
# commonly import.
PRELOAD = ("grader.subreaper", "grader.worker", "torch._inductor.config", "numpy",
           "sklearn.metrics", "matplotlib.figure", "tests.probes")
# Commands that grade in this process (class grading grades each student in a child).
GRADING_COMMANDS = {"grade", "checkoff", "record", "gradescope-run"}


def context() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start_early(argv: list[str]) -> None:
    """Start the server now when `python -m grader ARGV` will grade in this process."""
    grades_here = (argv[:1] and argv[0] in GRADING_COMMANDS and "--submissions" not in argv
                   and argv[1:2] != ["verify"])
    if grades_here:
        context()
        multiprocessing.forkserver.ensure_running()
