"""Judges: validate what a submission returned and compare it, with messages a student can act on.

Every failure raises `CheckFailure` whose text says what was checked, on which case,
what was expected, what came back, and a hint where the symptom matches a known
mistake. Nothing here runs student code: values arrive as `grader.isolation.wire` data.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import reprlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch

from grader.isolation.wire import Foreign, Returned

# (rtol, atol) by dtype and device kind. GPU kernels reorder sums (TF32 is off in the
# worker's deterministic mode, but reductions still differ), so they get more slack.
TOLERANCES: dict[tuple[torch.dtype, str], tuple[float, float]] = {
    (torch.float64, "cpu"): (1e-7, 1e-9),
    (torch.float64, "cuda"): (1e-6, 1e-8),
    (torch.float32, "cpu"): (1e-5, 1e-6),
    (torch.float32, "cuda"): (1e-4, 1e-5),
    (torch.float16, "cpu"): (1e-2, 1e-3),
    (torch.float16, "cuda"): (1e-2, 1e-3),
    (torch.bfloat16, "cpu"): (2e-2, 1e-2),
    (torch.bfloat16, "cuda"): (2e-2, 1e-2),
}


class CheckFailure(AssertionError):
    """A check failed; the message is for the student.

    hint: the known mistake its symptom matched, also kept apart from the message so that a
    class report can count it. raised_in: when the failure is an exception the submission
    raised (a probe caught it), the functions of the submission its traceback passed
    through; None for a wrong value.
    """

    def __init__(self, message: str, hint: str | None = None,
                 raised_in: tuple[str, ...] | None = None):
        super().__init__(message)
        self.hint = hint
        self.raised_in = raised_in


def tolerance(dtype: torch.dtype, device: str) -> tuple[float, float]:
    """(rtol, atol) for comparing values of `dtype` computed on `device`."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    return TOLERANCES.get((dtype, kind), (0.0, 0.0))


def scalar_close(actual: float, expected: float, *, device: str = "cpu",
                 dtype: torch.dtype = torch.float32) -> bool:
    """Whether two numbers agree within the table's tolerance for `dtype` on `device`.

    float32 by default: the handouts' losses and metrics are computed in float32, even
    when they are returned as Python floats.
    """
    rtol, atol = tolerance(dtype, device)
    return math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol)


def agrees(actual: Any, expected: Any, *, device: str = "cpu",
           dtype: torch.dtype = torch.float32) -> bool:
    """`scalar_close` for numbers, elementwise closeness (same shape) for tensors."""
    if isinstance(expected, torch.Tensor):
        actual = torch.as_tensor(actual)
        rtol, atol = tolerance(dtype, device)
        return actual.shape == expected.shape and bool(
            torch.isclose(actual.double(), expected.double(), rtol=rtol, atol=atol).all())
    return scalar_close(float(actual), float(expected), device=device, dtype=dtype)


def known_mistake(got: Any, mistakes: dict[str, Any], *, device: str = "cpu",
                  default: str | None = None) -> str | None:
    """The advice of the first known mistake whose result `got` agrees with, else `default`.

    mistakes: {advice: what that mistake computes on the case}, numbers or tensors,
    compared with `agrees`.
    """
    return next((advice for advice, value in mistakes.items()
                 if agrees(got, value, device=device)), default)


Oracle = TypeVar("Oracle", bound=Callable[[dict], Any])


def case_key(case: dict) -> str:
    """A hashable key that equals another case's exactly when the cases are equal."""
    return json.dumps(case, sort_keys=True)


def per_case(oracle: Oracle) -> Oracle:
    """Cache `oracle(case)` by the case's value: a suite grades many submissions.

    The oracle sees the case as JSON reads it back (tuples become lists); callers must not
    modify what it returns.
    """
    cached = functools.cache(lambda key: oracle(json.loads(key)))
    return functools.wraps(oracle)(lambda case: cached(case_key(case)))  # type: ignore[return-value]


