# This file is generated from solutions/autograd_basics.py by `make stubs`: fill in the
# parts that raise NotImplementedError, and keep the names and signatures.
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

Run it: `python -m exercises.autograd_basics` (seconds; options `--lr`, `--steps`).
"""

from __future__ import annotations

import argparse

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


# ----------------------------------------------------------------------------- program


def _gene_expression_tensors(split: str, device: torch.device) -> tuple[Tensor, Tensor]:
    """Binding scores x (N, F) and expression y (N, 1) of one split, float32 on `device`."""
    from data import load_gene_expression

    records = load_gene_expression(split)
    x = torch.tensor([record.binding for record in records], device=device)  # (N, F)
    y = torch.tensor([[record.expression] for record in records], device=device)  # (N, 1)
    return x, y


def _show_gradients(device: torch.device, seed: int) -> None:
    """Print manual and autograd gradients side by side for a random batch of 10 points."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(10, 3, generator=generator).to(device)  # (N, F)
    y = torch.randn(10, 1, generator=generator).to(device)  # (N, O)
    W = torch.randn(1, 3, generator=generator).to(device)  # (O, F)
    b = torch.randn(1, generator=generator).to(device)  # (O,)
    manual = manual_gradients(W, b, x, y)
    automatic = autograd_gradients(W, b, x, y)
    print(f"A batch of 10 points, 3 features, 1 output: loss {mse_loss(W, b, x, y).item():.6f}")
    rows = [(f"dL/dW[0, {f}]", manual[0][0, f], automatic[0][0, f]) for f in range(3)]
    rows.append(("dL/db[0]", manual[1][0], automatic[1][0]))
    print(f"{'':>12} {'by hand':>12} {'autograd':>12}")
    for name, mine, theirs in rows:
        print(f"{name:>12} {mine.item():12.6f} {theirs.item():12.6f}")
    difference = max((m - a).abs().max().item() for m, a in zip(manual, automatic, strict=True))
    print(f"largest difference: {difference:.2e} (float32 rounding when it is not 0)\n")


def main(argv: list[str] | None = None) -> None:
    """Compare manual and autograd gradients, then fit the gene-expression set with both."""
    parser = argparse.ArgumentParser(prog="python -m exercises.autograd_basics",
                                     description=main.__doc__)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=10, help="print the loss every N steps")
    parser.add_argument("--seed", type=int, default=0, help="of the batch of 10 points")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (default 1: faster than 2 on a busy two-core machine)")
    args = parser.parse_args(argv)

    from data.synthetic_gene_expression import TRUE_MODEL

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    _show_gradients(device, args.seed)

    x, y = _gene_expression_tensors("train", device)
    print(f"Gene expression from TF binding: {x.shape[0]} genes, {x.shape[1]} factors; "
          f"gradient descent from zeros, lr {args.lr}, {args.steps} steps")
    runs = {name: gradient_descent(x, y, args.lr, args.steps, use_autograd=use_autograd)
            for name, use_autograd in (("by hand", False), ("autograd", True))}
    manual, automatic = runs.values()
    print(f"{'step':>6} {'loss, by hand':>14} {'loss, autograd':>15}")
    for step in range(0, args.steps, args.every):
        print(f"{step:>6} {manual['losses'][step]:14.6f} {automatic['losses'][step]:15.6f}")
    for name, run in runs.items():
        final = mse_loss(run["W"], run["b"], x, y).item()
        verdict = "reached" if final < 0.05 else "NOT reached"
        print(f"final training loss ({name}): {final:.6f}  (expected < 0.05: {verdict})")
    difference = max((manual[key] - automatic[key]).abs().max().item() for key in ("W", "b"))
    print(f"largest difference between the two runs' parameters: {difference:.2e}")
    x_test, y_test = _gene_expression_tensors("test", device)
    print(f"test loss (100 held-out genes): "
          f"{mse_loss(manual['W'], manual['b'], x_test, y_test).item():.6f} "
          f"(the noise alone gives about {TRUE_MODEL.noise_sd**2:.2f})")
    print(f"\n{'parameter':>10} {'learned':>9} {'true':>9}")
    learned = [*manual["W"][0].tolist(), manual["b"][0].item()]
    true = [*TRUE_MODEL.weights, TRUE_MODEL.bias]
    for name, value, planted in zip([*TRUE_MODEL.factors, "bias"], learned, true, strict=True):
        print(f"{name:>10} {value:9.4f} {planted:9.4f}")


if __name__ == "__main__":
    main()
