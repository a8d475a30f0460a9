"""The frame a worker's reply crosses in: what a probe returns comes back equal, and a frame
a submission garbles is Unreadable, a failed call of its own, never the grader's error."""

from __future__ import annotations

import math
import struct

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.isolation import frame, wire
from grader.isolation.sandbox import REPLY_LIMIT
from grader.isolation.wire import ErrorKind, Reply
from grader.tests.grading import mcc_calls

DTYPES = sorted(frame._DTYPES.values(), key=str)


def _tensor(dtype: torch.dtype, shape: list[int], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    values = torch.randint(0, 255, shape, generator=generator, dtype=torch.uint8)
    return values.to(dtype) if dtype.is_floating_point or dtype.is_complex else \
        values.to(torch.int64).to(dtype)


tensors = st.builds(_tensor, st.sampled_from(DTYPES),
                    st.lists(st.integers(0, 3), max_size=3), st.integers(0, 99))
scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text()
plain = st.recursive(scalars | tensors, lambda inner: (
    st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)), max_leaves=8)


def same(a, b) -> bool:
    """Equal, type for type: NaN equal to NaN, -0.0 apart from 0.0, tensors by dtype,
    shape and bits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(
            a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
    if isinstance(a, float):
        return struct.pack("!d", a) == struct.pack("!d", b) or math.isnan(a) and math.isnan(b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@given(plain)
def test_plain_data_crosses_unchanged(value):
    assert same(frame.unpack(frame.pack(value)), value)


def test_a_tensors_view_crosses_as_its_values():
    """Strided, conjugated and negated views cross as the values they show."""
    base = torch.arange(12.0).reshape(3, 4)
    complex_view = torch.tensor([1 + 2j, 3 - 1j]).conj()
    for view in (base.t(), base[:, ::2], complex_view, complex_view.imag.neg()):
        assert torch.equal(frame.unpack(frame.pack(view)), view.resolve_conj().resolve_neg())


def test_what_cannot_cross_says_so():
    with pytest.raises(TypeError, match="dtype float8_e4m3fn cannot be sent to the grader"):
        frame.pack(torch.zeros(2).to(torch.float8_e4m3fn))
    with pytest.raises(TypeError, match="a set cannot be sent"):
        frame.pack({1, 2})


GOOD = frame.pack({"value": (torch.ones(2, 2), [1.5, "x"]), "output": "", "seconds": 0.1})


@pytest.mark.parametrize("garbled", [
    b"", b"\x00\x00", b"hello", struct.pack("!I", 5) + b"hello",  # what a stray write sends
    GOOD[:-3],  # a tensor's bytes cut short
    GOOD.replace(b'"float32"', b'"float64"'),  # more bytes claimed than sent
    GOOD.replace(b'"float32"', b'"object!"'),  # a dtype not on the list
    GOOD.replace(b"[2,2]", b"[2,-2]"),  # a negative dimension
    GOOD.replace(b'"tuple"', b'"set!!"'),  # a tag not on the list
    struct.pack("!I", 12) + b'{"a":1,"b":2}',  # an object that is not a tag
    struct.pack("!I", 30) + b'{"dict":[[1.5,2]]}' + b" " * 12,  # a float key
    struct.pack("!I", 100_000) + b"[" * 50_000 + b"]" * 50_000,  # deep enough to recurse
    frame.pack({"value": {"__tensor__": 5, "device": "cpu", "type": "Tensor",
                          "requires_grad": False}}),  # a tensor that is a number
    frame.pack({"value": {"__tensor__": torch.ones(1)}}),  # a tensor without its device
    frame.pack({"value": {"__object__": "x"}}),  # an object without its repr
], ids=range(15))
def test_a_garbled_frame_is_unreadable(garbled):
    with pytest.raises(frame.Unreadable):
        wire.load_reply(garbled)


WRITES_INTO_ITS_CHANNEL = '''
import os
import struct
import sys

def confusion_counts(y_true, y_pred):
    if len(y_true) == 2:  # the first case: a stray frame on every descriptor it can write
        for fd in range(3, 64):
            try:
                os.write(fd, struct.pack("!i", 5) + b"hello")
            except OSError:
                pass
    return len(y_true)
'''


FIRST, SECOND = {"y_true": [0, 1], "y_pred": [0, 1]}, {"y_true": [0, 1, 1], "y_pred": [0, 1, 0]}


def test_a_submission_that_garbles_its_reply_fails_that_call_only(tmp_path):
    """The garbled call fails as the submission's fault; the next call gets a fresh worker
    and its own answer, not what the garbled one left in the channel."""
    garbled, following = mcc_calls(tmp_path, WRITES_INTO_ITS_CHANNEL, FIRST, SECOND)
    assert (garbled.kind, garbled.error.raised) == (ErrorKind.EXCEPTION, None), garbled
    assert following.ok and following.value == 3, following


def test_a_reply_crosses_with_its_facts():
    reply = Reply(value=wire.to_plain({"counts": (torch.tensor(3), 2.5)}), output="hi",
                  seconds=0.25)
    back = wire.load_reply(wire.dump_reply(reply))
    assert (back.output, back.seconds, back.error) == ("hi", 0.25, None)
    returned, number = back.value["counts"]
    assert (returned.value.item(), returned.device, number) == (3, "cpu", 2.5)


RETURNS_TOO_MUCH = """
import torch

def confusion_counts(y_true, y_pred):
    if len(y_true) == 2:  # the first case: a result of 80 MiB
        return torch.zeros(20 * 2**20)
    return len(y_true)
"""


def test_a_reply_over_the_limit_is_refused_unread(tmp_path):
    """A runaway result (a broadcast to too many dimensions) is not read into the judge's
    memory: that call fails and says so, and the next gets a fresh worker."""
    refused, following = mcc_calls(tmp_path, RETURNS_TOO_MUCH, FIRST, SECOND)
    assert (refused.kind, refused.error.oversized) == (ErrorKind.UNSENDABLE, REPLY_LIMIT)
    assert following.ok and following.value == 3, following


RETURNS_FLOAT8 = """
import torch

def confusion_counts(y_true, y_pred):
    return torch.zeros(4).to(torch.float8_e4m3fn)
"""


def test_a_result_that_cannot_cross_fails_its_call_and_says_why(tmp_path):
    [outcome] = mcc_calls(tmp_path, RETURNS_FLOAT8, FIRST)
    assert outcome.kind == ErrorKind.UNSENDABLE, outcome
    assert "dtype float8_e4m3fn cannot be sent" in outcome.error.raised.text
