"""The learning-rate sweep of `exercises/learning_rates.py` beside the expected regimes, its
plot, and your three schedules beside PyTorch's schedulers (under 10 s).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from data.tensors import gene_expression_tensors
from programs.options import ProgramParser

# The regimes of the default sweep on the embedded training set (100 steps, slow_factor 2).
EXPECTED_REGIMES = {"sgd": ("slow", "slow", "slow", "good", "diverged"),
                    "adam": ("slow", "slow", "slow", "good", "good")}


def _torch_schedule(kind: str, epochs: int, **settings: float) -> list[float]:
    """The rate PyTorch's scheduler sets at each of `epochs` epochs (for comparison)."""
    from torch.optim import lr_scheduler

    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=settings["base_lr"])
    if kind == "step_decay":
        scheduler = lr_scheduler.StepLR(optimizer, int(settings["step_size"]), settings["gamma"])
    elif kind == "cosine_annealing":
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, int(settings["T_max"]),
                                                   settings["eta_min"])
    else:
        warmup = int(settings["warmup_epochs"])
        scheduler = lr_scheduler.SequentialLR(optimizer, [
            lr_scheduler.LinearLR(optimizer, settings["start_factor"], 1.0, total_iters=warmup),
            lr_scheduler.CosineAnnealingLR(optimizer, int(settings["total_epochs"]) - warmup,
                                           settings["eta_min"])], milestones=[warmup])
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        with warnings.catch_warnings():  # SequentialLR passes an epoch to CosineAnnealingLR
            warnings.simplefilter("ignore")
            scheduler.step()
    return rates


def _print_sweep(runs: list[dict[str, Any]], rates: Sequence[float], expected_known: bool) -> None:
    names = list(dict.fromkeys(run["optimizer"] for run in runs))
    header = "".join(f" {name + ' final loss':>17} {'regime':>9} {'expected':>9}"
                     for name in names)
    print(f"{'lr':>8}{header}")
    by_key = {(run["optimizer"], run["lr"]): run for run in runs}
    for index, lr in enumerate(rates):
        row = f"{lr:>8g}"
        for name in names:
            run = by_key[(name, lr)]
            expected = EXPECTED_REGIMES[name][index] if expected_known else "-"
            mark = "" if not expected_known or expected == run["regime"] else " !"
            row += f" {run['final_loss']:>17.6g} {run['regime']:>9} {expected:>9}{mark}"
        print(row)


def main(argv: list[str] | None = None) -> None:
    """Sweep the learning rate of SGD and Adam on the gene-expression set; show schedules."""
    parser = ProgramParser("learning_rates", main.__doc__)
    parser.add_argument("--steps", type=int, default=100, help="full-batch steps per run")
    parser.add_argument("--out", default="build/learning_rates.png", help="PNG of the sweep")
    parser.add_argument("--epochs", type=int, default=12, help="epochs of the schedules shown")
    args, impl = parser.start(argv)
    device = args.device
    x, expression = gene_expression_tensors("train", device)
    y = expression.unsqueeze(1)  # (N, 1)
    print(f"Gene expression from TF binding: {x.shape[0]} genes, {x.shape[1]} factors; "
          f"{args.steps} full-batch steps per run from zero weights, on {device}")
    runs = impl.lr_sweep(x, y, impl.DEFAULT_RATES, args.steps)
    _print_sweep(runs, impl.DEFAULT_RATES, expected_known=args.steps == 100)
    regimes = {run["regime"] for run in runs if run["optimizer"] == "sgd"}
    best = min((run["final_loss"] for run in runs if math.isfinite(run["final_loss"])),
               default=math.inf)
    print(f"SGD shows {len(regimes)} of the 3 regimes (expected 3: slow, good, diverged); "
          f"the best final loss is {best:.4f} (expected 0.010-0.012: the noise alone gives "
          "about 0.01)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    impl.plot_sweep(runs, args.out)
    print(f"plot written to {args.out}\n")

    shown = {
        "step_decay": ({"base_lr": 0.1, "step_size": 3, "gamma": 0.5},
                       lambda e, s: impl.step_decay(e, s["base_lr"], s["step_size"],
                                                    s["gamma"])),
        "cosine_annealing": ({"base_lr": 0.1, "T_max": 10, "eta_min": 0.001},
                             lambda e, s: impl.cosine_annealing(e, s["base_lr"], s["T_max"],
                                                                s["eta_min"])),
        "warmup_cosine": ({"base_lr": 0.1, "warmup_epochs": 3, "start_factor": 0.1,
                           "total_epochs": 12, "eta_min": 0.0},
                          lambda e, s: impl.warmup_cosine(e, s["base_lr"], s["warmup_epochs"],
                                                          s["start_factor"], s["total_epochs"],
                                                          s["eta_min"])),
    }
    for kind, (settings, schedule) in shown.items():
        mine = [schedule(epoch, settings) for epoch in range(args.epochs)]
        theirs = _torch_schedule(kind, args.epochs, **settings)
        worst = max(abs(a - b) for a, b in zip(mine, theirs, strict=True))
        print(f"{kind} {settings}: largest difference from PyTorch {worst:.1e} "
              f"(expected below 1e-12)")
        print(f"{'epoch':>7} {'yours':>11} {'PyTorch':>11}")
        for epoch, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            print(f"{epoch:>7} {a:11.6f} {b:11.6f}")
    warm = shown["warmup_cosine"][0]
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=warm["base_lr"])
    result = impl.train_with_schedule(model, optimizer, x, y,
                                      lambda epoch: impl.warmup_cosine(epoch, **warm),
                                      warm["total_epochs"], batch_size=32)
    print(f"\nSGD with warmup_cosine, batches of 32, {warm['total_epochs']} epochs: final "
          f"batch loss {result['losses'][-1]:.4f} (expected below 0.05)")


if __name__ == "__main__":
    main()
