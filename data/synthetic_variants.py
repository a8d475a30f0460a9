"""Synthetic missense variants, pathogenic or benign: a planted logistic model.

Each variant has six numeric features, standardised over the catalogue (mean 0, sd 1):

- `conservation`: how conserved the position is across species (a phyloP-like score);
- `allele_frequency`: its log10 population allele frequency (common variants are rarely
  pathogenic: a negative weight);
- `structural_impact`: a predicted disruption of the protein's fold; it correlates with
  conservation (buried, conserved positions are the ones a substitution disrupts);
- `hydrophobicity_change`: the change of hydrophobicity from the reference to the
  alternative residue (Kyte-Doolittle), signed;
- `noise_1`, `noise_2`: measurements that carry no signal (what a model must learn to
  ignore).

The label (1 = pathogenic, 0 = benign) is a Bernoulli draw from a logistic model,

    P(pathogenic | x) = sigmoid(weights . x + bias),

so even the true model errs on the variants whose probability is near 0.5: this is the
label noise that keeps a logistic regression's accuracy near 0.9 and not at 1.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VariantModel:
    """Parameters of the generator; the defaults made the committed files."""

    features: tuple[str, ...] = ("conservation", "allele_frequency", "structural_impact",
                                 "hydrophobicity_change", "noise_1", "noise_2")
    weights: tuple[float, ...] = (3.2, -2.4, 2.0, 1.2, 0.0, 0.0)  # one per feature
    bias: float = -0.6  # a little under half of the variants are pathogenic
    impact_conservation: float = 0.4  # correlation of structural impact with conservation


TRUE_MODEL = VariantModel()
"""The model of the committed files."""


def generate_variants(rng: np.random.Generator, count: int,
                      model: VariantModel = TRUE_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Features (count, F) float64 and 0/1 labels (count,) int64 of `count` variants."""
    features = rng.standard_normal((count, len(model.features)))
    # Mix conservation into structural impact: correlation `impact_conservation`, still sd 1.
    features[:, 2] = (model.impact_conservation * features[:, 0]
                      + np.sqrt(1.0 - model.impact_conservation**2) * features[:, 2])
    logits = features @ np.asarray(model.weights) + model.bias
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    labels = (rng.random(count) < probabilities).astype(np.int64)
    return features, labels
