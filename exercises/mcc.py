# Exercise mcc: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=mcc` (QUICK=1: the
# fast checks only).
# Generated from solutions/mcc.py by `make stubs`: never edit it by hand.
"""The Matthews correlation coefficient (MCC), from scratch.

Accuracy flatters a classifier on unbalanced data: on a set that is 90% soluble,
always answering "soluble" scores 0.9. The MCC correlates predictions with the truth
using all four cells of the confusion matrix, so that trivial classifier scores 0:

    MCC = (TP*TN - FP*FN) / sqrt((TP+FP) (TP+FN) (TN+FP) (TN+FN))

It ranges from -1 (always wrong) through 0 (no better than chance) to +1 (perfect).
See the course notes, Preliminary Note 3, section 6 ("Evaluation: Beyond Accuracy")
and its Exercise 3.

Labels are 1-D tensors of 0/1 (bool, integer or float) of the same length >= 1;
1 is the positive class. Every function works on the device of its inputs.
By hand: the two MCC functions may not call sklearn.metrics.matthews_corrcoef (the grader
checks); compare with it in your own tests.
"""

from __future__ import annotations

import torch
from sklearn.metrics import roc_auc_score
from torch import Tensor


def _check_lengths(y_true: Tensor, y_pred: Tensor) -> None:
    """Raise ValueError unless both are 1-D, of the same length, and not empty.

    Optional helper: the grader never calls it. Use it in the functions below, or check
    their inputs there in your own way (delete it then).
    """
    raise NotImplementedError("mcc: _check_lengths")


def _check_binary_labels(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    """Validate two label vectors and return them as int64 tensors.

    Optional helper: the grader never calls it. Use it in confusion_counts, or check the
    labels there in your own way (delete it then).
    """
    raise NotImplementedError("mcc: _check_binary_labels")


def confusion_counts(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Count true positives, true negatives, false positives and false negatives.

    Args:
        y_true: (N,) true labels, 0/1 as bool, integer or float.
        y_pred: (N,) predicted labels, same form and length.

    Returns:
        (tp, tn, fp, fn): four 0-dim int64 tensors on the inputs' device.

    Raises:
        ValueError: different lengths, empty input, or a label other than 0 and 1.
    """
    raise NotImplementedError("mcc: confusion_counts")


def matthews_corrcoef(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """The binary MCC of predictions against true labels.

    Args:
        y_true: (N,) true labels, 0/1 as bool, integer or float.
        y_pred: (N,) predicted labels, same form and length.

    Returns:
        A 0-dim floating-point tensor on the inputs' device. When any factor under the
        square root is 0 (one class absent from the truth or from the predictions), the
        MCC is undefined and 0.0 is returned, as scikit-learn does.

    Hint: with millions of samples the product of the four sums overflows int64
    (and loses precision in float32): compute it in float64.
    """
    raise NotImplementedError("mcc: matthews_corrcoef")


def multiclass_mcc(y_true: Tensor, y_pred: Tensor, num_classes: int) -> Tensor:
    """Gorodkin's R_K: the MCC generalised to K classes (sklearn's multiclass MCC).

    With C the K x K confusion matrix (rows: true class, columns: predicted class),
    t_k = row sums, p_k = column sums, c = trace(C), s = N:

        R_K = (c*s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2) (s^2 - sum_k t_k^2))

    For K = 2 it equals the binary MCC.

    Args:
        y_true: (N,) integer class labels in [0, num_classes).
        y_pred: (N,) integer predicted labels in [0, num_classes).
        num_classes: K >= 2.

    Returns:
        A 0-dim floating-point tensor on the inputs' device; 0.0 when the
        denominator is 0.

    Raises:
        ValueError: different lengths, empty input, or a label outside [0, K).
    """
    raise NotImplementedError("mcc: multiclass_mcc")


@torch.no_grad()
def evaluate_classifier(model: torch.nn.Module, loader, device: str | torch.device) -> dict:
    """Accuracy, precision, recall, F1, ROC AUC and MCC of a binary classifier.

    Args:
        model: called as model(sequence, mask) -> logits (B, 2); class 1 is positive.
        loader: yields dicts {'sequence': (B, L) int64, 'mask': (B, L) float32,
            'label': (B,) int64}.
        device: where to run the model; move each batch there.

    Returns:
        {'accuracy', 'precision', 'recall', 'f1', 'auc', 'mcc'}: Python floats.
        The prediction is the argmax of the logits; the AUC ranks P(class 1) (softmax);
        precision (or recall, F1) with a zero denominator is 0.0; the MCC comes from
        your `matthews_corrcoef`. Put the model in eval mode, and compute no gradients.

    Hint: the AUC may come from sklearn.metrics.roc_auc_score on CPU numpy arrays.
    """
    raise NotImplementedError("mcc: evaluate_classifier")
