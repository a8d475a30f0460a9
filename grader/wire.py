"""What crosses the process boundary between a worker and the judging process.

The worker turns whatever a probe returns into plain data: numbers, strings, lists,
dicts and CPU tensors. Each tensor travels with what was observed of it (device,
dtype, shape, type), and anything else is reduced to a description of its type.
The judging side loads it with `torch.load(weights_only=True)`, which rebuilds only
tensors and builtin containers, so a submission can never plant an object whose
`__eq__` or `__reduce__` runs in the process that counts points.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import torch

_TENSOR = "__tensor__"
_OBJECT = "__object__"
_MAX_REPR = 200
# Terminal escape sequences (CSI, OSC), other control characters but tab and newline, and
# the Unicode marks that reorder text: what could redraw or disguise the grader's lines.
_UNPRINTABLE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


@dataclass(frozen=True)
class Returned:
    """A tensor as a submission returned it: the values on the CPU, and where they were."""

    value: torch.Tensor  # detached, on the CPU
    device: str  # e.g. "cpu", "cuda:0"
    type_name: str  # "Tensor", "Parameter", ...
    requires_grad: bool

    @property
    def dtype(self) -> torch.dtype:
        return self.value.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(frozen=True)
class Foreign:
    """Anything that is not plain data: only its type and a short repr survive."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"{self.type_name} {self.text}"


def printable(text: str) -> str:
    """A submission's text made safe to show: no escape sequence or control character."""
    return _UNPRINTABLE.sub("", text)


def to_plain(obj: Any) -> Any:
    """Worker side: turn a probe's result into data that `decode` can trust."""
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, torch.Tensor) and obj.layout == torch.strided:
        return {
            _TENSOR: obj.detach().cpu().clone().as_subclass(torch.Tensor),
            "device": str(obj.device),
            "type": type(obj).__name__,
            "requires_grad": bool(obj.requires_grad),
        }
    if type(obj) in (list, tuple):
        return [to_plain(item) for item in obj] if type(obj) is list else tuple(
            to_plain(item) for item in obj
        )
    if type(obj) is dict and all(type(k) in (str, int) for k in obj):
        return {k: to_plain(v) for k, v in obj.items()}
    return {_OBJECT: type(obj).__module__ + "." + type(obj).__qualname__, "repr": _short_repr(obj)}


def _short_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except BaseException:  # a submission's __repr__ may raise anything
        return "<repr failed>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "..."


def dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def load_plain(data: bytes) -> Any:
    """Plain data saved by `dumps` (or `torch.save`); no code runs while loading it."""
    return torch.load(io.BytesIO(data), weights_only=True)


def loads(data: bytes) -> Any:
    """Judge side: load and rebuild `Returned`/`Foreign` from the worker's plain data."""
    return decode(load_plain(data))


def decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if _TENSOR in obj:
            return Returned(
                value=obj[_TENSOR],
                device=printable(str(obj["device"])),
                type_name=printable(str(obj["type"])),
                requires_grad=bool(obj["requires_grad"]),
            )
        if _OBJECT in obj:
            return Foreign(type_name=printable(str(obj[_OBJECT])),
                           text=printable(str(obj["repr"])))
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(decode(item) for item in obj)
    return obj


def encode(obj: Any) -> Any:
    """The inverse of `decode`: judge-side values back to plain data, e.g. to record them."""
    if isinstance(obj, Returned):
        return {_TENSOR: obj.value, "device": obj.device, "type": obj.type_name,
                "requires_grad": obj.requires_grad}
    if isinstance(obj, Foreign):
        return {_OBJECT: obj.type_name, "repr": obj.text}
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [encode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(encode(item) for item in obj)
    return obj
