# Exercise optimizers: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=optimizers` (QUICK=1: the
# fast checks only).
# Generated from solutions/optimizers.py by `make stubs`: never edit it by hand.
"""Optimizer comparison: SGD with momentum, Adam and AdamW, written by hand and raced.

Part A: the three update rules, each a `torch.optim.Optimizer` subclass that takes
exactly the same steps as its PyTorch counterpart (each class's docstring gives its rule).
Parameters whose `.grad` is None take no step at all: their state does not advance.
By hand: the three classes may not use torch.optim.SGD, Adam or AdamW (the grader checks).

Part B: the experiment of the notes. Train a solubility classifier three times, once
per optimizer, from identical initial weights; plot training (solid) and validation
(dashed) loss; say which optimizer converges fastest and which ends lowest.

Course notes: Preliminary Note 3, section 2 (optimizers: momentum, Adam, AdamW and
decoupled weight decay) and Exercise 2 (optimizer comparison).

The race: `python -m programs.optimizers` (about 20 s on a CPU), on a small model of its
own: it needs nothing from the solubility exercise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import matplotlib
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

History = dict[str, list[float]]
OPTIMIZER_NAMES = ("sgd", "adam", "adamw")


class SGDMomentum(torch.optim.Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum and L2 weight decay.

    Must take the same steps as `torch.optim.SGD(params, lr, momentum=momentum,
    dampening=0, weight_decay=weight_decay, nesterov=False)`, for every parameter group
    (each group may set its own lr, momentum and weight_decay; missing ones take the
    defaults given here).

    For each parameter p of each group whose `p.grad` is not None:
        g = p.grad + weight_decay * p          (the decay goes *into* the momentum)
        b = g (a copy) at p's first step, else b = momentum * b + g   (no dampening)
        p = p - lr * b
    Keep b in `self.state[p]` (one state per parameter, e.g. key "momentum_buffer"), and
    update p in place, on p's own device and dtype. Skip parameters with `.grad` None.

    Hint: Preliminary Note 3, section 2 (momentum). `torch.optim.Optimizer.__init__(params,
    defaults)` builds `self.param_groups` (each a dict with "params" and the hyperparameters)
    and `self.state` (a dict from parameter to its own state dict).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        raise NotImplementedError("optimizers: SGDMomentum.__init__")

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given.

        `@torch.no_grad()` is there because the update itself must not be recorded by
        autograd; a closure re-evaluates the loss, which does need gradients.
        """
        raise NotImplementedError("optimizers: SGDMomentum.step")