def show(value: Any, limit: int = 160) -> str:
    """A short printable form of a case or a value."""
    if isinstance(value, Returned):
        value = value.value
    if isinstance(value, torch.Tensor):
        if value.numel() <= 12:
            text = str(value.tolist())
        else:
            first = value.flatten()[:6].tolist()
            text = f"tensor of shape {tuple(value.shape)}, first values {first}"
        return text if len(text) <= limit else text[:limit] + "..."
    short = reprlib.Repr()
    short.maxlist = short.maxtuple = short.maxdict = 8
    short.maxstring = short.maxother = limit
    text = short.repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def fail(what: str, *, case: Any = None, expected: Any = None, got: Any = None,
         hint: str | None = None, show_values: bool = True,
         raised_in: tuple[str, ...] | None = None) -> None:
    """Raise a CheckFailure: `what` went wrong, on `case`, expected vs got, and a hint."""
    lines = [what]
    if case is not None:
        lines.append(f"case: {case if isinstance(case, str) else show(case)}")
    if show_values and (expected is not None or got is not None):
        lines.append(f"expected: {show(expected)}")
        lines.append(f"got:      {show(got)}")
    if hint:
        lines.append(f"hint: {hint}")
    raise CheckFailure("\n".join(lines), hint=hint, raised_in=raised_in)


def fail_raised(outcome: dict, what: str, *, case: Any, hint: str | None = None) -> None:
    """Fail on a probe's `tests.probes.raised` outcome that caught an exception: what
    raised, the tensors it was given and where in the submission (no helper is blamed for
    an exception raised outside it: `raised_in`)."""
    lines = [f"{what} raised {outcome['raised']}: {outcome['message']}"]
    if outcome.get("arguments"):
        lines.append(f"tensor arguments: {outcome['arguments']}")
    lines += outcome.get("where", [])
    fail("\n".join(lines), case=case, hint=hint, raised_in=tuple(outcome.get("functions", ())))


def expect_returned(outcome: dict, what: str, *, case: Any, hint: str | None = None) -> Any:
    """What the call a probe ran through `tests.probes.raised` returned; when it raised
    instead, fail with `fail_raised`."""
    if outcome["raised"]:
        fail_raised(outcome, what, case=case, hint=hint)
    return outcome["returned"]


def expect_raises(outcome: dict, what: str, problem: str, *, case: Any = None,
                  exception: str = "ValueError",
                  hint: str = "validate the inputs first and raise ValueError naming the "
                  "problem") -> None:
    """`outcome` is what `tests.probes.raised` observed: fail unless it raised `exception`."""
    if outcome["raised"] == exception:
        return
    got = (f"it raised {outcome['raised']}: {outcome['message']}" if outcome["raised"]
           else f"it returned {show(outcome['returned'])}")
    fail(f"{what} should raise {exception} for {problem}, but {got}", case=case, hint=hint)


def expect_dict(value: Any, what: str, keys: Iterable[str], *, case: Any = None) -> dict:
    """A dict holding at least `keys` (a subclass arrives as plain data too)."""
    keys = list(keys)
    if not isinstance(value, dict):
        fail(f"{what} should return a dict with keys {keys}", case=case,
             got=value, expected=f"a dict with keys {keys}")
    missing = [key for key in keys if key not in value]
    if missing:
        fail(f"{what} returned a dict without {missing}", case=case,
             expected=keys, got=sorted(value, key=str))
    return value


TRAIN_MODE_HINT = ("call model.train() at the start of every epoch: evaluating (model.eval()) "
                   "leaves the model in eval mode")
EVAL_MODE_HINT = ("call model.eval() before evaluating: dropout must be off, or the results "
                  "are random")
NO_GRAD_HINT = ("wrap the evaluation in torch.no_grad() (or decorate the function with it): "
                "no computation graph is needed")


