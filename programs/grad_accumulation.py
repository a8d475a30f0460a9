"""4 accumulated micro-batches of 32 against one batch of 128, with
`exercises/grad_accumulation.py`'s `train_epoch_accumulated` (under 10 s).
"""

from __future__ import annotations

import time

import torch
from torch import Tensor, nn

from data.progress import Progress
from programs.options import ProgramParser


def make_regression(num_samples: int, num_features: int, seed: int) -> tuple[Tensor, Tensor]:
    """Inputs (N, F) and targets (N, 1): a noisy sine of a random projection."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(num_samples, num_features, generator=generator)  # (N, F)
    weights = torch.randn(num_features, 1, generator=generator)  # (F, 1)
    targets = torch.sin(inputs @ weights) + 0.1 * torch.randn(num_samples, 1, generator=generator)
    return inputs, targets  # (N, F), (N, 1)


def make_model(num_features: int, hidden_dim: int, seed: int) -> nn.Module:
    """A one-hidden-layer MLP, the same weights for the same seed."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(num_features, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1)
    )


def saved_activation_bytes(model: nn.Module, criterion: nn.Module,
                           batch: tuple[Tensor, Tensor]) -> int:
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
    parser = ProgramParser("grad_accumulation", main.__doc__)
    parser.add_argument("--micro-batch", type=int, default=32)
    parser.add_argument("--accumulation-steps", type=int, default=4)
    parser.add_argument("--samples", type=int, default=1000, help="not a multiple on purpose")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args, impl = parser.start(argv)

    device = args.device
    num_features = 16
    inputs, targets = make_regression(args.samples, num_features, args.seed)
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
        model = make_model(num_features, args.hidden_dim, args.seed).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
        started = time.perf_counter()
        losses = []
        for epoch in range(1, args.epochs + 1):
            losses.append(impl.train_epoch_accumulated(model, loader, criterion, optimizer,
                                                       steps, device))
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

    probe_model = make_model(num_features, args.hidden_dim, args.seed).to(device)
    for batch_size in (effective_batch, args.micro_batch):
        batch = (inputs[:batch_size].to(device), targets[:batch_size].to(device))
        megabytes = saved_activation_bytes(probe_model, criterion, batch) / 2**20
        print(f"activations kept for backward, batch of {batch_size:>4}: {megabytes:.3f} MiB")
    print("Accumulation needs the activation memory of one micro-batch, "
          "for the update of the whole effective batch.")


if __name__ == "__main__":
    main()
