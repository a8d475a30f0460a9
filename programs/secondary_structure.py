"""Per-residue secondary structure with `exercises/secondary_structure.py`: the MLP with and
without the window, Q3 beside two baselines (about 30 s on the embedded data; `--data-dir DIR`
trains on the FLIP subset and tests on CB513 and TS115). Data pipeline, baselines and
evaluation are here; the model, its loss and its training are the exercise's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from data import AMINO_ACIDS, load_secondary_structure
from data.progress import EpochProgress, Progress
from programs.options import ProgramParser


def encode_record(impl: ModuleType, record) -> tuple[Tensor, Tensor]:
    """(one-hot (L, 20), targets (L,)) of one SecondaryStructureRecord.

    Residues whose resolved_mask is '0' keep their place in the input (they are neighbours
    of others) but get target -100, so they are never scored.
    """
    x, _ = impl.one_hot_encode([record.sequence])
    targets = impl.encode_states([record.ss3], x.shape[1])  # (1, L)
    unresolved = [i for i, flag in enumerate(record.resolved_mask) if flag == "0"]
    targets[0, unresolved] = impl.PADDING_TARGET
    return x[0], targets[0]


def collate_encoded(
    impl: ModuleType, batch: Sequence[tuple[Tensor, Tensor]], half_window: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Pad encoded records into (x, targets, mask); x gets the window when half_window > 0.

    mask is True at the scored (real and resolved) residues.
    """
    lengths = torch.tensor([len(targets) for _, targets in batch])
    x = pad_sequence([one_hot for one_hot, _ in batch], batch_first=True)  # (B, L, 20)
    targets = pad_sequence(
        [t for _, t in batch], batch_first=True, padding_value=impl.PADDING_TARGET
    )  # (B, L)
    residue_mask = torch.arange(x.shape[1]) < lengths[:, None]  # (B, L)
    if half_window > 0:
        x = impl.add_window_context(x, residue_mask, half_window)  # (B, L, 20 * (2k + 1))
    return x, targets, residue_mask & (targets != impl.PADDING_TARGET)


def make_loader(
    impl: ModuleType, records: Sequence, half_window: int, batch_size: int, shuffle: bool,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader of (x, targets, mask) batches over `records`, each encoded once."""
    return DataLoader(
        [encode_record(impl, record) for record in records],
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=lambda batch: collate_encoded(impl, batch, half_window),
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


def per_state_q3(pairs: Iterable[tuple[str, str]], states: str) -> dict[str, float]:
    """Q3 overall and per true state (each letter of `states`) from (true, predicted) state
    letters."""
    total, correct = Counter(), Counter()
    for true, predicted in pairs:
        total[true] += 1
        correct[true] += true == predicted
    scores = {"Q3": sum(correct.values()) / max(sum(total.values()), 1)}
    for state in states:
        scores[f"Q_{state}"] = correct[state] / total[state] if total[state] else float("nan")
    return scores


def baseline_scores(train: Sequence, test: Sequence, states: str
                    ) -> dict[str, dict[str, float]]:
    """Q3 of predicting the majority state, and each amino acid's most frequent state."""
    majority = majority_state(train)
    propensity = propensity_states(train)
    residues = list(scored_residues(test))
    return {
        "majority state": per_state_q3(((state, majority) for _, state in residues), states),
        "residue propensity": per_state_q3(
            ((state, propensity.get(letter, majority)) for letter, state in residues), states
        ),
    }


def model_scores(
    impl: ModuleType, model: nn.Module, loader: Iterable, device: torch.device | str
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
                pairs.append((impl.SS_STATES[true], impl.SS_STATES[predicted]))
    return per_state_q3(pairs, impl.SS_STATES)


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
    impl: ModuleType,
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
        for method, scores in baseline_scores(train, test, impl.SS_STATES).items():
            rows.append((name, method, scores))
    progress = Progress(epochs * len(half_windows), log=log)
    for half_window in half_windows:
        torch.manual_seed(seed)
        model = impl.SecondaryStructureMLP(
            in_features=len(AMINO_ACIDS) * (2 * half_window + 1), hidden_dim=hidden_dim
        )
        valid_loader = make_loader(impl, valid, half_window, batch_size, shuffle=False)
        # train_secondary_structure validates once per epoch: report after each.
        reported = EpochProgress(
            valid_loader, progress,
            validation_line(model, valid_loader, half_window, epochs, device),
        )
        start = time.perf_counter()
        history = impl.train_secondary_structure(
            model,
            make_loader(impl, train, half_window, batch_size, shuffle=True, seed=seed),
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
            loader = make_loader(impl, test, half_window, batch_size, shuffle=False)
            rows.append((name, method, model_scores(impl, model, loader, device)))
    return sorted(rows, key=lambda row: row[0])


def main(argv: list[str] | None = None) -> None:
    """Train the MLP with and without the window and print Q3 beside the baselines."""
    parser = ProgramParser("secondary_structure", main.__doc__, data_dir=True)
    parser.add_argument("--window", type=int, default=7, help="half-window k (default 7)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args, impl = parser.start(argv)

    train, valid, tests = load_sets(args.data_dir)
    print(f"train {len(train)} sequences, valid {len(valid)}, device {args.device}")
    rows = compare_models(
        impl,
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
