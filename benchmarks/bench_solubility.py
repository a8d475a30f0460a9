"""solubility: the reference 1D-CNN beside the composition baseline, on the test split.

The CNN is the notes' model with its default sizes, trained with the reference's
`train_model` (AdamW, lr 1e-3, batch 32, proteins truncated to 512 residues, the best
validation epoch kept, early stopping) on the CPU. Real sets are added when DATA_DIR is
set: eSOL (train -> test) and NetSolP (PSI:Biology train -> NESG test); their epoch
budgets are smaller because an epoch takes longer.
"""

from __future__ import annotations

import contextlib
import io
import time

import torch

# (row label, dataset, max epochs, patience)
TASKS = (
    ("embedded", "embedded", 8, 3),
    ("eSOL train -> test", "esol", 10, 3),
    ("NetSolP train -> NESG test", "netsolp", 4, 2),
)


def run() -> list[tuple[str, str]]:
    try:
        from solutions import solubility as reference
    except ImportError:
        return [("solubility", "skipped: no solutions/ in this checkout")]
    from benchmarks.baselines import (
        fit_composition_model,
        solubility_scores,
        soluble_probabilities,
    )
    from data import data_dir_from_env, load_solubility
    from programs.solubility import make_loader

    rows = []
    for label, dataset, epochs, patience in TASKS:
        if dataset != "embedded" and data_dir_from_env() is None:
            rows.append((f"solubility {label}", "skipped: set DATA_DIR"))
            continue
        train, valid, test = (load_solubility(split, dataset) for split in
                              ("train", "valid", "test"))
        torch.manual_seed(0)
        model = reference.ProteinSolubilityClassifier()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            model, history = reference.train_model(
                model, make_loader(reference, train, 512, 32, True, 0),
                make_loader(reference, valid, 512, 64, False, 0), epochs, 1e-3, "cpu",
                patience=patience,
            )
        seconds = time.perf_counter() - started
        _, probabilities, labels = reference.evaluate(
            model, make_loader(reference, test, 512, 64, False, 0),
            torch.nn.CrossEntropyLoss(), "cpu",
        )
        cnn = solubility_scores(labels.tolist(), probabilities.numpy())
        composition = solubility_scores(
            [r.label for r in test], soluble_probabilities(fit_composition_model(train), test)
        )
        val_loss = history["val_loss"]
        best = min(range(len(val_loss)), key=val_loss.__getitem__) + 1
        rows += [
            (f"solubility {label}: CNN test AUC / MCC / accuracy",
             f"{cnn['AUC']:.3f} / {cnn['MCC']:.3f} / {cnn['accuracy']:.3f}"),
            (f"solubility {label}: composition LR test AUC / MCC / accuracy",
             f"{composition['AUC']:.3f} / {composition['MCC']:.3f} / "
             f"{composition['accuracy']:.3f}"),
            (f"solubility {label}: CNN training (cpu, {torch.get_num_threads()} threads)",
             f"{seconds:.0f} s, {len(val_loss)} of {epochs} epochs, best epoch {best}"),
        ]
    return rows
