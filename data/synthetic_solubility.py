"""Synthetic E. coli solubility proteins with a composition signal and a local signal.

Each protein gets a residue composition drawn around the UniProt background and a
log-normal length. A minority of proteins are "membrane-like": some of their own
hydrophobic residues are gathered into transmembrane-like stretches, so their
composition is exactly what it was before and only the arrangement differs.
The probability of being soluble follows the revised Wilkinson-Harrison model
(a composition model) and falls with the fraction of the protein inside those
stretches (visible only to a model that reads the sequence in order).
"""

from dataclasses import dataclass

import numpy as np

from data.amino_acids import AMINO_ACIDS, BACKGROUND, IS_HYDROPHOBIC

METHIONINE = AMINO_ACIDS.index("M")


@dataclass(frozen=True)
class SolubilityModel:
    """Parameters of the generator; the defaults made the committed files."""

    median_length: float = 190.0
    length_sigma: float = 0.6  # of log length: 5% and 95% quantiles near 70 and 510
    min_length: int = 50
    max_length: int = 800
    composition_concentration: float = 100.0  # Dirichlet; per-residue sd near real proteins'
    membrane_like_fraction: float = 0.35
    stretch_coverage: tuple[float, float] = (0.10, 0.40)  # share of a membrane-like protein
    stretch_length: tuple[int, int] = (16, 24)  # a transmembrane helix spans ~20 residues
    stretch_hydrophobic_share: float = 0.9
    intercept: float = 2.6
    wilkinson_harrison_weight: float = 2.0
    stretch_weight: float = 20.0


def revised_wilkinson_harrison(sequence: str) -> float:
    """Canonical variable CV - CV' of Davis et al. (1999); positive predicts insoluble."""
    n = len(sequence)
    turn_forming = sum(sequence.count(aa) for aa in "NGPS") / n
    charge = (sequence.count("R") + sequence.count("K")
              - sequence.count("D") - sequence.count("E")) / n
    cv = 15.43 * turn_forming - 29.56 * abs(charge - 0.03)
    return cv - 1.71


def _sample_length(rng: np.random.Generator, model: SolubilityModel) -> int:
    length = rng.lognormal(np.log(model.median_length), model.length_sigma)
    return int(np.clip(round(length), model.min_length, model.max_length))


def _stretch_starts(rng: np.random.Generator, length: int, sizes: list[int]) -> list[int]:
    """Start positions of non-overlapping stretches, one per equal slot after residue 0.

    Each slot must be at least as long as the longest stretch.
    """
    slot = (length - 1) // len(sizes)
    return [1 + i * slot + int(rng.integers(0, slot - size + 1)) for i, size in enumerate(sizes)]


def _gather_hydrophobic(rng: np.random.Generator, residues: np.ndarray, inside: np.ndarray,
                        share: float) -> None:
    """Swap hydrophobic residues from outside the stretches into them, in place."""
    donors = np.flatnonzero(~inside & IS_HYDROPHOBIC[residues])
    donors = donors[donors > 0]  # keep the initial methionine
    rng.shuffle(donors)
    targets = np.flatnonzero(inside & ~IS_HYDROPHOBIC[residues])
    targets = targets[rng.random(len(targets)) < share]
    for target, donor in zip(targets, donors, strict=False):  # donors may run out
        residues[target], residues[donor] = residues[donor], residues[target]


def sample_protein(rng: np.random.Generator, model: SolubilityModel) -> tuple[str, float]:
    """One sequence and the fraction of its residues inside hydrophobic stretches."""
    length = _sample_length(rng, model)
    composition = rng.dirichlet(model.composition_concentration * BACKGROUND)
    residues = rng.choice(len(AMINO_ACIDS), size=length, p=composition)
    residues[0] = METHIONINE
    inside = np.zeros(length, dtype=bool)
    if rng.random() < model.membrane_like_fraction:
        coverage = rng.uniform(*model.stretch_coverage)
        low, high = model.stretch_length
        count = max(1, round(coverage * length / ((low + high) / 2)))
        sizes = [int(size) for size in rng.integers(low, high + 1, size=count)]
        while len(sizes) * (max(sizes) + 4) > length - 1:  # short protein: fewer stretches
            sizes.pop()
        for start, size in zip(_stretch_starts(rng, length, sizes), sizes, strict=True):
            inside[start:start + size] = True
        _gather_hydrophobic(rng, residues, inside, model.stretch_hydrophobic_share)
    sequence = "".join(AMINO_ACIDS[i] for i in residues)
    return sequence, float(inside.mean())


def soluble_probability(sequence: str, stretch_fraction: float, model: SolubilityModel) -> float:
    """Probability that the protein is soluble under the planted label model."""
    logit = (model.intercept
             - model.wilkinson_harrison_weight * revised_wilkinson_harrison(sequence)
             - model.stretch_weight * stretch_fraction)
    return float(1.0 / (1.0 + np.exp(-logit)))


def generate_solubility(rng: np.random.Generator, count: int,
                        model: SolubilityModel = SolubilityModel()) -> list[tuple[str, int]]:
    """`count` (sequence, label) pairs; label 1 = soluble, drawn from the probability."""
    pairs = []
    for _ in range(count):
        sequence, stretch_fraction = sample_protein(rng, model)
        label = int(rng.random() < soluble_probability(sequence, stretch_fraction, model))
        pairs.append((sequence, label))
    return pairs
