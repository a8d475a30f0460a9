"""The machine's processes as Linux /proc shows them: the engine's one reader of /proc/PID/stat.

The sandbox reads a worker's CPU time and its process tree with it, the fork server finds
what is left under it at exit, a warm grader's controller finds the processes of its
session. Elsewhere than Linux there is no /proc: no process is found, and none uses CPU.
It imports nothing heavy: a warm grader's controller uses it and must stay light.
"""

from __future__ import annotations

import os
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


def tree_cpu_seconds(pid: int) -> tuple[float, bool]:
    """`cpu_seconds` of `pid` and of every living descendant, and whether any of them is
    running or runnable ((0, False) without /proc)."""
    tree = children()
    total, runnable, todo = 0.0, False, [pid]
    while todo:
        current = todo.pop()
        process = read(current)
        if process is not None:
            total += process.cpu_seconds
            runnable = runnable or process.runnable
        todo += tree.get(current, [])
    return total, runnable


def session_members(session: int) -> list[int]:
    """The processes of a session; [session] where that cannot be read."""
    return [p.pid for p in every() if p.session == session] or [session]
