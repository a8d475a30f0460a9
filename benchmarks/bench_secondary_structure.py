"""secondary_structure: the reference MLP's Q3 with and without the window, beside baselines.

Embedded data: the program's settings (half-windows 0 and 7, 10 epochs, lr 3e-3, batch 32,
hidden 64) scored on the test split, and the grading check's own run (half-windows 0 and 5,
4 epochs) against its thresholds. With DATA_DIR set: trained on the FLIP subset (1,500
proteins), scored on CB513 and TS115 (resolved residues only). All on the CPU.
"""

from __future__ import annotations

import time

import torch

HALF_WINDOW = 7


def _rows(label: str, rows: list, seconds: float) -> list[tuple[str, str]]:
    by_test: dict[str, dict[str, dict[str, float]]] = {}
    for test, method, scores in rows:
        by_test.setdefault(test, {})[method] = scores
    out = []
    for test, methods in by_test.items():
        q3 = " / ".join(f"{scores['Q3']:.3f}" for scores in methods.values())
        out.append((f"secondary_structure {label} -> {test}: Q3 " + " / ".join(methods), q3))
        window = methods[f"MLP, window {2 * HALF_WINDOW + 1}"]
        out.append((f"secondary_structure {label} -> {test}: window MLP Q_H / Q_E / Q_C",
                    f"{window['Q_H']:.3f} / {window['Q_E']:.3f} / {window['Q_C']:.3f}"))
    out.append((f"secondary_structure {label}: training both MLPs (cpu, "
                f"{torch.get_num_threads()} threads)", f"{seconds:.0f} s"))
    return out


def run() -> list[tuple[str, str]]:
    try:
        from solutions import secondary_structure as reference
    except ImportError:
        return [("secondary_structure", "skipped: no solutions/ in this checkout")]
    from data import data_dir_from_env, load_secondary_structure
    from programs.secondary_structure import compare_models
    from tests import test_secondary_structure as suite
    from tests.probes import secondary_structure as probes

    rows = []
    started = time.perf_counter()
    embedded = compare_models(
        reference, load_secondary_structure("train"), load_secondary_structure("valid"),
        {"test": load_secondary_structure("test")}, (0, HALF_WINDOW), log=lambda _: None,
    )
    rows += _rows("embedded", embedded, time.perf_counter() - started)

    q3 = {}
    for half_window in (0, suite.WINDOW):
        started = time.perf_counter()
        result = probes.embedded_training(
            reference, {**suite.EMBEDDED_CASE, "half_window": half_window}, "cpu")
        q3[half_window] = (result["test_q3"], time.perf_counter() - started)
    rows.append((
        f"secondary_structure grading check: Q3 half-window 0 / {suite.WINDOW} "
        f"(thresholds {suite.Q3_THRESHOLD_NO_WINDOW} / {suite.Q3_THRESHOLD_WINDOW})",
        f"{q3[0][0]:.3f} / {q3[suite.WINDOW][0]:.3f} in {q3[0][1]:.1f} s + "
        f"{q3[suite.WINDOW][1]:.1f} s",
    ))

    if data_dir_from_env() is None:
        rows.append(("secondary_structure FLIP -> CB513 / TS115", "skipped: set DATA_DIR"))
        return rows
    started = time.perf_counter()
    real = compare_models(
        reference, load_secondary_structure("train", "flip"),
        load_secondary_structure("valid", "flip"),
        {name.upper(): load_secondary_structure("test", name) for name in ("cb513", "ts115")},
        (0, HALF_WINDOW), log=lambda _: None,
    )
    rows += _rows("FLIP 1,500", real, time.perf_counter() - started)
    return rows
