"""Protein feature tensors: from amino-acid strings to what a network reads.

Preliminary Note 2, Exercise 1 ("Protein Feature Tensors") and its extension. A network
reads numbers, not letters, and a batch must be a rectangle although proteins differ in
length. You build the two inputs of the notes' dual-input model (Note 2, section 6, "A Richer
Example"):

1. `encode_sequences`: the per-residue input, integer indices padded to the longest
   sequence of the batch, and the mask that tells real residues from padding;
2. `global_features`: the per-protein input, five physicochemical properties
   (molecular weight, isoelectric point, GRAVY, instability index, length);
3. `fit_standardization` and `standardize`: put those five columns on one scale (a weight
   in the tens of thousands next to a GRAVY near 0) with statistics of the training rows
   only, so that nothing about the validation or test proteins leaks into training.

The alphabet is `data.amino_acids.AMINO_ACIDS` ("ACDEFGHIKLMNPQRSTVWY"): A -> 1, ..., Y -> 20,
0 is padding and 21 any other letter. Its program: `python -m programs.protein_features`.
"""

from __future__ import annotations

import torch
from Bio.Data.IUPACData import protein_weights
from Bio.SeqUtils.IsoelectricPoint import (
    negative_pKs,
    pKcterminal,
    pKnterminal,
    positive_pKs,
)
from Bio.SeqUtils.ProtParamData import DIWV, kd
from torch import Tensor

from data.amino_acids import AMINO_ACIDS

PADDING_INDEX = 0
UNKNOWN_INDEX = 21
VOCAB_SIZE = 22
"""Indices 0 (padding), 1..20 (AMINO_ACIDS), 21 (any other letter): nn.Embedding(22, ...)."""

FEATURE_NAMES = ("molecular_weight", "isoelectric_point", "gravy", "instability_index",
                 "length")
"""The columns of `global_features`, in this order."""

WATER_MASS = 18.0153
"""Average mass of water (Da): one is released by each peptide bond."""


