"""Progress lines for the programs that train on these data sets.

A training run on a shared two-core machine can take minutes: the programs print one
line per epoch with what it reached, the time spent and an estimate of the time left.
`EpochProgress` does it around a loader, for training functions that print nothing of
their own (the exercise's function iterates the loader once per epoch, so a finished
pass is a finished epoch).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class Progress:
    """Counts finished steps out of `total` and prints a line for each."""

    def __init__(self, total: int, log: Callable[[str], None] = print) -> None:
        self.total = total
        self.log = log
        self.done = 0
        self.started = time.perf_counter()

    def advance(self, text: str) -> None:
        """Print `text` with the time spent so far and the time the remaining steps need
        at the mean pace so far."""
        self.done += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * max(self.total - self.done, 0)
        self.log(f"{text}  [{elapsed:.0f} s, about {left:.0f} s left]")


class EpochProgress:
    """A loader that advances `progress` after each full pass over it.

    describe: called after the pass; its text (e.g. the validation loss now) opens the
    line. Pass the validation loader, so the line comes once the epoch is evaluated.
    """

    def __init__(self, loader: Iterable[Any], progress: Progress,
                 describe: Callable[[int], str]) -> None:
        self.loader = loader
        self.progress = progress
        self.describe = describe
        self.passes = 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        yield from self.loader
        self.passes += 1
        self.progress.advance(self.describe(self.passes))
