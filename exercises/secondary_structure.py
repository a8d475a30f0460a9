# Exercise secondary_structure: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=secondary_structure` (QUICK=1: the
# fast checks only).
# Generated from solutions/secondary_structure.py by `make stubs`: never edit it by hand.
"""Per-residue secondary structure with a position-wise MLP (Preliminary Note 3, Exercise 4).

Every residue of a protein gets one of three states: helix (H), strand (E) or coil (C).
A 3-layer MLP maps the one-hot encoding of each residue, shape (B, L, 20), to three logits,
shape (B, L, 3). Sequences in a batch have different lengths, so the batch is padded to the
longest one and a boolean mask marks the real residues; the loss and the accuracy must look
at real residues only. On its own a residue says little about its state: `add_window_context`
lets the same MLP see the 2k neighbours of every residue.

Run `python -m exercises.secondary_structure` to train on the embedded data, or
`--data-dir DIR` to train on the FLIP subset and test on CB513 and TS115.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from data import AMINO_ACIDS, load_secondary_structure
from data.progress import EpochProgress, Progress

SS_STATES = "HEC"
PADDING_TARGET = -100


def one_hot_encode(sequences: Sequence[str]) -> tuple[Tensor, Tensor]:
    """One-hot encode a batch of protein sequences, padded to the longest one.

    Args:
        sequences: B strings over the alphabet `AMINO_ACIDS` ("ACDEFGHIKLMNPQRSTVWY").

    Returns:
        x: (B, L, 20) float32, L = length of the longest sequence (0 for an empty batch or
            empty strings only); x[b, i, j] = 1.0 when residue i of sequence b is
            AMINO_ACIDS[j], every other entry 0.0.
        mask: (B, L) bool, True at the real residues (i < len(sequences[b])), False in padding.

    Both tensors are on the CPU. An unknown letter (X, B, Z, U, ...) gives an all-zero row
    that still counts as a residue (mask True): only padding is masked out.

    Hint: Preliminary Note 3, section 4 (padding variable-length sequences and masks);
    Preliminary Note 2, section 4 (encoding a protein sequence as a tensor).
    """
    raise NotImplementedError("secondary_structure: one_hot_encode")


def encode_states(ss3_strings: Sequence[str], length: int) -> Tensor:
    """Encode secondary-structure strings as class indices, padded to `length`.

    Args:
        ss3_strings: B strings over SS_STATES ("HEC"), none longer than `length`.
        length: the padded length L (usually that of `one_hot_encode`'s output).

    Returns:
        (B, length) int64 on the CPU: H -> 0, E -> 1, C -> 2, and -100 at every position past
        the end of a string (-100 is the `ignore_index` of `F.cross_entropy`).

    Raises:
        ValueError: a letter outside "HEC", or a string longer than `length`.

    Hint: Preliminary Note 3, section 4 (padding), section 1 (cross-entropy targets).
    """
    raise NotImplementedError("secondary_structure: encode_states")


class SecondaryStructureMLP(nn.Module):
    """A 3-layer MLP applied to every residue independently.

    forward(x): x (B, L, in_features) float -> logits (B, L, num_classes), same device and
    dtype, computed as

        fc1 -> ReLU -> dropout -> fc2 -> ReLU -> dropout -> fc3

    with fc1 = nn.Linear(in_features, hidden_dim), fc2 = nn.Linear(hidden_dim, hidden_dim),
    fc3 = nn.Linear(hidden_dim, num_classes) and one nn.Dropout(dropout). The logits are
    raw scores: no softmax (cross-entropy applies log-softmax itself). nn.Linear acts on the
    last dimension, so residues never mix: the logits of a residue depend on its own features
    only, and padding cannot change the logits of real residues.

    Hint: Preliminary Note 2, section 6 (layers, activations, nn.Module); Preliminary Note 3,
    section 5 (dropout is active in train() mode only).
    """

    def __init__(
        self,
        in_features: int = 20,
        hidden_dim: int = 64,
        num_classes: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        raise NotImplementedError("secondary_structure: SecondaryStructureMLP.__init__")

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, in_features) -> (B, L, num_classes) logits."""
        raise NotImplementedError("secondary_structure: SecondaryStructureMLP.forward")


def masked_cross_entropy(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Mean cross-entropy over the positions where `mask` is True.

    Args:
        logits: (B, L, C) float, raw scores.
        targets: (B, L) int64 class indices in [0, C) wherever mask is True; anything
            (e.g. -100) where mask is False.
        mask: (B, L) bool, at least one True.

    Returns:
        0-dim tensor on logits' device: the sum of -log softmax(logits)[target] over the
        selected positions divided by their number. Positions where mask is False add
        nothing to the loss and receive zero gradient, whatever their logits and targets.

    The subtle point: averaging over all B * L positions (padding included) gives a different,
    wrong number; so does a per-sequence mean averaged over sequences.

    Hint: Preliminary Note 3, section 1 (cross-entropy) and section 4 (masking padding).
    """
    raise NotImplementedError("secondary_structure: masked_cross_entropy")


def q3_accuracy(logits: Tensor, targets: Tensor, mask: Tensor) -> float:
    """Q3: the fraction of real residues whose predicted state is the true one.

    Args:
        logits: (B, L, 3) float; the prediction is the argmax over the last dimension.
        targets: (B, L) int64 in {0, 1, 2} where mask is True, anything elsewhere.
        mask: (B, L) bool, at least one True.

    Returns:
        a Python float in [0, 1]: correct predictions at positions where mask is True,
        divided by the number of such positions. Padding is never counted.

    Hint: Preliminary Note 3, section 6 ("Evaluation: Beyond Accuracy").
    """
    raise NotImplementedError("secondary_structure: q3_accuracy")


def add_window_context(x: Tensor, mask: Tensor, half_window: int) -> Tensor:
    """Concatenate to every residue the features of its k = half_window neighbours each side.

    Args:
        x: (B, L, F) float features (e.g. one-hot); values at padded positions may be anything.
        mask: (B, L) bool, True at real residues.
        half_window: k >= 0.

    Returns:
        (B, L, F * (2k + 1)), same dtype and device as x. At a real position i, the row is
        [x[i-k], x[i-k+1], ..., x[i], ..., x[i+k]] concatenated along the features, in that
        order (so out[b, i, j*F:(j+1)*F] is the feature vector of position i - k + j). A
        neighbour before the start, past the end (no wrap-around), or at a padded position
        contributes a block of zeros. The row of a padded position is all zeros, so padding
        stays padding. With k = 0 the result equals x with padded rows zeroed.

    Hint: Preliminary Note 3, section 4 (masks); think of shifting a zero-padded copy of the
    sequence by -k, ..., +k positions (F.pad, or Tensor.unfold).
    """
    raise NotImplementedError("secondary_structure: add_window_context")


def train_secondary_structure(
    model: nn.Module,
    train_loader: Iterable[tuple[Tensor, Tensor, Tensor]],
    val_loader: Iterable[tuple[Tensor, Tensor, Tensor]],
    epochs: int,
    lr: float,
    device: torch.device | str,
) -> dict[str, list[float]]:
    """Train `model` with AdamW and masked cross-entropy; evaluate Q3 after every epoch.

    Args:
        model: maps x (B, L, F) to logits (B, L, 3); moved to `device`.
        train_loader, val_loader: iterables of (x (B, L, F) float, targets (B, L) int64,
            mask (B, L) bool) batches, on any device (move them to `device`).
        epochs: number of passes over train_loader.
        lr: learning rate of torch.optim.AdamW(model.parameters(), lr=lr) (other settings at
            their defaults), created once before the first epoch.
        device: where to train.

    Returns:
        {'train_loss': [...], 'val_q3': [...]}, one Python float per epoch each.
        train_loss is the mean masked cross-entropy per real residue over the epoch (each
        batch's loss weighted by its number of real residues); val_q3 is the Q3 over all
        real residues of val_loader (pooled, not a mean of per-batch Q3s), computed in eval
        mode (dropout off) without gradients. Training batches run in train mode.

    Hint: Preliminary Note 3, section 3 (the training loop) and section 5 (validation).
    """
    raise NotImplementedError("secondary_structure: train_secondary_structure")


# ---------------------------------------------------------------------------------------
# The program: data pipeline, baselines, evaluation. Not part of the exercise.


def encode_record(record) -> tuple[Tensor, Tensor]:
    """(one-hot (L, 20), targets (L,)) of one SecondaryStructureRecord.

    Residues whose resolved_mask is '0' keep their place in the input (they are neighbours
    of others) but get target -100, so they are never scored.
    """
    x, _ = one_hot_encode([record.sequence])
    targets = encode_states([record.ss3], x.shape[1])  # (1, L)
    unresolved = [i for i, flag in enumerate(record.resolved_mask) if flag == "0"]
    targets[0, unresolved] = PADDING_TARGET
    return x[0], targets[0]


def collate_encoded(
    batch: Sequence[tuple[Tensor, Tensor]], half_window: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Pad encoded records into (x, targets, mask); x gets the window when half_window > 0.

    mask is True at the scored (real and resolved) residues.
    """
    lengths = torch.tensor([len(targets) for _, targets in batch])
    x = pad_sequence([one_hot for one_hot, _ in batch], batch_first=True)  # (B, L, 20)
    targets = pad_sequence(
        [t for _, t in batch], batch_first=True, padding_value=PADDING_TARGET
    )  # (B, L)
    residue_mask = torch.arange(x.shape[1]) < lengths[:, None]  # (B, L)
    if half_window > 0:
        x = add_window_context(x, residue_mask, half_window)  # (B, L, 20 * (2k + 1))
    return x, targets, residue_mask & (targets != PADDING_TARGET)


def make_loader(
    records: Sequence, half_window: int, batch_size: int, shuffle: bool, seed: int = 0
) -> DataLoader:
    """A DataLoader of (x, targets, mask) batches over `records`, each encoded once."""
    return DataLoader(
        [encode_record(record) for record in records],
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=lambda batch: collate_encoded(batch, half_window),
    )


def scored_residues(records: Iterable) -> Iterable[tuple[str, str]]:
    """(amino acid, state) of every resolved residue."""
    for record in records:
        for letter, state, flag in zip(
            record.sequence, record.ss3, record.resolved_mask, strict=True
        ):
            if flag == "1":
                yield letter, state


def majority_state(records: Iterable) -> str:
    """The most frequent state among the resolved training residues."""
    return Counter(state for _, state in scored_residues(records)).most_common(1)[0][0]


def propensity_states(records: Sequence) -> dict[str, str]:
    """For each amino acid, its most frequent state in the training residues."""
    counts: dict[str, Counter] = {}
    for letter, state in scored_residues(records):
        counts.setdefault(letter, Counter())[state] += 1
    return {letter: counter.most_common(1)[0][0] for letter, counter in counts.items()}


def per_state_q3(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Q3 overall and per true state from (true, predicted) state letters."""
    total, correct = Counter(), Counter()
    for true, predicted in pairs:
        total[true] += 1
        correct[true] += true == predicted
    scores = {"Q3": sum(correct.values()) / max(sum(total.values()), 1)}
    for state in SS_STATES:
        scores[f"Q_{state}"] = correct[state] / total[state] if total[state] else float("nan")
    return scores


def baseline_scores(train: Sequence, test: Sequence) -> dict[str, dict[str, float]]:
    """Q3 of predicting the majority state, and each amino acid's most frequent state."""
    majority = majority_state(train)
    propensity = propensity_states(train)
    residues = list(scored_residues(test))
    return {
        "majority state": per_state_q3((state, majority) for _, state in residues),
        "residue propensity": per_state_q3(
            (state, propensity.get(letter, majority)) for letter, state in residues
        ),
    }


def model_scores(
    model: nn.Module, loader: Iterable, device: torch.device | str
) -> dict[str, float]:
    """Q3 overall and per true state of `model` over a loader of encoded batches."""
    model.eval()
    pairs = []
    with torch.no_grad():
        for x, targets, mask in loader:
            predictions = model(x.to(device)).argmax(dim=-1).cpu()  # (B, L)
            for true, predicted in zip(
                targets[mask].tolist(), predictions[mask].tolist(), strict=True
            ):
                pairs.append((SS_STATES[true], SS_STATES[predicted]))
    return per_state_q3(pairs)


def validation_line(
    model: nn.Module, loader: Iterable, half_window: int, epochs: int, device: torch.device | str
) -> Callable[[int], str]:
    """The progress line after an epoch: the model's validation loss and Q3 at that point.

    The training function has just validated (in eval mode); this runs the model over the
    validation batches once more and leaves its mode as it found it.
    """

    def line(epoch: int) -> str:
        training = model.training
        model.eval()
        loss_sum, correct, residues = 0.0, 0, 0
        with torch.no_grad():
            for x, targets, mask in loader:
                logits = model(x.to(device)).cpu()  # (B, L, 3)
                loss_sum += F.cross_entropy(logits[mask], targets[mask], reduction="sum").item()
                correct += int(((logits.argmax(dim=-1) == targets) & mask).sum())
                residues += int(mask.sum())
        model.train(training)
        return (f"MLP, half-window {half_window}: epoch {epoch}/{epochs}, validation loss "
                f"{loss_sum / residues:.3f}, Q3 {correct / residues:.3f}")

    return line


def load_sets(data_dir: str | None) -> tuple[list, list, dict[str, list]]:
    """(train, valid, {test name: test}) from the embedded data or the real sets."""
    if data_dir is None:
        return (
            load_secondary_structure("train"),
            load_secondary_structure("valid"),
            {"embedded test": load_secondary_structure("test")},
        )
    return (
        load_secondary_structure("train", dataset="flip", data_dir=data_dir),
        load_secondary_structure("valid", dataset="flip", data_dir=data_dir),
        {
            name: load_secondary_structure("test", dataset=name, data_dir=data_dir)
            for name in ("cb513", "ts115")
        },
    )


def compare_models(
    train: Sequence,
    valid: Sequence,
    tests: dict[str, Sequence],
    half_windows: Sequence[int],
    *,
    epochs: int = 10,
    lr: float = 3e-3,
    hidden_dim: int = 64,
    batch_size: int = 32,
    seed: int = 0,
    device: torch.device | str = "cpu",
    log=print,
) -> list[tuple[str, str, dict[str, float]]]:
    """(test set, method, Q3 scores) for the baselines and one MLP per half-window."""
    rows = []
    for name, test in tests.items():
        for method, scores in baseline_scores(train, test).items():
            rows.append((name, method, scores))
    progress = Progress(epochs * len(half_windows), log=log)
    for half_window in half_windows:
        torch.manual_seed(seed)
        model = SecondaryStructureMLP(
            in_features=len(AMINO_ACIDS) * (2 * half_window + 1), hidden_dim=hidden_dim
        )
        valid_loader = make_loader(valid, half_window, batch_size, shuffle=False)
        # train_secondary_structure validates once per epoch: report after each.
        reported = EpochProgress(
            valid_loader, progress,
            validation_line(model, valid_loader, half_window, epochs, device),
        )
        start = time.perf_counter()
        history = train_secondary_structure(
            model,
            make_loader(train, half_window, batch_size, shuffle=True, seed=seed),
            reported,
            epochs,
            lr,
            device,
        )
        log(
            f"MLP, half-window {half_window}: {time.perf_counter() - start:.1f} s, final train "
            f"loss {history['train_loss'][-1]:.3f}, validation Q3 {history['val_q3'][-1]:.3f}"
        )
        method = f"MLP, window {2 * half_window + 1}"
        for name, test in tests.items():
            loader = make_loader(test, half_window, batch_size, shuffle=False)
            rows.append((name, method, model_scores(model, loader, device)))
    return sorted(rows, key=lambda row: row[0])


def main(argv: list[str] | None = None) -> None:
    """Train the MLP with and without the window and print Q3 beside the baselines."""
    parser = argparse.ArgumentParser(
        prog="python -m exercises.secondary_structure", description=main.__doc__
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="train on the FLIP subset and test on CB513 and TS115 found here "
        "(default: the embedded data)",
    )
    parser.add_argument("--window", type=int, default=7, help="half-window k (default 7)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (default 1: faster than 2 on a busy two-core machine)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    train, valid, tests = load_sets(args.data_dir)
    print(f"train {len(train)} sequences, valid {len(valid)}, device {args.device}")
    rows = compare_models(
        train,
        valid,
        tests,
        list(dict.fromkeys((0, args.window))),
        epochs=args.epochs,
        lr=args.lr,
        hidden_dim=args.hidden_dim,
        batch_size=args.batch_size,
        seed=args.seed,
        device=args.device,
    )
    print(f"\n{'test set':<14} {'method':<20} {'Q3':>6} {'Q_H':>6} {'Q_E':>6} {'Q_C':>6}")
    for name, method, scores in rows:
        print(
            f"{name:<14} {method:<20} {scores['Q3']:6.3f} {scores['Q_H']:6.3f} "
            f"{scores['Q_E']:6.3f} {scores['Q_C']:6.3f}"
        )


if __name__ == "__main__":
    main()