def encode_sequences(sequences: list[str],
                     device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """Encode a batch of protein sequences as padded integer indices and a mask.

    Args:
        sequences: B >= 1 strings, of different lengths (an empty string is allowed).
        device: where to create both tensors (default the CPU).

    Returns:
        indices: (B, L) int64, L = the length of the longest sequence of the batch (not a
            fixed length). indices[b, i] for i < len(sequences[b]) is the letter's position
            in AMINO_ACIDS plus one (A -> 1, C -> 2, ..., Y -> 20); any other character
            (X, B, Z, J, U, O, ..., and lower-case letters: "m" is not "M", nothing is
            upper-cased) -> UNKNOWN_INDEX = 21, in its place (drop nothing);
            every position after the end of a sequence is padding, PADDING_INDEX = 0.
        mask: (B, L) float32, 1.0 at every real position (i < len(sequences[b]), an unknown
            letter included), 0.0 at padding. Float, so that it can multiply embeddings
            and be summed into lengths (the masked average pooling of Note 3's model).

    Why 21 and not 0 for an unknown letter: 0 is padding; an unknown residue is still a
    residue, and its own index keeps it apart from padding. (Note 3's Dataset and the
    solubility exercise give unknown letters the padding index 0 instead; not here.)

    Hint: Preliminary Note 2, section 4 ("Worked Example: Encoding a Protein Sequence as a
    Tensor"); Preliminary Note 3, section 4 ("Handling Variable-Length Sequences").
    """
    # BEGIN SOLUTION
    index_of = {letter: position + 1 for position, letter in enumerate(AMINO_ACIDS)}
    longest = max(map(len, sequences))
    indices = torch.full((len(sequences), longest), PADDING_INDEX, dtype=torch.int64)  # (B, L)
    mask = torch.zeros(len(sequences), longest, dtype=torch.float32)  # (B, L)
    for b, sequence in enumerate(sequences):
        encoded = [index_of.get(letter, UNKNOWN_INDEX) for letter in sequence]
        indices[b, : len(sequence)] = torch.tensor(encoded, dtype=torch.int64)
        mask[b, : len(sequence)] = 1.0
    return indices.to(device), mask.to(device)
    # END SOLUTION


def _check_sequence(sequence: str) -> None:
    """Raise ValueError unless `sequence` is non-empty and made of AMINO_ACIDS only.

    Optional helper: the grader never calls it. Use it in `global_features`, or check the
    sequences there in your own way (delete it then).
    """
    # BEGIN SOLUTION
    if not sequence:
        raise ValueError("an empty sequence has no global features")
    others = sorted(set(sequence) - set(AMINO_ACIDS))
    if others:
        raise ValueError(f"{sequence[:20]!r}: letters outside {AMINO_ACIDS}: {others}")
    # END SOLUTION


def _molecular_weight(sequence: str) -> float:
    """Average molecular weight (Da): the free amino acids' weights minus one water per bond.

    Optional helper (the grader never calls it): `Bio.Data.IUPACData.protein_weights` holds
    the free amino acids' average weights, WATER_MASS the water's.
    """
    # BEGIN SOLUTION
    return sum(protein_weights[letter] for letter in sequence) - (len(sequence) - 1) * WATER_MASS
    # END SOLUTION


def _net_charge(sequence: str, ph: float) -> float:
    """Net charge at `ph` (Henderson-Hasselbalch), with Biopython's pK values.

    Optional helper (the grader never calls it). The pKs are in `Bio.SeqUtils.IsoelectricPoint`:
    positive_pKs and negative_pKs for the side chains K, R, H and D, E, C, Y and for the
    termini ("Nterm", "Cterm"), which pKnterminal (first residue) and pKcterminal (last
    residue) replace when the residue is listed there. Each terminus counts once, each side
    chain once per occurrence; a basic group of pK p carries +1 / (1 + 10**(ph - p)), an
    acidic one -1 / (1 + 10**(p - ph)).
    """
    # BEGIN SOLUTION
    positive = dict(positive_pKs, Nterm=pKnterminal.get(sequence[0], positive_pKs["Nterm"]))
    negative = dict(negative_pKs, Cterm=pKcterminal.get(sequence[-1], negative_pKs["Cterm"]))
    counts = {group: 1 if group in ("Nterm", "Cterm") else sequence.count(group)
              for group in (*positive, *negative)}
    charge = sum(counts[group] / (1.0 + 10 ** (ph - pk)) for group, pk in positive.items())
    return charge - sum(counts[group] / (1.0 + 10 ** (pk - ph)) for group, pk in negative.items())
    # END SOLUTION


def _isoelectric_point(sequence: str) -> float:
    """The pH in [4.05, 12] where the net charge is 0, by bisection, as Biopython finds it.

    Optional helper (the grader never calls it). The charge falls as the pH rises: keep an
    interval [low, high] = [4.05, 12], move `low` to the midpoint while the charge there is
    positive and `high` otherwise, stop once high - low <= 1e-4 and return the midpoint.
    (A charge of one sign over the whole interval gives a pI at that end of it.)
    """
    # BEGIN SOLUTION
    low, high = 4.05, 12.0
    while high - low > 1e-4:
        middle = (low + high) / 2
        if _net_charge(sequence, middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2
    # END SOLUTION


def _gravy(sequence: str) -> float:
    """Grand average of hydropathy: the mean Kyte-Doolittle value of the residues.

    Optional helper (the grader never calls it): the scale is `Bio.SeqUtils.ProtParamData.kd`
    (hydrophobic residues positive, e.g. I +4.5, R -4.5).
    """
    # BEGIN SOLUTION
    return sum(kd[letter] for letter in sequence) / len(sequence)
    # END SOLUTION


def _instability_index(sequence: str) -> float:
    """Guruprasad's instability index: (10 / L) * the sum of DIWV[a][b] over the L - 1
    consecutive pairs (a, b) of residues (0 for a single residue).

    Optional helper (the grader never calls it): the dipeptide table is
    `Bio.SeqUtils.ProtParamData.DIWV`, indexed [first residue][second residue] (it is not
    symmetric).
    """
    # BEGIN SOLUTION
    pairs = zip(sequence[:-1], sequence[1:], strict=True)  # the L - 1 neighbours
    score = sum(DIWV[first][second] for first, second in pairs)
    return 10.0 / len(sequence) * score
    # END SOLUTION


def global_features(sequences: list[str], device: str | torch.device = "cpu") -> Tensor:
    """Five physicochemical properties per protein, one row per sequence.

    Args:
        sequences: B >= 1 non-empty strings of the 20 letters of AMINO_ACIDS (upper case).
        device: where to create the table (default the CPU).

    Returns:
        (B, 5) float64, the columns in FEATURE_NAMES order:
          0. molecular weight (Da, average masses, water of the peptide bonds removed);
          1. isoelectric point (Bjellqvist pKs, bisection on [4.05, 12] to 1e-4);
          2. GRAVY (mean Kyte-Doolittle hydropathy);
          3. instability index (Guruprasad);
          4. length (number of residues).
        They are what Biopython's `Bio.SeqUtils.ProtParam.ProteinAnalysis(sequence)` gives
        (`molecular_weight()`, `isoelectric_point()`, `gravy()`, `instability_index()`,
        `length`): call it, or write the formulas (the optional helpers above). The grader
        compares with Biopython: the pI within 1e-4 (bisections differ in their last
        digits), the other columns to float64 rounding.

    Raises:
        ValueError: an empty sequence, or one with a character outside AMINO_ACIDS (X, B, U,
        lower case, ...): the tables have no values for them. Check before computing:
        Biopython upper-cases, and fails on some of these letters with other exceptions.

    Hint: Preliminary Note 2, Exercise 1, extension; Note 2, section 6 ("A Richer Example").
    """
    # BEGIN SOLUTION
    rows = []
    for sequence in sequences:
        _check_sequence(sequence)
        rows.append([_molecular_weight(sequence), _isoelectric_point(sequence),
                     _gravy(sequence), _instability_index(sequence), float(len(sequence))])
    return torch.tensor(rows, dtype=torch.float64, device=device)  # (B, 5)
    # END SOLUTION


def fit_standardization(features: Tensor, train_rows: Tensor) -> tuple[Tensor, Tensor]:
    """Each column's mean and standard deviation over the training rows only.

    Args:
        features: (B, F) floating point, one row per protein (e.g. `global_features`).
        train_rows: (N,) int64 indices of the training rows, 1 <= N <= B, no repeats, on
            the features' device. The other rows (validation, test) must not influence the
            statistics: that would leak them into training.

    Returns:
        (mean, std): two (F,) tensors in the features' dtype, on their device. std is the
        population standard deviation (divide by N, `correction=0`, as scikit-learn's
        StandardScaler), not torch.std's default (N - 1). A column constant on the training
        rows has std 0: return 1.0 for it instead, so that standardizing leaves it centred
        rather than dividing by zero.

    Hint: Preliminary Note 3, section 5 ("The Train/Validation/Test Split"): statistics,
    like weights, are fitted on the training set only.
    """
    # BEGIN SOLUTION
    train = features[train_rows]  # (N, F)
    mean = train.mean(dim=0)  # (F,)
    std = train.std(dim=0, correction=0)  # (F,)
    return mean, torch.where(std == 0, torch.ones_like(std), std)
    # END SOLUTION


def standardize(features: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Standardize every row with given statistics: (features - mean) / std, per column.

    Args:
        features: (B, F) floating point, all rows (training, validation and test).
        mean, std: (F,) from `fit_standardization` (std > 0), same device.

    Returns:
        A new (B, F) tensor, same dtype and device; `features` itself is left unchanged.
    """
    # BEGIN SOLUTION
    return (features - mean) / std
    # END SOLUTION
