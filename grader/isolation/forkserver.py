"""The fork server every worker is forked from, and its early start.

The server imports torch once (seconds), so a fresh worker costs milliseconds. The judging
process imports torch too; started first thing, the server does its imports while the
judging process does its own, on another core, instead of after them.

The server starts with a minimal environment (`WORKER_ENVIRONMENT`), and every worker
inherits it: a CI runner's or a grading host's tokens never reach a submission, neither in
`os.environ` nor in /proc/self/environ.
"""

from __future__ import annotations

import ast
import functools
import multiprocessing
import multiprocessing.forkserver
import os

from grader import ROOT
from grader.exercises import exercise_names

# Imported once, in the server. torch.use_deterministic_algorithms imports
# torch._inductor.config, which takes seconds (and torch._dynamo, which torch.optim needs).
# The checkout's packages that probes import (grader, tests, data) must be among them: a
# confined worker may not list the checkout's root, so once the root has changed (a first
# run creates .hypothesis/ or build/ there) Python cannot find a top-level package in it.
PRELOAD = ("grader.isolation.subreaper", "grader.isolation.worker", "torch._inductor.config",
           "numpy", "tests.probes", "data")
# Imported too when an exercise that is graded imports them, in its stub or its probes: a
# second or so each, which a checkoff of another exercise need not wait for.
PRELOAD_IF_IMPORTED = ("sklearn.metrics", "matplotlib.figure")
# What a worker's environment keeps: names, and prefixes ending in "*". Locale, paths,
# Python's and the threading libraries' settings, and what CUDA needs to find the GPU.
WORKER_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ",
                      "TERM", "TMPDIR", "VIRTUAL_ENV", "PYTHON*", "LD_LIBRARY_PATH",
                      "OMP_*", "MKL_*", "CUDA_*", "NVIDIA_*", "PYTORCH_*", "CUBLAS_*")
# Commands that grade in this process (class grading grades each student in a child).
GRADING_COMMANDS = {"grade", "checkoff", "record", "gradescope-run", "serve"}


def context(exercises: tuple[str, ...] | None = None,
            ) -> multiprocessing.context.ForkServerContext:
    """The fork server's context; its preload serves `exercises` (default: all of them)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload(exercises or tuple(exercise_names())))
    return ctx


@functools.cache
def preload(exercises: tuple[str, ...]) -> list[str]:
    imported = set().union(*(_imports(ROOT / folder / f"{name}.py") for name in exercises
                             for folder in ("exercises", "tests/probes")))
    return [*PRELOAD, *(m for m in PRELOAD_IF_IMPORTED if m.split(".")[0] in imported)]


def _imports(path) -> set[str]:
    """The top-level packages a module imports anywhere in its text."""
    if not path.is_file():
        return set()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def start_early(argv: list[str]) -> None:
    """Start the server now when `python -m grader ARGV` will grade in this process."""
    grades_here = (argv[:1] and argv[0] in GRADING_COMMANDS and "--submissions" not in argv
                   and argv[1:2] != ["verify"])
    if grades_here:
        ensure_running(_named_exercises(argv))


def ensure_running(exercises: tuple[str, ...] | None = None,
                   ) -> multiprocessing.context.ForkServerContext:
    """Start the server (once) for `exercises`, in the minimal worker environment."""
    ctx = context(exercises)
    kept = worker_environment(os.environ)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(kept)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ctx


def stop() -> None:
    """Stop the server, if this process started one, and wait for it: its CPU time (its
    workers' included, which it waited for) then counts among this process's children's,
    where `time` and a class batch read it."""
    multiprocessing.forkserver._forkserver._stop()  # noqa: SLF001 - no public way to wait


def share_with_fork() -> None:
    """In a process forked from the one that started the server (grader.judging.split): use
    that server as it is. multiprocessing checks on it with waitpid, as on a child, which it
    is not here; it lives as long as the process that started it."""
    def running() -> None:
        pass
    # The module's function and the method its connections call.
    multiprocessing.forkserver.ensure_running = running
    multiprocessing.forkserver._forkserver.ensure_running = running  # noqa: SLF001


def server_pid() -> int | None:
    """The pid of the server this process started; None before it starts."""
    return multiprocessing.forkserver._forkserver._forkserver_pid  # noqa: SLF001 - no public way


def worker_environment(environ) -> dict[str, str]:
    """The variables of `environ` that `WORKER_ENVIRONMENT` keeps."""
    def kept(name: str) -> bool:
        return any(name == rule or rule.endswith("*") and name.startswith(rule[:-1])
                   for rule in WORKER_ENVIRONMENT)
    return {name: value for name, value in environ.items() if kept(name)}


def _named_exercises(argv: list[str]) -> tuple[str, ...] | None:
    """The exercises `--exercise NAME` (or `=NAME`) selects; None: all, or a name unknown."""
    names = [value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--exercise"]
    names += [word.removeprefix("--exercise=") for word in argv
              if word.startswith("--exercise=")]
    known = exercise_names()
    return tuple(names) if names and all(name in known for name in names) else None
