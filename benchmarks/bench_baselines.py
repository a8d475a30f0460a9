"""Baselines of the embedded sets (and the real ones with DATA_DIR): see benchmarks.baselines."""

from __future__ import annotations

from benchmarks.baselines import baseline_rows


def run() -> list[tuple[str, str]]:
    rows = []
    for task, model, accuracy, auc, mcc, q3 in baseline_rows():
        value = f"Q3 {q3}" if q3 else f"accuracy {accuracy} / AUC {auc} / MCC {mcc}"
        rows.append((f"{task}: {model}", value))
    return rows
