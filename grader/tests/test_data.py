"""Self-tests of the data package: embedded sets, loaders, generator, downloader."""

import csv
import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.baselines import (
    baseline_rows,
    fit_composition_model,
    majority_q3,
    single_residue_q3,
    soluble_probabilities,
    window_naive_bayes_q3,
)
from data import (
    AMINO_ACIDS,
    SecondaryStructureRecord,
    SolubilityRecord,
    data_dir_from_env,
    generate,
    load_secondary_structure,
    load_solubility,
)
from data import download as downloader
from data.features import composition_features

EMBEDDED_DIR = Path(generate.__file__).resolve().parent
EMBEDDED_FILES = {
    f"{task}/{split}.csv": header
    for task, header in (("solubility", "id,sequence,label"),
                         ("secondary_structure", "id,sequence,ss3,resolved_mask"),
                         ("gene_expression", "id,tf1,tf2,tf3,tf4,tf5,expression"),
                         ("variants", "id,conservation,allele_frequency,structural_impact,"
                                      "hydrophobicity_change,noise_1,noise_2,label"))
    for split in ("train", "valid", "test")
}


# --- embedded data sets ------------------------------------------------------------------

@pytest.mark.parametrize("relative, header", sorted(EMBEDDED_FILES.items()))
def test_embedded_csv_exists_with_header(relative, header):
    path = EMBEDDED_DIR / relative
    assert path.is_file(), f"{path} is missing; run python -m data.generate"
    with path.open() as handle:
        assert handle.readline().rstrip("\n") == header


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path):
    generate.main(["--out", str(tmp_path)])
    for relative in EMBEDDED_FILES:
        assert (tmp_path / relative).read_bytes() == (EMBEDDED_DIR / relative).read_bytes(), (
            f"{relative} differs from a fresh python -m data.generate")


def test_embedded_sizes_and_size_on_disk():
    for split, size in generate.SOLUBILITY_SIZES.items():
        assert len(load_solubility(split)) == size
    for split, size in generate.SECONDARY_STRUCTURE_SIZES.items():
        assert len(load_secondary_structure(split)) == size
    assert sum((EMBEDDED_DIR / relative).stat().st_size for relative in EMBEDDED_FILES) < 2e6


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_solubility_class_balance(split):
    assert 0.55 <= np.mean([r.label for r in load_solubility(split)]) <= 0.65


def test_solubility_lengths_are_skewed_between_50_and_800():
    lengths = np.array([len(r.sequence) for r in load_solubility("train")])
    assert lengths.min() >= 50 and lengths.max() <= 800
    assert np.mean(lengths) > np.median(lengths)  # right-skewed, like real proteomes


def test_composition_logistic_regression_is_informative_but_limited():
    model = fit_composition_model(load_solubility("train"))
    test = load_solubility("test")
    auc = roc_auc_score([r.label for r in test], soluble_probabilities(model, test))
    assert 0.65 <= auc <= 0.85


def test_secondary_structure_window_beats_single_residue_clearly():
    train, test = load_secondary_structure("train"), load_secondary_structure("test")
    majority, single = majority_q3(train, test), single_residue_q3(train, test)
    window = window_naive_bayes_q3(train, test, half_width=7)
    assert majority < single < majority + 0.10  # one residue says little
    assert window > single + 0.07  # its neighbours say much more


def test_secondary_structure_unresolved_residues_are_terminal():
    records = load_secondary_structure("train")
    assert all(re.fullmatch("0*1+0*", r.resolved_mask) for r in records)
    unresolved = np.mean([c == "0" for r in records for c in r.resolved_mask])
    assert 0.01 < unresolved < 0.15
    state_share = {s: np.mean([c == s for r in records for c in r.ss3]) for s in "HEC"}
    assert all(0.15 < share < 0.6 for share in state_share.values())


def test_composition_features():
    features = composition_features(["AAC", "MX"])
    assert features.shape == (2, 21)
    assert features[0, AMINO_ACIDS.index("A")] == pytest.approx(2 / 3)
    assert features[1, AMINO_ACIDS.index("M")] == pytest.approx(1 / 2)  # X counts in length
    assert features[0, 20] == pytest.approx(np.log(3))


def test_baselines_table_on_embedded_sets(monkeypatch):
    monkeypatch.delenv("DATA_DIR", raising=False)
    rows = baseline_rows()
    assert [row[1] for row in rows] == [
        "majority class", "composition LR",
        "majority class", "single-residue propensity", "+-7 window naive Bayes"]


