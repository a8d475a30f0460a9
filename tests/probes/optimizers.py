"""Probes for the `optimizers` exercise.

The update rules are driven on parameters and gradients made from a seeded generator
(no model, no loss: the gradients are given), and the parameters are recorded after
every step. The experiment is driven with a small model and loaders of the grader's own
(synthetic solubility-style batches), so it is graded apart from the solubility exercise.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader

from grader.isolation.by_hand import ByHand
from tests.probes import (
    DTYPES,
    SpyClassifier,
    SpyLoss,
    SpySGD,
    flat_parameters,
    padded_batch,
    plotted,
    raised,
    random_proteins,
)

CLASS_NAMES = {"sgd": "SGDMomentum", "adam": "Adam", "adamw": "AdamW"}
# The notes' settings, which `make_optimizer` must use (given explicitly to compare with).
# The update rules are the exercise: torch's optimizers may not stand in for them.
TORCH_OPTIMIZERS = ("torch.optim.SGD", "torch.optim.Adam", "torch.optim.AdamW")
BY_HAND = ByHand(uses={"SGDMomentum": TORCH_OPTIMIZERS, "Adam": TORCH_OPTIMIZERS,
                       "AdamW": TORCH_OPTIMIZERS},
                 advice="write the update rule yourself")

NOTES_SETTINGS = {
    "sgd": {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0},
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
}


# --- the update rules ------------------------------------------------------------------


def hyperparameters(settings: dict) -> dict:
    """A case's hyperparameters as constructor keywords (betas as a tuple)."""
    return {key: tuple(value) if key == "betas" else value for key, value in settings.items()}


def initial_parameters(case: dict) -> list[list[torch.Tensor]]:
    """Each group's initial parameter values, on the CPU, from the case's seed."""
    generator = torch.Generator().manual_seed(case["seed"])
    dtype = DTYPES[case.get("dtype", "float64")]
    return [
        [torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
         for shape in group["shapes"]]
        for group in case["groups"]
    ]


def gradients(case: dict) -> list[list[torch.Tensor | None]]:
    """gradients(case)[step][i]: the gradient of flat parameter i at that step (None: skip)."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    dtype = DTYPES[case.get("dtype", "float64")]
    shapes = [shape for group in case["groups"] for shape in group["shapes"]]
    skipped = {tuple(pair) for pair in case.get("skip", [])}
    schedule = []
    for step in range(case["steps"]):
        row = []
        for index, shape in enumerate(shapes):
            grad = torch.randn(shape, generator=generator, dtype=torch.float64)
            row.append(None if (step, index) in skipped else (grad * case["grad_scale"]).to(dtype))
        schedule.append(row)
    return schedule


def build_optimizer(optimizer_class, case: dict, device: str):
    """(optimizer, flat parameter list) for the case's groups and constructor keywords."""
    groups, flat = [], []
    for values, group in zip(initial_parameters(case), case["groups"], strict=True):
        params = [value.to(device).requires_grad_() for value in values]
        flat += params
        settings = {k: v for k, v in group.items() if k != "shapes"}
        groups.append({"params": params, **hyperparameters(settings)})
    return optimizer_class(groups, **hyperparameters(case.get("defaults", {}))), flat


def run_steps(optimizer, flat: list[torch.Tensor], schedule, device: str) -> torch.Tensor:
    """Set the scheduled gradients, step, and record all parameters: (steps, numel)."""
    rows = []
    for grads in schedule:
        for param, grad in zip(flat, grads, strict=True):
            param.grad = None if grad is None else grad.to(device)
        optimizer.step()
        rows.append(flat_parameters(flat))
    return torch.stack(rows)


def optimizer_trajectory(impl, case: dict, device: str) -> dict:
    """The parameters after each step of the submission's optimizer class on the case."""
    optimizer, flat = build_optimizer(getattr(impl, CLASS_NAMES[case["optimizer"]]), case, device)
    trajectory = run_steps(optimizer, flat, gradients(case), device)
    return {"trajectory": trajectory, "dtypes": [str(param.dtype) for param in flat]}


