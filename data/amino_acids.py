"""Amino-acid alphabet and the published per-residue tables the generators use."""

import numpy as np

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
"""The 20 standard amino acids in alphabetical one-letter order."""

RARE_LETTERS = "XUO"
"""Letters real data sets contain besides the 20: unknown, selenocysteine, pyrrolysine."""

AMBIGUOUS_LETTERS = "BZJ"
"""IUPAC ambiguity codes (Asx, Glx, Xle); loaders read them as X (CB513 holds two Z)."""

UNIPROT_BACKGROUND = {
    "A": 8.25, "C": 1.38, "D": 5.46, "E": 6.72, "F": 3.86,
    "G": 7.07, "H": 2.27, "I": 5.91, "K": 5.80, "L": 9.65,
    "M": 2.41, "N": 4.06, "P": 4.74, "Q": 3.93, "R": 5.53,
    "S": 6.64, "T": 5.35, "V": 6.86, "W": 1.10, "Y": 2.92,
}
"""Amino-acid composition of UniProtKB/Swiss-Prot in percent (release statistics)."""

CHOU_FASMAN = {
    # residue: (helix P(a), strand P(b), turn P(t)), Chou & Fasman (1978), x100
    "A": (142, 83, 66), "C": (70, 119, 119), "D": (101, 54, 146), "E": (151, 37, 74),
    "F": (113, 138, 60), "G": (57, 75, 156), "H": (100, 87, 95), "I": (108, 160, 47),
    "K": (114, 74, 101), "L": (121, 130, 59), "M": (145, 105, 60), "N": (67, 89, 156),
    "P": (57, 55, 152), "Q": (111, 110, 98), "R": (98, 93, 95), "S": (77, 75, 143),
    "T": (83, 119, 96), "V": (106, 170, 50), "W": (108, 137, 96), "Y": (69, 147, 114),
}
"""Conformational propensities of the residues for helix, strand and turn."""

HYDROPHOBIC = "AFILMVW"
"""Residues counted as hydrophobic for transmembrane-like stretches and buried faces."""

BACKGROUND = np.array([UNIPROT_BACKGROUND[aa] for aa in AMINO_ACIDS]) / sum(
    UNIPROT_BACKGROUND.values()
)
"""UNIPROT_BACKGROUND as probabilities in AMINO_ACIDS order."""

IS_HYDROPHOBIC = np.array([aa in HYDROPHOBIC for aa in AMINO_ACIDS])
"""Boolean mask over AMINO_ACIDS marking HYDROPHOBIC."""
