"""Parsers that turn the raw public files into the CSV schemas the loaders read.

Each converter takes the raw bytes of its source files and returns CSV text by
output path (relative to the data directory). Malformed input raises ValueError
naming the raw file.
"""

import csv
import io
import json
from collections.abc import Iterable

import numpy as np

SS8_TO_SS3 = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E"}  # DSSP: the rest is coil
FLIP_SUBSETS = {"train": (1500, 0), "valid": (200, 1)}  # split -> (proteins kept, numpy seed)


def _csv_text(header: list[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _require(name: str, present: Iterable[str], needed: Iterable[str]) -> None:
    missing = sorted(set(needed) - set(present))
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}")


def _json_columns(name: str, raw: bytes) -> dict[str, list]:
    """Columns of a pandas DataFrame saved with to_json() (orient='columns'), in row order."""
    try:
        table = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name}: not JSON ({error})") from error
    if not isinstance(table, dict) or not all(isinstance(c, dict) for c in table.values()):
        raise ValueError(f"{name}: expected a JSON object of columns {{column: {{row: value}}}}")
    return {column: [cells[key] for key in sorted(cells, key=int)]
            for column, cells in table.items()}


def _binary(name: str, row: int, value: object) -> str:
    if value not in (0, 1):  # also accepts 0.0 / 1.0 / True / False
        raise ValueError(f"{name}: row {row}: label {value!r} is not 0 or 1")
    return str(int(value))


def netsolp_from_json(psi_biology: bytes, nesg: bytes) -> dict[str, str]:
    """NetSolP sets as distributed by PeptoneLtd/contrastive-finetuning-plms (JSON)."""
    train_name, test_name = "psi_data.json", "NESG_testset.json"
    train = _json_columns(train_name, psi_biology)
    train_label = "solublility|0=Insoluble|1=Soluble"  # sic, the column's name upstream
    _require(train_name, train, ["sid", "fasta", train_label, "Partition"])
    test = _json_columns(test_name, nesg)
    _require(test_name, test, ["sid", "fasta", "solubility"])
    train_columns = zip(train["sid"], train["fasta"], train[train_label], train["Partition"],
                        strict=True)
    train_rows = [[sid, sequence, _binary(train_name, i, label), str(int(partition))]
                  for i, (sid, sequence, label, partition) in enumerate(train_columns)]
    test_columns = zip(test["sid"], test["fasta"], test["solubility"], strict=True)
    test_rows = [[sid, sequence, _binary(test_name, i, label)]
                 for i, (sid, sequence, label) in enumerate(test_columns)]
    return {
        "solubility/netsolp_psi_biology_train.csv":
            _csv_text(["sid", "sequence", "label", "partition"], train_rows),
        "solubility/netsolp_nesg_test.csv": _csv_text(["sid", "sequence", "label"], test_rows),
    }


def esol_from_graphsol(train: bytes, test: bytes) -> dict[str, str]:
    """eSOL as split by GraphSol (gene,solubility,sequence); adds label = solubility >= 0.5."""
    outputs = {}
    for name, raw, output in (("eSol_train.csv", train, "solubility/esol_train.csv"),
                              ("eSol_test.csv", test, "solubility/esol_test.csv")):
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
        _require(name, reader.fieldnames or [], ["gene", "solubility", "sequence"])
        rows = []
        for row in reader:
            try:
                soluble = float(row["solubility"]) >= 0.5
            except ValueError as error:
                raise ValueError(f"{name}, line {reader.line_num}: {error}") from error
            rows.append([row["gene"], row["sequence"], row["solubility"], str(int(soluble))])
        outputs[output] = _csv_text(["gene", "sequence", "solubility", "label_ge_0.5"], rows)
    return outputs


def _mask_string(name: str, line: int, resolved: object) -> str:
    """A 0/1 string from FLIP's `resolved` field (a list of numbers or a 0/1 string)."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, list):
        return "".join(str(int(value)) for value in resolved)
    raise ValueError(f"{name}, line {line}: resolved is neither a list nor a string")


def flip_from_jsonl(train: bytes, valid: bytes) -> dict[str, str]:
    """Random subsets of FLIP's secondary-structure train.jsonl and val.jsonl.

    Keeps 1500 training and 200 validation proteins drawn with numpy seeds 0 and 1,
    the sizes of the course's copy (not necessarily the same proteins).
    """
    outputs = {}
    for split, name, raw in (("train", "train.jsonl", train), ("valid", "val.jsonl", valid)):
        rows = []
        for line, text in enumerate(raw.decode("utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{name}, line {line}: not JSON ({error})") from error
            _require(f"{name}, line {line}", item, ["id", "sequence", "label", "resolved"])
            rows.append([item["id"], item["sequence"], item["label"],
                         _mask_string(name, line, item["resolved"])])
        size, seed = FLIP_SUBSETS[split]
        chosen = np.random.default_rng(seed).choice(len(rows), min(size, len(rows)),
                                                    replace=False)
        path = ("secondary_structure/flip_ss3_train_1500_seed0.csv" if split == "train"
                else "secondary_structure/flip_ss3_val_200_seed1.csv")
        outputs[path] = _csv_text(["id", "sequence", "ss3", "resolved_mask"],
                                  [rows[i] for i in chosen])
    return outputs


def _per_residue(value: str) -> list[str]:
    """Per-residue tokens from 'A B C' (space separated) or 'ABC'."""
    tokens = value.split()
    return list(tokens[0]) if len(tokens) == 1 else tokens


def netsurfp_csv(name: str, raw: bytes, id_prefix: str) -> str:
    """CB513 / TS115 from the NetSurfP-2.0 CSV (input, dssp8, disorder, cb513_mask)."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = [column.strip() for column in next(reader, [])]
    _require(name, header, ["input", "dssp8", "disorder", "cb513_mask"])
    column = {title: index for index, title in enumerate(header)}
    rows = []
    for index, row in enumerate(reader):
        if not row:
            continue
        residues = _per_residue(row[column["input"]])
        ss8 = _per_residue(row[column["dssp8"]])
        resolved = [str(int(float(v))) for v in row[column["disorder"]].split()]
        evaluated = [str(int(float(v))) for v in row[column["cb513_mask"]].split()]
        if not len(residues) == len(ss8) == len(resolved) == len(evaluated):
            raise ValueError(f"{name}, line {reader.line_num}: per-residue columns differ "
                             "in length")
        rows.append([f"{id_prefix}_{index}", "".join(residues),
                     "".join(SS8_TO_SS3.get(s, "C") for s in ss8), "".join(ss8),
                     "".join(resolved), "".join(evaluated)])
    return _csv_text(["id", "sequence", "ss3", "ss8", "resolved_mask", "cb513_eval_mask"], rows)