def optimizer_resume(impl, case: dict, device: str) -> dict:
    """Step `resume_at` times, restart from `state_dict()` in a new optimizer, step on.

    Returns the original optimizer's trajectory after the restart, the restarted one's
    and the number of state entries of each parameter (the last one never has a gradient).
    """
    optimizer_class = getattr(impl, CLASS_NAMES[case["optimizer"]])
    schedule = gradients(case)
    optimizer, flat = build_optimizer(optimizer_class, case, device)
    run_steps(optimizer, flat, schedule[: case["resume_at"]], device)
    saved_state = copy.deepcopy(optimizer.state_dict())
    state_sizes = [len(optimizer.state.get(param, {})) for param in flat]
    restarted, restarted_flat = build_optimizer(optimizer_class, case, device)
    with torch.no_grad():
        for param, current in zip(restarted_flat, flat, strict=True):
            param.copy_(current)
    restarted.load_state_dict(saved_state)
    rest = schedule[case["resume_at"]:]
    return {
        "continued": run_steps(optimizer, flat, rest, device),
        "resumed": run_steps(restarted, restarted_flat, rest, device),
        "state_sizes": state_sizes,
    }


def make_optimizer(impl, case: dict, device: str) -> dict:
    """What `make_optimizer(name)` returns, and its steps next to the explicit settings'."""
    name = case["name"]
    single_group = {"seed": case["seed"], "steps": case["steps"], "grad_scale": 1.0,
                    "groups": [{"shapes": [[3], [2, 2]]}]}
    values = initial_parameters(single_group)[0]
    made_params = [value.to(device, copy=True).requires_grad_() for value in values]
    made = impl.make_optimizer(name, iter(made_params))
    explicit_params = [value.to(device, copy=True).requires_grad_() for value in values]
    explicit = getattr(impl, CLASS_NAMES[name])(explicit_params, **NOTES_SETTINGS[name])
    schedule = gradients(single_group)
    return {
        "type": f"{type(made).__module__}.{type(made).__qualname__}",
        "is_own_class": type(made) is getattr(impl, CLASS_NAMES[name]),
        "made": run_steps(made, made_params, schedule, device),
        "explicit": run_steps(explicit, explicit_params, schedule, device),
    }


def make_optimizer_unknown(impl, case: dict, device: str) -> dict:
    param = torch.zeros(2, device=device, requires_grad=True)
    return raised(lambda: impl.make_optimizer(case["name"], [param]))


# --- the experiment --------------------------------------------------------------------


