"""The frame a worker's reply crosses the process boundary in: JSON, then raw tensor bytes.

JSON keeps None, bools, ints, floats (NaN and infinities too) and strings; a tuple, a dict
(keys str or int) and a tensor each become an object of one tagged key, so that nothing
but these tags is an object, and a tensor's bytes must be exactly what its dtype (one of a
list) and shape take. Reading a frame builds nothing else, and a frame that is not one
`pack` makes (a submission shares the worker's process, and its channel) is `Unreadable`.
torch.save would do, but reading its frames safely (torch.load(weights_only=True), a pickle
machine written in Python) took 0.1 ms a tensor and 0.4 ms a call.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import torch


class Unreadable(Exception):
    """A frame that `unpack` cannot read: garbled or forged by the submission."""


# The dtypes a tensor may cross in, by name: each rebuilt from its bytes alone.
_DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.uint16, torch.uint32, torch.uint64, torch.float16, torch.bfloat16, torch.float32,
    torch.float64, torch.complex64, torch.complex128)}
_HEADER = struct.Struct("!I")  # the JSON part's length in bytes


def pack(plain: Any) -> bytes:
    """Plain data (grader.isolation.wire.to_plain's) as one frame; TypeError for what is
    not plain data."""
    blobs: list[bytes] = []
    offset = 0

    def tagged(obj: Any) -> Any:
        nonlocal offset
        if obj is None or type(obj) in (bool, int, float, str):
            return obj
        if type(obj) is list:
            return [tagged(item) for item in obj]
        if type(obj) is tuple:
            return {"tuple": [tagged(item) for item in obj]}
        if type(obj) is dict:
            return {"dict": [[key, tagged(value)] for key, value in obj.items()]}
        if type(obj) is not torch.Tensor:
            raise TypeError(f"a {type(obj).__name__} cannot be sent to the grader")
        dtype = str(obj.dtype).removeprefix("torch.")
        if dtype not in _DTYPES:
            raise TypeError(f"a tensor of dtype {dtype} cannot be sent to the grader (bool, "
                            "integer, float and complex dtypes can)")
        flat = obj.resolve_conj().resolve_neg().contiguous().reshape(-1)
        data = flat.view(torch.uint8).numpy().tobytes()
        blobs.append(data)
        offset += len(data)
        return {"tensor": [dtype, list(obj.shape), offset - len(data), len(data)]}

    text = json.dumps(tagged(plain), separators=(",", ":")).encode()
    return b"".join((_HEADER.pack(len(text)), text, *blobs))


def unpack(data: bytes) -> Any:
    """The plain data of a `pack` frame; Unreadable where it is not one."""
    try:
        (length,) = _HEADER.unpack_from(data)
        tree = json.loads(data[_HEADER.size:_HEADER.size + length])
        blobs = memoryview(data)[_HEADER.size + length:]
        return _untagged(tree, blobs)
    except Unreadable:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, struct.error,
            RuntimeError) as exc:  # json's errors are ValueErrors
        raise Unreadable(f"{type(exc).__name__}: {exc}") from None


def _untagged(node: Any, blobs: memoryview) -> Any:
    if type(node) is list:
        return [_untagged(item, blobs) for item in node]
    if type(node) is not dict:
        return node  # None, a bool, an int, a float or a string: JSON has nothing else
    if len(node) != 1:
        raise Unreadable(f"an object of {len(node)} keys")
    (tag, body), = node.items()
    if tag == "tuple" and type(body) is list:
        return tuple(_untagged(item, blobs) for item in body)
    if tag == "dict" and type(body) is list:
        return {_key(pair): _untagged(pair[1], blobs) for pair in body}
    if tag == "tensor":
        return _tensor(body, blobs)
    raise Unreadable(f"the tag {tag!r}")


def _key(pair: Any) -> str | int:
    if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
        raise Unreadable("a dict entry that is not a (str or int key, value) pair")
    return pair[0]


def _tensor(body: Any, blobs: memoryview) -> torch.Tensor:
    """A tensor rebuilt from [dtype, shape, offset, length]: its bytes must be exactly
    what that dtype and shape take."""
    dtype_name, shape, offset, length = body
    dtype = _DTYPES[dtype_name]
    if not (type(shape) is list and all(type(n) is int and n >= 0 for n in shape)
            and type(offset) is int and type(length) is int and 0 <= offset
            and offset + length <= len(blobs)):
        raise Unreadable("a tensor's shape or place")
    if math.prod(shape) * dtype.itemsize != length:
        raise Unreadable(f"{length} bytes for a {dtype_name} tensor of shape {shape}")
    if length == 0:
        return torch.empty(shape, dtype=dtype)
    raw = bytearray(blobs[offset:offset + length])  # writable: tensors may be changed later
    return torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape)
