"""The cases of a check drawn once per process, then replayed to every target it grades.

Grading draws derandomized (the `grading` profile: no database, no shrinking): a check's
cases are a function of its source and settings alone, never of what the code under grading
returns, since no check calls assume(), target() or data(). So hypothesis's engine runs once
per check and process, on a body that records each case instead of grading it, and every
(target, device) of this session and of a warm grader's later ones replays that list. The
engine's own work per example (drawing, its bookkeeping, seeding and restoring every random
generator) cost a warm full grade's judge 1.8 CPU-s (3.3 s with it, 1.5 s without): paid once
per process now, instead of once per target. Hypothesis seeds the judge's global generators
around each example; the replay does not, as no check draws from them (a case carries its
seeds).

The recorder wraps the check (functools.wraps), so hypothesis seeds its draw with the check's
own digest: the cases, and their order (explicit examples first), are those hypothesis itself
would run. A replay stops at the first failing case, as hypothesis's run does without
shrinking; it does not run that case a second time, as hypothesis does to report it.
"""

from __future__ import annotations

import copy
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

import pytest

# check function -> {repr of its settings: its cases in order}; a suite imported again
# (a fresh module) draws its own, and an old check's entry goes with it.
_DRAWN: weakref.WeakKeyDictionary[Callable, dict[str, list[dict[str, Any]]]] = (
    weakref.WeakKeyDictionary())


def replayable(function: Callable) -> bool:
    """True for a hypothesis check whose draw is derandomized and kept nowhere: the same
    cases every run. Anything else (an author's `dev` profile) runs under hypothesis."""
    settings = getattr(function, "_hypothesis_internal_use_settings", None)
    return (getattr(function, "is_hypothesis_test", False) and settings is not None
            and settings.derandomize and settings.database is None
            and getattr(function, "_hypothesis_internal_use_seed", None) is None)


def drawn_cases(check: Callable) -> list[dict[str, Any]]:
    """The keyword arguments hypothesis draws for `check`, in the order it runs them."""
    by_settings = _DRAWN.setdefault(check, {})
    key = repr(check._hypothesis_internal_use_settings)
    if key not in by_settings:
        by_settings[key] = _draw(check)
    return by_settings[key]


def replay(check: Callable, funcargs: dict[str, Any]) -> None:
    """Run the check's body on each drawn case in turn, with its fixtures from `funcargs`;
    the first failure propagates."""
    body = check.hypothesis.inner_test
    fixtures = {name: funcargs[name] for name in inspect.signature(check).parameters}
    for case in drawn_cases(check):
        body(**fixtures, **copy.deepcopy(case))  # a check may alter its case


def _draw(check: Callable) -> list[dict[str, Any]]:
    fixtures = list(inspect.signature(check).parameters)
    cases: list[dict[str, Any]] = []
    body = check.hypothesis.inner_test

    @functools.wraps(body)  # the same digest, so the same seed
    def record(*args: Any, **kwargs: Any) -> None:
        cases.append(copy.deepcopy({k: v for k, v in kwargs.items() if k not in fixtures}))

    check.hypothesis.inner_test = record
    try:
        check(**dict.fromkeys(fixtures))
    finally:
        check.hypothesis.inner_test = body
    return cases


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Replay a replayable check's cases; leave any other test to pytest and hypothesis."""
    if not replayable(pyfuncitem.obj):
        return None
    replay(pyfuncitem.obj, pyfuncitem.funcargs)
    return True
