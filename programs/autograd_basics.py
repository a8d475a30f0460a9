"""Manual and autograd gradients side by side, then gradient descent on the gene-expression
set with both (`exercises/autograd_basics.py`'s functions; seconds).
"""

from __future__ import annotations

from types import ModuleType

import torch

from data.synthetic_gene_expression import TRUE_MODEL
from data.tensors import gene_expression_tensors
from programs.options import ProgramParser


def _show_gradients(impl: ModuleType, device: torch.device, seed: int) -> None:
    """Print manual and autograd gradients side by side for a random batch of 10 points."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(10, 3, generator=generator).to(device)  # (N, F)
    y = torch.randn(10, 1, generator=generator).to(device)  # (N, O)
    W = torch.randn(1, 3, generator=generator).to(device)  # (O, F)
    b = torch.randn(1, generator=generator).to(device)  # (O,)
    manual = impl.manual_gradients(W, b, x, y)
    automatic = impl.autograd_gradients(W, b, x, y)
    print(f"A batch of 10 points, 3 features, 1 output: loss "
          f"{impl.mse_loss(W, b, x, y).item():.6f}")
    rows = [(f"dL/dW[0, {f}]", manual[0][0, f], automatic[0][0, f]) for f in range(3)]
    rows.append(("dL/db[0]", manual[1][0], automatic[1][0]))
    print(f"{'':>12} {'by hand':>12} {'autograd':>12}")
    for name, mine, theirs in rows:
        print(f"{name:>12} {mine.item():12.6f} {theirs.item():12.6f}")
    difference = max((m - a).abs().max().item() for m, a in zip(manual, automatic, strict=True))
    print(f"largest difference: {difference:.2e} (float32 rounding when it is not 0)\n")


def main(argv: list[str] | None = None) -> None:
    """Compare manual and autograd gradients, then fit the gene-expression set with both."""
    parser = ProgramParser("autograd_basics", main.__doc__)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=10, help="print the loss every N steps")
    parser.add_argument("--seed", type=int, default=0, help="of the batch of 10 points")
    args, impl = parser.start(argv)
    _show_gradients(impl, args.device, args.seed)

    x, expression = gene_expression_tensors("train", args.device)
    y = expression.unsqueeze(1)  # (N, 1)
    print(f"Gene expression from TF binding: {x.shape[0]} genes, {x.shape[1]} factors; "
          f"gradient descent from zeros, lr {args.lr}, {args.steps} steps")
    runs = {name: impl.gradient_descent(x, y, args.lr, args.steps, use_autograd=use_autograd)
            for name, use_autograd in (("by hand", False), ("autograd", True))}
    manual, automatic = runs.values()
    print(f"{'step':>6} {'loss, by hand':>14} {'loss, autograd':>15}")
    for step in range(0, args.steps, args.every):
        print(f"{step:>6} {manual['losses'][step]:14.6f} {automatic['losses'][step]:15.6f}")
    for name, run in runs.items():
        final = impl.mse_loss(run["W"], run["b"], x, y).item()
        verdict = "reached" if final < 0.05 else "NOT reached"
        print(f"final training loss ({name}): {final:.6f}  (expected < 0.05: {verdict})")
    difference = max((manual[key] - automatic[key]).abs().max().item() for key in ("W", "b"))
    print(f"largest difference between the two runs' parameters: {difference:.2e}")
    x_test, expression_test = gene_expression_tensors("test", args.device)
    test_loss = impl.mse_loss(manual["W"], manual["b"], x_test, expression_test.unsqueeze(1))
    print(f"test loss (100 held-out genes): {test_loss.item():.6f} "
          f"(the noise alone gives about {TRUE_MODEL.noise_sd**2:.2f})")
    print(f"\n{'parameter':>10} {'learned':>9} {'true':>9}")
    learned = [*manual["W"][0].tolist(), manual["b"][0].item()]
    true = [*TRUE_MODEL.weights, TRUE_MODEL.bias]
    for name, value, planted in zip([*TRUE_MODEL.factors, "bias"], learned, true, strict=True):
        print(f"{name:>10} {value:9.4f} {planted:9.4f}")


if __name__ == "__main__":
    main()