def collate(items: list[tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """(sequence (len,) int64, label () int64) items -> a padded solubility batch."""
    sequences, labels = zip(*items, strict=True)
    return padded_batch(list(sequences), torch.stack(labels))


def probe_loader(seed: int, size: int, batch_size: int) -> DataLoader:
    """A fixed-order loader of random proteins (lengths 4..19); its last batch is shorter when
    batch_size does not divide size."""
    generator = torch.Generator().manual_seed(seed)
    sequences = random_proteins(generator, size, min_length=4, max_length=19)
    labels = torch.randint(0, 2, (size,), generator=generator)
    return DataLoader(list(zip(sequences, labels, strict=True)), batch_size=batch_size,
                      shuffle=False, collate_fn=collate)


def fingerprint(sequence: torch.Tensor) -> tuple[int, ...]:
    return (*sequence.shape, int(sequence.sum()), int(sequence[:, 0].sum()))


def batch_names(train: DataLoader, val: DataLoader) -> dict[tuple[int, ...], str]:
    """{fingerprint: "training batch 0", ...} for every batch of both loaders."""
    return {fingerprint(batch["sequence"]): f"{phase} batch {index}"
            for phase, loader in (("training", train), ("validation", val))
            for index, batch in enumerate(loader)}


# Every model that ran a forward pass, with its parameters (P,) on the CPU at that first call.
# Kept in the module, not the model, so that a deep copy of a model is recorded as a model of
# its own.
_FIRST_FORWARDS: list[tuple[nn.Module, torch.Tensor]] = []


class ProbeClassifier(SpyClassifier):
    """A SpyClassifier whose forward records also name the batch ("batch": looked up by its
    `fingerprint` in `batch_names`, "?" if unknown) and that enters `_FIRST_FORWARDS`."""

    def __init__(self, dropout: float = 0.0,
                 batch_names: dict[tuple[int, ...], str] | None = None,
                 events: list[str] | None = None) -> None:
        super().__init__(dropout, events=events)
        self.batch_names = {} if batch_names is None else batch_names

    def record(self, inputs: torch.Tensor, **observed) -> None:
        super().record(inputs, batch=self.batch_names.get(fingerprint(inputs), "?"), **observed)
        if not any(seen is self for seen, _ in _FIRST_FORWARDS):
            _FIRST_FORWARDS.append((self, flat_parameters(self.parameters()).cpu()))


def train_with_optimizer(impl, case: dict, device: str) -> dict:
    """One call of train_with_optimizer with a fixed model, torch's SGD and fixed loaders.

    "events": the model's and the optimizer's "forward", "zero_grad" and "step" in order.
    """
    torch.manual_seed(case["seed"])
    train = probe_loader(case["seed"], case["train_size"], case["batch_size"])
    val = probe_loader(case["seed"] + 1, case["val_size"], case["batch_size"])
    model = ProbeClassifier(case["dropout"], batch_names(train, val)).to(device)
    optimizer = SpySGD(model.parameters(), lr=case["lr"], momentum=0.9, events=model.events)
    criterion = SpyLoss()
    history = impl.train_with_optimizer(model, optimizer, train, val, criterion, case["epochs"],
                                        device)
    return {
        "history": history,
        "calls": model.calls,
        "events": model.events,
        "losses": criterion.calls,
        "train_batches": len(train),
        "val_batches": len(val),
        "parameters": flat_parameters(model.parameters()),
    }


def compare_optimizers(impl, case: dict, device: str) -> dict:
    """compare_optimizers with a model factory of the grader's; then each run redone alone.

    Returns the histories, the parameters each trained model had at its first forward
    pass, the device types it saw, and for each name the history of `train_with_optimizer`
    with `make_optimizer(name)` from that run's initial weights (the model has no dropout
    and the loaders a fixed order, so a faithful run reproduces it exactly).
    """
    train = probe_loader(case["seed"], case["train_size"], case["batch_size"])
    val = probe_loader(case["seed"] + 1, case["val_size"], case["batch_size"])
    _FIRST_FORWARDS.clear()
    histories = impl.compare_optimizers(ProbeClassifier, train, val, case["epochs"], device,
                                        seed=case["seed"], names=tuple(case["names"]))
    trained = list(_FIRST_FORWARDS)
    _FIRST_FORWARDS.clear()
    devices = sorted({call["device"] for model, _ in trained for call in model.calls})
    redone = {}
    for index, name in enumerate(case["names"] if trained else ()):
        # Run i starts where the i-th model trained started (the first one's, if fewer).
        start = trained[index if len(trained) == len(case["names"]) else 0][1]
        model = ProbeClassifier()
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(start.clone(), model.parameters())
        model = model.to(device)
        optimizer = impl.make_optimizer(name, model.parameters())
        redone[name] = impl.train_with_optimizer(model, optimizer, train, val,
                                                 nn.CrossEntropyLoss(), case["epochs"], device)
    _FIRST_FORWARDS.clear()
    return {
        "histories": histories,
        "initial_weights": [flat for _, flat in trained],
        "devices": devices,
        "redone": redone,
    }


def plot_loss_curves(impl, case: dict, device: str) -> dict:
    """Call plot_loss_curves in a fresh folder; describe the figure and the file."""
    return plotted(lambda path: impl.plot_loss_curves(case["histories"], path),
                   case["filename"])


def summarize(impl, case: dict, device: str):
    return impl.summarize(case["histories"], case["threshold"])
