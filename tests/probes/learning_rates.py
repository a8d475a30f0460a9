"""Probes for the `learning_rates` exercise.

A linear problem (`samples` N, `features` F, `outputs` O, `seed`) is the kit's
`linear_problem(case, planted=True)`: multiples of 1/8 in [-1, 1], in float64, so that the
judge's float64 oracle (the gradient descent written out in the suite) follows the same
trajectory up to rounding. Training probes
hand the submission a torch.nn.Linear and a `SpySGD` (one parameter group for the weight,
one for the bias) and report what it returned and the rate each step used.
"""

from __future__ import annotations

import torch
from torch import nn

from data.tensors import gene_expression_tensors
from grader.isolation.by_hand import ByHand
from tests.probes import SpySGD, linear_problem, plotted, raised

SCHEDULE_FUNCTIONS = ("step_decay", "cosine_annealing", "warmup_cosine")
TORCH_SCHEDULERS = ("torch.optim.lr_scheduler.StepLR", "torch.optim.lr_scheduler.CosineAnnealingLR",
                    "torch.optim.lr_scheduler.LinearLR", "torch.optim.lr_scheduler.SequentialLR",
                    "torch.optim.lr_scheduler.LambdaLR")
# The formulas are the exercise: PyTorch's schedulers may not stand in for them (they may
# check them, in tests, and train_with_schedule may use anything).
BY_HAND = ByHand(uses={name: TORCH_SCHEDULERS for name in SCHEDULE_FUNCTIONS},
                 advice="write the schedule as a formula of the epoch, without "
                 "torch.optim.lr_scheduler")

Problem = dict[str, torch.Tensor]


def linear_model(problem: Problem, device: str) -> nn.Linear:
    """A float64 nn.Linear on `device` starting at the problem's W and b."""
    outputs, features = problem["W"].shape
    model = nn.Linear(features, outputs, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(problem["W"])
        model.bias.copy_(problem["b"])
    return model.to(device)


def losses_from_case(values: list) -> list[float]:
    """A case's losses as floats: "inf" and "nan" are written as strings in cases."""
    return [float(value) for value in values]


class RateSpySGD(SpySGD):
    """A SpySGD that also records, at each step, the rate of every parameter group."""

    def __init__(self, params, lr: float) -> None:
        super().__init__(params, lr=lr)
        self.step_rates: list[list[float]] = []

    def step(self, closure=None):
        self.step_rates.append([float(group["lr"]) for group in self.param_groups])
        return super().step(closure)


def spy_optimizer(model: nn.Linear, lr: float) -> RateSpySGD:
    """Plain SGD over the weight and the bias, as two parameter groups."""
    return RateSpySGD([{"params": [model.weight]}, {"params": [model.bias]}], lr=lr)


def train_steps(impl, case: dict, device: str) -> dict:
    """train_steps on the case's problem with SGD at case["lr"]; the steps taken."""
    problem = linear_problem(case, planted=True)
    model = linear_model(problem, device)
    optimizer = spy_optimizer(model, case["lr"])
    losses = impl.train_steps(model, optimizer, problem["x"].to(device),
                              problem["y"].to(device), case["steps"])
    return {"losses": losses, "steps": optimizer.events.count("step")}


def classify_run(impl, case: dict, device: str):
    return impl.classify_run(losses_from_case(case["losses"]), case["best_loss"],
                             case["slow_factor"])


def lr_sweep(impl, case: dict, device: str):
    """lr_sweep on the case's problem (lr_sweep makes its own models)."""
    problem = linear_problem(case, planted=True)
    return impl.lr_sweep(problem["x"].to(device), problem["y"].to(device), list(case["rates"]),
                         case["steps"], tuple(case["optimizers"]), case["slow_factor"])


def embedded_sweep(impl, case: dict, device: str) -> list:
    """lr_sweep with its defaults on the embedded gene-expression split case["split"] (x (N, 5),
    y (N, 1), float32 on `device`); the runs without their losses."""
    x, expression = gene_expression_tensors(case["split"], device)
    returned = impl.lr_sweep(x, expression.unsqueeze(1))
    if not isinstance(returned, list):
        return returned
    return [{key: value for key, value in run.items() if key != "losses"}
            if isinstance(run, dict) else run for run in returned]


def schedule(impl, case: dict, device: str) -> list:
    """case["function"]'s rates for epochs 0 .. case["epochs"] - 1 (no tensors: no device)."""
    function = getattr(impl, case["function"])
    return [function(epoch, **case["settings"]) for epoch in range(case["epochs"])]


class GraderSchedule:
    """The grader's schedule, a table of rates; it records the epochs it is asked for."""

    def __init__(self, rates: list[float]) -> None:
        self.rates = rates
        self.asked: list[int] = []

    def __call__(self, epoch: int) -> float:
        self.asked.append(int(epoch))
        if not 0 <= epoch < len(self.rates):
            raise IndexError(f"the schedule has epochs 0..{len(self.rates) - 1}, asked for "
                             f"epoch {epoch}")
        return self.rates[epoch]


def train_with_schedule(impl, case: dict, device: str) -> dict:
    """train_with_schedule with the grader's table of rates, from the optimizer's
    case["initial_lr"]; the rate each step used, per parameter group."""
    problem = linear_problem(case, planted=True)
    model = linear_model(problem, device)
    optimizer = spy_optimizer(model, case["initial_lr"])
    rates = GraderSchedule(list(case["rates"]))
    outcome = raised(lambda: impl.train_with_schedule(
        model, optimizer, problem["x"].to(device), problem["y"].to(device), rates,
        len(case["rates"]), case["batch_size"]), impl)
    return {**outcome, "step_rates": optimizer.step_rates, "asked": rates.asked}


def plot_sweep(impl, case: dict, device: str) -> dict:
    """Call plot_sweep in a fresh folder; describe the figure and the file."""
    runs = [{**run, "losses": losses_from_case(run["losses"])} for run in case["runs"]]
    return plotted(lambda path: impl.plot_sweep(runs, path), case["filename"])
