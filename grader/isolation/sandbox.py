"""The judging side of the sandbox: workers started on demand, reused, killed on a hang.

One worker per (target directory, exercise) is forked from a fork server that has
already imported torch, so a fresh worker costs milliseconds. A call that runs past
its time limit, or a worker that dies, costs only that call: the worker is dropped
and the next call gets a fresh one. A dropped worker takes every process it started
with it, detached ones too: the fork server is their subreaper (`grader.isolation.subreaper`).

A call's time limit is on the CPU time its worker's process tree uses, so the same code
gets the same grade on a busy machine. Code that sleeps or waits uses no CPU: it is
stopped once it has waited (no process of the tree running or runnable) `WAIT_CEILING`
times its CPU limit. A wall-clock ceiling `WALL_CEILING` times larger still stops any
call; one stopped by it while the machine is loaded runs again, once, in a fresh worker,
before it counts.
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import mmap
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.isolation import by_hand, forkserver, frame, processes, source_rules, wire
from grader.isolation.source_rules import SourceFindings
from grader.isolation.wire import Crashed, ErrorKind, TimedOut, TimeLimit, WorkerError
from grader.isolation.worker import OUTPUT_CAP, Request, WorkerSpec, serve

DEFAULT_TIMEOUT = 20.0  # CPU seconds per call; checks that train ask for more
STARTUP_ALLOWANCE = 10.0  # extra seconds for a worker's first call (imports)
WAIT_CEILING = 5.0  # seconds a call may wait (sleep, block), in multiples of its CPU limit
WALL_CEILING = 20.0  # a call's wall-clock limit, in multiples of its CPU limit
POLL_INTERVAL = 0.2  # seconds between two readings of a running call's CPU time
# Bytes one reply may take. The reference's largest is 13 kB (measured over a full grade):
# a reply of gigabytes is a runaway shape, and reading it could exhaust the judge's memory.
REPLY_LIMIT = 64 * 2**20


@dataclass(frozen=True)
class Outcome:
    """What one call returned: a value, or why it failed as typed facts (the judging wing
    words them: grader.judging.feedback)."""

    value: Any = None
    error: WorkerError | None = None
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # used by the worker's process tree during the call
    wall_seconds: float = 0.0  # the call's round trip, as the judge timed it
    cpu_limit: float = 0.0  # the call's limits, CPU time and wall-clock ceiling
    wall_limit: float = 0.0
    retried: bool = False  # timed out on a loaded machine and ran again

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def kind(self) -> ErrorKind | None:
        return None if self.error is None else self.error.kind


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Any
    output_path: str
    server: int | None  # the fork server's pid: where detached processes are re-parented
    calls: int = 0


class LiveWorkers:
    """The pids of every live worker of this process's sandboxes, and of those of a judging
    process forked from it (grader.judging.split): the sweep kills all else under the fork
    server, so each judge must see the other's workers. They are kept in anonymous shared
    memory, which a forked process shares; a lock, shared too, makes starting and recording
    a worker one step for a sweep, which otherwise could take a sibling's worker for a stray
    in between."""

    SLOTS = 4096  # pids, 4 bytes each; a slot holding 0 is free

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 4 * self.SLOTS)
        self._lock = multiprocessing.get_context("fork").Lock()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # A judge killed while holding it would otherwise hang its sibling for good.
        if not self._lock.acquire(timeout=60):
            raise RuntimeError("a judging process died holding the live workers' lock")
        try:
            yield
        finally:
            self._lock.release()

    def pids(self) -> set[int]:
        return set(array.array("i", self._memory[:])) - {0}

    def add(self, pid: int) -> None:
        """Record `pid`; the caller holds the lock."""
        self._put(0, pid)

    def discard(self, pid: int) -> None:
        with self.locked():
            self._put(pid, 0)

    def _put(self, old: int, new: int) -> None:
        slots = array.array("i", self._memory[:])
        if old not in slots:
            if old == 0:
                raise RuntimeError(f"more than {self.SLOTS} live workers")
            return
        at = 4 * slots.index(old)
        self._memory[at:at + 4] = array.array("i", [new]).tobytes()


_LIVE_WORKERS = LiveWorkers()


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
        key = (str(Path(target).resolve()), exercise)
        outcome = self._call(key, Path(target), exercise, device, trusted, request, timeout)
        if outcome.kind == ErrorKind.TIMEOUT and outcome.wall_seconds > outcome.wall_limit \
                and machine_is_loaded():
            retry = self._call(key, Path(target), exercise, device, trusted, request, timeout)
            return dataclasses.replace(retry, retried=True)
        return outcome

    def _call(self, key: tuple[str, str], target: Path, exercise: str, device: str,
              trusted: bool, request: Request, timeout: float) -> Outcome:
        """One call, limited to `timeout` CPU seconds (plus the startup allowance on a
        worker's first call), and to the ceilings on waiting and wall-clock time."""
        worker = self._workers.get(key)
        if worker is None:
            worker = self._workers[key] = self._start(target, exercise, device, trusted)
        cpu_limit = timeout + (self.startup_allowance if worker.calls == 0 else 0.0)
        limits = {"cpu_limit": cpu_limit, "wall_limit": WALL_CEILING * cpu_limit}
        worker.calls += 1
        pid = worker.process.pid
        # Reading the whole tree scans /proc: done only while a call runs long enough to poll.
        cpu_before = processes.cpu_seconds(pid)
        started = last = time.perf_counter()
        waited = 0.0
        try:
            worker.conn.send(request)
            while not worker.conn.poll(POLL_INTERVAL):
                cpu, runnable = processes.tree_cpu_seconds(pid)
                cpu -= cpu_before
                now = time.perf_counter()
                waited += 0.0 if runnable else now - last
                last, wall = now, now - started
                if cpu > cpu_limit:
                    timed_out = TimedOut(TimeLimit.CPU, timeout, cpu)
                elif waited > WAIT_CEILING * cpu_limit:
                    timed_out = TimedOut(TimeLimit.WAIT, waited, cpu)
                elif wall > limits["wall_limit"]:
                    timed_out = TimedOut(TimeLimit.WALL, wall, cpu)
                else:
                    continue
                return self._stopped(key, WorkerError(ErrorKind.TIMEOUT, timed_out=timed_out),
                                     cpu, wall, limits)
            reply = wire.load_reply(worker.conn.recv_bytes(REPLY_LIMIT))
            refused = None
        except (EOFError, OSError) as exc:
            if not (isinstance(exc, OSError) and not worker.conn.closed
                    and not worker.conn.readable):
                return dataclasses.replace(self._crashed(key), **limits)
            # multiprocessing found the reply over REPLY_LIMIT and stopped reading it.
            refused = WorkerError(ErrorKind.UNSENDABLE, oversized=REPLY_LIMIT)
        except frame.Unreadable:  # the submission wrote into the worker's channel
            refused = WorkerError(ErrorKind.EXCEPTION)
        wall = time.perf_counter() - started
        cpu = processes.cpu_seconds(pid) - cpu_before
        if refused is not None:
            return self._stopped(key, refused, cpu, wall, limits)
        self.round_trips.append(wall - reply.seconds)
        return Outcome(value=reply.value, error=reply.error, output=reply.output,
                       seconds=reply.seconds, cpu_seconds=cpu, wall_seconds=wall, **limits)

    def _start(self, target: Path, exercise: str, device: str, trusted: bool) -> _Worker:
        ctx = forkserver.ensure_running()
        module_path = target / f"{exercise}.py"
        name = f"{os.getpid()}-{self._started}-{exercise}"  # a forked judge shares the folder
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
        with _LIVE_WORKERS.locked():
            process.start()
            _LIVE_WORKERS.add(process.pid)
        child.close()
        started = processes.read(process.pid)
        return _Worker(process, parent, spec.output_path, started and started.parent)

    def _stopped(self, key: tuple[str, str], error: WorkerError, cpu: float, wall: float,
                 limits: dict[str, float]) -> Outcome:
        """A call the sandbox ends without reading a reply (a timeout, a reply refused):
        the worker is killed, since what is or will be left in its channel cannot answer the
        next request; the next call gets a fresh one."""
        output_path = self._workers[key].output_path
        self._kill(key)
        return Outcome(error=error, output=wire.printable(_read_output(output_path)),
                       cpu_seconds=cpu, wall_seconds=wall, **limits)

    def _crashed(self, key: tuple[str, str]) -> Outcome:
        worker = self._workers[key]
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        output = _read_output(worker.output_path)
        self._kill(key)
        crashed = (Crashed(signal=signal.Signals(-code).name) if code is not None and code < 0
                   else Crashed(exit_code=code))
        return Outcome(error=WorkerError(ErrorKind.CRASH, crashed=crashed),
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

    @property
    def has_workers(self) -> bool:
        return bool(self._workers)

    def stop_workers(self) -> None:
        for key in list(self._workers):
            self._kill(key)

    def close(self) -> None:
        self.stop_workers()
        self._tmp.cleanup()


def machine_is_loaded() -> bool:
    """More runnable processes, over the last minute, than this process has cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return os.getloadavg()[0] > (cores or 1)


def _sweep(server: int) -> None:
    """Kill every process under the fork server but the live workers (of this judge and of
    its sibling) and their children."""
    with _LIVE_WORKERS.locked():
        processes.kill_under(server, spare=_LIVE_WORKERS.pids())


def _read_output(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(OUTPUT_CAP).decode("utf-8", "replace")
    except OSError:
        return ""
