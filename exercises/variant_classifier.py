# Exercise variant_classifier: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=variant_classifier` (QUICK=1: the
# fast checks only).
# Generated from solutions/variant_classifier.py by `make stubs`: never edit it by hand.
"""Classifying genetic variants: logistic regression, a fair validation split, early stopping.

A missense variant is pathogenic (label 1) or benign (0). The embedded variant set
(`data/variants/`, `data.load_variants`) gives six standardised features per variant:
conservation, allele frequency, predicted structural impact, hydrophobicity change and
two features that carry no signal. Its labels come from a logistic model with label
noise, so the best possible accuracy is near 0.9, not 1.

You build, in order:

- `LogisticRegression`: one linear layer that returns logits, trained with
  nn.BCEWithLogitsLoss (which applies the sigmoid itself), and `binary_accuracy`;
- `stratified_split`: a seeded train/validation split that keeps each class's share;
- `train_model`: full-batch training that records the training and validation loss of
  every epoch, validates in eval mode without gradients, stops early after `patience`
  epochs without a better validation loss, and restores the best epoch's weights;
- `fit_variant_classifier`: the pieces together on the variant set;
- the challenge: `SoftmaxClassifier`, `fit_level_classifier` and `per_class_accuracy`
  for three expression levels (low, middle, high) of the gene-expression set, with
  nn.CrossEntropyLoss on logits.

Every function keeps its results on the device of its inputs.

Course: Session 2 ("Autograd and Gradient Descent"), Exercises 4 ("Variant
Classification"), 5 ("Train/Validation Split") and 6 ("Overfitting Detection"), and
Challenge Problem 1 ("Multi-class gene expression classification").

Its program: `python -m programs.variant_classifier` (seconds).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn

# ----------------------------------------------------------------------------- models


class LogisticRegression(nn.Module):
    """Logistic regression for a binary label: one nn.Linear(num_features, 1).

    Submodule: `linear`, nn.Linear(num_features, 1); no other parameters.

    forward(x): x (N, F) float -> logits (N,) on x's device: the linear layer's output
    with its last dimension squeezed away (only that one: N may be 1), NOT passed through
    a sigmoid. P(label 1) is
    sigmoid(logit); nn.BCEWithLogitsLoss takes the logits and applies the sigmoid itself
    (in a numerically stable way), and wants targets of the logits' shape (N,).
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        raise NotImplementedError("variant_classifier: LogisticRegression.__init__")

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError("variant_classifier: LogisticRegression.forward")


class SoftmaxClassifier(nn.Module):
    """Multinomial logistic regression: one nn.Linear(num_features, num_classes).

    Submodule: `linear`, nn.Linear(num_features, num_classes); no other parameters.

    forward(x): x (N, F) float -> logits (N, num_classes) on x's device, NOT passed
    through a softmax: nn.CrossEntropyLoss applies log-softmax itself.
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        raise NotImplementedError("variant_classifier: SoftmaxClassifier.__init__")

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError("variant_classifier: SoftmaxClassifier.forward")


# ----------------------------------------------------------------------------- metrics


def binary_accuracy(logits: Tensor, labels: Tensor) -> float:
    """The share of correct predictions of a binary classifier, as a Python float.

    Args:
        logits: (N,) float logits, N >= 1.
        labels: (N,) true labels 0/1, as bool, integer or float.

    The prediction is 1 where the logit is > 0 (probability > 0.5), else 0. The logits
    are not probabilities: a logit of 0.3 is a probability of 0.57.
    """
    raise NotImplementedError("variant_classifier: binary_accuracy")


def per_class_accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """The accuracy within each true class (its recall), for K classes.

    Args:
        logits: (N, K) float logits; the prediction is the argmax of each row.
        labels: (N,) int64 true classes in [0, K).

    Returns:
        (K,) float32 on the inputs' device: entry k is the share of the samples of true
        class k that are predicted k. A class with no sample in `labels` has no accuracy:
        its entry is NaN (not 0, which would read as "always wrong").
    """
    raise NotImplementedError("variant_classifier: per_class_accuracy")


# ----------------------------------------------------------------------------- splitting


def stratified_split(labels: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Split the samples into training and validation indices, class by class.

    Args:
        labels: (N,) integer class labels (any number of classes), N >= 1.
        val_fraction: the share of each class that goes to validation, in (0, 1).
        seed: the split depends on it alone: the same seed gives the same split, a
            different seed (almost always) a different one.

    Returns:
        (train_indices, val_indices): 1-D int64 tensors on the labels' device, in any
        order. Together they hold every index 0..N-1 exactly once (no sample is in both:
        that would leak it into the validation score). For each class c with n_c
        samples, the validation part holds round(val_fraction * n_c) of them (within one
        sample of val_fraction * n_c), chosen at random.

    Hint: draw from your own torch.Generator().manual_seed(seed), not from the global
    random state, which other code advances.
    """
    raise NotImplementedError("variant_classifier: stratified_split")


