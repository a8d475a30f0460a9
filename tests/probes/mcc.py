"""Probes for the `mcc` exercise."""

from __future__ import annotations

import torch
from torch import nn

from grader.by_hand import ByHand
from tests.probes import DTYPES, raised

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


class ProbeClassifier(nn.Module):
    """A small fixed classifier that records the mode and grad mode of each forward call."""

    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(21, 8, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(8, 2)
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
        embedded = self.embedding(sequence) * mask.unsqueeze(-1)  # (B, L, 8)
        pooled = embedded.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)  # (B, 8)
        return self.fc(self.dropout(pooled))  # (B, 2)


def probe_batches(seed: int, num_batches: int, batch_size: int) -> list[dict]:
    """Solubility-style batches of random sequences, on the CPU."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(num_batches):
        lengths = torch.randint(3, 25, (batch_size,), generator=generator)
        width = int(lengths.max())
        mask = (torch.arange(width) < lengths[:, None]).float()  # (B, L)
        sequence = torch.randint(1, 21, (batch_size, width), generator=generator)
        batches.append({
            "sequence": sequence * mask.long(),
            "mask": mask,
            "label": torch.randint(0, 2, (batch_size,), generator=generator),
        })
    return batches


def evaluate_classifier(impl, case: dict, device: str) -> dict:
    torch.manual_seed(case["seed"])
    model = ProbeClassifier(case["dropout"]).to(device)
    batches = probe_batches(case["seed"], case["num_batches"], case["batch_size"])
    metrics = impl.evaluate_classifier(model, batches, device)
    return {
        "metrics": metrics,
        "training_flags": [training for training, _ in model.calls],
        "grad_flags": [grad for _, grad in model.calls],
    }
