"""Probes for the `protein_features` exercise.

Sequences travel in the case as strings. The standardization tables are drawn here from the
case's seed on the CPU (then moved to the device), so the judge rebuilds the same numbers
for its oracles.
"""

from __future__ import annotations

import torch

from data.amino_acids import AMINO_ACIDS
from tests.probes import raised


def encode_sequences(impl, case: dict, device: str):
    return impl.encode_sequences(list(case["sequences"]), device=device)


def encode_with_alphabet(impl, case: dict, device: str) -> dict:
    """The case's encoding, and that of the 20 letters alone (how the submission maps them)."""
    return {"batch": impl.encode_sequences(list(case["sequences"]), device=device),
            "alphabet": impl.encode_sequences([AMINO_ACIDS], device=device)}


def global_features(impl, case: dict, device: str):
    return impl.global_features(list(case["sequences"]), device=device)


def invalid_global_features(impl, case: dict, device: str) -> dict:
    return raised(lambda: impl.global_features(list(case["sequences"]), device=device))


def feature_table(case: dict) -> torch.Tensor:
    """(rows, columns) float64 on the CPU: columns of different scales and offsets (a weight
    in thousands next to a GRAVY near 0), and the case's constant columns."""
    generator = torch.Generator().manual_seed(case["seed"])
    rows, columns = case["rows"], case["columns"]
    scales = 10.0 ** torch.randint(-1, 4, (columns,), generator=generator).double()  # (F,)
    offsets = 3 * scales * torch.randn(columns, generator=generator, dtype=torch.float64)
    noise = torch.randn(rows, columns, generator=generator, dtype=torch.float64)
    table = offsets + scales * noise  # (rows, F)
    for column, value in case.get("constant", []):
        table[:, column] = value
    return table


def given_statistics(case: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """A mean (F,) and a positive std (F,) float64 on the CPU, unrelated to the table's own."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    mean = 10 * torch.randn(case["columns"], generator=generator, dtype=torch.float64)
    std = 0.5 + 2 * torch.rand(case["columns"], generator=generator, dtype=torch.float64)
    return mean, std


def fit_standardization(impl, case: dict, device: str):
    features = feature_table(case).to(device)
    train_rows = torch.tensor(case["train_rows"], dtype=torch.int64, device=device)
    return impl.fit_standardization(features, train_rows)


def standardize(impl, case: dict, device: str) -> dict:
    """The result, and whether the inputs were left as they were."""
    features = feature_table(case).to(device)
    mean, std = (statistic.to(device) for statistic in given_statistics(case))
    before = [tensor.clone() for tensor in (features, mean, std)]
    result = impl.standardize(features, mean, std)
    unchanged = all(torch.equal(tensor, copy)
                    for tensor, copy in zip((features, mean, std), before, strict=True))
    return {"result": result, "inputs_unchanged": unchanged}