class Adam(torch.optim.Optimizer):
    """Adam with bias correction and coupled (L2) weight decay.

    Must take the same steps as `torch.optim.Adam(params, lr, betas, eps, weight_decay)`
    (amsgrad off), for every parameter group (groups may override any hyperparameter).

    For each parameter p whose `p.grad` is not None, with t = the number of steps p itself
    has taken, counting this one (a parameter skipped earlier has a smaller t than others):
        g = p.grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g            (m, v start as zeros shaped like p)
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t);  v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)   (eps outside the square root)
    Keep m, v and t in `self.state[p]`, per parameter. Skip parameters with `.grad` None.

    The subtle points: t is per parameter, not a counter of `step()` calls; without the
    bias corrections the first steps are far too small (m starts at zero).

    Hint: Preliminary Note 3, section 2 (Adam).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        raise NotImplementedError("optimizers: Adam.__init__")

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        raise NotImplementedError("optimizers: Adam.step")


class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay (Loshchilov and Hutter).

    Must take the same steps as `torch.optim.AdamW(params, lr, betas, eps, weight_decay)`
    (amsgrad off), for every parameter group.

    For each parameter p whose `p.grad` is not None:
        p = p * (1 - lr * weight_decay)     first, and the gradient is NOT changed
        then exactly Adam's update with g = p.grad (m, v, bias corrections, eps, per-
        parameter step count t).
    Skip parameters with `.grad` None (no decay for them either).

    The subtle point: the decay shrinks the weights directly instead of entering m and v,
    so Adam's per-coordinate scaling does not weaken it. Adding weight_decay * p to the
    gradient is Adam's (coupled) L2 penalty, a different rule.

    Hint: Preliminary Note 3, section 2 (AdamW, decoupled weight decay).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        raise NotImplementedError("optimizers: AdamW.__init__")

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        raise NotImplementedError("optimizers: AdamW.step")


def _adam_moments_and_update(
    state: dict[str, Any],
    param: torch.Tensor,
    grad: torch.Tensor,
    group: Mapping[str, Any],
    beta1: float,
    beta2: float,
) -> None:
    """Advance one parameter's Adam state (step, m, v) with `grad` and update it in place.

    Optional helper, shared by Adam and AdamW: the grader never calls it. Use it, or write
    the update inside both `step` methods (delete it then).
    """
    raise NotImplementedError("optimizers: _adam_moments_and_update")


def make_optimizer(name: str, params: Iterable[Any]) -> torch.optim.Optimizer:
    """Your optimizer for `name`, with the settings of the notes' experiment.

    'sgd' -> SGDMomentum(params, lr=0.01, momentum=0.9)
    'adam' -> Adam(params, lr=1e-3)
    'adamw' -> AdamW(params, lr=1e-3, weight_decay=0.01)
    anything else -> ValueError naming the accepted names.

    Use the classes of this module (not `torch.optim`'s). `params` is whatever
    `torch.optim` accepts: an iterable of parameters (`model.parameters()`) or of
    parameter-group dicts.
    """
    raise NotImplementedError("optimizers: make_optimizer")


def train_with_optimizer(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Mapping[str, torch.Tensor]],
    val_loader: Iterable[Mapping[str, torch.Tensor]],
    criterion: nn.Module,
    epochs: int,
    device: torch.device | str,
) -> History:
    """Train `model` for `epochs` epochs with `optimizer`; record both losses per epoch.

    Args:
        model: already on `device`, called as `model(sequence, mask)` -> logits (B, 2).
        optimizer: already built on `model`'s parameters.
        train_loader, val_loader: yield solubility batches {'sequence': (B, L) int64,
            'mask': (B, L) float32, 'label': (B,) int64}, on any device: move them to
            `device`. Batch sizes may differ (the last batch is often smaller).
        criterion: a mean-reduced loss, `criterion(logits, labels)` -> 0-dim tensor.
        epochs: number of passes over `train_loader`.

    Returns:
        {'train_loss': [...], 'val_loss': [...]}, each a list of `epochs` Python floats.

    Each epoch: in training mode, for every batch zero the gradients, forward, backward,
    step; then, in evaluation mode and without gradients (`torch.no_grad()`), compute the
    validation loss. Both recorded values are means *per sample* over the whole epoch: weight
    each batch's mean loss by its batch size (a plain mean of batch means over-weights the
    short last batch). The training loss is the one seen during the epoch, before each
    batch's step. Go back to training mode at the start of every epoch.

    Hint: Preliminary Note 3, the training loop (`model.train()` / `model.eval()`).
    """
    raise NotImplementedError("optimizers: train_with_optimizer")


def validation_loss(
    model: nn.Module,
    loader: Iterable[Mapping[str, torch.Tensor]],
    criterion: nn.Module,
    device: torch.device | str,
) -> float:
    """Mean loss per sample over `loader`, in evaluation mode and without gradients.

    Optional helper for train_with_optimizer: the grader never calls it. Use it, or
    validate inside train_with_optimizer (delete it then).
    """
    raise NotImplementedError("optimizers: validation_loss")


def compare_optimizers(
    model_factory: Callable[[], nn.Module],
    train_loader: Iterable[Mapping[str, torch.Tensor]],
    val_loader: Iterable[Mapping[str, torch.Tensor]],
    epochs: int,
    device: torch.device | str,
    seed: int = 0,
    names: Sequence[str] = OPTIMIZER_NAMES,
) -> dict[str, History]:
    """Train one fresh model per optimizer name, all from the same initial weights.

    Args:
        model_factory: `model_factory()` -> a new, randomly initialised model (on the CPU),
            called as `model(sequence, mask)` -> logits (B, 2).
        train_loader, val_loader, epochs, device: as for `train_with_optimizer`.
        seed: fixes the initial weights (`torch.manual_seed(seed)` before building them).
        names: optimizer names for `make_optimizer`, in the order to run them.

    Returns:
        {name: history} in the order of `names`, each history from `train_with_optimizer`
        with `nn.CrossEntropyLoss()` and `make_optimizer(name, ...)`.

    The point of the experiment: every run must start from *identical* weights and train
    its *own* model (a run that continues from another run's trained weights, or starts
    from other random weights, is not a fair comparison). Either reseed before building
    each model, or build one model and give each run a copy of it (`copy.deepcopy`, or
    `load_state_dict` of its saved initial state).

    Hint: Preliminary Note 3, Exercise 2.
    """
    raise NotImplementedError("optimizers: compare_optimizers")


def plot_loss_curves(histories: Mapping[str, History], path: str | None = None) -> Figure:
    """Plot every optimizer's training and validation loss per epoch.

    Args:
        histories: {name: {'train_loss': [...], 'val_loss': [...]}} as returned by
            `compare_optimizers`.
        path: when given, save the figure there as a PNG (whatever the file name ends in).

    Returns:
        The `matplotlib.figure.Figure`. For each optimizer: its training loss as a solid
        line and its validation loss as a dashed line ('--'), both in one colour of its
        own; x axis the epoch, y axis the loss, both labelled; a legend naming the lines.

    Build the figure without showing it: `matplotlib.figure.Figure()` needs no window
    (or use pyplot with the non-interactive 'Agg' backend, and never call `show()`).
    """
    raise NotImplementedError("optimizers: plot_loss_curves")


def summarize(histories: Mapping[str, History], threshold: float) -> dict[str, str | None]:
    """Which optimizer converged fastest and which ended with the lowest validation loss.

    Returns:
        {'fastest': the name whose training loss first falls to <= threshold (the earliest
         epoch wins; if several reach it at the same epoch, the one with the lower training
         loss at that epoch; None when none reaches it),
         'lowest_val_loss': the name with the lowest *final* (last-epoch) validation loss}.
    """
    raise NotImplementedError("optimizers: summarize")
