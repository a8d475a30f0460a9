"""Composition features shared by the baselines, the tests and the exercises."""

from collections.abc import Sequence

import numpy as np

from data.amino_acids import AMINO_ACIDS

_COLUMN = {aa: i for i, aa in enumerate(AMINO_ACIDS)}


def composition_features(sequences: Sequence[str]) -> np.ndarray:
    """(n, 21) array: the 20 amino-acid fractions, then the natural log of the length.

    Letters outside the 20 (X, U, O) count in the length but in no fraction.
    The features are not standardised; fit a scaler on the training split.
    """
    features = np.zeros((len(sequences), len(AMINO_ACIDS) + 1))
    for row, sequence in enumerate(sequences):
        for aa in set(sequence):
            if aa in _COLUMN:
                features[row, _COLUMN[aa]] = sequence.count(aa)
        features[row, :-1] /= len(sequence)
        features[row, -1] = np.log(len(sequence))
    return features
