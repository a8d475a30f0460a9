"""The machine's processes as Linux /proc shows them: the engine's one reader of /proc/PID/stat.

The sandbox reads a worker's CPU time and its process tree with it, and kills what a
submission detached (`kill_under`, as the fork server does at exit with all that is left
under it); a warm grader's controller finds the processes of its session. Elsewhere than
Linux there is no /proc: no process is found, and none uses CPU.
It imports nothing heavy: a warm grader's controller uses it and must stay light.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Process:
    """One process, from /proc/PID/stat."""

    pid: int
    state: bytes  # b"R" running or runnable, b"S" asleep, b"Z" a zombie, ...
    parent: int
    session: int
    cpu_seconds: float  # its threads' and the children it has reaped (user and system)

    @property
    def alive(self) -> bool:
        return self.state != b"Z"  # a zombie is dead; its parent reaps it

    @property
    def runnable(self) -> bool:
        return self.state == b"R"


def read(pid: int) -> Process | None:
    """The process `pid`; None where it is gone or /proc cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name may hold ") "
        # After the name: state, parent, group, session, ...; utime, stime, cutime, cstime
        # are the 12th to 15th.
        return Process(pid, fields[0], int(fields[1]), int(fields[3]),
                       sum(int(f) for f in fields[11:15]) / _TICK)
    except (OSError, IndexError, ValueError):
        return None


def every() -> list[Process]:
    """Every process of the machine, zombies included."""
    entries = os.scandir("/proc") if os.path.isdir("/proc") else ()
    return [process for entry in entries if entry.name.isdigit()
            and (process := read(int(entry.name))) is not None]


def children() -> dict[int, list[int]]:
    """{parent pid: its living children's pids}."""
    tree: dict[int, list[int]] = {}
    for process in every():
        if process.alive:
            tree.setdefault(process.parent, []).append(process.pid)
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by `pid` (its threads) and the children it has reaped."""
    process = read(pid)
    return 0.0 if process is None else process.cpu_seconds


def tree(pid: int) -> list[int]:
    """`pid` and every process under it. The sandbox reads a running call's tree five times
    a second: where the kernel lists each thread's children (/proc/PID/task/TID/children),
    only the tree is read, not every process of the machine (thousands on a cluster node);
    zombies not yet reaped are then among them."""
    scanned = None if _LISTS_CHILDREN else children()
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += _children_of(found[-1]) if scanned is None else scanned.get(found[-1], [])
    return found


def _children_of(pid: int) -> list[int]:
    """The children of `pid`, as its threads list them; [] where it is gone."""
    found: list[int] = []
    with contextlib.suppress(OSError):  # gone, or a thread ended meanwhile
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children",
                                                    "rb") as f:
                found += map(int, f.read().split())
    return found


_LISTS_CHILDREN = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def tree_cpu_seconds(pid: int) -> tuple[float, bool]:
    """`cpu_seconds` of `pid` and of every descendant, and whether any of them is
    running or runnable ((0, False) without /proc)."""
    total, runnable = 0.0, False
    for process in filter(None, map(read, tree(pid))):
        total += process.cpu_seconds
        runnable = runnable or process.runnable
    return total, runnable


def kill_under(parent: int, spare: set[int] = frozenset()) -> None:
    """Kill every process under `parent` but its children in `spare` and theirs.

    A killed process's children are re-parented to `parent` where it is their subreaper (the
    fork server), so this repeats until a pass finds nothing: a process that forks meanwhile
    is caught in the next.
    """
    for _ in range(1000):
        below = children()
        doomed = [pid for pid in below.get(parent, []) if pid not in spare]
        if not doomed:
            return
        while doomed:
            pid = doomed.pop()
            doomed += below.get(pid, [])
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def session_members(session: int) -> list[int]:
    """The processes of a session; [session] where that cannot be read."""
    return [p.pid for p in every() if p.session == session] or [session]