# ----------------------------------------------------------------------------- training


def train_model(
    model: nn.Module,
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    patience: int | None = None,
) -> dict:
    """Full-batch training with a validation loss per epoch and early stopping.

    Args:
        model: maps x (N, F) to logits; on the data's device.
        train, val: (x, y) pairs: x (N, F) float, y the targets `criterion` takes.
        criterion: a mean-reduced loss, criterion(model(x), y).
        optimizer: steps the model's parameters.
        epochs: the most epochs to run, >= 1.
        patience: stop after this many epochs in a row without a new best validation
            loss (if the best epoch is k, counting from 1, training stops after epoch
            k + patience); 0 stops at the first epoch without a new best, as 1 does;
            None: run every epoch.

    Each epoch is one step on the whole training set: model.train(), zero the
    gradients, forward, loss, backward, step; the epoch's training loss is that loss (at
    the weights before the step). Then the validation loss at the new weights, in eval
    mode (model.eval()) and under torch.no_grad(). The best epoch has the lowest
    validation loss, strictly lower than every earlier one: an epoch that only ties the
    best is no improvement (on a plateau the best epoch stays the first of the lowest).
    Keep a COPY of its weights (copy.deepcopy(model.state_dict())): state_dict() returns
    the live tensors, which later steps overwrite. At the end, load the best weights back
    into the model.

    Returns:
        {"train_loss": [...], "val_loss": [...]: one Python float per epoch run,
         "best_epoch": the best epoch, counting from 1 (an int)}.
    """
    raise NotImplementedError("variant_classifier: train_model")


def fit_variant_classifier(
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    *,
    epochs: int = 300,
    lr: float = 0.05,
    patience: int | None = 20,
    seed: int = 0,
) -> tuple[LogisticRegression, dict]:
    """Train a `LogisticRegression` on (x, y) pairs with `train_model`.

    Args:
        train, val: (x, y): x (N, F) float32 features, y (N,) 0/1 labels (any dtype);
            both on one device.
        epochs, lr, patience: as for `train_model`; lr is Adam's learning rate.
        seed: torch.manual_seed(seed) right before the model is made (its initial
            weights).

    Uses nn.BCEWithLogitsLoss on the logits, with float targets (it wants targets of
    the logits' shape and dtype), and torch.optim.Adam(model.parameters(), lr=lr).

    Returns:
        (model, history): the model on x's device, holding the best epoch's weights, and
        `train_model`'s history.
    """
    raise NotImplementedError("variant_classifier: fit_variant_classifier")


def fit_level_classifier(
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    num_classes: int,
    *,
    epochs: int = 300,
    lr: float = 0.05,
    patience: int | None = 20,
    seed: int = 0,
) -> tuple[SoftmaxClassifier, dict]:
    """Train a `SoftmaxClassifier` on (x, classes) pairs with `train_model`.

    Args:
        train, val: (x, y): x (N, F) float32, y (N,) integer classes in [0, num_classes).
        num_classes: K.
        epochs, lr, patience, seed: as for `fit_variant_classifier`.

    Uses nn.CrossEntropyLoss on the logits, with int64 targets (class indices, not
    floats), and torch.optim.Adam(model.parameters(), lr=lr).

    Returns:
        (model, history), as `fit_variant_classifier`.
    """
    raise NotImplementedError("variant_classifier: fit_level_classifier")