# --- loaders on small files in the real schemas ------------------------------------------

def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_netsolp_partitions_split_train_and_valid(tmp_path):
    write_csv(tmp_path / "solubility/netsolp_psi_biology_train.csv",
              [["sid", "sequence", "label", "partition"],
               ["a", "MKV", "1", "0"], ["b", "MKL", "0", "3"], ["c", "MKI", "1", "4"]])
    write_csv(tmp_path / "solubility/netsolp_nesg_test.csv",
              [["sid", "sequence", "label"], ["t", "MAXU", "0"]])
    assert [r.id for r in load_solubility("train", "netsolp", tmp_path)] == ["a", "b"]
    assert load_solubility("valid", "netsolp", tmp_path) == [SolubilityRecord("c", "MKI", 1)]
    assert load_solubility("test", "netsolp", tmp_path) == [SolubilityRecord("t", "MAXU", 0)]


def test_esol_label_column_and_every_tenth_row_validates(tmp_path, monkeypatch):
    rows = [["gene", "sequence", "solubility", "label_ge_0.5"]]
    rows += [[f"g{i}", "MKV", f"{i / 20:.2f}", str(int(i / 20 >= 0.5))] for i in range(20)]
    write_csv(tmp_path / "solubility/esol_train.csv", rows)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert data_dir_from_env() == tmp_path
    valid = load_solubility("valid", "esol")
    assert [r.id for r in valid] == ["g0", "g10"]
    train = load_solubility("train", "esol")
    assert len(train) == 18 and {r.label for r in train} == {0, 1}


def test_secondary_structure_real_layouts(tmp_path):
    header = ["id", "sequence", "ss3", "ss8", "resolved_mask", "cb513_eval_mask"]
    for name in ("cb513_netsurfp2.csv", "ts115_netsurfp2.csv"):
        write_csv(tmp_path / "secondary_structure" / name,
                  [header, ["p", "MZBA", "CHHE", "CGHB", "0111", "1111"]])
    for name in ("flip_ss3_train_1500_seed0.csv", "flip_ss3_val_200_seed1.csv"):
        write_csv(tmp_path / "secondary_structure" / name,
                  [["id", "sequence", "ss3", "resolved_mask"], ["1abc-A", "MKV", "CEE", "011"]])
    assert load_secondary_structure("test", "cb513", tmp_path) == [
        SecondaryStructureRecord("p", "MXXA", "CHHE", "0111")]  # ambiguity codes read as X
    assert len(load_secondary_structure("test", "ts115", tmp_path)) == 1
    assert len(load_secondary_structure("train", "flip", tmp_path)) == 1
    assert len(load_secondary_structure("valid", "flip", tmp_path)) == 1


def test_unknown_dataset_split_or_missing_directory(monkeypatch):
    monkeypatch.delenv("DATA_DIR", raising=False)
    with pytest.raises(ValueError, match="unknown data set"):
        load_solubility("train", "uniprot")
    with pytest.raises(ValueError, match="no 'train' split"):
        load_secondary_structure("train", "cb513", "/nowhere")
    with pytest.raises(ValueError, match="DATA_DIR"):
        load_solubility("train", "netsolp")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "solubility"))):
        load_solubility("test", "esol", tmp_path)


SOLUBILITY_HEADER = ["gene", "sequence", "solubility", "label_ge_0.5"]
SS_HEADER = ["id", "sequence", "ss3", "resolved_mask"]
GOOD_SOLUBILITY_ROW = ["g", "MKV", "0.9", "1"]
GOOD_SS_ROW = ["p", "MKV", "CHH", "011"]


@pytest.mark.parametrize("rows, line, message", [
    ([], 1, "empty file"),
    ([["gene", "sequence", "label"]], 1, "missing column"),
    ([SOLUBILITY_HEADER, GOOD_SOLUBILITY_ROW, ["g2", "MK1V", "0.1", "0"]], 3, "letter"),
    ([SOLUBILITY_HEADER, ["g2", "mkv", "0.1", "0"]], 2, "letter"),
    ([SOLUBILITY_HEADER, GOOD_SOLUBILITY_ROW, ["g2", "MKV", "0.1", "2"]], 3, "not 0 or 1"),
    ([SOLUBILITY_HEADER, ["g2", "", "0.1", "0"]], 2, "no value"),
    ([SOLUBILITY_HEADER, ["g2", "MKV", "0.1", "0", "extra"]], 2, "more fields"),
])
def test_solubility_errors_name_file_and_line(tmp_path, rows, line, message):
    path = write_csv(tmp_path / "solubility/esol_test.csv", rows)
    with pytest.raises(ValueError, match=message) as error:
        load_solubility("test", "esol", tmp_path)
    assert str(path) in str(error.value) and f"line {line}" in str(error.value)


