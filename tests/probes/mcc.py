"""Probes for the `mcc` exercise."""

from __future__ import annotations

import torch

from grader.isolation.by_hand import ByHand
from tests.probes import DTYPES, SpyClassifier, raised, solubility_batches

# The MCC is the exercise: scikit-learn's may not stand in for it (it may check it, in tests).
BY_HAND = ByHand(uses={"matthews_corrcoef": ("sklearn.metrics.matthews_corrcoef",),
                       "multiclass_mcc": ("sklearn.metrics.matthews_corrcoef",)},
                 advice="compute the MCC yourself")


def labels(case: dict, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = DTYPES[case.get("dtype", "int64")]
    return (torch.tensor(case["y_true"], device=device).to(dtype),
            torch.tensor(case["y_pred"], device=device).to(dtype))


def large_labels(case: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` correlated labels made on the CPU from `seed` (the judge makes the same ones)."""
    generator = torch.Generator().manual_seed(case["seed"])
    y_true = (torch.rand(case["n"], generator=generator) < case["positive_rate"]).long()
    flip = torch.rand(case["n"], generator=generator) < case["error_rate"]
    return y_true, torch.where(flip, 1 - y_true, y_true)


def confusion_counts(impl, case: dict, device: str):
    return impl.confusion_counts(*labels(case, device))


def matthews_corrcoef(impl, case: dict, device: str):
    return impl.matthews_corrcoef(*labels(case, device))


def large_matthews_corrcoef(impl, case: dict, device: str):
    y_true, y_pred = large_labels(case)
    return impl.matthews_corrcoef(y_true.to(device), y_pred.to(device))


def multiclass_mcc(impl, case: dict, device: str):
    y_true, y_pred = labels(case, device)
    return impl.multiclass_mcc(y_true, y_pred, case["num_classes"])


def invalid_labels(impl, case: dict, device: str) -> dict:
    """What `case['function']` does with labels it must reject."""
    y_true, y_pred = labels(case, device)
    function = getattr(impl, case["function"])
    extra = (case["num_classes"],) if "num_classes" in case else ()
    return raised(lambda: function(y_true, y_pred, *extra))


def evaluate_classifier(impl, case: dict, device: str) -> dict:
    """evaluate_classifier on case["num_batches"] batches of case["batch_size"] proteins,
    and a last one of case["last_batch"] when the case has it."""
    torch.manual_seed(case["seed"])
    model = SpyClassifier(case["dropout"]).to(device)
    sizes = [case["batch_size"]] * case["num_batches"] + (
        [case["last_batch"]] if "last_batch" in case else [])
    batches = solubility_batches(case["seed"], sizes, min_length=3)
    metrics = impl.evaluate_classifier(model, batches, device)
    return {"metrics": metrics, "calls": model.calls}
