"""Loaders for the embedded data sets and for the real public ones under DATA_DIR.

Every loader checks what it reads and raises ValueError naming the file and the
line for a bad header, letter, label, structure string, mask or number, and
FileNotFoundError for a missing file.
"""

import csv
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from data.amino_acids import AMBIGUOUS_LETTERS, AMINO_ACIDS, RARE_LETTERS

SPLITS = ("train", "valid", "test")
EMBEDDED_DIR = Path(__file__).resolve().parent
SEQUENCE_LETTERS = frozenset(AMINO_ACIDS + RARE_LETTERS + AMBIGUOUS_LETTERS)
SS3_LETTERS = frozenset("HEC")
MASK_LETTERS = frozenset("01")
_AMBIGUOUS_TO_X = str.maketrans({letter: "X" for letter in AMBIGUOUS_LETTERS})


@dataclass(frozen=True)
class SolubilityRecord:
    """One protein of a solubility set; label 1 = soluble, 0 = insoluble."""

    id: str
    sequence: str
    label: int


@dataclass(frozen=True)
class SecondaryStructureRecord:
    """One protein with its 3-state structure (H, E, C) and 0/1 resolved mask per residue."""

    id: str
    sequence: str
    ss3: str
    resolved_mask: str


@dataclass(frozen=True)
class GeneExpressionRecord:
    """One gene: its promoter's binding score per transcription factor, and its expression."""

    id: str
    binding: tuple[float, ...]  # in the order of the file's factor columns
    expression: float


@dataclass(frozen=True)
class VariantRecord:
    """One missense variant: its standardised features and its label, 1 = pathogenic."""

    id: str
    features: tuple[float, ...]  # in the order of the file's feature columns
    label: int


@dataclass(frozen=True)
class _Source:
    """Where one split of one data set lives and which of its rows belong to the split."""

    path: str  # relative to the data directory
    id_column: str
    label_column: str = "label"  # solubility only
    keep_row: Callable[[int, dict[str, str]], bool] = lambda index, row: True


def _partition_in(*partitions: str) -> Callable[[int, dict[str, str]], bool]:
    return lambda index, row: row["partition"] in partitions


SOLUBILITY_SOURCES: dict[str, dict[str, _Source]] = {
    "embedded": {split: _Source(f"solubility/{split}.csv", "id") for split in SPLITS},
    # NetSolP: homology partitions 0-3 train, partition 4 validates; NESG is the test set.
    "netsolp": {
        "train": _Source("solubility/netsolp_psi_biology_train.csv", "sid",
                         keep_row=_partition_in("0", "1", "2", "3")),
        "valid": _Source("solubility/netsolp_psi_biology_train.csv", "sid",
                         keep_row=_partition_in("4")),
        "test": _Source("solubility/netsolp_nesg_test.csv", "sid"),
    },
    # eSOL: every tenth training row (0, 10, 20, ...) validates; label = solubility >= 0.5.
    "esol": {
        "train": _Source("solubility/esol_train.csv", "gene", "label_ge_0.5",
                         keep_row=lambda index, row: index % 10 != 0),
        "valid": _Source("solubility/esol_train.csv", "gene", "label_ge_0.5",
                         keep_row=lambda index, row: index % 10 == 0),
        "test": _Source("solubility/esol_test.csv", "gene", "label_ge_0.5"),
    },
}

SECONDARY_STRUCTURE_SOURCES: dict[str, dict[str, _Source]] = {
    "embedded": {split: _Source(f"secondary_structure/{split}.csv", "id") for split in SPLITS},
    "flip": {
        "train": _Source("secondary_structure/flip_ss3_train_1500_seed0.csv", "id"),
        "valid": _Source("secondary_structure/flip_ss3_val_200_seed1.csv", "id"),
    },
    "cb513": {"test": _Source("secondary_structure/cb513_netsurfp2.csv", "id")},
    "ts115": {"test": _Source("secondary_structure/ts115_netsurfp2.csv", "id")},
}


def data_dir_from_env() -> Path | None:
    """The directory named by the DATA_DIR environment variable, or None when unset or empty."""
    value = os.environ.get("DATA_DIR", "").strip()
    return Path(value) if value else None


def _resolve_file(sources: dict[str, dict[str, _Source]], dataset: str, split: str,
                  data_dir: str | Path | None) -> tuple[Path, _Source]:
    if dataset not in sources:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {sorted(sources)}")
    if split not in sources[dataset]:
        raise ValueError(f"data set {dataset!r} has no {split!r} split; "
                         f"it has {list(sources[dataset])}")
    source = sources[dataset][split]
    if dataset == "embedded":
        return EMBEDDED_DIR / source.path, source
    root = Path(data_dir) if data_dir is not None else data_dir_from_env()
    if root is None:
        raise ValueError(f"data set {dataset!r} is read from a data directory: pass data_dir "
                         "or set DATA_DIR (python -m data.download --dest DIR fetches it)")
    return root / source.path, source


