"""`exercises/protein_features.py` at work: the shapes at each encoding step, the feature
table of five proteins, and the standardized features of the embedded solubility data
(seconds).
"""

from __future__ import annotations

from types import ModuleType

import torch

from data import load_solubility
from data.amino_acids import AMINO_ACIDS
from programs.options import ProgramParser

EXAMPLE_PROTEINS = {
    "insulin B chain": "FVNQHLCGSHLVEALYLVCGERGFFYTPKT",
    "glucagon": "HSQGTFTSDYSKYLDSRRAQDFVQWLMNT",
    "melittin": "GIGAVLKVLTTGLPALISWIKRKRQQ",
    "hemoglobin alpha (start)": "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF",
    "Trp-cage": "NLYIQWLKDGGPSSGRPPPS",
}
"""Five peptides of different lengths (the notes' exercise asks for a batch of 5)."""


COLUMN_TITLES = ("MW (Da)", "pI", "GRAVY", "instability", "length")


def _print_rows(rows: dict[str, list[float]]) -> None:
    print(f"{'':<30}" + "".join(f"{title:>12}" for title in COLUMN_TITLES))
    for name, values in rows.items():
        print(f"{name:<30}" + "".join(f"{value:>12.3f}" for value in values))


def _standardize_embedded_data(impl: ModuleType, device: torch.device) -> None:
    """Standardize the features of the embedded solubility set with its training split."""
    splits = {split: load_solubility(split) for split in ("train", "valid", "test")}
    sequences, labels, split_of = [], [], []
    for split, records in splits.items():
        # global_features rejects letters outside the 20: leave those proteins out.
        kept = [record for record in records if set(record.sequence) <= set(AMINO_ACIDS)]
        sequences += [record.sequence for record in kept]
        labels += [record.label for record in kept]
        split_of += [split] * len(kept)
    features = impl.global_features(sequences, device=device)  # (N, 5)
    rows = {split: torch.tensor([i for i, s in enumerate(split_of) if s == split],
                                dtype=torch.int64, device=device) for split in splits}
    print(f"\nembedded solubility data: {features.shape[0]} of "
          f"{sum(len(records) for records in splits.values())} proteins (those of the 20 "
          f"letters only), features {tuple(features.shape)} {features.dtype}")
    mean, std = impl.fit_standardization(features, rows["train"])
    standardized = impl.standardize(features, mean, std)
    table = {"training rows: mean": mean.tolist(), "training rows: std": std.tolist()}
    for split, split_rows in rows.items():
        part = standardized[split_rows]
        table[f"{split}, standardized: mean"] = part.mean(0).tolist()
        table[f"{split}, standardized: std"] = part.std(0, correction=0).tolist()
    soluble = torch.tensor(labels, device=device)[rows["train"]] == 1
    train = standardized[rows["train"]]
    gap = train[soluble].mean(0) - train[~soluble].mean(0)  # (5,) in training stds
    table["train: soluble - insoluble"] = gap.tolist()
    _print_rows(table)
    print("The training rows come out at mean 0 and std 1 exactly, the others only about:\n"
          "their proteins never shaped the statistics, as new proteins will not.")


def main(argv: list[str] | None = None) -> None:
    """Encode five peptides step by step, tabulate their global features, standardize."""
    parser = ProgramParser("protein_features", main.__doc__)
    args, impl = parser.start(argv)
    device = args.device

    names = list(EXAMPLE_PROTEINS)
    sequences = list(EXAMPLE_PROTEINS.values())
    print(f"strings: {len(sequences)} sequences of lengths {[len(s) for s in sequences]}")
    singles = [impl.encode_sequences([sequence], device)[0][0] for sequence in sequences]
    print("indices, one sequence at a time: shapes "
          + ", ".join(str(tuple(single.shape)) for single in singles))
    print(f"  {sequences[0][:8]} -> {singles[0][:8].tolist()}")
    indices, mask = impl.encode_sequences(sequences, device)
    print(f"padded batch: indices {tuple(indices.shape)} {indices.dtype}, "
          f"mask {tuple(mask.shape)} {mask.dtype}, on {indices.device}")
    lengths = torch.tensor([len(s) for s in sequences], device=device)
    positions = torch.arange(indices.shape[1], device=device)
    padding = positions.unsqueeze(0) >= lengths.unsqueeze(1)  # (B, L)
    print(f"padding positions: {int(padding.sum())}; all with mask 0: "
          f"{bool((mask[padding] == 0).all())}; all with index 0: "
          f"{bool((indices[padding] == impl.PADDING_INDEX).all())}; "
          f"mask sums = lengths: {mask.sum(1).long().tolist() == lengths.tolist()}")
    with_unknown = impl.encode_sequences(["MKXLV", "BZ"], device)
    print(f"unknown letters: ['MKXLV', 'BZ'] -> {with_unknown[0].tolist()}, "
          f"mask {with_unknown[1].tolist()}")

    features = impl.global_features(sequences, device=device)
    print(f"\nglobal features: {tuple(features.shape)} {features.dtype}, "
          f"columns {impl.FEATURE_NAMES}")
    _print_rows(dict(zip(names, features.tolist(), strict=True)))
    _standardize_embedded_data(impl, device)


if __name__ == "__main__":
    main()
