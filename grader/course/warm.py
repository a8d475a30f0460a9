"""A warm grader: one judging process that runs grader commands one after another.

Starting `python -m grader` costs seconds of CPU before anything is graded: torch, pytest and
the suites are imported by the judge, and torch again by its fork server. A class batch and
the self-tests that grade many submissions pay that once per warm process instead of once per
command. Each command is its own pytest session: its workers are forked fresh from the same
preloaded fork server, confined, and killed (with anything they started) when its session
ends, so nothing a submission does reaches the next command's submission.

The controller (`WarmGrader`) talks to `python -m grader serve` over the child's stdin and
stdout, one framed JSON message each way per command. The child moves its own stdout onto
stderr first: a stray write to file descriptor 1 cannot corrupt the channel.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from grader.isolation import processes


@dataclass(frozen=True)
class CommandResult:
    """What one command printed and its exit code, as `python -m grader ARGV` would have."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    # The warm process tree's CPU since its previous command (the first: since it started,
    # imports included): the judge's, the fork server's and its reaped workers'.
    cpu_seconds: float = 0.0


class WarmGraderDied(RuntimeError):
    """The warm process exited or stopped answering: the command's grade is unknown."""


class WarmGrader:
    """`python -m grader serve` in `cwd`, kept for many commands (a context manager)."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None,
                 python: str = sys.executable):
        self.cwd = Path(cwd)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        # A session of its own: close() kills the whole tree, fork server included.
        self._process = subprocess.Popen(
            [python, "-m", "grader", "serve"], cwd=cwd, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log, start_new_session=True)
        self._requests = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._replies = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()

    def run(self, argv: list[str], timeout: float | None = None) -> CommandResult:
        """Run `python -m grader ARGV` in the warm process; raise WarmGraderDied if it dies,
        subprocess.TimeoutExpired (and close) if it runs past `timeout` seconds."""
        try:
            self._requests.send_bytes(json.dumps(argv).encode())
            if not self._replies.poll(timeout):
                self.close()
                raise subprocess.TimeoutExpired(argv, timeout or 0)
            reply = json.loads(self._replies.recv_bytes())
        except (EOFError, OSError) as exc:
            raise WarmGraderDied(f"the warm grader died: {self._tail()}") from exc
        return CommandResult(argv, **reply)

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """Kill the warm process and everything in its session (workers have process
        groups of their own, so a group kill would miss them)."""
        for pid in processes.session_members(self._process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._process.wait()
        self._requests.close()
        self._replies.close()
        self._log.close()

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return " / ".join(lines[-3:]) or f"exit code {self._process.poll()}"

    def __enter__(self) -> WarmGrader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(main: Callable[[list[str]], int]) -> int:
    """The warm process: run each command read from stdin with `main`, answer on stdout."""
    # Here, not at the top: the controller imports this module and must stay light.
    from grader.isolation import forkserver

    def tree_cpu() -> float:
        own, waited = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
        server = forkserver.server_pid()
        return (own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime
                + (processes.cpu_seconds(server) if server else 0.0))

    counted = 0.0
    requests = Connection(os.dup(0), writable=False)
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    with open(os.devnull) as nothing:
        os.dup2(nothing.fileno(), 0)
    while True:
        try:
            argv = json.loads(requests.recv_bytes())
        except EOFError:
            return 0
        reply = _command(main, argv)
        now = tree_cpu()
        reply["cpu_seconds"], counted = round(now - counted, 3), now
        replies.send_bytes(json.dumps(reply).encode())


def _command(main: Callable[[list[str]], int], argv: list[str]) -> dict:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), _no_stdin():
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a usage error, or --help
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:  # what an uncaught error does to `python -m grader`
            traceback.print_exc()
            code = 1
    return {"returncode": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


@contextlib.contextmanager
def _no_stdin() -> Iterator[None]:
    saved, sys.stdin = sys.stdin, io.StringIO()
    try:
        yield
    finally:
        sys.stdin = saved
