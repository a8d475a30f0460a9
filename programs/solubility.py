"""The case study of Preliminary Note 3 with `exercises/solubility.py`: train the 1D-CNN, then
its test metrics beside the majority class (about a minute on the embedded data; a real set
with `--data-dir DIR --dataset esol`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import ModuleType

import numpy as np
import torch
from sklearn import metrics
from torch import nn
from torch.utils.data import DataLoader

from data import load_solubility
from data.progress import EpochProgress, Progress
from programs.options import ProgramParser


class _LengthBuckets(torch.utils.data.Sampler):
    """Shuffled batches of proteins of similar length, for the program's training loader.

    A batch is padded to its longest protein; random batches of these skewed lengths are
    half padding. Each epoch: shuffle, sort runs of 8 batches' worth of proteins by length,
    cut them into batches, shuffle the batches. An epoch takes about half the time.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        run = 8 * self.batch_size
        batches = []
        for start in range(0, len(order), run):
            by_length = sorted(order[start : start + run], key=self.lengths.__getitem__)
            batches += [by_length[i : i + self.batch_size]
                        for i in range(0, len(by_length), self.batch_size)]
        for index in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[index]


def make_loader(
    impl: ModuleType, records: Sequence, max_len: int, batch_size: int, shuffle: bool, seed: int
) -> DataLoader:
    """A DataLoader of batches over solubility records (.sequence, .label) made by
    `impl`'s ProteinDataset and collate_proteins; shuffled ones in batches of similar length
    (`_LengthBuckets`)."""
    dataset = impl.ProteinDataset(
        [record.sequence for record in records], [record.label for record in records], max_len
    )
    if shuffle:
        lengths = [min(len(record.sequence), max_len) for record in records]
        return DataLoader(dataset, batch_sampler=_LengthBuckets(lengths, batch_size, seed),
                          collate_fn=impl.collate_proteins)
    return DataLoader(dataset, batch_size=batch_size, collate_fn=impl.collate_proteins)


def _binary_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """accuracy, precision, recall, F1, AUC-ROC and MCC from scikit-learn (threshold 0.5)."""
    predictions = (probabilities >= 0.5).astype(int)
    auc = (
        metrics.roc_auc_score(labels, probabilities) if len(set(labels)) == 2 else float("nan")
    )
    return {
        "accuracy": metrics.accuracy_score(labels, predictions),
        "precision": metrics.precision_score(labels, predictions, zero_division=0),
        "recall": metrics.recall_score(labels, predictions, zero_division=0),
        "f1": metrics.f1_score(labels, predictions, zero_division=0),
        "auc_roc": auc,
        "mcc": metrics.matthews_corrcoef(labels, predictions),
    }


def main(argv: list[str] | None = None) -> None:
    """Train the classifier, then report test metrics beside the majority-class baseline."""
    parser = ProgramParser("solubility", main.__doc__, data_dir=True)
    parser.add_argument(
        "--dataset",
        choices=("embedded", "esol", "netsolp"),
        default=None,
        help="which data set (default: embedded, or esol when --data-dir is given)",
    )
    parser.add_argument("--epochs", type=int, default=10, help="at most this many epochs")
    parser.add_argument("--patience", type=int, default=3, help="early-stopping patience")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=400, help="truncate longer sequences")
    parser.add_argument("--seed", type=int, default=0)
    args, impl = parser.start(argv)

    dataset = args.dataset or ("esol" if args.data_dir else "embedded")
    device = args.device
    torch.manual_seed(args.seed)
    splits = {
        split: load_solubility(split, dataset=dataset, data_dir=args.data_dir)
        for split in ("train", "valid", "test")
    }
    for split, records in splits.items():
        soluble = sum(record.label for record in records)
        print(f"{dataset} {split}: {len(records)} proteins, {soluble / len(records):.1%} soluble")

    train_loader = make_loader(impl, splits["train"], args.max_len, args.batch_size, True,
                               args.seed)
    val_loader = make_loader(impl, splits["valid"], args.max_len, 64, False, args.seed)
    test_loader = make_loader(impl, splits["test"], args.max_len, 64, False, args.seed)

    model = impl.ProteinSolubilityClassifier()
    print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters on {device}")
    # train_model evaluates once per epoch: a line after each evaluation shows the time
    # (early stopping may end the run before the estimate).
    progress = EpochProgress(val_loader, Progress(args.epochs),
                             lambda epoch: f"epoch {epoch}/{args.epochs} trained and evaluated")
    start = time.perf_counter()
    model, history = impl.train_model(
        model, train_loader, progress, args.epochs, args.lr, device, args.patience
    )
    seconds = time.perf_counter() - start
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    print(f"trained {len(history['val_loss'])} epochs in {seconds:.1f} s; best epoch {best_epoch}")

    _, probabilities, labels = impl.evaluate(model, test_loader, nn.CrossEntropyLoss(), device)
    labels_np = labels.cpu().numpy()
    model_metrics = _binary_metrics(labels_np, probabilities.float().cpu().numpy())
    majority = int(2 * sum(record.label for record in splits["train"]) >= len(splits["train"]))
    baseline_metrics = _binary_metrics(labels_np, np.full(len(labels_np), float(majority)))

    print(f"\ntest split ({len(labels_np)} proteins)")
    print(f"{'metric':<10} {'CNN':>8} {f'majority ({majority})':>14}")
    for name, value in model_metrics.items():
        print(f"{name:<10} {value:>8.3f} {baseline_metrics[name]:>14.3f}")


if __name__ == "__main__":
    main()
