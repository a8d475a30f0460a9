"""grad_accumulation: the reference's accumulated training against large-batch training."""

from __future__ import annotations

import time

import torch


def run() -> list[tuple[str, str]]:
    try:
        from solutions import grad_accumulation as reference
    except ImportError:
        return [("grad_accumulation", "skipped: no solutions/ in this checkout")]
    from programs.grad_accumulation import make_model, make_regression, saved_activation_bytes

    torch.manual_seed(0)
    inputs, targets = make_regression(1000, 16, seed=0)  # 1000 = 7 x 128 + 104
    dataset = torch.utils.data.TensorDataset(inputs, targets)
    criterion = torch.nn.MSELoss()
    rows, models = [], []
    for batch_size, steps in ((128, 1), (32, 4)):
        model = make_model(16, 256, seed=0)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
        started = time.perf_counter()
        for _ in range(5):
            reference.train_epoch_accumulated(model, loader, criterion, optimizer, steps, "cpu")
        rows.append((f"grad_accumulation: 5 epochs, batch {batch_size} x {steps} steps (cpu)",
                     f"{time.perf_counter() - started:.3f} s"))
        models.append(model)
    difference = max((p - q).abs().max().item()
                     for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True))
    rows.append(("grad_accumulation: max |parameter difference|, 4 x 32 vs 128",
                 f"{difference:.1e}"))
    for batch_size in (128, 32):
        saved = saved_activation_bytes(
            models[0], criterion, (inputs[:batch_size], targets[:batch_size]))
        rows.append((f"grad_accumulation: activations kept for backward, batch {batch_size}",
                     f"{saved / 2**10:.0f} KiB"))
    return rows
