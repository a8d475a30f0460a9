"""optimizers: the reference's hand-written update rules against torch.optim, and the race.

Rows: for each rule, the largest parameter difference from torch.optim after 100 float32
steps on a million parameters and the time per step relative to torch.optim's
single-tensor kernels; then the notes' experiment (SGD with momentum, Adam, AdamW) on
200 embedded training proteins for 3 epochs: final losses and which optimizer is fastest.
"""

from __future__ import annotations

import time

import torch

STEPS = 100
SIZE = 1_000_000
SUBSET = 200
EPOCHS = 3


def _race(make, device: str) -> tuple[torch.Tensor, float]:
    generator = torch.Generator().manual_seed(0)
    param = torch.randn(SIZE, generator=generator).to(device).requires_grad_()
    grads = [torch.randn(SIZE, generator=generator).to(device) for _ in range(4)]
    optimizer = make([param])
    started = time.perf_counter()
    for step in range(STEPS):
        param.grad = grads[step % len(grads)]
        optimizer.step()
    return param.detach(), (time.perf_counter() - started) / STEPS


def run() -> list[tuple[str, str]]:
    try:
        from solutions import optimizers as reference
        from solutions import solubility
    except ImportError:
        return [("optimizers", "skipped: no solutions/ in this checkout")]
    from data import load_solubility

    rows = []
    pairs = {
        "SGDMomentum": (lambda p: reference.SGDMomentum(p, lr=0.01, weight_decay=0.01),
                        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.01,
                                                  foreach=False)),
        "Adam": (lambda p: reference.Adam(p, weight_decay=0.01),
                 lambda p: torch.optim.Adam(p, weight_decay=0.01, foreach=False)),
        "AdamW": (lambda p: reference.AdamW(p), lambda p: torch.optim.AdamW(p, foreach=False)),
    }
    for name, (mine, theirs) in pairs.items():
        got, mine_seconds = _race(mine, "cpu")
        expected, torch_seconds = _race(theirs, "cpu")
        rows.append((f"optimizers: {name} vs torch.optim, max |difference| after {STEPS} "
                     "float32 steps", f"{(got - expected).abs().max().item():.1e}"))
        rows.append((f"optimizers: {name} time per step, 1M parameters (cpu)",
                     f"{mine_seconds * 1e3:.2f} ms ({mine_seconds / torch_seconds:.2f}x torch)"))

    loaders = {}
    for split, size in (("train", SUBSET), ("valid", SUBSET // 2)):
        records = load_solubility(split)[:size]
        dataset = solubility.ProteinDataset([r.sequence for r in records],
                                            [r.label for r in records])
        loaders[split] = torch.utils.data.DataLoader(
            dataset, batch_size=32, shuffle=split == "train",
            collate_fn=solubility.collate_proteins)
    started = time.perf_counter()
    histories = reference.compare_optimizers(solubility.ProteinSolubilityClassifier,
                                             loaders["train"], loaders["valid"], EPOCHS, "cpu")
    seconds = time.perf_counter() - started
    for name, history in histories.items():
        rows.append((f"optimizers: {name}, {SUBSET} embedded proteins, {EPOCHS} epochs: final "
                     "train / validation loss",
                     f"{history['train_loss'][-1]:.4f} / {history['val_loss'][-1]:.4f}"))
    threshold = max(min(history["train_loss"]) for history in histories.values())
    summary = reference.summarize(histories, threshold)
    rows.append((f"optimizers: fastest to train loss <= {threshold:.4f}; lowest final val loss",
                 f"{summary['fastest']}; {summary['lowest_val_loss']}"))
    rows.append(("optimizers: the three runs (cpu)", f"{seconds:.1f} s"))
    return rows
