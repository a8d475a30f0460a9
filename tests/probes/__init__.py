"""Probes: `probe(impl, case, device) -> plain data`, run in the worker on one implementation.

A probe builds its inputs from a small printable case, calls the implementation, and
returns what it observed. It must be a pure function of (case, device): the worker
re-seeds before every call and the reference's results are cached.
"""

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