@pytest.mark.parametrize("bad_row, message", [
    (["q", "MKV", "CH", "011"], "ss3 has 2 letters"),
    (["q", "MKV", "CHX", "011"], "ss3 has letter"),
    (["q", "MKV", "CHH", "01"], "resolved_mask has 2 letters"),
    (["q", "MKV", "CHH", "012"], "resolved_mask has letter"),
    (["q", "MK*", "CHH", "011"], "sequence has letter"),
])
def test_secondary_structure_errors_name_file_and_line(tmp_path, bad_row, message):
    path = write_csv(tmp_path / "secondary_structure/ts115_netsurfp2.csv",
                     [SS_HEADER, GOOD_SS_ROW, GOOD_SS_ROW, bad_row])
    with pytest.raises(ValueError, match=message) as error:
        load_secondary_structure("test", "ts115", tmp_path)
    assert str(path) in str(error.value) and "line 4" in str(error.value)


# --- the real data sets, when DATA_DIR names them ----------------------------------------

@pytest.mark.skipif(data_dir_from_env() is None, reason="DATA_DIR is not set")
def test_real_datasets_load_from_data_dir():
    for dataset in ("netsolp", "esol"):
        splits = [load_solubility(split, dataset) for split in ("train", "valid", "test")]
        assert all(len(records) > 100 for records in splits)
        assert all(0.3 < np.mean([r.label for r in records]) < 0.8 for records in splits)
    for dataset, split in (("flip", "train"), ("flip", "valid"), ("cb513", "test"),
                           ("ts115", "test")):
        records = load_secondary_structure(split, dataset)
        assert len(records) >= 100
        assert set("".join(r.sequence for r in records)) <= set(AMINO_ACIDS + "XUO")


# --- downloader: conversion and checksums on local files ---------------------------------

GRAPHSOL_TRAIN = b"gene,solubility,sequence\naaeX,0.34,MSLF\nacpS,1.0,MAIL\n"
GRAPHSOL_TEST = b"gene,solubility,sequence\natpC,0.5,MAMT\n"


def local_esol(tmp_path: Path, train_sha256: str | None) -> downloader.RealDataset:
    """The eSOL entry with its raw files replaced by local file:// copies."""
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir(exist_ok=True)
    (raw_dir / "eSol_train.csv").write_bytes(GRAPHSOL_TRAIN)
    (raw_dir / "eSol_test.csv").write_bytes(GRAPHSOL_TEST)
    return dataclasses.replace(downloader.DATASETS["esol"], raw_files={
        "train": downloader.RawFile((raw_dir / "eSol_train.csv").as_uri(), train_sha256),
        "test": downloader.RawFile((raw_dir / "eSol_test.csv").as_uri()),
    })


def test_download_converts_verified_file_urls(tmp_path, monkeypatch):
    dataset = local_esol(tmp_path, hashlib.sha256(GRAPHSOL_TRAIN).hexdigest())
    monkeypatch.setitem(downloader.DATASETS, "esol", dataset)
    assert downloader.main(["--dest", str(tmp_path / "real"), "--dataset", "esol"]) == 0
    train = (tmp_path / "real/solubility/esol_train.csv").read_text()
    assert train == "gene,sequence,solubility,label_ge_0.5\naaeX,MSLF,0.34,0\nacpS,MAIL,1.0,1\n"
    assert load_solubility("test", "esol", tmp_path / "real") == [
        SolubilityRecord("atpC", "MAMT", 1)]


def test_download_rejects_checksum_mismatch_before_writing(tmp_path):
    registry = {"esol": local_esol(tmp_path, "0" * 64)}
    with pytest.raises(downloader.ChecksumError, match="eSol_train.csv"):
        downloader.download("esol", tmp_path / "real", registry=registry, log=lambda _: None)
    assert not (tmp_path / "real").exists()


