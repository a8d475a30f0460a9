"""Probes for the `autograd_basics` exercise.

A case names a small linear problem: `samples` N, `features` F, `outputs` O, a `seed` and
a `dtype`. The kit's `linear_problem` draws W (O, F), b (O,), x (N, F) and y (N, O) from it as
multiples of 1/8 in [-1, 1]: their products and sums are exact even in float32, so the
judge's float64 oracle (autograd on the same numbers) differs from a right answer by the
final division's rounding only.
"""

from __future__ import annotations

from typing import Any

import torch

from data.tensors import gene_expression_tensors
from grader.isolation.by_hand import ByHand, by_hand_path
from tests.probes import linear_problem, raised

# The chain rule is the exercise: autograd may not stand in for manual_gradients, nor for
# it in gradient_descent(use_autograd=False), the manual path the probes run inside
# `by_hand_path()` (it may in autograd_gradients and in gradient_descent's autograd loop).
AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward")
BY_HAND = ByHand(uses={"manual_gradients": AUTOGRAD}, paths={"gradient_descent": AUTOGRAD},
                 advice="write the chain rule yourself, without autograd")

Problem = dict[str, torch.Tensor]


def on_device(problem: Problem, device: str) -> Problem:
    return {name: tensor.to(device) for name, tensor in problem.items()}


def snapshot(value: Any) -> Any:
    """A copy of what a call returned, safe from later in-place changes (e.g. to a .grad)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple | list):
        return type(value)(snapshot(item) for item in value)
    return value


def mse_loss(impl, case: dict, device: str):
    p = on_device(linear_problem(case), device)
    return impl.mse_loss(p["W"], p["b"], p["x"], p["y"])


def manual_gradients(impl, case: dict, device: str):
    p = on_device(linear_problem(case), device)
    return impl.manual_gradients(p["W"], p["b"], p["x"], p["y"])


def manual_gradients_without_autograd(impl, case: dict, device: str) -> dict:
    """What manual_gradients does under torch.no_grad(), on tensors that do not require grad
    (autograd-based shortcuts raise there)."""
    p = on_device(linear_problem(case), device)
    with torch.no_grad():
        return raised(lambda: impl.manual_gradients(p["W"], p["b"], p["x"], p["y"]))


def autograd_gradients(impl, case: dict, device: str) -> dict:
    p = on_device(linear_problem(case), device)
    return raised(lambda: impl.autograd_gradients(p["W"], p["b"], p["x"], p["y"]))


def autograd_side_effects(impl, case: dict, device: str) -> dict:
    """Two calls of autograd_gradients on the same W and b, and the state they left.

    case["caller_requires_grad"]: W and b require grad; case["stale_grad"]: they hold a
    .grad of 0.5 everywhere before the calls.
    """
    p = on_device(linear_problem(case), device)
    W = p["W"].clone().requires_grad_(case["caller_requires_grad"])
    b = p["b"].clone().requires_grad_(case["caller_requires_grad"])
    if case["stale_grad"]:
        W.grad, b.grad = torch.full_like(W, 0.5), torch.full_like(b, 0.5)
    first = snapshot(impl.autograd_gradients(W, b, p["x"], p["y"]))
    second = snapshot(impl.autograd_gradients(W, b, p["x"], p["y"]))
    return {"first": first, "second": second,
            "values_kept": torch.equal(W.detach(), p["W"]) and torch.equal(b.detach(), p["b"]),
            "requires_grad": [W.requires_grad, b.requires_grad],
            "grads": [snapshot(W.grad), snapshot(b.grad)]}


class ManualGradientsCalled(Exception):
    """Raised by the stand-in for manual_gradients while the autograd loop runs."""


def _refuse_manual_gradients(*args, **kwargs):
    raise ManualGradientsCalled("gradient_descent(use_autograd=True) called manual_gradients")


def descent_initial(case: dict) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The case's starting (W, b) on the CPU (multiples of 1/8), or None: start from zeros."""
    if not case["initial"]:
        return None
    start = linear_problem({**case, "seed": case["seed"] + 1})
    return start["W"], start["b"]


def gradient_descent(impl, case: dict, device: str) -> dict:
    """gradient_descent on the case's problem; case["use_autograd"] picks the version.

    The manual version runs under torch.no_grad() with autograd refused (`by_hand_path`);
    the autograd one with manual_gradients replaced by a function that raises. Also
    reports whether the initial tensors changed.
    """
    p = on_device(linear_problem(case), device)
    initial = descent_initial(case)
    given = {} if initial is None else {"initial_W": initial[0].to(device),
                                        "initial_b": initial[1].to(device)}
    kept = {name: tensor.clone() for name, tensor in given.items()}

    def run():
        return impl.gradient_descent(p["x"], p["y"], case["lr"], case["steps"],
                                     use_autograd=case["use_autograd"], **given)

    if case["use_autograd"]:
        original = getattr(impl, "manual_gradients", None)
        impl.manual_gradients = _refuse_manual_gradients
        try:
            outcome = raised(run)
        finally:
            impl.manual_gradients = original
    else:
        with torch.no_grad(), by_hand_path():
            outcome = raised(run)
    initial_kept = all(torch.equal(given[name].detach(), kept[name]) for name in given)
    return {**outcome, "initial_kept": initial_kept}


def gene_expression_descent(impl, case: dict, device: str):
    """The manual gradient descent on the embedded gene-expression split case["split"],
    autograd refused."""
    x, expression = gene_expression_tensors(case["split"], device)
    with torch.no_grad(), by_hand_path():
        return impl.gradient_descent(x, expression.unsqueeze(1), case["lr"], case["steps"])
