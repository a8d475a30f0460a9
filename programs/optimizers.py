"""The optimizer race of Preliminary Note 3, Exercise 2, with `exercises/optimizers.py`: your
SGD with momentum, Adam and AdamW train the same small model from the same weights on the
solubility data, with your train_with_optimizer; your plot_loss_curves draws the losses
and your summarize names the winners (about 20 s on a CPU).

The model is the race's own, so the race runs before the solubility exercise is done. Adam
gets the same weight decay as AdamW, as an L2 penalty: a second plot shows what that does
to the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn
from torch.utils.data import DataLoader

from data import load_solubility
from data.progress import Progress
from programs.options import ProgramParser

History = dict[str, list[float]]
# Printed losses have 4 decimals: runs closer than half a unit there are reported as a tie.
LOSS_DECIMALS = 4


class _CompositionClassifier(nn.Module):
    """The race's own small model: the mean of learned residue embeddings, then an MLP.

    It sees which residues a protein has, not their order, and trains in seconds on the
    CPU; the program needs nothing from the solubility exercise.
    """

    def __init__(self, embed_dim: int = 32, hidden_dim: int = 64) -> None:
        super().__init__()
        # padding_idx 0: padding (and unknown residues) are left out of the mean
        self.embedding = nn.EmbeddingBag(21, embed_dim, mode="mean", padding_idx=0)
        self.head = nn.Sequential(
            nn.Linear(embed_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 2)
        )

    def forward(self, sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(sequence))  # (B, 2)


def _protein_loader(records: Sequence, batch_size: int, shuffle: bool) -> DataLoader:
    """Solubility batches ({'sequence', 'mask', 'label'}) of the records, zero-padded."""
    token_of = {residue: index + 1 for index, residue in enumerate("ACDEFGHIKLMNPQRSTVWY")}
    proteins = [
        (torch.tensor([token_of.get(residue, 0) for residue in record.sequence]), record.label)
        for record in records
    ]

    def collate(batch: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
        sequences = [tokens for tokens, _ in batch]
        lengths = torch.tensor([len(tokens) for tokens in sequences])
        padded = nn.utils.rnn.pad_sequence(sequences, batch_first=True)  # (B, L)
        mask = (torch.arange(padded.shape[1]) < lengths[:, None]).float()  # (B, L)
        return {"sequence": padded, "mask": mask, "label": torch.tensor([y for _, y in batch])}

    return DataLoader(proteins, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)


def _race_optimizers(impl: ModuleType, weight_decay: float
                     ) -> dict[str, Callable[[Iterable[Any]], Any]]:
    """The three optimizers, Adam and AdamW with the same weight decay.

    With make_optimizer's settings Adam has no weight decay and AdamW's 0.01 shrinks the
    weights by 1e-5 per step, invisible in a few hundred steps: the curves coincide. Given
    the same weight decay, Adam applies it as an L2 penalty, which its per-weight scaling
    turns into a pull of up to lr per step on weights with small gradients, while AdamW's
    decoupled decay shrinks every weight by the same factor: that difference shows.
    """
    return {
        "sgd": lambda params: impl.SGDMomentum(params, lr=0.01, momentum=0.9),
        "adam": lambda params: impl.Adam(params, lr=1e-3, weight_decay=weight_decay),
        "adamw": lambda params: impl.AdamW(params, lr=1e-3, weight_decay=weight_decay),
    }


def _weight_norm(model: nn.Module) -> float:
    return torch.cat([p.detach().flatten() for p in model.parameters()]).norm().item()


def _plot_weight_norms(norms: Mapping[str, list[float]], path: str) -> None:
    """The weight norm per epoch of each run, as a PNG at `path`."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.add_subplot()
    for name, values in norms.items():
        axes.plot(range(1, len(values) + 1), values, marker="o", label=name)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("norm of all weights")
    axes.set_title("Weight norm: L2 penalty (Adam) vs decoupled weight decay (AdamW)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(path, format="png", dpi=120)


def _verdict(winner: str | None, keys: Mapping[str, tuple[int, float] | None]) -> str:
    """The winner and its (epoch, loss), or a tie with every run the printed loss cannot
    tell from it (same epoch, loss equal to LOSS_DECIMALS decimals)."""
    if winner is None or keys.get(winner) is None:
        return str(winner)
    epoch, loss = keys[winner]
    tied = [name for name, key in keys.items() if key is not None and key[0] == epoch
            and abs(key[1] - loss) < 0.5 * 10**-LOSS_DECIMALS]
    where = f"epoch {epoch}, loss {loss:.{LOSS_DECIMALS}f}"
    return f"a tie between {' and '.join(tied)} ({where})" if len(tied) > 1 else (
        f"{winner} ({where})")


def _report(impl: ModuleType, histories: Mapping[str, History],
            norms: Mapping[str, list[float]], threshold: float) -> None:
    """The race's winners by `summarize`, ties reported as ties, and the weight norms."""
    summary = impl.summarize(histories, threshold)
    reached = {
        name: next(((epoch, loss) for epoch, loss in enumerate(history["train_loss"], 1)
                    if loss <= threshold), None)
        for name, history in histories.items()
    }
    finals = {name: (len(h["val_loss"]), h["val_loss"][-1]) for name, h in histories.items()}
    print(f"fastest to a training loss <= {threshold:.{LOSS_DECIMALS}f}: "
          f"{_verdict(summary['fastest'], reached)}")
    print(f"lowest final validation loss: {_verdict(summary['lowest_val_loss'], finals)}")
    print("weight norm after the last epoch: "
          + ", ".join(f"{name} {values[-1]:.2f}" for name, values in norms.items()))


def main(argv: list[str] | None = None) -> None:
    """Race SGD with momentum, Adam and AdamW (your classes) and plot the losses."""
    parser = ProgramParser("optimizers", main.__doc__, data_dir=True)
    parser.add_argument("--dataset", default=None, choices=("embedded", "netsolp", "esol"),
                        help="default: esol with --data-dir, else embedded")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weight-decay", type=float, default=0.01,
                        help="weight decay of both Adam (L2 penalty) and AdamW (decoupled)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=None,
                        help="training loss that counts as converged (default: the highest "
                        "of the runs' lowest training losses, so every run reaches it)")
    parser.add_argument("--out", default="optimizer_comparison.png",
                        help="PNG of the loss curves; the weight norms go beside it")
    args, impl = parser.start(argv)

    dataset = args.dataset or ("esol" if args.data_dir else "embedded")
    records = {split: load_solubility(split, dataset=dataset, data_dir=args.data_dir)
               for split in ("train", "valid")}
    train = _protein_loader(records["train"], args.batch_size, shuffle=True)
    valid = _protein_loader(records["valid"], 64, shuffle=False)
    print(f"{dataset} solubility data: {len(records['train'])} training and "
          f"{len(records['valid'])} validation proteins; {args.epochs} epochs per optimizer "
          f"on {args.device}; Adam and AdamW with weight decay {args.weight_decay}")

    optimizers = _race_optimizers(impl, args.weight_decay)
    progress = Progress(args.epochs * len(optimizers))
    histories: dict[str, History] = {}
    norms: dict[str, list[float]] = {}
    for name, make in optimizers.items():
        torch.manual_seed(args.seed)  # the same initial weights and batch order for every run
        model = _CompositionClassifier().to(args.device)
        optimizer = make(model.parameters())
        histories[name], norms[name] = {"train_loss": [], "val_loss": []}, []
        for epoch in range(1, args.epochs + 1):
            # One epoch per call (the optimizer and its state carry over), to report each.
            history = impl.train_with_optimizer(model, optimizer, train, valid,
                                                nn.CrossEntropyLoss(), 1, args.device)
            for key, values in history.items():
                histories[name][key] += values
            norms[name].append(_weight_norm(model))
            progress.advance(f"{name:>5} epoch {epoch:2d}/{args.epochs}: train loss "
                             f"{history['train_loss'][-1]:.4f}, validation loss "
                             f"{history['val_loss'][-1]:.4f}, weight norm {norms[name][-1]:.2f}")

    impl.plot_loss_curves(histories, args.out)
    norms_path = str(Path(args.out).with_name(Path(args.out).stem + "_weight_norm.png"))
    _plot_weight_norms(norms, norms_path)
    print(f"plots written to {args.out} and {norms_path}")
    threshold = args.threshold
    if threshold is None:
        threshold = max(min(history["train_loss"]) for history in histories.values())
    _report(impl, histories, norms, threshold)



if __name__ == "__main__":
    main()
