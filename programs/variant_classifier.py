"""`exercises/variant_classifier.py` at work: test accuracy and the train/validation gap
beside the session's ranges, early stopping in an overfitting setting, and per-level
accuracy of the expression-level classifier (under 10 s).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from data.synthetic_variants import TRUE_MODEL
from data.tensors import gene_expression_tensors, variant_tensors
from programs.options import ProgramParser


def expression_levels(expression: Tensor, train_expression: Tensor, num_levels: int = 3,
                      ) -> Tensor:
    """Expression values binned into `num_levels` classes, 0 = lowest.

    The cut points are the quantiles 1/K, ..., (K-1)/K of the TRAINING split's expression
    (`train_expression`), used for every split: cut points taken from the split being
    binned would use its own values (a leak for validation and test). A value equal to
    a cut point goes to the upper class. Returns (N,) int64 on expression's device.
    """
    fractions = torch.arange(1, num_levels, dtype=train_expression.dtype,
                             device=train_expression.device) / num_levels
    cuts = torch.quantile(train_expression, fractions)  # (K-1,)
    return torch.bucketize(expression, cuts.to(expression.device), right=True)


def _print_history(history: dict, every: int) -> None:
    epochs = len(history["val_loss"])
    print(f"{'epoch':>7} {'train loss':>11} {'val loss':>9}")
    for epoch in [*range(1, epochs + 1, every), *([epochs] if (epochs - 1) % every else [])]:
        print(f"{epoch:>7} {history['train_loss'][epoch - 1]:11.4f} "
              f"{history['val_loss'][epoch - 1]:9.4f}")


# The overfitting demonstration: measured, its validation loss falls for 15-25 epochs, then
# rises while the training loss goes to 0 (split seeds 0-2).
OVERFIT_NOISE_FEATURES = 20
OVERFIT_HIDDEN = 64
OVERFIT_LR = 0.003


def _overfitting_mlp(num_features: int) -> nn.Module:
    """A two-hidden-layer MLP returning logits (N,): far more weights than samples."""
    return nn.Sequential(nn.Linear(num_features, OVERFIT_HIDDEN), nn.ReLU(),
                         nn.Linear(OVERFIT_HIDDEN, OVERFIT_HIDDEN), nn.ReLU(),
                         nn.Linear(OVERFIT_HIDDEN, 1), nn.Flatten(0))


def _verdict(ok: bool) -> str:
    return "reached" if ok else "NOT reached"


@torch.no_grad()
def _bce(model: nn.Module, x: Tensor, y: Tensor) -> float:
    model.eval()
    return nn.functional.binary_cross_entropy_with_logits(model(x), y.float()).item()


def main(argv: list[str] | None = None) -> None:
    """Classify variants, watch a small noisy model overfit, and classify expression levels."""
    parser = ProgramParser("variant_classifier", main.__doc__)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--every", type=int, default=25, help="print the losses every N epochs")
    parser.add_argument("--seed", type=int, default=0)
    args, impl = parser.start(argv)
    device = args.device
    settings = {"epochs": args.epochs, "lr": args.lr, "patience": args.patience,
                "seed": args.seed}

    # Exercises 4 and 5: logistic regression on the variant set's own train/valid split.
    train, val, test = (variant_tensors(split, device) for split in ("train", "valid", "test"))
    shares = ", ".join(f"{name} {y.float().mean().item():.2f}"
                       for name, (_, y) in zip(("train", "valid", "test"), (train, val, test),
                                               strict=True))
    print(f"Variants: {len(train[1])} train, {len(val[1])} valid, {len(test[1])} test, "
          f"{train[0].shape[1]} features; share pathogenic: {shares}")
    model, history = impl.fit_variant_classifier(train, val, **settings)
    _print_history(history, args.every)
    best = history["best_epoch"]
    print(f"best epoch {best} of {len(history['val_loss'])} run")
    with torch.no_grad():
        model.eval()
        accuracy = impl.binary_accuracy(model(test[0]), test[1])
    print(f"test accuracy: {accuracy:.3f}  (expected 0.85-0.95: "
          f"{_verdict(0.85 <= accuracy <= 0.95)})")
    gap = abs(_bce(model, *val) - _bce(model, *train))
    print(f"train/val loss gap of the best model: {gap:.4f}  (expected < 0.05: "
          f"{_verdict(gap < 0.05)})")
    weights = model.linear.weight[0].tolist()
    print("learned weights: " + ", ".join(f"{name} {w:+.2f}" for name, w in
                                          zip(TRUE_MODEL.features, weights, strict=True)))

    # Exercise 6: a bigger model, few samples, noise features: the validation loss turns up.
    x_small, y_small = val
    small_train, small_val = impl.stratified_split(y_small, 0.5, args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    noise = torch.randn(len(y_small), OVERFIT_NOISE_FEATURES, generator=generator)
    x_noisy = torch.cat([x_small, noise.to(device)], dim=1)  # (N, F + noise)
    torch.manual_seed(args.seed)
    mlp = _overfitting_mlp(x_noisy.shape[1]).to(device)
    print(f"\nOverfitting: a {OVERFIT_HIDDEN}-{OVERFIT_HIDDEN} MLP on {len(small_train)} "
          f"variants (stratified_split of the valid file; {len(small_val)} validate) with "
          f"{OVERFIT_NOISE_FEATURES} extra noise features, Adam lr {OVERFIT_LR}")
    history = impl.train_model(
        mlp, (x_noisy[small_train], y_small[small_train].float()),
        (x_noisy[small_val], y_small[small_val].float()), nn.BCEWithLogitsLoss(),
        torch.optim.Adam(mlp.parameters(), lr=OVERFIT_LR), args.epochs, args.patience)
    _print_history(history, 5)
    best, ran = history["best_epoch"], len(history["val_loss"])
    print(f"lowest validation loss {history['val_loss'][best - 1]:.4f} at epoch {best}, "
          f"{history['val_loss'][-1]:.4f} at epoch {ran} (training loss "
          f"{history['train_loss'][-1]:.4f}): early stopping ended training after epoch "
          f"{ran} of {args.epochs} (expected before the last: {_verdict(ran < args.epochs)})")

    # Challenge 1: three expression levels from transcription-factor binding.
    (x_tr, e_tr), (x_va, e_va), (x_te, e_te) = (gene_expression_tensors(split, device)
                                                for split in ("train", "valid", "test"))
    levels = [expression_levels(e, e_tr) for e in (e_tr, e_va, e_te)]
    model, history = impl.fit_level_classifier((x_tr, levels[0]), (x_va, levels[1]), 3,
                                               **settings)
    with torch.no_grad():
        model.eval()
        per_class = impl.per_class_accuracy(model(x_te), levels[2])
    print(f"\nExpression levels (tertiles of the training expression), best epoch "
          f"{history['best_epoch']} of {len(history['val_loss'])}: per-class test accuracy "
          + ", ".join(f"{name} {value:.3f}" for name, value in
                      zip(("low", "middle", "high"), per_class.tolist(), strict=True))
          + f"  (expected each >= 0.8: {_verdict(bool((per_class >= 0.8).all()))})")


if __name__ == "__main__":
    main()