def _rows(path: Path, required: list[str]) -> Iterator[tuple[int, int, dict[str, str]]]:
    """Yield (row index, line number, row) for each data row, after checking the header."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (python -m data.download fetches the "
                                "real data sets; python -m data.generate the embedded ones)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        if header is None:
            raise ValueError(f"{path}, line 1: empty file, expected a header {required}")
        missing = [column for column in required if column not in header]
        if missing:
            raise ValueError(f"{path}, line 1: missing column(s) {missing} in header {header}")
        for index, row in enumerate(reader):
            line = reader.line_num
            if None in row:
                raise ValueError(f"{path}, line {line}: more fields than the header has")
            empty = [column for column in required if not row[column]]
            if empty:
                raise ValueError(f"{path}, line {line}: no value for {empty}")
            yield index, line, row


def _checked_sequence(path: Path, line: int, sequence: str) -> str:
    bad = set(sequence) - SEQUENCE_LETTERS
    if bad:
        raise ValueError(f"{path}, line {line}: sequence has letter(s) {sorted(bad)} outside "
                         f"{AMINO_ACIDS} + {RARE_LETTERS}")
    return sequence.translate(_AMBIGUOUS_TO_X)


def _checked_per_residue(path: Path, line: int, column: str, value: str, sequence: str,
                         letters: frozenset[str]) -> str:
    if len(value) != len(sequence):
        raise ValueError(f"{path}, line {line}: {column} has {len(value)} letters, "
                         f"the sequence {len(sequence)}")
    bad = set(value) - letters
    if bad:
        raise ValueError(f"{path}, line {line}: {column} has letter(s) {sorted(bad)} "
                         f"outside {''.join(sorted(letters))}")
    return value


def load_solubility(split: str = "train", dataset: str = "embedded",
                    data_dir: str | Path | None = None) -> list[SolubilityRecord]:
    """Records of one split of a solubility set: embedded, netsolp or esol.

    Real sets are read from `data_dir`, else from $DATA_DIR, laid out as
    solubility/<file>.csv (see data/README.md).
    """
    path, source = _resolve_file(SOLUBILITY_SOURCES, dataset, split, data_dir)
    required = [source.id_column, "sequence", source.label_column]
    if dataset == "netsolp" and split != "test":
        required.append("partition")
    records = []
    for index, line, row in _rows(path, required):
        sequence = _checked_sequence(path, line, row["sequence"])
        label = row[source.label_column]
        if label not in ("0", "1"):
            raise ValueError(f"{path}, line {line}: label {label!r} is not 0 or 1")
        if source.keep_row(index, row):
            records.append(SolubilityRecord(row[source.id_column], sequence, int(label)))
    return records


def load_secondary_structure(split: str = "train", dataset: str = "embedded",
                             data_dir: str | Path | None = None,
                             ) -> list[SecondaryStructureRecord]:
    """Records of one split of a secondary-structure set: embedded, flip, cb513 or ts115.

    FLIP has train and valid, CB513 and TS115 only test. Real sets are read from
    `data_dir`, else from $DATA_DIR, laid out as secondary_structure/<file>.csv.
    """
    path, source = _resolve_file(SECONDARY_STRUCTURE_SOURCES, dataset, split, data_dir)
    records = []
    for _, line, row in _rows(path, [source.id_column, "sequence", "ss3", "resolved_mask"]):
        sequence = _checked_sequence(path, line, row["sequence"])
        ss3 = _checked_per_residue(path, line, "ss3", row["ss3"], sequence, SS3_LETTERS)
        mask = _checked_per_residue(path, line, "resolved_mask", row["resolved_mask"],
                                    sequence, MASK_LETTERS)
        records.append(SecondaryStructureRecord(row[source.id_column], sequence, ss3, mask))
    return records


def _checked_number(path: Path, line: int, column: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{path}, line {line}: {column} {value!r} is not a finite number")
    return number


def load_gene_expression(split: str = "train") -> list[GeneExpressionRecord]:
    """Records of one split of the embedded gene-expression set (train, valid or test).

    The file holds `id`, one column of binding scores per transcription factor, and
    `expression`; every column besides `id` and `expression` is a factor, in file order.
    """
    return [GeneExpressionRecord(row["id"], binding,
                                 _checked_number(path, line, "expression", row["expression"]))
            for path, line, row, binding in _feature_rows("gene_expression", split, "expression",
                                                          "binding-score")]


def load_variants(split: str = "train") -> list[VariantRecord]:
    """Records of one split of the embedded variant set (train, valid or test).

    The file holds `id`, one column per feature, and `label` (0 benign, 1 pathogenic);
    every column besides `id` and `label` is a feature, in file order.
    """
    records = []
    for path, line, row, values in _feature_rows("variants", split, "label", "feature"):
        if row["label"] not in ("0", "1"):
            raise ValueError(f"{path}, line {line}: label {row['label']!r} is not 0 or 1")
        records.append(VariantRecord(row["id"], values, int(row["label"])))
    return records


def _feature_rows(folder: str, split: str, target: str, kind: str,
                  ) -> Iterator[tuple[Path, int, dict[str, str], tuple[float, ...]]]:
    """(path, line, row, feature values) of one split of an embedded numeric set: `id`, the
    `kind` columns (every column besides `id` and `target`, in file order), and `target`."""
    if split not in SPLITS:
        raise ValueError(f"the {folder.replace('_', '-')} set has no {split!r} split; it has "
                         f"{list(SPLITS)}")
    path = EMBEDDED_DIR / folder / f"{split}.csv"
    columns: list[str] = []
    for _, line, row in _rows(path, ["id", target]):
        if not columns:
            columns = [column for column in row if column not in ("id", target)]
            if not columns:
                raise ValueError(f"{path}, line 1: no {kind} columns besides id and {target}")
        yield path, line, row, tuple(_checked_number(path, line, column, row[column] or "")
                                     for column in columns)