def expect_modes(calls: list[dict], what: str, *, training: bool, case: Any = None,
                 where: str = "") -> None:
    """Every forward call (`tests.probes.forward_call` records) ran as it should.

    Training: training mode, gradients on. Evaluation: eval mode, under torch.no_grad().
    `where` names the phase in the message ("in epoch 2's validation").
    """
    for call in calls:
        if call["training"] != training:
            mode, hint = ("eval", TRAIN_MODE_HINT) if training else ("training", EVAL_MODE_HINT)
            fail(f"{what} ran the model in {mode} mode{where}", case=case, hint=hint)
    for call in calls:
        if call["grad_enabled"] != training:
            if training:
                fail(f"{what} ran the model without gradients{where}", case=case,
                     hint="torch.no_grad() belongs around evaluation only")
            fail(f"{what} computed gradients{where}", case=case, hint=NO_GRAD_HINT)


def describe_type(value: Any) -> str:
    if isinstance(value, Returned):
        return f"a {value.type_name} of dtype {value.dtype} and shape {list(value.shape)}"
    if isinstance(value, Foreign):
        return f"a {value.type_name}"
    return f"a {type(value).__name__} ({show(value, 60)})"


def expect_tensor(
    value: Any,
    what: str,
    *,
    case: Any = None,
    dtype: torch.dtype | Iterable[torch.dtype] | str | None = None,
    shape: tuple[int, ...] | None = None,
    device: str | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Check that `value` is a tensor of the right kind; return its values (on the CPU).

    dtype: one dtype, several, or "floating"; device: "cpu" or "cuda" (any index).
    """
    if not isinstance(value, Returned):
        fail(f"{what} should return a torch.Tensor, but returned {describe_type(value)}",
             case=case)
    if dtype == "floating":
        if not value.dtype.is_floating_point:
            fail(f"{what} should return a floating-point tensor, got dtype {value.dtype}",
                 case=case, hint="convert counts with .float() or .double() before dividing")
    elif dtype is not None:
        allowed = (dtype,) if isinstance(dtype, torch.dtype) else tuple(dtype)
        if value.dtype not in allowed:
            names = " or ".join(str(d) for d in allowed)
            fail(f"{what} should return dtype {names}, got {value.dtype}", case=case)
    if shape is not None and value.shape != tuple(shape):
        fail(f"{what} should return shape {list(shape)}, got {list(value.shape)}", case=case,
             hint="a 0-dim tensor has shape []: use .sum() or .squeeze(), not .view(1)"
             if shape == () else None)
    if device is not None and value.device.split(":")[0] != device.split(":")[0]:
        fail(f"{what} returned a tensor on {value.device}, but its inputs were on {device}",
             case=case, hint="keep results on the inputs' device: avoid .cpu(), .numpy(), "
             ".item() followed by torch.tensor(...) without device=")
    if finite and value.dtype.is_floating_point and not torch.isfinite(value.value).all():
        bad = value.value[~torch.isfinite(value.value)].flatten()[0].item()
        fail(f"{what} returned a non-finite value ({bad})", case=case,
             hint="look for a division by zero or the log of zero")
    return value.value


LEAK_HINT = (
    "this is the classic PyTorch memory leak: a loss kept as a tensor (e.g. `total += loss * n`) "
    "holds the autograd graph of every batch that went into it until it is freed; accumulate "
    "loss.item() * n instead and return a Python float"
)


def expect_float(value: Any, what: str, *, case: Any = None, finite: bool = True) -> float:
    """A Python float (an int will do), as the handouts promise; a tensor fails.

    A 0-dim tensor is not accepted as a number: callers format, compare and store these
    values, and one that still requires grad keeps a whole autograd graph alive.
    finite: inf and nan fail (False: a float inf or nan passes, e.g. a diverging loss).
    """
    if isinstance(value, Returned):
        if value.requires_grad:
            fail(f"{what} should be a Python float, but is a tensor that still holds its "
                 "autograd graph (requires_grad=True)", case=case, hint=LEAK_HINT)
        fail(f"{what} should be a Python float, but is {describe_type(value)}", case=case,
             hint="convert the 0-dim tensor with .item() (or float(...))")
    if type(value) not in (int, float):
        fail(f"{what} should be a Python float, but is {describe_type(value)}", case=case,
             hint="convert with float(...)")
    if finite and not math.isfinite(value):
        fail(f"{what} is {value}", case=case, hint="look for a division by zero or the log of zero")
    return float(value)


def expect_float_list(values: Any, what: str, *, case: Any = None,
                      finite: bool = True) -> list[float]:
    """A Python list of Python floats (one per epoch, say), each checked by `expect_float`
    (finite=False: inf and nan allowed)."""
    if type(values) is not list:
        fail(f"{what} should be a list of Python floats, but is {describe_type(values)}",
             case=case)
    return [expect_float(value, f"{what}[{index}]", case=case, finite=finite)
            for index, value in enumerate(values)]


def expect_history(value: Any, what: str, keys: Iterable[str], *, epochs: int | None = None,
                   case: Any = None) -> dict[str, list[float]]:
    """A training history: a dict holding one Python float per epoch under each of `keys`
    (`epochs` of them when the case fixes it, else as many under each key)."""
    history = expect_dict(value, what, keys, case=case)
    lists = {key: expect_float_list(history[key], f"{what}['{key}']", case=case) for key in keys}
    wanted = len(next(iter(lists.values()))) if epochs is None else epochs
    for key, values in lists.items():
        if len(values) != wanted:
            fail(f"{what}['{key}'] should hold one value per epoch", case=case, got=values,
                 expected=f"{wanted} values" + ("" if epochs else f", as {what} has under "
                                                 f"'{next(iter(lists))}'"))
    return lists


def assert_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    what: str,
    *,
    case: Any = None,
    device: str = "cpu",
    rtol: float | None = None,
    atol: float | None = None,
    hint: str | Callable[[torch.Tensor, torch.Tensor], str | None] | None = None,
) -> None:
    """Compare values elementwise within the tolerance table (or explicit rtol/atol)."""
    actual = torch.as_tensor(actual)
    expected = torch.as_tensor(expected)
    if actual.shape != expected.shape:
        fail(f"{what}: shape {list(actual.shape)}, expected {list(expected.shape)}", case=case)
    common = torch.promote_types(actual.dtype, expected.dtype)
    if not common.is_floating_point:
        common = torch.float64
    default_rtol, default_atol = tolerance(
        actual.dtype if actual.dtype.is_floating_point else common, device
    )
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a, e = actual.to(torch.float64), expected.to(torch.float64)
    close = torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return
    index = tuple(int(i) for i in (~close).nonzero()[0])
    where = f" at index {list(index)}" if actual.dim() else ""
    message = hint(actual, expected) if callable(hint) else hint
    fail(f"{what}: mismatch{where} ({int((~close).sum())} of {close.numel()} values differ)",
         case=case, expected=e[index].item() if index or not e.dim() else e,
         got=a[index].item() if index or not a.dim() else a, hint=message)


def ratio_hint(
    known: dict[float, str], *, tolerance_: float = 1e-3
) -> Callable[[torch.Tensor, torch.Tensor], str | None]:
    """A hint for results off by a constant factor: {factor: advice}."""

    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        mask = expected.abs() > 1e-12
        if not bool(mask.any()):
            return None
        ratios = (actual.double()[mask] / expected.double()[mask])
        ratio = ratios.median().item()
        if not bool(torch.allclose(ratios, torch.full_like(ratios, ratio), rtol=1e-3)):
            return None
        for factor, advice in known.items():
            if math.isclose(ratio, factor, rel_tol=tolerance_):
                return f"the result is {ratio:.4g}x the expected one: {advice}"
        return f"the result is {ratio:.4g}x the expected one: look for a missing or extra scale"

    return hint


def early_stopping_epochs(val_loss: list[float], epochs: int, patience: int | None, *,
                          improves: Callable[[float, float], bool] = operator.lt) -> int:
    """How many of `epochs` epochs a training loop with early stopping runs, given the
    validation loss it would see after each: it stops once `patience` epochs in a row
    brought no new best (`improves(loss, best so far)`, strictly lower by default;
    patience None: never stops early)."""
    best, waited = math.inf, 0
    for epoch, value in enumerate(val_loss[:epochs], start=1):
        if improves(value, best):
            best, waited = value, 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return epoch
    return epochs
