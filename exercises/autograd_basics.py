# Exercise autograd_basics: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=autograd_basics` (QUICK=1: the
# fast checks only).
# Generated from solutions/autograd_basics.py by `make stubs`: never edit it by hand.
"""Autograd, checked by hand: the gradients of a linear model's squared error.

The model of this exercise is one linear layer and its mean squared error:

    y_hat = x @ W.T + b                  x (N, F), W (O, F), b (O,)  ->  y_hat (N, O)
    L     = mean of (y_hat - y)^2        over all N * O entries of y (N, O)

You write its gradients twice: by hand with the chain rule (dL/dy_hat = 2 (y_hat - y) / (N O),
then through the matrix product and the bias), and with PyTorch's autograd; then gradient
descent with each, which must take identical steps. The last part trains on a small
synthetic gene-expression set (`data/gene_expression/`: five transcription factors'
binding scores per gene, expression linear in them plus noise) and should recover the
weights that made it.

All tensors of one call share a floating dtype (float32 or float64) and a device; results
are in that dtype, on that device.

Course notes: Preliminary Note 2, "PyTorch Autograd in Action" and Exercise 3 ("Autograd
Exploration"); Session 2 ("Autograd and Gradient Descent"), Exercises 1 ("Manual Gradient
Descent") and 2 ("PyTorch Autograd").

Its program: `python -m programs.autograd_basics` (seconds).
"""

from __future__ import annotations

import torch
from torch import Tensor


def mse_loss(W: Tensor, b: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """The mean squared error of the linear model on one batch.

    Args:
        W: (O, F) weights.
        b: (O,) biases.
        x: (N, F) inputs, N >= 1.
        y: (N, O) targets.

    Returns:
        A 0-dim tensor: the mean of (x @ W.T + b - y)^2 over all N * O entries (not over
        the N samples only), in the inputs' dtype, on their device. Build it from tensor
        operations (no .item()), so that autograd can differentiate it when W or b
        requires grad.

    Hint: Preliminary Note 2, "PyTorch Autograd in Action".
    """
    raise NotImplementedError("autograd_basics: mse_loss")


def manual_gradients(W: Tensor, b: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """dL/dW and dL/db of `mse_loss`, by hand with the chain rule. No autograd here.

    Args:
        W, b, x, y: as for `mse_loss`.

    Returns:
        (grad_W, grad_b): grad_W (O, F), the shape of W; grad_b (O,), the shape of b; in
        the inputs' dtype, on their device.

    No autograd here: no .backward(), no torch.autograd.grad, no requires_grad. Write
    the derivative with tensor operations: with r = x @ W.T + b - y (N, O), the loss is
    sum(r^2) / (N O), so dL/dr = 2 r / (N O); each r[n, o] depends on W[o, f] through
    x[n, f] and on b[o] with slope 1. The grader calls this function under
    torch.no_grad(), with tensors that do not require grad, refuses .backward() and
    torch.autograd.grad in it (and in any helper it calls), and compares it with autograd.

    Hint: Preliminary Note 2, Exercise 3 (its hint has the formulas for one output).
    """
    raise NotImplementedError("autograd_basics: manual_gradients")


def autograd_gradients(W: Tensor, b: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """dL/dW and dL/db of `mse_loss`, computed by autograd.

    Args:
        W, b, x, y: as for `mse_loss`; W and b may or may not require grad, and may
            already hold a .grad.

    Returns:
        (grad_W, grad_b): grad_W (O, F), grad_b (O,), in the inputs' dtype, on their
        device, not requiring grad.

    The caller's W and b come back exactly as they were: same values, same
    requires_grad, same .grad (a .grad they hold is neither added to nor cleared), so
    calling it twice gives the same gradients twice. Differentiate copies that require
    grad (W.detach().requires_grad_(True)) with .backward() and read their .grad, or use
    torch.autograd.grad.

    Hint: Preliminary Note 2, "PyTorch Autograd in Action"; backward() adds into .grad.
    """
    raise NotImplementedError("autograd_basics: autograd_gradients")


def gradient_descent(
    x: Tensor,
    y: Tensor,
    lr: float,
    steps: int,
    *,
    use_autograd: bool = False,
    initial_W: Tensor | None = None,
    initial_b: Tensor | None = None,
) -> dict:
    """Fit W and b to (x, y) by `steps` steps of full-batch gradient descent on `mse_loss`.

    Args:
        x: (N, F) inputs; y: (N, O) targets; same dtype and device.
        lr: the learning rate, > 0.
        steps: the number of updates, >= 0.
        use_autograd: False: the gradients come from your `manual_gradients`, with no
            autograd anywhere on this path, not even in a helper that turns gradients
            back on (torch.no_grad() alone does not forbid it: the grader refuses
            .backward() and torch.autograd.grad here, and runs it under no_grad). True: the
            autograd loop: W and b are leaf tensors with requires_grad=True; each step
            calls .backward() on `mse_loss`, updates W and b in place under
            torch.no_grad(), and zeroes their .grad (backward adds into it).
        initial_W: (O, F) starting weights, default zeros; initial_b: (O,) starting
            biases, default zeros. Start from copies: the caller's tensors are not modified.

    Returns:
        {"losses": list of `steps` Python floats, losses[t] being the loss at the
        parameters before update t (the loss whose gradient that update uses);
        "W": (O, F) and "b": (O,), the parameters after the last update, detached
        (requires_grad False)}. Tensors in x's dtype, on x's device.

    Each update is W <- W - lr * dL/dW, b <- b - lr * dL/db, with both gradients taken at
    the same (current) parameters. Both versions take identical steps.

    Hint: Preliminary Note 2, "Learning from Mistakes: Gradients and Optimization"
    (the update rule) and "PyTorch Autograd in Action" (one step with autograd).
    """
    raise NotImplementedError("autograd_basics: gradient_descent")
