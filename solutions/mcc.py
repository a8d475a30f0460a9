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
    # BEGIN SOLUTION
    if y_true.dim() != 1 or y_pred.dim() != 1:
        raise ValueError(f"labels must be 1-D, got shapes {list(y_true.shape)} and "
                         f"{list(y_pred.shape)}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred have different lengths "
                         f"({len(y_true)} and {len(y_pred)})")
    if len(y_true) == 0:
        raise ValueError("labels are empty: need at least one sample")
    # END SOLUTION


def _check_binary_labels(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    """Validate two label vectors and return them as int64 tensors.

    Optional helper: the grader never calls it. Use it in confusion_counts, or check the
    labels there in your own way (delete it then).
    """
    # BEGIN SOLUTION
    _check_lengths(y_true, y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        bad = (labels != 0) & (labels != 1)
        if bool(bad.any()):
            raise ValueError(f"{name} must hold only 0 and 1, found {labels[bad][0].item()}")
    return y_true.long(), y_pred.long()
    # END SOLUTION


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
    # BEGIN SOLUTION
    y_true, y_pred = _check_binary_labels(y_true, y_pred)
    tp = ((y_true == 1) & (y_pred == 1)).sum()
    tn = ((y_true == 0) & (y_pred == 0)).sum()
    fp = ((y_true == 0) & (y_pred == 1)).sum()
    fn = ((y_true == 1) & (y_pred == 0)).sum()
    return tp, tn, fp, fn
    # END SOLUTION


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
    # BEGIN SOLUTION
    tp, tn, fp, fn = (count.double() for count in confusion_counts(y_true, y_pred))
    denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    if denominator == 0:
        return torch.zeros((), dtype=torch.float64, device=y_true.device)
    return (tp * tn - fp * fn) / denominator.sqrt()
    # END SOLUTION


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
    # BEGIN SOLUTION
    _check_lengths(y_true, y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        bad = (labels < 0) | (labels >= num_classes) | (labels != labels.long())
        if bool(bad.any()):
            raise ValueError(f"{name} must hold classes 0..{num_classes - 1}, "
                             f"found {labels[bad][0].item()}")
    y_true, y_pred = y_true.long(), y_pred.long()
    pairs = y_true * num_classes + y_pred
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.float64, device=y_true.device)
    confusion.index_add_(0, pairs, torch.ones_like(pairs, dtype=torch.float64))
    confusion = confusion.view(num_classes, num_classes)  # (K, K)
    t = confusion.sum(dim=1)  # (K,) true counts
    p = confusion.sum(dim=0)  # (K,) predicted counts
    c = confusion.trace()
    s = confusion.sum()
    denominator = (s * s - (p * p).sum()) * (s * s - (t * t).sum())
    if denominator == 0:
        return torch.zeros((), dtype=torch.float64, device=y_true.device)
    return (c * s - (p * t).sum()) / denominator.sqrt()
    # END SOLUTION


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
    # BEGIN SOLUTION
    model.eval()
    labels, predictions, probabilities = [], [], []
    for batch in loader:
        logits = model(batch["sequence"].to(device), batch["mask"].to(device))  # (B, 2)
        probabilities.append(logits.softmax(dim=-1)[:, 1])
        predictions.append(logits.argmax(dim=-1))
        labels.append(batch["label"].to(device))
    y_true, y_pred = torch.cat(labels), torch.cat(predictions)
    tp, tn, fp, fn = (count.item() for count in confusion_counts(y_true, y_pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / len(y_true),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": float(roc_auc_score(y_true.cpu().numpy(), torch.cat(probabilities).cpu().numpy())),
        "mcc": matthews_corrcoef(y_true, y_pred).item(),
    }
    # END SOLUTION
