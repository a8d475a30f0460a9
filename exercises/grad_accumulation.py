# Exercise grad_accumulation: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=grad_accumulation` (QUICK=1: the
# fast checks only).
# Generated from solutions/grad_accumulation.py by `make stubs`: never edit it by hand.
"""Gradient accumulation: train with a large effective batch using small micro-batches.

Why: the activations a forward pass keeps for the backward pass grow with the batch
size, so a batch of 128 long protein sequences may not fit in GPU memory while a
micro-batch of 32 does. Gradients, however, simply add up: running forward/backward on
4 micro-batches of 32, without zeroing in between, and stepping once gives the same
update as one batch of 128, at the memory cost of a batch of 32. The *effective batch
size* (what the optimizer and the learning rate see) is the sum of the micro-batches.

The one subtle point: the criterion returns the *mean* loss of its micro-batch, so each
micro-batch loss must be weighted by its share of the samples, n_i / N, before
`backward()`. Dividing by the number of micro-batches is only right when they are all
the same size (the last one of an epoch often is not).

Course notes: Preliminary Note 3, Exercise 1 (gradient accumulation) and the training
loop with gradient clipping.

Its program: `python -m programs.grad_accumulation` (seconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

MicroBatch = tuple[Tensor, Tensor]


def accumulate_gradients(
    model: nn.Module,
    criterion: nn.Module,
    micro_batches: Sequence[MicroBatch],
) -> float:
    """Add to every parameter's `.grad` the gradient of the mean loss over all samples.

    Args:
        model: maps `inputs` to predictions (e.g. logits); its parameters and the
            micro-batches are already on the same device.
        criterion: a mean-reduced loss, `criterion(model(inputs), targets)` -> 0-dim tensor.
        micro_batches: a non-empty sequence of `(inputs, targets)`; the first dimension of
            both is the number of samples n_i of that micro-batch, and sizes may differ.

    Returns:
        The mean loss over all N = sum(n_i) samples, as a Python float: exactly the loss
        of the one big batch made of all the micro-batches.

    Afterwards each `.grad` has *grown* by exactly the gradient of that mean loss, as if
    the micro-batches had been concatenated into one batch: run one forward/backward per
    micro-batch (that is what saves memory: never concatenate them), and let `backward()`
    add into `.grad`. Do not zero the gradients and do not step: the caller decides that
    (a `.grad` that already holds values is added to, not replaced).

    The subtle point: each micro-batch loss is a mean over its own n_i samples, so scale
    it by n_i / N before `backward()`. Scaling by 1 / len(micro_batches) is only right
    when every micro-batch has the same size.

    Hint: Preliminary Note 3, Exercise 1; `loss.backward()` accumulates into `.grad`.
    """
    raise NotImplementedError("grad_accumulation: accumulate_gradients")


def _grouped(loader: Iterable[Any], group_size: int) -> Iterator[list[Any]]:
    """Consecutive runs of `group_size` items from `loader`; the last run may be shorter.

    Optional helper for `train_epoch_accumulated`: the grader never calls it. Use it,
    or group inline (delete it then). Yield lists, without reading the whole loader first.
    """
    raise NotImplementedError("grad_accumulation: _grouped")


def train_epoch_accumulated(
    model: nn.Module,
    loader: Iterable[MicroBatch],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    accumulation_steps: int,
    device: torch.device | str,
    max_grad_norm: float | None = None,
) -> float:
    """Train `model` for one epoch with gradient accumulation; return the mean loss.

    Args:
        model: already on `device`; `model(inputs)` -> predictions (e.g. logits).
        loader: yields micro-batches `(inputs, targets)`, possibly on the CPU; move each one
            to `device` before the forward pass.
        criterion: a mean-reduced loss, `criterion(model(inputs), targets)` -> 0-dim tensor.
        optimizer: steps the model's parameters.
        accumulation_steps: how many consecutive micro-batches make one effective batch
            (>= 1); e.g. 4 micro-batches of 32 make an effective batch of 128.
        device: where the model lives.
        max_grad_norm: when set, clip the total norm of the accumulated gradient to it
            (`torch.nn.utils.clip_grad_norm_`) before each step.

    Returns:
        The mean loss per sample over the whole epoch, a Python float (each micro-batch's
        loss weighted by its number of samples, taken before that effective batch's step).

    Puts the model in training mode. For each effective batch: zero the gradients once
    (`optimizer.zero_grad()`, which the grader counts), accumulate the gradient of the
    mean loss over *its own* samples (use `accumulate_gradients`), clip once (the whole
    accumulated gradient, never each micro-batch, and before the step), step once. When
    the number of micro-batches is not a multiple of `accumulation_steps`, the trailing
    shorter group is an effective batch too: it is stepped, with the mean over its own
    (fewer) samples.

    Hint: Preliminary Note 3, Exercise 1 and the training loop with gradient clipping.
    """
    raise NotImplementedError("grad_accumulation: train_epoch_accumulated")
