"""By hand means by hand: the library callables an exercise asks students to write themselves.

An exercise declares its rule in its probes module, which the worker imports anyway:

    BY_HAND = ByHand(uses={"Adam": ("torch.optim.Adam", ...)}, advice="write ... yourself")

Before a submission is imported, the worker wraps each named callable (in place for a
class's methods, in every module that exports it for a function), so that every alias the
submission binds is the wrapped one. A wrapped callable raises `ByHandViolation` when it
runs on behalf of a named class or function of the submission: called from its code
(directly or through a helper), or as an inherited method of a named class that
subclasses it. Anyone else (the probes, other functions) gets the library as it is.

A function with a by-hand path and a library path (gradient_descent(use_autograd=False)
and its autograd loop) is named in `paths` instead: its callables raise only while a
probe runs that path inside `by_hand_path()`, and the source reading, which cannot tell
the paths apart, leaves it alone.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FunctionType, ModuleType

from grader.isolation.wire import ByHandFinding


class ByHandViolation(Exception):
    """A submission used a library callable its exercise asks it to write by hand."""

    def __init__(self, finding: ByHandFinding):
        super().__init__(finding)
        self.finding = finding


@dataclass(frozen=True)
class ByHand:
    """uses: the submission's class or function -> dotted library callables it may not use;
    advice: what the student should do instead, as the handout says it; paths: the same
    for a function's by-hand path only (see `by_hand_path`)."""

    uses: dict[str, tuple[str, ...]]
    advice: str
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)


# Whether a probe is running a by-hand path now (`by_hand_path`); the worker is one thread.
_ON_BY_HAND_PATH = [False]


@contextlib.contextmanager
def by_hand_path() -> Iterator[None]:
    """While the probe runs the by-hand path of a function its rule names in `paths`."""
    _ON_BY_HAND_PATH[0] = True
    try:
        yield
    finally:
        _ON_BY_HAND_PATH[0] = False


def rule_of(exercise: str) -> ByHand | None:
    """The exercise's rule: `BY_HAND` in its probes module, if it has one."""
    return getattr(importlib.import_module(f"tests.probes.{exercise}"), "BY_HAND", None)


def library(dotted: str):
    """The library callable a rule names ("torch.optim.Adam"), imported."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def enforce(rule: ByHand, exercise: str, path: str) -> None:
    """Wrap every callable `rule` names, for the submission `exercise` loaded from `path`."""
    every = {d for names in (*rule.uses.values(), *rule.paths.values()) for d in names}
    for dotted in sorted(every):
        target = library(dotted)
        banned_for = tuple(name for name, names in rule.uses.items() if dotted in names)
        on_path = tuple(name for name, names in rule.paths.items() if dotted in names)
        check = functools.partial(_check, dotted, banned_for, on_path, rule.advice, exercise,
                                  path)
        if isinstance(target, type):  # every method it defines: what a subclass inherits
            for method, function in list(vars(target).items()):
                if isinstance(function, FunctionType):
                    setattr(target, method, _guarded(function, check))
        else:
            guarded = _guarded(target, check)
            for module in _exporters(target):
                setattr(module, target.__name__, guarded)


def _exporters(function) -> list[ModuleType]:
    """The loaded modules that hold `function` under its name (its own and re-exports)."""
    found = []
    for module in list(sys.modules.values()):
        try:
            if getattr(module, function.__name__, None) is function:
                found.append(module)
        except Exception:  # noqa: BLE001 - a lazy module's __getattr__ may raise anything
            continue
    return found


def _guarded(original, check):
    def guarded(*args, **kwargs):
        check(args[0] if args else None)
        return original(*args, **kwargs)

    guarded.__name__, guarded.__qualname__ = original.__name__, original.__qualname__
    guarded.__doc__ = original.__doc__
    return guarded


def _check(dotted: str, banned_for: tuple[str, ...], on_path: tuple[str, ...], advice: str,
           exercise: str, path: str, receiver) -> None:
    cls = type(receiver)
    if cls.__module__ == exercise and cls.__qualname__ in banned_for:
        raise ByHandViolation(ByHandFinding(cls.__qualname__, dotted, _first_line(cls), advice,
                                            subclasses=True))
    path_only = on_path if _ON_BY_HAND_PATH[0] else ()
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        owner = code.co_qualname.split(".")[0]
        if code.co_filename == path and owner in banned_for + path_only:
            raise ByHandViolation(ByHandFinding(owner, dotted, frame.f_lineno, advice,
                                                on_path=owner not in banned_for))
        frame = frame.f_back


def _first_line(cls: type) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None
