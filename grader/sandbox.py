"""The judging side of the sandbox: workers started on demand, reused, killed on a hang.

One worker per (target directory, exercise) is forked from a fork server that has
already imported torch, so a fresh worker costs milliseconds. A call that runs past
its time limit, or a worker that dies, costs only that call: the worker is dropped
and the next call gets a fresh one. A dropped worker takes every process it started
with it, detached ones too: the fork server is their subreaper (`grader.subreaper`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import by_hand, forkserver, source_rules, wire
from grader.source_rules import SourceFindings
from grader.worker import OUTPUT_CAP, ErrorKind, Request, WorkerSpec, serve

DEFAULT_TIMEOUT = 20.0  # seconds per call; checks that train ask for more
STARTUP_ALLOWANCE = 10.0  # extra seconds for a worker's first call (imports)


@dataclass(frozen=True)
class Outcome:
    """What one call returned: a value, or an error described in plain words."""

    ok: bool
    value: Any = None
    kind: ErrorKind | None = None  # for errors
    message: str = ""
    out_of_memory: bool = False
    traceback: str = ""
    output: str = ""
    seconds: float = 0.0
    # For an exception of the submission's: the functions of its file the traceback passes
    # through (qualified names, outermost first), and the tensor arguments of the first.
    raised_in: tuple[str, ...] = ()
    arguments: str = ""


def _error_kind(text: Any) -> ErrorKind:
    """The worker's word for an error; student code shares that process, so anything else
    it could send is an exception of the submission's, not the grader's fault."""
    try:
        return ErrorKind(text)
    except ValueError:
        return ErrorKind.EXCEPTION


def _names(value: Any) -> tuple[str, ...]:
    """A list of names from the worker, which student code shares: kept only when it is one."""
    if not isinstance(value, list):
        return ()
    return tuple(wire.printable(name) for name in value if isinstance(name, str))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Any
    output_path: str
    server: int | None  # the fork server's pid: where detached processes are re-parented
    calls: int = 0


# Every live worker of this process's sandboxes: the sweep kills all else under the server.
_LIVE_WORKERS: set[int] = set()


@dataclass
class Sandbox:
    """Runs probes on targets, one worker per (target, exercise)."""

    startup_allowance: float = STARTUP_ALLOWANCE
    threads: int = 1
    memory_limit: int | None = 8 * 2**30
    _workers: dict[tuple[str, str], _Worker] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="grader-")
    )
    round_trips: list[float] = field(default_factory=list)
    _started: int = 0  # workers started so far: names their files

    def run(
        self,
        target: Path,
        exercise: str,
        probe: Callable,
        case: Any,
        device: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        seed: int = 0,
        trusted: bool = False,
    ) -> Outcome:
        """Run `probe(module, case, device)` in the worker for (target, exercise).

        trusted: the target is the reference, which may import `solutions`.
        """
        request = Request(probe.__module__, probe.__name__, case, device, seed)
        target = Path(target)
        key = (str(target.resolve()), exercise)
        worker = self._workers.get(key)
        if worker is None:
            worker = self._workers[key] = self._start(target, exercise, device, trusted)
        allowance = timeout + (self.startup_allowance if worker.calls == 0 else 0.0)
        worker.calls += 1
        started = time.perf_counter()
        try:
            worker.conn.send(request)
            if not worker.conn.poll(allowance):
                self._kill(key)
                return Outcome(False, kind=ErrorKind.TIMEOUT,
                               message=f"timed out after {timeout:g} s",
                               output=wire.printable(_read_output(worker.output_path)))
            reply = wire.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, BrokenPipeError):
            return self._crashed(key)
        self.round_trips.append(time.perf_counter() - started - reply.get("seconds", 0.0))
        output = wire.printable(reply["output"])
        if reply["ok"]:
            return Outcome(True, value=reply["value"], output=output, seconds=reply["seconds"])
        error = reply["error"]
        return Outcome(False, kind=_error_kind(error["kind"]),
                       message=wire.printable(error["message"]),
                       out_of_memory=bool(error.get("out_of_memory")),
                       traceback=wire.printable(error.get("traceback", "")), output=output,
                       seconds=reply.get("seconds", 0.0),
                       raised_in=_names(error.get("functions")),
                       arguments=wire.printable(str(error.get("arguments", ""))))

    def _start(self, target: Path, exercise: str, device: str, trusted: bool) -> _Worker:
        ctx = forkserver.ensure_running()
        module_path = target / f"{exercise}.py"
        name = f"{self._started}-{exercise}"
        self._started += 1
        spec = WorkerSpec(
            exercise=exercise,
            module_path=str(module_path) if module_path.is_file() else None,
            trusted=trusted,
            output_path=os.path.join(self._tmp.name, f"{name}.out"),
            workdir=os.path.join(self._tmp.name, f"{name}.cwd"),
            threads=self.threads,
            # RLIMIT_DATA also caps the CUDA driver's mappings, so GPU workers go without.
            memory_limit=None if device.startswith("cuda") else self.memory_limit,
            findings=(SourceFindings() if trusted or not module_path.is_file()
                      else source_rules.read(module_path, by_hand.rule_of(exercise))),
        )
        parent, child = ctx.Pipe()
        process = ctx.Process(target=serve, args=(child, spec), daemon=True)
        process.start()
        child.close()
        _LIVE_WORKERS.add(process.pid)
        status = _status(process.pid)
        return _Worker(process, parent, spec.output_path, status and status[1])

    def _crashed(self, key: tuple[str, str]) -> Outcome:
        worker = self._workers[key]
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        output = _read_output(worker.output_path)
        self._kill(key)
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            reason = {
                "SIGSEGV": "crashed with a segmentation fault (SIGSEGV)",
                "SIGKILL": "was killed (SIGKILL), most likely for using too much memory",
                "SIGABRT": "aborted (SIGABRT)",
            }.get(name, f"was killed by {name}")
        else:
            reason = f"exited with code {code} (os._exit or a hard crash)"
        return Outcome(False, kind=ErrorKind.CRASH,
                       message=f"the process running your code {reason}",
                       output=wire.printable(output))

    def _kill(self, key: tuple[str, str]) -> None:
        worker = self._workers.pop(key)
        pid = worker.process.pid
        _LIVE_WORKERS.discard(pid)
        if worker.process.is_alive():
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        if worker.server is not None:
            _sweep(worker.server)

    def close(self) -> None:
        for key in list(self._workers):
            self._kill(key)
        self._tmp.cleanup()


def _status(pid: int) -> tuple[bytes, int] | None:
    """(state, parent pid) of a process (Linux /proc); None where it is gone or unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name may hold ") "
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _parents() -> dict[int, int]:
    """{pid: parent pid} of every living process (Linux /proc; empty elsewhere)."""
    parents = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        status = _status(int(entry.name)) if entry.name.isdigit() else None
        if status is not None and status[0] != b"Z":  # a zombie is dead; its parent reaps it
            parents[int(entry.name)] = status[1]
    return parents


def _sweep(server: int) -> None:
    """Kill every process under the fork server but the live workers and their children.

    A killed process's children are re-parented to the server, so the sweep repeats
    until a pass finds nothing: a process that forks meanwhile is caught in the next.
    """
    for _ in range(1000):
        parents = _parents()
        children: dict[int, list[int]] = {}
        for pid, parent in parents.items():
            children.setdefault(parent, []).append(pid)
        doomed = [pid for pid in children.get(server, []) if pid not in _LIVE_WORKERS]
        if not doomed:
            return
        while doomed:
            pid = doomed.pop()
            doomed += children.get(pid, [])
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _read_output(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(OUTPUT_CAP).decode("utf-8", "replace")
    except OSError:
        return ""