def test_download_reports_agreement_with_reference_copy(tmp_path):
    converted = downloader.converters.esol_from_graphsol(GRAPHSOL_TRAIN, GRAPHSOL_TEST)
    reference = {path: hashlib.sha256(text.encode()).hexdigest()
                 for path, text in converted.items()}
    reference["solubility/esol_test.csv"] = "f" * 64
    registry = {"esol": dataclasses.replace(local_esol(tmp_path, None),
                                            reference_sha256=reference)}
    messages: list[str] = []
    downloader.download("esol", tmp_path / "real", registry=registry, log=messages.append)
    assert any("esol_train.csv (identical" in m for m in messages)
    assert any("esol_test.csv (DIFFERS" in m for m in messages)
    assert any("not pinned" in m for m in messages)


def pandas_json(rows: list[dict]) -> bytes:
    """What pandas' DataFrame.to_json() writes: {column: {row index: value}}."""
    return json.dumps({column: {str(i): row[column] for i, row in enumerate(rows)}
                       for column in rows[0]}).encode()


def test_netsolp_json_conversion(tmp_path):
    label = "solublility|0=Insoluble|1=Soluble"
    psi = pandas_json([{"sid": "A1", "fasta": "MKV", label: 1, "Partition": 4},
                       {"sid": "A2", "fasta": "MKL", label: 0, "Partition": 0}])
    nesg = pandas_json([{"Unnamed: 0": 0, "sid": "N1", "fasta": "MAV", "solubility": 1}])
    registry = {"netsolp": dataclasses.replace(downloader.DATASETS["netsolp"], raw_files={
        "psi": downloader.RawFile("mem://psi"), "nesg": downloader.RawFile("mem://nesg")})}
    files = {"mem://psi": psi, "mem://nesg": nesg}
    downloader.download("netsolp", tmp_path, fetch=files.__getitem__, registry=registry,
                        log=lambda _: None)
    assert load_solubility("train", "netsolp", tmp_path) == [SolubilityRecord("A2", "MKL", 0)]
    assert load_solubility("valid", "netsolp", tmp_path) == [SolubilityRecord("A1", "MKV", 1)]
    assert load_solubility("test", "netsolp", tmp_path) == [SolubilityRecord("N1", "MAV", 1)]
    with pytest.raises(ValueError, match="psi_data.json"):
        downloader.converters.netsolp_from_json(b"[1, 2]", nesg)


def test_flip_jsonl_conversion(tmp_path):
    train = b"\n".join(json.dumps({"id": f"p{i}", "sequence": "MKV", "label": "CEE",
                                   "resolved": [0, 1, 1]}).encode() for i in range(3))
    valid = json.dumps({"id": "v", "sequence": "MK", "label": "CC", "resolved": "01"}).encode()
    for path, text in downloader.converters.flip_from_jsonl(train, valid).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert sorted(r.id for r in load_secondary_structure("train", "flip", tmp_path)) == [
        "p0", "p1", "p2"]
    assert load_secondary_structure("valid", "flip", tmp_path) == [
        SecondaryStructureRecord("v", "MK", "CC", "01")]
    with pytest.raises(ValueError, match="val.jsonl, line 1"):
        downloader.converters.flip_from_jsonl(train, b'{"id": "v"}')


def test_netsurfp_csv_conversion(tmp_path):
    raw = (b"input, dssp3, dssp8, disorder, cb513_mask\n"
           b"M K V Z A, C C H H E, C T G H B, 0.0 1.0 1.0 1.0 1.0, 1.0 1.0 0.0 1.0 1.0\n")
    text = downloader.converters.netsurfp_csv("CB513_HHblits.csv", raw, "CB513")
    (tmp_path / "secondary_structure").mkdir()
    (tmp_path / "secondary_structure/cb513_netsurfp2.csv").write_text(text)
    assert text.splitlines()[1] == "CB513_0,MKVZA,CCHHE,CTGHB,01111,11011"
    assert load_secondary_structure("test", "cb513", tmp_path) == [
        SecondaryStructureRecord("CB513_0", "MKVXA", "CCHHE", "01111")]
    with pytest.raises(ValueError, match="CB513_HHblits.csv, line 2"):
        downloader.converters.netsurfp_csv("CB513_HHblits.csv", raw.replace(b"M K V", b"M K"),
                                           "CB513")
