"""Probes for the `grad_accumulation` exercise.

A case describes a small deterministic MLP (no dropout), its data split into micro-batches
(`sizes`), and for an epoch the accumulation steps, learning rate and clipping. The judge
rebuilds the same model and data with `make_model` / `make_micro_batches` for its oracle
(plain large-batch training), so both sides see identical numbers.
"""

from __future__ import annotations

import torch
from torch import nn

from tests.probes import DTYPES, SpyLoss, SpyModule, SpySGD, flat_gradient, flat_parameters


def make_model(case: dict, device: str = "cpu") -> ArrivalMLP:
    """The case's MLP with weights drawn from its seed, in the case's dtype, on `device`."""
    generator = torch.Generator().manual_seed(case["seed"])
    model = ArrivalMLP(case["in_features"], case["hidden"], case["outputs"])
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.7)
    return model.to(device=device, dtype=DTYPES[case.get("dtype", "float64")])


def make_micro_batches(case: dict) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """CPU micro-batches (inputs (n_i, F), targets) of the case's sizes and dtype."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    total = sum(case["sizes"])
    dtype = DTYPES[case.get("dtype", "float64")]
    inputs = torch.randn(total, case["in_features"], generator=generator).to(dtype)  # (N, F)
    if case["task"] == "classification":
        targets = torch.randint(0, case["outputs"], (total,), generator=generator)  # (N,)
    else:
        targets = torch.randn(total, case["outputs"], generator=generator).to(dtype)  # (N, O)
    return list(zip(inputs.split(case["sizes"]), targets.split(case["sizes"]), strict=True))


def stale_gradients(case: dict, model: nn.Module) -> list[torch.Tensor]:
    """Gradients 'left over' from earlier work, put in `.grad` before the call."""
    generator = torch.Generator().manual_seed(case["seed"] + 2)
    return [torch.randn(p.shape, generator=generator).to(p) for p in model.parameters()]


def loss_function(case: dict) -> nn.Module:
    """The case's mean-reduced criterion."""
    return nn.CrossEntropyLoss() if case["task"] == "classification" else nn.MSELoss()


class Unmoved(torch.Tensor):
    """A tensor as the loader yields it: moving it (`.to`, `.cuda`, ...) gives a plain tensor.

    On a CPU-only machine `.to("cpu")` changes nothing visible, so the model tells whether
    a batch went through a move by its type.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in _MOVES:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **(kwargs or {})).as_subclass(torch.Tensor)
        return super().__torch_function__(func, types, args, kwargs)


_MOVES = {torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.pin_memory}


def arrival(tensor: torch.Tensor) -> dict:
    """How a batch tensor arrived: {"moved": went through a move, "device": device type}."""
    return {"moved": not isinstance(tensor, Unmoved), "device": tensor.device.type}


def plain_on(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` as a plain tensor on `device`, so that an unmoved batch still computes."""
    with torch._C.DisableTorchFunctionSubclass():
        return tensor.as_subclass(torch.Tensor).to(device)


class ArrivalMLP(SpyModule):
    """Linear-tanh-linear, deterministic: (n, F) -> (n, outputs).

    Each `calls` record also says whether the inputs were moved (`arrival`).
    """

    def __init__(self, in_features: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        self.record(inputs, **arrival(inputs))
        inputs = plain_on(inputs, self.fc1.weight.device)
        return self.fc2(torch.tanh(self.fc1(inputs)))  # (n, outputs)


class ArrivalLoss(SpyLoss):
    """The case's criterion; `arrivals` holds how each call's targets arrived (`arrival`)."""

    def __init__(self, case: dict) -> None:
        super().__init__(loss_function(case))
        self.arrivals: list[dict] = []

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.arrivals.append(arrival(targets))
        return super().forward(predictions, plain_on(targets, predictions.device))


def accumulate(impl, case: dict, device: str) -> dict:
    """accumulate_gradients on the case's micro-batches; the gradient (P,) and the loss."""
    model = make_model(case, device)
    if case.get("stale"):
        for parameter, stale in zip(model.parameters(), stale_gradients(case, model), strict=True):
            parameter.grad = stale.clone()
    micro_batches = [(x.to(device), y.to(device)) for x, y in make_micro_batches(case)]
    returned = impl.accumulate_gradients(model, loss_function(case), micro_batches)
    return {"returned": returned, "gradient": flat_gradient(model.parameters())}


def train_epoch(impl, case: dict, device: str) -> dict:
    """One epoch of train_epoch_accumulated from a model in eval mode with stale gradients.

    `events`: the model's and the optimizer's calls in order; `step_gradients` (S, P): the
    gradient each optimizer.step() used; `calls` / `target_arrivals`: each forward's record
    and how each micro-batch's targets reached the criterion.
    """
    model = make_model(case, device)
    for parameter, stale in zip(model.parameters(), stale_gradients(case, model), strict=True):
        parameter.grad = stale.clone()
    model.eval()  # as after a validation pass: the epoch must switch to training mode
    optimizer = SpySGD(model.parameters(), lr=case["lr"], events=model.events)
    criterion = ArrivalLoss(case)
    loader = [(x.as_subclass(Unmoved), y.as_subclass(Unmoved)) for x, y in make_micro_batches(case)]
    extra = {"max_grad_norm": case["max_grad_norm"]} if "max_grad_norm" in case else {}
    returned = impl.train_epoch_accumulated(model, loader, criterion, optimizer,
                                            case["accumulation_steps"], device, **extra)
    return {
        "returned": returned,
        "events": model.events,
        "step_gradients": (torch.stack(optimizer.step_gradients) if optimizer.step_gradients
                           else torch.zeros(0)),
        "parameters": flat_parameters(model.parameters()),
        "calls": model.calls,
        "target_arrivals": criterion.arrivals,
    }
