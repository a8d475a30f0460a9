"""Grading suite of the `autograd_basics` exercise.

The oracles are computed here, in float64 on the probes' numbers: the loss directly, the
gradients with autograd, and gradient descent's trajectory step by step; each also gives
what the known mistakes compute, for the hints. The last check holds the submission's
gradient descent on the embedded gene-expression set to the session's outcome.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given, settings

from data.synthetic_gene_expression import TRUE_MODEL
from data.tensors import gene_expression_tensors
from grader.judging.judge import (
    agrees,
    assert_close,
    expect_dict,
    expect_float_list,
    expect_tensor,
    fail,
    known_mistake,
    per_case,
    ratio_hint,
    scalar_close,
    show,
)
from tests import strategies
from tests.probes import DTYPES, linear_problem
from tests.probes import autograd_basics as probes

EXERCISE_POINTS = 20


def problem64(case: dict) -> dict[str, torch.Tensor]:
    """The case's W, b, x, y in float64 (the same numbers the probe used: exact in float32)."""
    return {name: tensor.double() for name, tensor in linear_problem(case).items()}


def case_dtype(case: dict) -> torch.dtype:
    return DTYPES[case["dtype"]]


# --- mse_loss ---------------------------------------------------------------------------


@per_case
def loss_oracle(case: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The right loss (0-dim float64) and {advice: loss} of known wrong ones."""
    p = problem64(case)
    residuals = p["x"] @ p["W"].T + p["b"] - p["y"]  # (N, O)
    loss = (residuals**2).mean()
    return loss, {
        "the loss is the mean over all N*O entries: you took the sum": (residuals**2).sum(),
        "the loss is the mean over all N*O entries of y, not over the N samples only":
            (residuals**2).sum() / case["samples"],
        "the model is x @ W.T + b: you left out b":
            ((p["x"] @ p["W"].T - p["y"]) ** 2).mean(),
        "square the residuals (x @ W.T + b - y)^2 before averaging": residuals.mean(),
        "square the residuals, do not take their absolute value": residuals.abs().mean(),
        "the MSE has no square root (that is the RMSE)": loss.sqrt(),
    }


MSE_ADVICE = "mean((x @ W.T + b - y) ** 2) over all N*O entries"


@pytest.mark.points(2)
@given(case=strategies.linear_problems())
@example(case={"samples": 4, "features": 3, "outputs": 1, "seed": 1, "dtype": "float32"})
@example(case={"samples": 5, "features": 2, "outputs": 3, "seed": 2, "dtype": "float64"})
@settings(max_examples=20)
def test_mse_loss(check, case):
    """mse_loss returns the mean of the N*O squared residuals, 0-dim, in the inputs' dtype"""
    got = expect_tensor(check.student(probes.mse_loss, case), "mse_loss", case=case,
                        dtype=case_dtype(case), shape=(), device=check.device)
    expected, mistakes = loss_oracle(case)
    assert_close(got, expected, "mse_loss", case=case, device=check.device,
                 hint=lambda a, e: known_mistake(a, mistakes, device=check.device,
                                                 default=MSE_ADVICE))


# --- manual_gradients -------------------------------------------------------------------


@per_case
def gradient_oracle(case: dict) -> dict[str, tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """{"W": (autograd's dL/dW, {advice: a mistake's}), "b": the same for dL/db}, float64."""
    p = problem64(case)
    W, b = p["W"].requires_grad_(True), p["b"].requires_grad_(True)
    loss = ((p["x"] @ W.T + b - p["y"]) ** 2).mean()
    grad_W, grad_b = torch.autograd.grad(loss, (W, b))
    count = case["samples"] * case["outputs"]
    no_bias = 2.0 * (p["x"] @ p["W"].T - p["y"]) / count  # dL/dy_hat without b (N, O)
    common = {
        "the derivative of r^2 is 2r: the factor 2 is missing": 0.5,
        "the loss is a mean over all N*O entries: divide by N*O (your gradient is that of "
        "the sum)": float(count),
        "the loss is a mean over all N*O entries, not over the N samples only: divide by "
        "N*O, not N": float(case["outputs"]),
        "the sign is flipped: the residual is r = x @ W.T + b - y (prediction minus "
        "target), and the gradient is +2 r / (N*O) times its input": -1.0,
    }
    bias_left_out = "the residual includes b: r = x @ W.T + b - y"
    return {
        "W": (grad_W, {**{advice: factor * grad_W for advice, factor in common.items()},
                       bias_left_out: no_bias.T @ p["x"],
                       "dL/dW[o, f] pairs output o's residuals with feature f: (dL/dy_hat).T "
                       "@ x, not x.T @ (dL/dy_hat)": grad_W.T}),
        "b": (grad_b, {**{advice: factor * grad_b for advice, factor in common.items()},
                       bias_left_out: no_bias.sum(0),
                       "dL/db is not zero: b shifts every prediction, so dL/db[o] is the sum "
                       "over the samples of dL/dy_hat[n, o]": torch.zeros_like(grad_b)}),
    }


GRADIENT_ADVICE = {
    "W": "with r = x @ W.T + b - y (N, O): dL/dW = 2 r.T @ x / (N*O), shape (O, F)",
    "b": "with r = x @ W.T + b - y (N, O): dL/db = 2 r.sum(dim=0) / (N*O), shape (O,)",
}


def expect_pair(value, what: str, case: dict) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != 2:
        fail(f"{what} should return a tuple (grad_W, grad_b)", case=case, got=value,
             expected="(grad_W, grad_b)")
    return tuple(value)


def judge_gradient(check, got, case: dict, what: str, name: str) -> None:
    """One of the pair `got` (name "W" or "b") against autograd's gradient in float64."""
    index = "Wb".index(name)
    label = f"{what} (grad_{name})"
    value = expect_tensor(expect_pair(got, what, case)[index], label, case=case,
                          dtype=case_dtype(case), device=check.device)
    expected, mistakes = gradient_oracle(case)[name]
    if value.shape != expected.shape:
        hint = {
            ("W", (case["features"], case["outputs"])): "grad_W is transposed: it has W's "
            "shape (O, F), (dL/dy_hat).T @ x rather than x.T @ (dL/dy_hat)",
            ("b", ()): "grad_b has b's shape (O,): sum over the samples (dim=0) only",
            ("b", (1, case["outputs"])): "grad_b has b's shape (O,): sum over dim=0 without "
            "keepdim",
        }.get((name, tuple(value.shape)))
        fail(f"{label} should have shape {list(expected.shape)}, got {list(value.shape)}",
             case=case, hint=hint or GRADIENT_ADVICE[name])
    assert_close(value, expected, label, case=case, device=check.device,
                 hint=lambda a, e: known_mistake(a, mistakes, device=check.device,
                                                 default=GRADIENT_ADVICE[name]))


GRADIENT_EXAMPLES = (
    {"samples": 6, "features": 3, "outputs": 1, "seed": 3, "dtype": "float32"},
    {"samples": 5, "features": 2, "outputs": 3, "seed": 4, "dtype": "float64"},
    {"samples": 7, "features": 2, "outputs": 2, "seed": 5, "dtype": "float32"},
)


@pytest.mark.points(3)
@given(case=strategies.linear_problems())
@example(case=GRADIENT_EXAMPLES[0])
@example(case=GRADIENT_EXAMPLES[1])
@example(case=GRADIENT_EXAMPLES[2])
@settings(max_examples=20)
def test_manual_gradient_W(check, case):
    """manual_gradients gives autograd's dL/dW (O, F) by the chain rule"""
    judge_gradient(check, check.student(probes.manual_gradients, case), case,
                   "manual_gradients", "W")


@pytest.mark.points(2)
@given(case=strategies.linear_problems())
@example(case=GRADIENT_EXAMPLES[0])
@example(case=GRADIENT_EXAMPLES[1])
@settings(max_examples=20)
def test_manual_gradient_b(check, case):
    """manual_gradients gives autograd's dL/db (O,) by the chain rule"""
    judge_gradient(check, check.student(probes.manual_gradients, case), case,
                   "manual_gradients", "b")


NO_AUTOGRAD_HINT = ("manual_gradients must not use autograd (no .backward(), "
                    "torch.autograd.grad or requires_grad): write the chain rule with tensor "
                    "operations, as the handout derives it")


@pytest.mark.points(2)
def test_manual_gradients_without_autograd(check):
    """manual_gradients works under torch.no_grad(): the chain rule by hand, no autograd"""
    for case in GRADIENT_EXAMPLES[:2]:
        outcome = check.student(probes.manual_gradients_without_autograd, case)
        if outcome["raised"]:
            fail(f"manual_gradients raised {outcome['raised']} under torch.no_grad(), with W "
                 f"and b not requiring grad: {outcome['message']}", case=case,
                 hint=NO_AUTOGRAD_HINT)
        expect_pair(outcome["returned"], "manual_gradients", case)


# --- autograd_gradients ------------------------------------------------------------------


def autograd_raised_hint(message: str) -> str:
    if "does not require grad" in message:
        return ("autograd differentiates only with respect to tensors that require grad: "
                "set requires_grad=True on copies of W and b (W.detach().requires_grad_(True)) "
                "before computing the loss")
    if "leaf Variable" in message or "non-leaf" in message:
        return "call requires_grad_(True) on leaf copies: W.detach().requires_grad_(True)"
    return "compute mse_loss on copies of W and b that require grad, call .backward(), read .grad"


@pytest.mark.points(2)
@pytest.mark.uses(mse_loss=[test_mse_loss])
@given(case=strategies.linear_problems())
@example(case=GRADIENT_EXAMPLES[0])
@example(case=GRADIENT_EXAMPLES[1])
@settings(max_examples=15)
def test_autograd_gradients(check, case):
    """autograd_gradients returns autograd's dL/dW and dL/db, detached, in the inputs' dtype"""
    outcome = check.student(probes.autograd_gradients, case)
    if outcome["raised"]:
        fail(f"autograd_gradients raised {outcome['raised']}: {outcome['message']}", case=case,
             hint=autograd_raised_hint(outcome["message"]))
    for name in "Wb":
        judge_gradient(check, outcome["returned"], case, "autograd_gradients", name)
    if any(gradient.requires_grad for gradient in outcome["returned"]):
        fail("autograd_gradients returned a gradient that requires grad", case=case,
             hint="return the .grad of the copies (or detach what you return)")


SIDE_EFFECT_CASES = (
    {"samples": 6, "features": 3, "outputs": 2, "seed": 6, "dtype": "float64",
     "caller_requires_grad": False, "stale_grad": False},
    {"samples": 5, "features": 2, "outputs": 1, "seed": 7, "dtype": "float32",
     "caller_requires_grad": True, "stale_grad": True},
)

COPIES_HINT = ("differentiate copies (W.detach().requires_grad_(True)) or use "
               "torch.autograd.grad: the caller's W and b must come back as they were")


@pytest.mark.points(2)
@pytest.mark.uses(mse_loss=[test_mse_loss], autograd_gradients=[test_autograd_gradients])
def test_autograd_gradients_leave_caller_tensors(check):
    """autograd_gradients leaves the caller's W and b as they were (.grad, requires_grad)"""
    for case in SIDE_EFFECT_CASES:
        got = check.student(probes.autograd_side_effects, case)
        calls = [expect_pair(got[call], "autograd_gradients", case)
                 for call in ("first", "second")]
        first, second = ([expect_tensor(g, "autograd_gradients", case=case, device=check.device)
                          for g in pair] for pair in calls)
        for name, once, twice in zip("Wb", first, second, strict=True):
            if not agrees(twice, once, device=check.device):
                ratio = ratio_hint({2.0: "backward() added into the caller's .grad, which "
                                    "already held the first call's gradient"})(twice, once)
                fail(f"calling autograd_gradients twice on the same W and b gave a different "
                     f"grad_{name} the second time", case=case, expected=once, got=twice,
                     hint=f"{ratio}; {COPIES_HINT}" if ratio else COPIES_HINT)
        before = [case["caller_requires_grad"]] * 2
        if got["requires_grad"] != before:
            fail("autograd_gradients changed requires_grad of the caller's (W, b)", case=case,
                 expected=before, got=got["requires_grad"],
                 hint="set requires_grad on copies, never on the caller's tensors: "
                 + COPIES_HINT)
        for name, grad in zip("Wb", got["grads"], strict=True):
            if case["stale_grad"]:
                kept = grad is not None and bool((grad.value == 0.5).all())
                before = "0.5 everywhere, as before the calls"
            else:
                kept, before = grad is None, "None, as before the calls"
            if not kept:
                fail(f"autograd_gradients changed the caller's {name}.grad", case=case,
                     expected=before, got=show(grad), hint="a .grad the caller holds must be "
                     "neither added to nor cleared, and none may appear: " + COPIES_HINT)
        if not got["values_kept"]:
            fail("autograd_gradients changed the values of the caller's W or b", case=case,
                 hint=COPIES_HINT)


# --- gradient_descent ---------------------------------------------------------------------


def trajectory(case: dict, *, sign: float = 1.0, accumulate: bool = False,
               from_zeros: bool = False) -> tuple[list[float], torch.Tensor, torch.Tensor, float]:
    """Gradient descent in float64 on the case: (losses, final W, final b, final loss)."""
    p = problem64(case)
    initial = None if from_zeros else probes.descent_initial(case)
    if initial is None:
        W = torch.zeros(case["outputs"], case["features"], dtype=torch.float64)
        b = torch.zeros(case["outputs"], dtype=torch.float64)
    else:
        W, b = initial[0].double(), initial[1].double()
    count = case["samples"] * case["outputs"]
    losses, total_W, total_b = [], torch.zeros_like(W), torch.zeros_like(b)

    def residuals() -> torch.Tensor:
        return p["x"] @ W.T + b - p["y"]  # (N, O)

    for _ in range(case["steps"]):
        r = residuals()
        losses.append((r**2).mean().item())
        grad_W, grad_b = 2.0 * r.T @ p["x"] / count, 2.0 * r.sum(0) / count
        total_W = total_W + grad_W if accumulate else grad_W
        total_b = total_b + grad_b if accumulate else grad_b
        W, b = W - sign * case["lr"] * total_W, b - sign * case["lr"] * total_b
    return losses, W, b, (residuals() ** 2).mean().item()


@per_case
def descent_oracle(case: dict) -> tuple[list[float], torch.Tensor, torch.Tensor,
                                        dict[str, torch.Tensor]]:
    """The right losses, final W and b, and {advice: losses} of known wrong descents."""
    losses, W, b, final = trajectory(case)
    mistakes = {
        "gradient ascent: step against the gradient, W <- W - lr * dL/dW":
            trajectory(case, sign=-1.0)[0],
        "record each loss before its update: losses[0] is the loss at the starting "
        "parameters, losses[-1] the one the last update starts from": [*losses[1:], final],
        "zero W.grad and b.grad after each update: backward() adds into .grad, so each "
        "step used the sum of all gradients so far": trajectory(case, accumulate=True)[0],
    }
    if case["initial"]:
        mistakes["start from initial_W and initial_b when they are given"] = trajectory(
            case, from_zeros=True)[0]
    return losses, W, b, {advice: torch.tensor(values) for advice, values in mistakes.items()}


def descent_raised_hint(message: str, use_autograd: bool) -> str | None:
    if "leaf Variable that requires grad" in message:
        return ("update W and b in place inside `with torch.no_grad():`, so that autograd "
                "does not record the update itself")
    if "called manual_gradients" in message:
        return ("with use_autograd=True the gradients come from loss.backward() and .grad, "
                "not from manual_gradients")
    if "does not require grad" in message and not use_autograd:
        return ("use_autograd=False must not use autograd (the grader runs it under "
                "torch.no_grad()): take the gradients from your manual_gradients")
    if "NoneType" in message and use_autograd:
        return ("a .grad was None: backward() fills .grad only for leaf tensors that require "
                "grad and that the loss depends on. `W = W - lr * W.grad` makes a new tensor, "
                "no leaf: update the leaf in place under torch.no_grad() instead")
    return None


def judge_descent(check, case: dict) -> None:
    what = f"gradient_descent(use_autograd={case['use_autograd']})"
    got = check.student(probes.gradient_descent, case)
    if got["raised"]:
        fail(f"{what} raised {got['raised']}: {got['message']}", case=case,
             hint=descent_raised_hint(got["message"], case["use_autograd"]))
    result = expect_dict(got["returned"], what, ["losses", "W", "b"], case=case)
    losses = expect_float_list(result["losses"], f"{what}['losses']", case=case)
    expected_losses, expected_W, expected_b, mistakes = descent_oracle(case)
    if len(losses) != case["steps"]:
        fail(f"{what} returned {len(losses)} losses for {case['steps']} steps", case=case,
             hint="one loss per update, the loss at the parameters that update starts from")
    dtype = case_dtype(case)
    for step, (value, expected) in enumerate(zip(losses, expected_losses, strict=True)):
        if not scalar_close(value, expected, device=check.device, dtype=dtype):
            fail(f"{what}: the loss at step {step} differs", case=case, expected=expected,
                 got=value, hint=known_mistake(torch.tensor(losses, dtype=torch.float64),
                                               mistakes, device=check.device))
    for name, expected in (("W", expected_W), ("b", expected_b)):
        value = expect_tensor(result[name], f"{what}['{name}']", case=case, dtype=dtype,
                              shape=tuple(expected.shape), device=check.device)
        if result[name].requires_grad:
            fail(f"{what}['{name}'] still requires grad", case=case,
                 hint="return the final parameters detached: W.detach()")
        assert_close(value, expected, f"{what}['{name}'] after {case['steps']} steps",
                     case=case, device=check.device,
                     hint="the losses are right: return the parameters after the last update")
    if not got["initial_kept"]:
        fail(f"{what} modified initial_W or initial_b in place", case=case,
             hint="start from copies: initial_W.detach().clone()")


DESCENT_EXAMPLES = (
    {"samples": 6, "features": 3, "outputs": 1, "seed": 8, "dtype": "float32", "lr": 0.1,
     "steps": 5, "initial": False},
    {"samples": 5, "features": 2, "outputs": 2, "seed": 9, "dtype": "float64", "lr": 0.2,
     "steps": 4, "initial": True},
)

MANUAL_USES = pytest.mark.uses(
    mse_loss=[test_mse_loss],
    manual_gradients=[test_manual_gradient_W, test_manual_gradient_b,
                      test_manual_gradients_without_autograd])


@pytest.mark.points(3)
@MANUAL_USES
@given(case=strategies.descent_problems(use_autograd=False))
@example(case={**DESCENT_EXAMPLES[0], "use_autograd": False})
@example(case={**DESCENT_EXAMPLES[1], "use_autograd": False})
@settings(max_examples=12)
def test_gradient_descent_manual(check, case):
    """gradient_descent by hand: the losses and parameters of every step (no autograd)"""
    judge_descent(check, case)


@pytest.mark.points(2)
@pytest.mark.uses(mse_loss=[test_mse_loss])
@given(case=strategies.descent_problems(use_autograd=True))
@example(case={**DESCENT_EXAMPLES[0], "use_autograd": True})
@example(case={**DESCENT_EXAMPLES[1], "use_autograd": True})
@settings(max_examples=12)
def test_gradient_descent_autograd(check, case):
    """gradient_descent with autograd takes the same steps as by hand (zeroed .grad, no_grad)"""
    judge_descent(check, case)


# The session's outcome: the loss falls below 0.05 and the parameters approach the true
# ones. The reference (float32, from zeros) at lr 0.05 for 100 steps: training loss 0.0110,
# largest |W - W_true| 0.014, |b - b_true| 0.004; at lr 0.1, 0.2 or 0.3: 0.0108, 0.012,
# 0.004 (the least-squares fit's loss is 0.0108: the noise). Stopping at 50 steps (lr 0.05)
# gives 0.025 and 0.13; lr 0.025 (a gradient missing its factor 2) 0.02-0.03 and 0.09.
GENE_CASE = {"split": "train", "lr": 0.05, "steps": 100}
GENE_MAX_LOSS = 0.05
GENE_MAX_PARAMETER_ERROR = 0.05


@pytest.mark.points(2)
@MANUAL_USES
def test_gradient_descent_recovers_gene_expression_model(check):
    """gradient_descent fits the gene-expression set: loss < 0.05, parameters near the true"""
    case = GENE_CASE
    what = "gradient_descent on the gene-expression training set"
    result = expect_dict(check.student(probes.gene_expression_descent, case), what,
                         ["losses", "W", "b"], case=case)
    factors = len(TRUE_MODEL.factors)
    W = expect_tensor(result["W"], "gradient_descent(...)['W']", case=case,
                      dtype=torch.float32, shape=(1, factors), device=check.device).double()
    b = expect_tensor(result["b"], "gradient_descent(...)['b']", case=case,
                      dtype=torch.float32, shape=(1,), device=check.device).double()
    x, expression = (tensor.double() for tensor in gene_expression_tensors(case["split"]))
    y = expression.unsqueeze(1)
    loss = ((x @ W.T + b - y) ** 2).mean().item()
    if not loss < GENE_MAX_LOSS:
        fail(f"{what}: the final training loss is {loss:.4f}, expected below {GENE_MAX_LOSS} "
             f"after {case['steps']} steps at lr {case['lr']}", case=case,
             hint="the reference reaches 0.011; check that every step lowers the loss")
    true = torch.tensor([*TRUE_MODEL.weights, TRUE_MODEL.bias], dtype=torch.float64)
    errors = (torch.cat([W[0], b]) - true).abs()
    if errors.max().item() > GENE_MAX_PARAMETER_ERROR:
        worst = int(errors.argmax())
        name = [*TRUE_MODEL.factors, "bias"][worst]
        fail(f"{what}: the learned {name} weight is {torch.cat([W[0], b])[worst].item():.4f}, "
             f"the true one {true[worst].item():.4f} (allowed: +-{GENE_MAX_PARAMETER_ERROR})",
             case=case, hint="the reference gets within 0.015 of every true parameter")
