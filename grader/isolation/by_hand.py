"""By hand means by hand: the library callables an exercise asks students to write themselves.

An exercise declares its rule in its probes module, which the worker imports anyway:

    BY_HAND = ByHand(uses={"Adam": ("torch.optim.Adam", ...)}, advice="write ... yourself")

Before a submission is imported, the worker wraps each named callable (in place for a
class's methods, in every module that exports it for a function), so that every alias the
submission binds is the wrapped one. A wrapped callable raises `ByHandViolation` when it
runs on behalf of a named class or function of the submission: called from its code
(directly or through a helper), or as an inherited method of a named class that
subclasses it. Anyone else (the probes, other functions) gets the library as it is.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from dataclasses import dataclass
from types import FunctionType, ModuleType


class ByHandViolation(Exception):
    """A submission used a library callable its exercise asks it to write by hand."""


@dataclass(frozen=True)
class ByHand:
    """uses: the submission's class or function -> dotted library callables it may not use;
    advice: what the student should do instead, as the handout says it."""

    uses: dict[str, tuple[str, ...]]
    advice: str


def rule_of(exercise: str) -> ByHand | None:
    """The exercise's rule: `BY_HAND` in its probes module, if it has one."""
    return getattr(importlib.import_module(f"tests.probes.{exercise}"), "BY_HAND", None)


def library(dotted: str):
    """The library callable a rule names ("torch.optim.Adam"), imported."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def enforce(rule: ByHand, exercise: str, path: str) -> None:
    """Wrap every callable `rule` names, for the submission `exercise` loaded from `path`."""
    for dotted in sorted({d for names in rule.uses.values() for d in names}):
        target = library(dotted)
        banned_for = tuple(name for name, names in rule.uses.items() if dotted in names)
        check = functools.partial(_check, dotted, banned_for, rule.advice, exercise, path)
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


def _check(dotted: str, banned_for: tuple[str, ...], advice: str, exercise: str, path: str,
           receiver) -> None:
    cls = type(receiver)
    if cls.__module__ == exercise and cls.__qualname__ in banned_for:
        line = _first_line(cls)
        raise ByHandViolation(f"line {line}: {cls.__qualname__} subclasses {dotted}; {advice}")
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_filename == path and code.co_qualname.split(".")[0] in banned_for:
            raise ByHandViolation(f"line {frame.f_lineno}: {code.co_qualname.split('.')[0]} "
                                  f"uses {dotted}; {advice}")
        frame = frame.f_back


def _first_line(cls: type) -> int | str:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return "?"
