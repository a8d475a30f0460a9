"""Probes for the `grad_accumulation` exercise.

A case describes a small deterministic MLP (no dropout), its data split into micro-batches
(`sizes`), and for an epoch the accumulation steps, learning rate and clipping. The judge
rebuilds the same model and data with `make_model` / `make_micro_batches` for its oracle
(plain large-batch training), so both sides see identical numbers.
"""

from __future__ import annotations

import torch
from torch import nn

from tests.probes import DTYPES, swapped


def make_model(case: dict, device: str = "cpu") -> ProbeMLP:
    """The case's MLP with weights drawn from its seed, in the case's dtype, on `device`."""
    generator = torch.Generator().manual_seed(case["seed"])
    model = ProbeMLP(case["in_features"], case["hidden"], case["outputs"])
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


def flat_gradient(model: nn.Module) -> torch.Tensor:
    """All `.grad` in one vector (P,), zeros where a gradient is None."""
    return torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).detach().flatten()
        for p in model.parameters()
    ])


def flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])  # (P,)


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


def _arrived(tensor: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, dict]:
    """The plain tensor on `device`, and what was observed of it as it arrived."""
    seen = {"moved": not isinstance(tensor, Unmoved), "device": str(tensor.device)}
    with torch._C.DisableTorchFunctionSubclass():
        plain = tensor.as_subclass(torch.Tensor)
    return plain.to(device), seen


class Recorder:
    """The order of forward passes, zero_grad and step calls, as one list of events."""

    def __init__(self) -> None:
        self.events: list[str] = []


class ProbeMLP(nn.Module):
    """Linear-tanh-linear, deterministic; records each forward's mode and input."""

    def __init__(self, in_features: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, outputs)
        self.recorder = Recorder()
        self.inputs_seen: list[dict] = []
        self.training_flags: list[bool] = []

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        self.recorder.events.append("forward")
        self.training_flags.append(self.training)
        inputs, seen = _arrived(inputs, self.fc1.weight.device)
        self.inputs_seen.append(seen)
        return self.fc2(torch.tanh(self.fc1(inputs)))  # (n, outputs)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.recorder.events.append("zero_grad")
        super().zero_grad(set_to_none)


class RecordingSGD(torch.optim.SGD):
    """Plain SGD that records each zero_grad and step, and the gradient each step used."""

    def __init__(self, params, lr: float, recorder: Recorder) -> None:
        super().__init__(params, lr=lr)
        self.recorder = recorder
        self.step_gradients: list[torch.Tensor] = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.recorder.events.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.recorder.events.append("step")
        self.step_gradients.append(torch.cat([
            (p.grad if p.grad is not None else torch.zeros_like(p)).detach().flatten().clone()
            for group in self.param_groups for p in group["params"]
        ]))
        return super().step(closure)


class RecordingLoss(nn.Module):
    """The case's mean-reduced loss; records each micro-batch's loss and size."""

    def __init__(self, case: dict) -> None:
        super().__init__()
        self.loss = loss_function(case)
        self.reduction = self.loss.reduction
        self.values: list[torch.Tensor] = []
        self.sizes: list[int] = []
        self.targets_seen: list[dict] = []

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets, seen = _arrived(targets, predictions.device)
        self.targets_seen.append(seen)
        loss = self.loss(predictions, targets)
        self.values.append(loss.detach().double())
        self.sizes.append(int(targets.shape[0]))
        return loss


def accumulate(impl, case: dict, device: str) -> dict:
    """accumulate_gradients on the case's micro-batches; the gradient and loss afterwards."""
    model = make_model(case, device)
    if case.get("stale"):
        for parameter, stale in zip(model.parameters(), stale_gradients(case, model), strict=True):
            parameter.grad = stale.clone()
    micro_batches = [(x.to(device), y.to(device)) for x, y in make_micro_batches(case)]
    returned = impl.accumulate_gradients(model, loss_function(case), micro_batches)
    return {
        "returned": returned,
        "gradient": flat_gradient(model),
        "parameters": flat_parameters(model),
    }


def accumulate_gradients_as_specified(model: nn.Module, criterion: nn.Module,
                                      micro_batches: list) -> float:
    """The handout's accumulate_gradients, which `train_epoch` gives the submission to use."""
    total = sum(targets.shape[0] for _, targets in micro_batches)
    loss_sum = 0.0
    for inputs, targets in micro_batches:
        loss = criterion(model(inputs), targets)
        (loss * (targets.shape[0] / total)).backward()
        loss_sum += loss.item() * targets.shape[0]
    return loss_sum / total


def train_epoch(impl, case: dict, device: str) -> dict:
    """One epoch of train_epoch_accumulated from a model in eval mode with stale gradients.

    The epoch is judged on its own: its calls to accumulate_gradients get the handout's
    version (`tests.probes.swapped`), so a mistake there costs accumulate_gradients' checks only.
    """
    model = make_model(case, device)
    for parameter, stale in zip(model.parameters(), stale_gradients(case, model), strict=True):
        parameter.grad = stale.clone()
    model.eval()  # as after a validation pass: the epoch must switch to training mode
    optimizer = RecordingSGD(model.parameters(), lr=case["lr"], recorder=model.recorder)
    criterion = RecordingLoss(case)
    loader = [(x.as_subclass(Unmoved), y.as_subclass(Unmoved)) for x, y in make_micro_batches(case)]
    extra = {"max_grad_norm": case["max_grad_norm"]} if "max_grad_norm" in case else {}
    with swapped(impl, accumulate_gradients=accumulate_gradients_as_specified):
        returned = impl.train_epoch_accumulated(model, loader, criterion, optimizer,
                                                case["accumulation_steps"], device, **extra)
    return {
        "returned": returned,
        "events": model.recorder.events,
        "step_gradients": (torch.stack(optimizer.step_gradients) if optimizer.step_gradients
                           else torch.zeros(0)),
        "parameters": flat_parameters(model),
        "training_flags": model.training_flags,
        "inputs_seen": model.inputs_seen,
        "targets_seen": criterion.targets_seen,
        "losses": torch.stack(criterion.values) if criterion.values else torch.zeros(0),
        "loss_sizes": criterion.sizes,
    }
