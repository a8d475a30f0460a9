"""Simple baselines on the embedded sets and, with DATA_DIR set, on the real ones.

`python -m benchmarks.baselines` prints one table. Every model is fitted on the
train split and scored on the test split. Solubility: majority class and logistic
regression on composition (20 amino-acid fractions + log length, standardised).
Secondary structure, scored on resolved residues: majority class, single-residue
propensity, and a +-7 window naive Bayes (GOR-style) for contrast.
"""

import time
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, matthews_corrcoef, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from data import (
    AMINO_ACIDS,
    SecondaryStructureRecord,
    SolubilityRecord,
    data_dir_from_env,
    load_secondary_structure,
    load_solubility,
)
from data.features import composition_features

STATES = "HEC"
UNKNOWN_TOKEN = len(AMINO_ACIDS)  # X, U, O and the padding beyond either terminus
_TOKEN = {aa: i for i, aa in enumerate(AMINO_ACIDS)}


def fit_composition_model(train: Sequence[SolubilityRecord]) -> Pipeline:
    """Standardised composition features -> logistic regression, fitted on `train`."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(composition_features([r.sequence for r in train]), [r.label for r in train])
    return model


def soluble_probabilities(model: Pipeline, records: Sequence[SolubilityRecord]) -> np.ndarray:
    return model.predict_proba(composition_features([r.sequence for r in records]))[:, 1]


def solubility_scores(labels: Sequence[int], probabilities: np.ndarray) -> dict[str, float]:
    """Accuracy and MCC at threshold 0.5, and ROC AUC."""
    predictions = (np.asarray(probabilities) >= 0.5).astype(int)
    return {"accuracy": accuracy_score(labels, predictions),
            "AUC": roc_auc_score(labels, probabilities),
            "MCC": matthews_corrcoef(labels, predictions)}


def residue_windows(records: Sequence[SecondaryStructureRecord],
                    half_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Token windows (n, 2*half_width+1) centred on each resolved residue, and its state."""
    windows, states = [], []
    for record in records:
        padding = [UNKNOWN_TOKEN] * half_width
        tokens = np.array(padding + [_TOKEN.get(aa, UNKNOWN_TOKEN) for aa in record.sequence]
                          + padding)
        resolved = np.flatnonzero(np.frombuffer(record.resolved_mask.encode(), np.uint8)
                                  == ord("1"))
        windows.append(np.stack([tokens[resolved + offset]
                                 for offset in range(2 * half_width + 1)], axis=1))
        states.append(np.array([STATES.index(record.ss3[i]) for i in resolved], dtype=int))
    return np.concatenate(windows), np.concatenate(states)


def majority_q3(train: Sequence[SecondaryStructureRecord],
                test: Sequence[SecondaryStructureRecord]) -> float:
    _, train_states = residue_windows(train, 0)
    _, test_states = residue_windows(test, 0)
    return float(np.mean(test_states == np.bincount(train_states, minlength=3).argmax()))


def single_residue_q3(train: Sequence[SecondaryStructureRecord],
                      test: Sequence[SecondaryStructureRecord]) -> float:
    """Predict for each amino acid the state it is most often in on the train split."""
    return window_naive_bayes_q3(train, test, half_width=0)


def window_naive_bayes_q3(train: Sequence[SecondaryStructureRecord],
                          test: Sequence[SecondaryStructureRecord], half_width: int) -> float:
    """GOR-style: sum over the window of log P(residue at offset | state), plus the prior.

    With half_width 0 this is the single-residue propensity predictor.
    """
    windows, states = residue_windows(train, half_width)
    counts = np.ones((windows.shape[1], UNKNOWN_TOKEN + 1, len(STATES)))  # add-one smoothing
    for offset in range(windows.shape[1]):
        np.add.at(counts[offset], (windows[:, offset], states), 1)
    log_likelihood = np.log(counts / counts.sum(axis=1, keepdims=True))
    log_prior = np.log(np.bincount(states, minlength=3) / len(states))
    test_windows, test_states = residue_windows(test, half_width)
    scores = log_prior + sum(log_likelihood[offset, test_windows[:, offset]]
                             for offset in range(test_windows.shape[1]))
    return float(np.mean(scores.argmax(axis=1) == test_states))


def solubility_rows(task: str, train: Sequence[SolubilityRecord],
                    test: Sequence[SolubilityRecord]) -> list[list[str]]:
    labels = [r.label for r in test]
    majority = float(np.mean([r.label for r in train]) >= 0.5)
    rows = []
    for name, probabilities in (
        ("majority class", np.full(len(test), majority)),
        ("composition LR", soluble_probabilities(fit_composition_model(train), test)),
    ):
        scores = solubility_scores(labels, probabilities)
        rows.append([task, name, f"{scores['accuracy']:.3f}", f"{scores['AUC']:.3f}",
                     f"{scores['MCC']:.3f}", ""])
    return rows


def secondary_structure_rows(task: str, train: Sequence[SecondaryStructureRecord],
                             test: Sequence[SecondaryStructureRecord]) -> list[list[str]]:
    return [[task, name, "", "", "", f"{q3:.3f}"] for name, q3 in (
        ("majority class", majority_q3(train, test)),
        ("single-residue propensity", single_residue_q3(train, test)),
        ("+-7 window naive Bayes", window_naive_bayes_q3(train, test, half_width=7)),
    )]


def baseline_rows() -> list[list[str]]:
    """All rows: embedded sets always, real sets when DATA_DIR is set."""
    rows = solubility_rows("embedded solubility", load_solubility("train"),
                           load_solubility("test"))
    rows += secondary_structure_rows("embedded secondary structure",
                                     load_secondary_structure("train"),
                                     load_secondary_structure("test"))
    if data_dir_from_env() is None:
        return rows
    for dataset, task in (("netsolp", "NetSolP train -> NESG test"),
                          ("esol", "eSOL train -> test")):
        rows += solubility_rows(task, load_solubility("train", dataset),
                                load_solubility("test", dataset))
    flip = load_secondary_structure("train", "flip")
    for dataset in ("cb513", "ts115"):
        rows += secondary_structure_rows(f"FLIP 1,500 -> {dataset.upper()}", flip,
                                         load_secondary_structure("test", dataset))
    return rows


def format_table(rows: list[list[str]]) -> str:
    header = ["task", "model", "accuracy", "AUC", "MCC", "Q3"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def main() -> None:
    start = time.perf_counter()
    rows = baseline_rows()
    print(format_table(rows))
    if data_dir_from_env() is None:
        print("\n(set DATA_DIR to a directory of real data sets to add NetSolP, eSOL, FLIP)")
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
