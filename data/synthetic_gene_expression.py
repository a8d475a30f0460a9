"""Synthetic gene expression from transcription-factor binding: a planted linear model.

Each gene has a binding score for each of a few transcription factors at its promoter
(a standardised log enrichment, as from ChIP-seq: mean 0, standard deviation 1; the
first two factors co-bind, so their scores are correlated) and a log expression level
that is linear in the scores plus Gaussian noise:

    expression = weights . binding + bias + noise,    noise ~ N(0, noise_sd^2)

Positive weights are activators, negative ones repressors, and a zero weight is a factor
that binds without regulating. The noise bounds what any fit can reach: its mean squared
error stays near noise_sd^2 (0.01 with the defaults).
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GeneExpressionModel:
    """Parameters of the generator; the defaults made the committed files."""

    factors: tuple[str, ...] = ("tf1", "tf2", "tf3", "tf4", "tf5")
    weights: tuple[float, ...] = (1.5, -1.0, 0.8, 0.0, -0.5)  # one per factor
    bias: float = 2.0  # the expression of a gene no factor binds more than average
    cobinding: float = 0.5  # correlation of the first two factors' scores
    noise_sd: float = 0.1


TRUE_MODEL = GeneExpressionModel()
"""The model of the committed files: its weights and bias are what a fit should recover."""


def generate_gene_expression(rng: np.random.Generator, count: int,
                             model: GeneExpressionModel = TRUE_MODEL,
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Binding scores (count, F) and expression levels (count,) of `count` genes, float64."""
    binding = rng.standard_normal((count, len(model.factors)))
    # Mix the second factor's scores with the first's: correlation `cobinding`, still sd 1.
    binding[:, 1] = (model.cobinding * binding[:, 0]
                     + np.sqrt(1.0 - model.cobinding**2) * binding[:, 1])
    noise = model.noise_sd * rng.standard_normal(count)
    expression = binding @ np.asarray(model.weights) + model.bias + noise
    return binding, expression
