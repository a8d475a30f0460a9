"""Write the embedded data sets: `python -m data.generate [--out DIR]`.

The output depends only on the seeds and sizes below (numpy's default_rng), so
running it again reproduces the committed CSV files byte for byte.
"""

import argparse
import csv
from pathlib import Path

import numpy as np

from data.synthetic_gene_expression import TRUE_MODEL, generate_gene_expression
from data.synthetic_secondary_structure import generate_secondary_structure
from data.synthetic_solubility import generate_solubility
from data.synthetic_variants import TRUE_MODEL as VARIANT_MODEL
from data.synthetic_variants import generate_variants

SEED = 20240917
SPLITS = ("train", "valid", "test")
SOLUBILITY_SIZES = {"train": 1000, "valid": 200, "test": 300}
SECONDARY_STRUCTURE_SIZES = {"train": 400, "valid": 100, "test": 100}
GENE_EXPRESSION_SIZES = {"train": 300, "valid": 100, "test": 100}
VARIANT_SIZES = {"train": 400, "valid": 150, "test": 200}
PACKAGE_DIR = Path(__file__).resolve().parent


def _split_rng(task: int, split: str) -> np.random.Generator:
    """An independent stream per task and split, so resizing one split leaves the others."""
    return np.random.default_rng([SEED, task, SPLITS.index(split)])


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="ascii") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_embedded_datasets(out_dir: Path) -> list[Path]:
    """Generate all twelve CSV files under `out_dir`; returns their paths."""
    written = []
    for split in SPLITS:
        pairs = generate_solubility(_split_rng(0, split), SOLUBILITY_SIZES[split])
        path = out_dir / "solubility" / f"{split}.csv"
        _write_csv(path, ["id", "sequence", "label"],
                   [[f"synth_sol_{split}_{i:04d}", sequence, str(label)]
                    for i, (sequence, label) in enumerate(pairs)])
        written.append(path)
    for split in SPLITS:
        triples = generate_secondary_structure(_split_rng(1, split),
                                               SECONDARY_STRUCTURE_SIZES[split])
        path = out_dir / "secondary_structure" / f"{split}.csv"
        _write_csv(path, ["id", "sequence", "ss3", "resolved_mask"],
                   [[f"synth_ss_{split}_{i:04d}", *triple] for i, triple in enumerate(triples)])
        written.append(path)
    for split in SPLITS:
        binding, expression = generate_gene_expression(_split_rng(2, split),
                                                       GENE_EXPRESSION_SIZES[split])
        path = out_dir / "gene_expression" / f"{split}.csv"
        # Four decimals: far below the noise (sd 0.1), and the same text on every platform.
        _write_csv(path, ["id", *TRUE_MODEL.factors, "expression"],
                   [[f"synth_expr_{split}_{i:04d}", *(f"{v:.4f}" for v in scores), f"{level:.4f}"]
                    for i, (scores, level) in enumerate(zip(binding, expression, strict=True))])
        written.append(path)
    for split in SPLITS:
        features, labels = generate_variants(_split_rng(3, split), VARIANT_SIZES[split])
        path = out_dir / "variants" / f"{split}.csv"
        # Four decimals, as for gene expression: the same text on every platform.
        _write_csv(path, ["id", *VARIANT_MODEL.features, "label"],
                   [[f"synth_var_{split}_{i:04d}", *(f"{v:.4f}" for v in row), str(label)]
                    for i, (row, label) in enumerate(zip(features, labels, strict=True))])
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR,
                        help="directory to write solubility/, secondary_structure/, "
                             "gene_expression/ and variants/ into (default: the data "
                             "package itself)")
    args = parser.parse_args(argv)
    for path in write_embedded_datasets(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
