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

Run the demonstration: `python -m exercises.grad_accumulation`.
"""

from __future__ import annotations

import argparse
import time
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


# ----------------------------------------------------------------------------- program


def _make_regression(num_samples: int, num_features: int, seed: int) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(num_samples, num_features, generator=generator)  # (N, F)
    weights = torch.randn(num_features, 1, generator=generator)  # (F, 1)
    targets = torch.sin(inputs @ weights) + 0.1 * torch.randn(num_samples, 1, generator=generator)
    return inputs, targets  # (N, F), (N, 1)


def _make_model(num_features: int, hidden_dim: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(num_features, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1)
    )


def _saved_activation_bytes(model: nn.Module, criterion: nn.Module, batch: MicroBatch) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of one forward on `batch`."""
    parameters = {p.data_ptr() for p in model.parameters()}
    saved = {}

    def keep(tensor: Tensor) -> Tensor:
        if tensor.data_ptr() not in parameters:  # weights are stored anyway, not per batch
            saved[tensor.data_ptr()] = tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        loss = criterion(model(batch[0]), batch[1])
    del loss
    return sum(saved.values())


def main(argv: list[str] | None = None) -> None:
    """Show that 4 accumulated micro-batches of 32 train exactly like batches of 128."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--micro-batch", type=int, default=32)
    parser.add_argument("--accumulation-steps", type=int, default=4)
    parser.add_argument("--samples", type=int, default=1000, help="not a multiple on purpose")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (default 1: faster than 2 on a busy two-core machine)")
    args = parser.parse_args(argv)

    from data.progress import Progress

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    num_features = 16
    inputs, targets = _make_regression(args.samples, num_features, args.seed)
    dataset = torch.utils.data.TensorDataset(inputs, targets)
    effective_batch = args.micro_batch * args.accumulation_steps
    criterion = nn.MSELoss()

    runs = {
        f"one batch of {effective_batch}": (effective_batch, 1),
        f"{args.accumulation_steps} x {args.micro_batch} accumulated": (
            args.micro_batch,
            args.accumulation_steps,
        ),
    }
    models = {}
    progress = Progress(args.epochs * len(runs))
    for name, (batch_size, steps) in runs.items():
        model = _make_model(num_features, args.hidden_dim, args.seed).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
        started = time.perf_counter()
        losses = []
        for epoch in range(1, args.epochs + 1):
            losses.append(train_epoch_accumulated(model, loader, criterion, optimizer, steps,
                                                  device))
            progress.advance(f"{name}: epoch {epoch}/{args.epochs}, loss {losses[-1]:.5f}")
        seconds = time.perf_counter() - started
        print(f"{name:>28}: loss per epoch " + " ".join(f"{loss:.5f}" for loss in losses)
              + f"  ({seconds:.2f} s)")
        models[name] = model

    big, accumulated = models.values()
    difference = max(
        (p - q).abs().max().item()
        for p, q in zip(big.parameters(), accumulated.parameters(), strict=True)
    )
    print(f"largest parameter difference after {args.epochs} epochs: {difference:.2e} "
          f"(float32 rounding; the last group of each epoch has {args.samples % effective_batch}"
          " samples and is weighted by its own size)")

    probe_model = _make_model(num_features, args.hidden_dim, args.seed).to(device)
    for batch_size in (effective_batch, args.micro_batch):
        batch = (inputs[:batch_size].to(device), targets[:batch_size].to(device))
        megabytes = _saved_activation_bytes(probe_model, criterion, batch) / 2**20
        print(f"activations kept for backward, batch of {batch_size:>4}: {megabytes:.3f} MiB")
    print("Accumulation needs the activation memory of one micro-batch, "
          "for the update of the whole effective batch.")


if __name__ == "__main__":
    main()
