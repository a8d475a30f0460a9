"""Fetch the real public data sets: `python -m data.download --dest DIR [--dataset NAME ...]`.

Each set is downloaded from its original repository, checked against a pinned
sha256 where one is recorded, converted to the loaders' CSV schema and written
under DIR in the layout of DATA_DIR (solubility/, secondary_structure/). Every
written file is then compared with the sha256 of the copy the course was built
on; a difference is reported, not fatal (an upstream file may have been updated).
Nothing in grading or tests calls this.
"""

import argparse
import hashlib
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from data import converters

Fetch = Callable[[str], bytes]


class ChecksumError(ValueError):
    """A downloaded file does not have the sha256 recorded for it."""


@dataclass(frozen=True)
class RawFile:
    """One file to download; sha256 None means not pinned (printed so it can be pinned)."""

    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class RealDataset:
    """How to get one real data set: its raw files, converter and reference checksums."""

    raw_files: dict[str, RawFile]
    convert: Callable[[dict[str, bytes]], dict[str, str]]
    reference_sha256: dict[str, str]  # output path -> sha256 of the course's copy


_PEPTONE = ("https://raw.githubusercontent.com/PeptoneLtd/contrastive-finetuning-plms/"
            "cabcc82122e3aaeb1d8304e9d8a17da129890c9b/data/solubility/")
_GRAPHSOL = ("https://raw.githubusercontent.com/jcchan23/GraphSol/"
             "c3e29878ef721ee035fda9bcadf1d23e3dc89227/Data/")
_FLIP = "http://data.bioembeddings.com/public/FLIP/secondary_structure/"
_PS4 = "https://raw.githubusercontent.com/omarperacha/ps4-dataset/main/ps4_data/data/"

# No raw file is byte-identical to the course's converted copy, so no raw sha256 could
# be recorded offline; the converted outputs are checked against reference_sha256.
DATASETS: dict[str, RealDataset] = {
    "netsolp": RealDataset(
        {"psi": RawFile(_PEPTONE + "psi_data.json"),
         "nesg": RawFile(_PEPTONE + "NESG_testset.json")},
        lambda raw: converters.netsolp_from_json(raw["psi"], raw["nesg"]),
        {"solubility/netsolp_psi_biology_train.csv":
             "16220715b98ae2925c85396bbcf9f83995cd3ad0c561fd98dd247a916d075361",
         "solubility/netsolp_nesg_test.csv":
             "8dd65f1b7b8c0daa04c98c644925bdcaf67135c60dabfc0c48e286d26197fe6d"},
    ),
    "esol": RealDataset(
        {"train": RawFile(_GRAPHSOL + "eSol_train.csv"),
         "test": RawFile(_GRAPHSOL + "eSol_test.csv")},
        lambda raw: converters.esol_from_graphsol(raw["train"], raw["test"]),
        {"solubility/esol_train.csv":
             "f365f6f87cece4edd9aff1002401bd4725c0fb390b5a2f1f625465cd1b146c1a",
         "solubility/esol_test.csv":
             "f065ef7f26f39180c750cfb15ae3e43d66e30bbbe1bb56eed3740a5c7d87feb1"},
    ),
    "flip": RealDataset(
        {"train": RawFile(_FLIP + "train.jsonl"), "valid": RawFile(_FLIP + "val.jsonl")},
        lambda raw: converters.flip_from_jsonl(raw["train"], raw["valid"]),
        {},  # a fresh random subset; the course's proteins are not reproducible
    ),
    "cb513": RealDataset(
        {"csv": RawFile(_PS4 + "cb513/CB513_HHblits.csv")},
        lambda raw: {"secondary_structure/cb513_netsurfp2.csv":
                     converters.netsurfp_csv("CB513_HHblits.csv", raw["csv"], "CB513")},
        {"secondary_structure/cb513_netsurfp2.csv":
             "780d71a8374603fbaed08d591668396977b6fabfb270f51cea1a546156b91276"},
    ),
    "ts115": RealDataset(
        {"csv": RawFile(_PS4 + "ts115/TS115_HHblits.csv")},
        lambda raw: {"secondary_structure/ts115_netsurfp2.csv":
                     converters.netsurfp_csv("TS115_HHblits.csv", raw["csv"], "TS115")},
        {"secondary_structure/ts115_netsurfp2.csv":
             "2c51a263fe30077defd897c58bc24492cbe4a0191341547edaa34ee88fedf262"},
    ),
}


def fetch_url(url: str) -> bytes:
    """The bytes at `url` (http, https or file)."""
    with urllib.request.urlopen(url, timeout=300) as response:
        return response.read()


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def verify_sha256(url: str, content: bytes, expected: str | None) -> str:
    """The content's sha256; raises ChecksumError when a pinned value differs."""
    actual = sha256_hex(content)
    if expected is not None and actual != expected:
        raise ChecksumError(f"{url}: sha256 {actual} differs from the recorded {expected}; "
                            "the download is corrupt or the source changed")
    return actual


def download(name: str, dest: Path, fetch: Fetch = fetch_url,
             registry: dict[str, RealDataset] = DATASETS,
             log: Callable[[str], None] = print) -> list[Path]:
    """Fetch, verify, convert and write one data set under `dest`; returns written paths.

    All raw files are verified before anything is written.
    """
    dataset = registry[name]
    raw = {}
    for key, raw_file in dataset.raw_files.items():
        log(f"{name}: fetching {raw_file.url}")
        content = fetch(raw_file.url)
        actual = verify_sha256(raw_file.url, content, raw_file.sha256)
        if raw_file.sha256 is None:
            log(f"{name}: {key} sha256 {actual} (not pinned)")
        raw[key] = content
    written = []
    for relative, text in dataset.convert(raw).items():
        path = dest / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        reference = dataset.reference_sha256.get(relative)
        if reference is None:
            status = "no reference copy"
        elif sha256_hex(path.read_bytes()) == reference:
            status = "identical to the course's copy"
        else:
            status = "DIFFERS from the course's copy (upstream update?)"
        log(f"{name}: wrote {path} ({status})")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True,
                        help="directory to write into; then run with DATA_DIR=DEST")
    parser.add_argument("--dataset", action="append", choices=sorted(DATASETS),
                        help="data set to fetch (repeatable; default: all)")
    args = parser.parse_args(argv)
    for name in args.dataset or sorted(DATASETS):
        try:
            download(name, args.dest)
        except (OSError, ValueError) as error:
            print(f"{name}: failed: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
