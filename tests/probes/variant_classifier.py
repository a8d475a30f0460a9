"""Probes for the `variant_classifier` exercise.

Models are checked with weights the probe sets (seeded, from `linear_weights`), so the
judge computes the expected logits itself. The training loop runs on `SpyLinear`, a
linear model that records every forward call (mode, grad mode, batch rows, and a copy of
its parameters), with `SpySGD`; its data come from the case's seed. The pipelines train
the submission's own fitting functions on the embedded data sets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from data.tensors import gene_expression_tensors, variant_tensors
from tests.probes import DTYPES, SpyModule, SpySGD, flat_parameters, raised

# ----------------------------------------------------------------------------- models


def linear_weights(case: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(W (O, F), b (O,), x (N, F)) float32 on the CPU from the case's seed; O = 1 for
    LogisticRegression, case["classes"] for SoftmaxClassifier."""
    outputs = case.get("classes", 1)
    generator = torch.Generator().manual_seed(case["seed"])
    return (torch.randn(outputs, case["features"], generator=generator),
            torch.randn(outputs, generator=generator),
            torch.randn(case["samples"], case["features"], generator=generator))


def model_logits(impl, case: dict, device: str) -> dict:
    """The model case["model"] made by the submission: its parameters' shapes, its linear
    layers, and (with exactly one nn.Linear) its logits once the probe set that layer's
    weights to `linear_weights`."""
    W, b, x = linear_weights(case)
    if case["model"] == "LogisticRegression":
        model = impl.LogisticRegression(case["features"])
    else:
        model = impl.SoftmaxClassifier(case["features"], case["classes"])
    model = model.to(device)
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    observed = {"parameters": [[name, list(p.shape)] for name, p in model.named_parameters()],
                "linears": [[layer.in_features, layer.out_features] for layer in linears]}
    if len(linears) != 1 or list(linears[0].weight.shape) != list(W.shape):
        return observed
    with torch.no_grad():
        linears[0].weight.copy_(W)
        linears[0].bias.copy_(b)
        logits = model(x.to(device))
    return {**observed, "logits": logits}


# ----------------------------------------------------------------------------- metrics


def binary_accuracy(impl, case: dict, device: str):
    logits = torch.tensor(case["logits"], dtype=torch.float32, device=device)
    labels = torch.tensor(case["labels"], device=device).to(DTYPES[case["dtype"]])
    return impl.binary_accuracy(logits, labels)


def class_logits(case: dict) -> torch.Tensor:
    """(N, K) float32 logits on the CPU: random, with a bonus of 2 on the true class for
    about half of the samples (so that accuracies spread between 0 and 1; no ties)."""
    generator = torch.Generator().manual_seed(case["seed"])
    labels = torch.tensor(case["labels"], dtype=torch.int64)
    logits = torch.randn(len(labels), case["classes"], generator=generator)
    bonus = (torch.rand(len(labels), generator=generator) < 0.5).float() * 2.0
    logits[torch.arange(len(labels)), labels] += bonus
    return logits


def per_class_accuracy(impl, case: dict, device: str):
    labels = torch.tensor(case["labels"], dtype=torch.int64, device=device)
    return impl.per_class_accuracy(class_logits(case).to(device), labels)


# ----------------------------------------------------------------------------- splitting


def stratified_split(impl, case: dict, device: str) -> dict:
    """stratified_split of the case's labels with each seed in case["seeds"], and once
    more with the first seed (the same split is expected)."""
    labels = torch.tensor(case["labels"], dtype=torch.int64, device=device)
    splits = [impl.stratified_split(labels, case["val_fraction"], seed)
              for seed in case["seeds"]]
    again = impl.stratified_split(labels, case["val_fraction"], case["seeds"][0])
    return {"splits": splits, "again": again,
            "labels_kept": torch.equal(labels.cpu(), torch.tensor(case["labels"]))}


# ----------------------------------------------------------------------------- training


class SpyLinear(SpyModule):
    """Logits (N,) of one seeded linear layer (after dropout on its input).

    Each forward call is recorded with its number of rows and a copy of the parameters
    it ran with (`parameters`, flat (F + 1,)), so the judge can tell training from
    validation calls and knows the weights each validation loss was computed with.
    """

    def __init__(self, features: int, seed: int, dropout: float = 0.0,
                 events: list[str] | None = None) -> None:
        super().__init__(events)
        self.linear = nn.Linear(features, 1)
        self.dropout = nn.Dropout(dropout)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(1, features, generator=generator) * 0.5)
            self.linear.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.record(x, rows=x.shape[0], parameters=flat_parameters(self.parameters()))
        return self.linear(self.dropout(x)).squeeze(-1)  # (N,)


def training_data(case: dict) -> tuple[torch.Tensor, ...]:
    """x_train (T, F), y_train (T,), x_val (V, F), y_val (V,) float32 on the CPU.

    Random features and labels; or, when case["scenario"] is "drift", all-zero features,
    training labels all 1 and validation labels 1 for case["val_positive"] of 8: the
    bias climbs every epoch, so the validation loss falls until sigmoid(bias) passes the
    validation share of 1s, then rises (its best epoch is known).
    """
    generator = torch.Generator().manual_seed(case["seed"])
    rows, features = (case["train"], case["val"]), case["features"]
    if case.get("scenario") == "drift":
        positive = case["val_positive"]
        return (torch.zeros(rows[0], features), torch.ones(rows[0]),
                torch.zeros(rows[1], features),
                torch.tensor([1.0] * positive + [0.0] * (rows[1] - positive)))
    x_train, x_val = (torch.randn(n, features, generator=generator) for n in rows)
    y_train, y_val = (torch.randint(0, 2, (n,), generator=generator).float() for n in rows)
    return x_train, y_train, x_val, y_val


