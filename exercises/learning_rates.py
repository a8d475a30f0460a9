# Exercise learning_rates: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=learning_rates` (QUICK=1: the
# fast checks only).
# Generated from solutions/learning_rates.py by `make stubs`: never edit it by hand.
"""Learning rates: a sweep that shows the three regimes, and schedules written by hand.

Part A: the rate decides whether gradient descent works at all. Fit the same linear model
(expression from transcription-factor binding, as in the autograd exercise) with SGD and
Adam, once per rate, and sort each run into a regime (`classify_run`): diverged, slow or
good. On the embedded gene-expression set SGD shows all three; Adam's steps are about lr in
size whatever the gradient, so it survives rates that break SGD.

Part B: schedules, written by hand as formulas of the epoch (0, 1, 2, ...), each taking
the values of its PyTorch counterpart stepped once per epoch: `step_decay` (StepLR),
`cosine_annealing` (CosineAnnealingLR) and `warmup_cosine` (a linear warm-up, then the
cosine). By hand: they may not use torch.optim.lr_scheduler (the grader checks); compare
with it in your own tests. `train_with_schedule` trains with any schedule.

Course notes: Session 2 ("Autograd and Gradient Descent"), Exercise 3 ("PyTorch
Optimizers": SGD, Adam and learning rates) and Challenge Problem 2 ("Learning rate
scheduling").

Its program: `python -m programs.learning_rates` (seconds): your sweep beside the
expected regimes, its plot, and your schedules beside PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

OPTIMIZER_NAMES = ("sgd", "adam")
DEFAULT_RATES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
REGIMES = ("diverged", "slow", "good")
Run = dict[str, Any]


# ----------------------------------------------------------------------------- Part A


def train_steps(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
                steps: int) -> list[float]:
    """Take `steps` full-batch updates of `model` on the mean squared error.

    Args:
        model: maps x (N, F) to predictions (N, O); its parameters are on x's device.
        optimizer: a torch optimizer over the model's parameters, used as it is (its rate
            is not changed here).
        x: (N, F) inputs; y: (N, O) targets; same floating dtype and device as the model.
        steps: the number of updates, >= 0.

    Returns:
        `steps` Python floats: losses[t] is the loss of the whole batch at the parameters
        before update t, the loss whose gradient update t follows; the mean of
        (model(x) - y) ** 2 over all N * O entries. A loss that overflows is kept as it is
        (inf or nan).

    Each update: clear the gradients, compute the loss, backpropagate, step.
    """
    raise NotImplementedError("learning_rates: train_steps")


def classify_run(losses: Sequence[float], best_loss: float, slow_factor: float = 2.0) -> str:
    """The regime of one run: "diverged", "slow" or "good".

    Args:
        losses: the run's loss history, >= 1 Python floats (inf and nan allowed).
        best_loss: the lowest finite last loss of the sweep the run belongs to.
        slow_factor: how far above best_loss a last loss may lie and still be good.

    Returns:
        "diverged" when any loss is not finite, or the last loss is greater than the first;
        else "slow" when the last loss is greater than slow_factor * best_loss;
        else "good" (a last loss equal to slow_factor * best_loss is good).

    Hint: nan compares False with everything (nan > 1.0 and nan < 1.0 are both False):
    test math.isfinite.
    """
    raise NotImplementedError("learning_rates: classify_run")


def make_sweep_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """torch.optim.SGD(params, lr=lr) for "sgd", torch.optim.Adam(params, lr=lr) for "adam"
    (every other setting at PyTorch's default); ValueError for any other name.

    Optional helper: the grader never calls it.
    """
    raise NotImplementedError("learning_rates: make_sweep_optimizer")


def lr_sweep(x: Tensor, y: Tensor, rates: Sequence[float] = DEFAULT_RATES, steps: int = 100,
             optimizers: Sequence[str] = OPTIMIZER_NAMES, slow_factor: float = 2.0) -> list[Run]:
    """Fit a linear model once per (optimizer, rate) and classify each run.

    Args:
        x: (N, F) inputs; y: (N, O) targets; same floating dtype and device.
        rates: the learning rates, > 0.
        steps: full-batch updates per run (`train_steps`).
        optimizers: names among "sgd" (torch.optim.SGD(params, lr=lr)) and "adam"
            (torch.optim.Adam(params, lr=lr)), all other settings PyTorch's defaults.
        slow_factor: as in `classify_run`.

    Returns:
        One dict per run, optimizer by optimizer in the given order, and within each the
        rates in the given order: {"optimizer": name, "lr": rate, "losses": the run's
        `steps` losses from your `train_steps`, "final_loss": losses[-1], "regime": from
        your `classify_run`, with best_loss the lowest finite final loss of all runs}.

    Every run starts from scratch: a new torch.nn.Linear(F, O) on x's device and in x's
    dtype, with its weight and bias set to zero, and a new optimizer over its parameters.
    """
    raise NotImplementedError("learning_rates: lr_sweep")


def plot_sweep(runs: Sequence[Run], path: str | None = None) -> Figure:
    """Plot every run's loss against the step, one panel per optimizer.

    Args:
        runs: as returned by `lr_sweep`.
        path: when given, save the figure there as a PNG.

    Returns:
        The `matplotlib.figure.Figure`: one axes per optimizer (in the order they first
        appear in `runs`), titled with its name, holding one line per run of that
        optimizer: its losses as they are (x: the step 0, 1, ...; y: the loss), labelled
        with its rate; the y axis on a log scale (the losses span many orders of
        magnitude); both axes labelled; a legend.

    Build the figure without showing it: `matplotlib.figure.Figure()` needs no window
    (or use pyplot with the non-interactive 'Agg' backend, and never call `show()`).
    Infinite and nan losses are simply not drawn.
    """
    raise NotImplementedError("learning_rates: plot_sweep")


# ----------------------------------------------------------------------------- Part B


def step_decay(epoch: int, base_lr: float, step_size: int, gamma: float) -> float:
    """The rate of `epoch` (0, 1, ...) under step decay: base_lr, multiplied by gamma once
    every step_size epochs (step_size >= 1).

    Returns:
        base_lr * gamma ** (epoch // step_size), a Python float: epochs 0 .. step_size - 1
        run at base_lr, the first decay comes at epoch step_size. As
        torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma), stepped once per
        epoch, sets it.
    """
    raise NotImplementedError("learning_rates: step_decay")


def cosine_annealing(epoch: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    """The rate of `epoch` (0, 1, ...) under cosine annealing from base_lr down to eta_min
    at epoch T_max (T_max >= 1).

    Returns:
        eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, a Python float,
        for every epoch >= 0 (past T_max the cosine climbs back, period 2 T_max). As
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min) sets it; that
        one computes each rate from the previous one, so the two differ by rounding only.
    """
    raise NotImplementedError("learning_rates: cosine_annealing")


def warmup_cosine(epoch: int, base_lr: float, warmup_epochs: int, start_factor: float,
                  total_epochs: int, eta_min: float = 0.0) -> float:
    """The rate of `epoch` (0, 1, ...) under a linear warm-up followed by cosine annealing.

    Args:
        epoch: >= 0.
        base_lr: the rate at the end of the warm-up.
        warmup_epochs: W >= 1, the epochs of the warm-up.
        start_factor: in (0, 1]: epoch 0 runs at start_factor * base_lr.
        total_epochs: > W; the cosine reaches eta_min at epoch total_epochs.
        eta_min: the cosine's lowest rate.

    Returns:
        A Python float. For epoch < W: base_lr * (start_factor + (1 - start_factor) *
        epoch / W); for epoch >= W: cosine_annealing(epoch - W, base_lr,
        T_max=total_epochs - W, eta_min), which is base_lr at epoch W. As
        SequentialLR(optimizer, [LinearLR(optimizer, start_factor, 1.0, total_iters=W),
        CosineAnnealingLR(optimizer, T_max=total_epochs - W, eta_min)], milestones=[W])
        sets it, stepped once per epoch.
    """
    raise NotImplementedError("learning_rates: warmup_cosine")


def train_with_schedule(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor,
                        y: Tensor, schedule: Callable[[int], float], epochs: int,
                        batch_size: int | None = None) -> dict[str, list[float]]:
    """Train for `epochs` epochs, each at the rate the schedule gives it.

    Args:
        model, optimizer, x, y: as for `train_steps`.
        schedule: epoch (0, 1, ...) -> learning rate, e.g.
            `lambda epoch: step_decay(epoch, 0.1, 10, 0.5)`.
        epochs: >= 0.
        batch_size: the rows of one update: each epoch takes x[0:batch_size],
            x[batch_size:2 * batch_size], ... in order (the last may be shorter), one update
            each with your `train_steps`; None: one update on the full batch per epoch.

    Returns:
        {"lrs": `epochs` Python floats, lrs[e] = schedule(e);
         "losses": one Python float per update, in order: the loss of its mini-batch
         before that update}.

    At the start of every epoch, before its first update, set "lr" of every parameter
    group in optimizer.param_groups to schedule(epoch): an optimizer reads its rate there
    at each step. The schedule is indexed by the epoch, not by the update.
    """
    raise NotImplementedError("learning_rates: train_with_schedule")
