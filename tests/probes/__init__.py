"""Probes: `probe(impl, case, device) -> plain data`, run in the worker on one implementation.

A probe builds its inputs from a small printable case, calls the implementation, and
returns what it observed. It must be a pure function of (case, device): the worker
re-seeds before every call and the reference's results are cached.
"""

import contextlib
from collections.abc import Callable, Iterator
from types import ModuleType

import torch

DTYPES = {"bool": torch.bool, "int32": torch.int32, "int64": torch.int64,
          "float32": torch.float32, "float64": torch.float64}


def raised(call) -> dict:
    """Run `call()`; report the exception it raised, or what it returned."""
    try:
        return {"raised": None, "returned": call()}
    except NotImplementedError:
        raise  # a stub is "not started", not "raised the wrong error"
    except Exception as exc:  # noqa: BLE001 - the exception type is the observation
        return {"raised": type(exc).__name__, "message": str(exc)[:200]}


@contextlib.contextmanager
def swapped(impl: ModuleType, **helpers: Callable) -> Iterator[None]:
    """Run with some of the submission's functions replaced by the grader's own versions.

    A check of a function that calls helpers graded by checks of their own (train_model
    calls train_one_epoch) judges that function alone this way: a mistake in a helper costs
    the helper's checks, not every check downstream of it. Code that does not call the
    helper by its module-level name is unaffected.
    """
    absent = object()
    saved = {name: getattr(impl, name, absent) for name in helpers}
    for name, helper in helpers.items():
        setattr(impl, name, helper)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is absent:
                delattr(impl, name)
            else:
                setattr(impl, name, value)