class ScriptedValidationLoss(nn.Module):
    """BCEWithLogitsLoss on the training batch; on the validation batch (`val_rows` rows,
    never the training batch's count) the scripted loss of the epoch, `script[s - 1]` after
    the optimizer's s-th step, so that a validation loss can stay flat or tie the best
    exactly, however often the code under test validates."""

    def __init__(self, script: list[float], val_rows: int, events: list[str]) -> None:
        super().__init__()
        self.script, self.val_rows, self.events = script, val_rows, events

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.binary_cross_entropy_with_logits(logits, targets)
        if logits.shape[0] != self.val_rows:
            return loss
        steps = max(self.events.count("step"), 1)
        return loss * 0.0 + self.script[min(steps, len(self.script)) - 1]


def train_model(impl, case: dict, device: str) -> dict:
    """train_model on `training_data` with a SpyLinear, SpySGD(lr) and BCEWithLogitsLoss
    (with case["val_script"]: the `ScriptedValidationLoss` of those validation losses).

    Returns what it returned (`history`), the forward records (`calls`), the optimizer's
    and model's events in order, and the parameters of the model afterwards (`final`).
    """
    x_train, y_train, x_val, y_val = (t.to(device) for t in training_data(case))
    events: list[str] = []
    model = SpyLinear(case["features"], case["seed"], case.get("dropout", 0.0),
                      events=events).to(device)
    optimizer = SpySGD(model.parameters(), lr=case["lr"], events=events)
    criterion = (ScriptedValidationLoss(case["val_script"], case["val"], events)
                 if "val_script" in case else nn.BCEWithLogitsLoss())
    history = impl.train_model(model, (x_train, y_train), (x_val, y_val), criterion, optimizer,
                               case["epochs"], case["patience"])
    return {"history": history, "calls": model.calls, "events": events,
            "final": flat_parameters(model.parameters())}


# ----------------------------------------------------------------------------- pipelines


def variant_pipeline(impl, case: dict, device: str) -> dict:
    """fit_variant_classifier with its defaults on the embedded train/valid splits; the
    returned model's test logits and its BCE on train and valid (eval mode, no grad)."""
    train, val, test = ([t.to(device) for t in variant_tensors(split)]
                        for split in ("train", "valid", "test"))
    outcome = raised(lambda: impl.fit_variant_classifier(tuple(train), tuple(val)), impl)
    if outcome["raised"] or not isinstance(outcome["returned"], tuple | list):
        return outcome
    model, history = outcome["returned"]
    model.eval()
    with torch.no_grad():
        losses = {name: nn.functional.binary_cross_entropy_with_logits(
                      model(x).reshape(-1), y.float()).item()
                  for name, (x, y) in (("train", train), ("valid", val))}
        logits = model(test[0])
    return {"raised": None, "history": history, "losses": losses, "test_logits": logits}


def initial_weights(impl, case: dict, device: str) -> torch.Tensor:
    """The flat parameters of the model case["fit"] returns at case["seed"] after
    case["epochs"] on the embedded training split at Adam's lr case["lr"] (0: no update,
    so they are the initial weights)."""
    if case["fit"] == "fit_variant_classifier":
        train, val = (tuple(t.to(device) for t in variant_tensors(split))
                      for split in ("train", "valid"))
        extra: tuple = ()
    else:
        levels = gene_levels()
        train, val = (tuple(t.to(device) for t in levels[split]) for split in ("train", "valid"))
        extra = (3,)
    model, _ = getattr(impl, case["fit"])(train, val, *extra, epochs=case["epochs"],
                                          lr=case["lr"], patience=None, seed=case["seed"])
    return flat_parameters(model.parameters())


def gene_levels(num_levels: int = 3) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{split: (binding x (N, F) float32, level (N,) int64)} of the embedded gene-expression
    set, the levels cut at the training split's quantiles 1/K, ..., (K-1)/K."""
    # float64: the file's values, for the quantiles
    tables = {split: gene_expression_tensors(split, dtype=torch.float64)
              for split in ("train", "valid", "test")}
    cuts = np.quantile(tables["train"][1].numpy(), np.arange(1, num_levels) / num_levels)
    return {split: (x.float(), torch.from_numpy(np.digitize(expression.numpy(), cuts)).long())
            for split, (x, expression) in tables.items()}


def level_pipeline(impl, case: dict, device: str) -> dict:
    """fit_level_classifier with its defaults on three expression levels; test logits."""
    data = {split: tuple(t.to(device) for t in pair) for split, pair in gene_levels().items()}
    outcome = raised(lambda: impl.fit_level_classifier(data["train"], data["valid"], 3), impl)
    if outcome["raised"] or not isinstance(outcome["returned"], tuple | list):
        return outcome
    model, history = outcome["returned"]
    model.eval()
    with torch.no_grad():
        logits = model(data["test"][0])
    return {"raised": None, "history": history, "test_logits": logits}
