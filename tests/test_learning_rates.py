"""Grading suite of the `learning_rates` exercise.

The oracles are computed here: PyTorch's own schedulers for the three schedules, and for
training, gradient descent written out in float64 (the MSE gradient of a linear model by
the closed form, applied by torch.optim's SGD or Adam to bare tensors). Each also replays
the known mistakes, for the hints. The sweep on the embedded gene-expression set is held to
the session's outcome: SGD shows the three regimes.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

# The oracle's first torch.optim optimizer would import torch._dynamo (2 s) in a check;
# imported with the suite, it overlaps the fork server's start instead.
import torch._dynamo  # noqa: F401
from hypothesis import example, given, settings
from torch.optim import lr_scheduler

from grader.judging.figures import drawn_points, expect_figure, expect_labels_legend_and_png
from grader.judging.judge import (
    agrees,
    assert_close,
    expect_dict,
    expect_float_list,
    expect_returned,
    fail,
    known_mistake,
    per_case,
    show,
)
from tests import strategies
from tests.probes import learning_rates as probes
from tests.probes import linear_problem

EXERCISE_POINTS = 20


# --- the float64 oracle of training ---------------------------------------------------------


def descent(case: dict, plan: list[tuple[slice, float]], *, optimizer: str = "sgd",
            from_zeros: bool = False, accumulate: bool = False) -> tuple[list[float], float]:
    """Train the case's linear model in float64, one update per (rows, lr) of `plan`.

    Returns (the loss of each update's rows before it, the last update's rows' loss after
    it). `accumulate` replays gradients that are never cleared.
    """
    problem = linear_problem(case, planted=True)
    x, y = problem["x"], problem["y"]
    start = [torch.zeros_like(problem["W"]), torch.zeros_like(problem["b"])] if from_zeros \
        else [problem["W"].clone(), problem["b"].clone()]
    W, b = (tensor.requires_grad_(True) for tensor in start)
    stepper = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer](
        [W, b], lr=1.0, foreach=False)

    def residuals(rows: slice) -> torch.Tensor:
        return x[rows] @ W.detach().T + b.detach() - y[rows]  # (B, O)

    losses = []
    for rows, lr in plan:
        for group in stepper.param_groups:
            group["lr"] = lr
        r = residuals(rows)
        losses.append((r**2).mean().item())
        scale = 2.0 / r.numel()  # d mean(r^2) / dr
        grads = (scale * r.T @ x[rows], scale * r.sum(dim=0))
        for tensor, grad in zip((W, b), grads, strict=True):
            tensor.grad = grad if tensor.grad is None or not accumulate else tensor.grad + grad
        stepper.step()
    last = residuals(plan[-1][0]) if plan else residuals(slice(None))
    return losses, (last**2).mean().item()


def same_losses(got: list[float], expected: list[float], device: str) -> bool:
    """Equal lengths, and each loss agrees in float64 (inf and nan equal themselves)."""
    return len(got) == len(expected) and all(
        (a == e) or (math.isnan(a) and math.isnan(e))
        or agrees(a, e, device=device, dtype=torch.float64)
        for a, e in zip(got, expected, strict=True))


def expect_losses(value, what: str, *, case, count: int | None = None) -> list[float]:
    """A list of Python floats (inf and nan allowed: a diverging run's losses overflow)."""
    losses = expect_float_list(value, what, case=case, finite=False)
    if count is not None and len(losses) != count:
        fail(f"{what} should hold {count} losses, one per update", case=case,
             expected=f"{count} values", got=losses)
    return losses


def first_difference(got: list[float], expected: list[float], device: str) -> int:
    return next((index for index, (a, e) in enumerate(zip(got, expected, strict=False))
                 if not same_losses([a], [e], device)), min(len(got), len(expected)))


# --- train_steps ----------------------------------------------------------------------------


@per_case
def steps_oracle(case: dict) -> tuple[list[float], dict[str, list[float]]]:
    plan = [(slice(None), case["lr"])] * case["steps"]
    losses, final = descent(case, plan)
    return losses, {
        "record each loss before its update: losses[t] is the loss whose gradient update t "
        "follows, losses[0] the loss at the starting parameters": [*losses[1:], final],
        "the gradients accumulate from step to step: call optimizer.zero_grad() before "
        "each loss.backward()": descent(case, plan, accumulate=True)[0],
    }


@pytest.mark.points(2)
@given(case=strategies.train_step_problems())
@example(case={"samples": 6, "features": 2, "outputs": 1, "seed": 1, "lr": 0.1, "steps": 4})
@example(case={"samples": 5, "features": 3, "outputs": 2, "seed": 2, "lr": 0.05, "steps": 3})
@settings(max_examples=10)
def test_train_steps(check, case):
    """train_steps steps once per update, returning the full-batch MSE before each (floats)"""
    got = expect_dict(check.student(probes.train_steps, case), "train_steps", ["losses"],
                      case=case)
    losses = expect_float_list(got["losses"], "train_steps(...)", case=case)
    if got["steps"] != case["steps"]:
        fail(f"train_steps called optimizer.step() {got['steps']} times for steps="
             f"{case['steps']}", case=case, hint="one optimizer.step() per update")
    expected, mistakes = steps_oracle(case)
    if len(losses) != len(expected) or not same_losses(losses, expected, check.device):
        index = first_difference(losses, expected, check.device)
        hint = next((advice for advice, values in mistakes.items()
                     if same_losses(losses, values, check.device)),
                    "the loss is the mean of (model(x) - y) ** 2 over all N*O entries")
        fail(f"train_steps: losses differ from update {index} on", case=case,
             expected=expected, got=losses, hint=hint)


# --- classify_run ---------------------------------------------------------------------------


def regime_oracle(losses: list[float], best_loss: float, slow_factor: float) -> str:
    """The handout's criteria, checked in the order it gives them."""
    if not all(math.isfinite(value) for value in losses) or losses[-1] > losses[0]:
        regime = "diverged"
    else:
        regime = "good" if losses[-1] <= slow_factor * best_loss else "slow"
    return regime


def regime_hint(losses: list[float], best_loss: float, slow_factor: float, got) -> str | None:
    expected = regime_oracle(losses, best_loss, slow_factor)
    if expected == "diverged" and not all(math.isfinite(v) for v in losses):
        return ("a loss is inf or nan: that run diverged. nan compares False with everything "
                "(nan > x is False): test every loss with math.isfinite")
    if expected == "diverged":
        return "the last loss is above the first: the run diverged"
    if losses[-1] == slow_factor * best_loss:
        return "a last loss equal to slow_factor * best_loss is good (slow means strictly above)"
    if losses[-1] == losses[0]:
        return "a last loss equal to the first is not growing: diverged means strictly above"
    if expected == "slow":
        return "slow: the last loss is above slow_factor * best_loss"
    return f"good: the last loss is at most slow_factor * best_loss ({slow_factor * best_loss})"


@pytest.mark.points(3)
@given(case=strategies.run_histories())
@example(case={"losses": [4.0, 2.0, "nan"], "best_loss": 0.5, "slow_factor": 2.0})
@example(case={"losses": [4.0, 1.0], "best_loss": 0.5, "slow_factor": 2.0})
@example(case={"losses": [4.0, 3.0], "best_loss": 0.5, "slow_factor": 2.0})
@example(case={"losses": [1.0, 6.0], "best_loss": 0.25, "slow_factor": 4.0})
@settings(max_examples=15)
def test_classify_run(check, case):
    """classify_run tells diverged (non-finite, growing), slow (> slow_factor x best) and good"""
    got = check.student(probes.classify_run, case)
    losses = probes.losses_from_case(case["losses"])
    expected = regime_oracle(losses, case["best_loss"], case["slow_factor"])
    if got != expected:
        fail(f"classify_run({losses}, best_loss={case['best_loss']}, slow_factor="
             f"{case['slow_factor']}): wrong regime", case=case, expected=expected, got=got,
             hint=regime_hint(losses, case["best_loss"], case["slow_factor"], got))


# --- lr_sweep -------------------------------------------------------------------------------

RUN_KEYS = ("optimizer", "lr", "losses", "final_loss", "regime")
SWEEP_CASES = (
    # SGD: slow, good, diverged; Adam's best (0.106) is 3.9x SGD's (0.027): slow.
    {"samples": 24, "features": 3, "outputs": 1, "seed": 2, "rates": [0.01, 0.3, 2.0],
     "steps": 20, "optimizers": ["sgd", "adam"], "slow_factor": 2.0},
    {"samples": 16, "features": 2, "outputs": 2, "seed": 5, "rates": [0.1, 0.003, 1.5],
     "steps": 15, "optimizers": ["adam", "sgd"], "slow_factor": 2.0},
    # One sample (the kit's batch-of-one rule).
    {"samples": 1, "features": 2, "outputs": 1, "seed": 3, "rates": [0.05, 0.5],
     "steps": 6, "optimizers": ["sgd"], "slow_factor": 2.0},
)


@per_case
def sweep_oracle(case: dict) -> list[dict]:
    oracle = [{"optimizer": name, "lr": lr,
               "losses": descent(case, [(slice(None), lr)] * case["steps"], optimizer=name,
                                 from_zeros=True)[0]}
              for name in case["optimizers"] for lr in case["rates"]]
    best = min((o["losses"][-1] for o in oracle if math.isfinite(o["losses"][-1])),
               default=math.inf)
    return [{**o, "regime": regime_oracle(o["losses"], best, case["slow_factor"])}
            for o in oracle]


def expect_runs(value, what: str, *, case, count: int) -> list[dict]:
    if type(value) is not list or len(value) != count:
        fail(f"{what} should return a list of {count} runs (one per optimizer and rate)",
             case=case, got=value, expected=f"a list of {count} dicts")
    return [expect_dict(run, f"{what}[{index}]", RUN_KEYS, case=case)
            for index, run in enumerate(value)]


SWEEP_USES = pytest.mark.uses(train_steps=[test_train_steps], classify_run=[test_classify_run])


@pytest.mark.points(2)
@SWEEP_USES
def test_lr_sweep(check):
    """lr_sweep runs every rate from zero weights, in order: losses, final loss and regime"""
    for case in SWEEP_CASES:
        runs = expect_runs(check.student(probes.lr_sweep, case), "lr_sweep", case=case,
                           count=len(case["optimizers"]) * len(case["rates"]))
        expected = sweep_oracle(case)
        initial = expected[0]["losses"][0]
        for index, (run, oracle) in enumerate(zip(runs, expected, strict=True)):
            where = f"lr_sweep(...)[{index}]"
            order = (run["optimizer"], run["lr"])
            if order != (oracle["optimizer"], oracle["lr"]):
                fail(f"{where} is the wrong run", case=case,
                     expected=(oracle["optimizer"], oracle["lr"]), got=order,
                     hint="optimizer by optimizer in the given order, and within each the "
                     "rates in the given order")
            losses = expect_losses(run["losses"], f"{where}['losses']", case=case,
                                   count=case["steps"])
            if not same_losses(losses, oracle["losses"], check.device):
                hint = None
                # Earlier runs matched: a later one that does not start at zero weights
                # started where another run left off.
                if index > 0 and not agrees(losses[0], initial, device=check.device,
                                            dtype=torch.float64):
                    hint = (f"this run starts at loss {losses[0]:.6g}, not at the loss of zero "
                            f"weights ({initial:.6g}): every run must start from scratch, "
                            "with a new zero-initialised nn.Linear and a new optimizer")
                fail(f"{where}['losses'] ({order[0]}, lr {order[1]}) differ from update "
                     f"{first_difference(losses, oracle['losses'], check.device)} on",
                     case=case, expected=oracle["losses"], got=losses, hint=hint)
            final = run["final_loss"]
            if type(final) is not float or not same_losses([final], [losses[-1]], check.device):
                fail(f"{where}['final_loss'] should be the run's last loss, a Python float",
                     case=case, expected=losses[-1], got=final)
            if run["regime"] != oracle["regime"]:
                fail(f"{where}['regime'] ({order[0]}, lr {order[1]}) is wrong", case=case,
                     expected=oracle["regime"], got=run["regime"],
                     hint="best_loss is the lowest finite final loss of the whole sweep, "
                     "every optimizer included; classify each run with classify_run")


# The reference's final losses on the embedded training set (100 steps): SGD 6.39, 4.64,
# 0.328, 0.0108, inf; Adam 6.54, 5.78, 1.55, 0.0110, 0.0110. The nearest to a boundary
# (2 x 0.0108 = 0.0217) is Adam's 0.0110 at lr 1: a factor 2 away.
EXPECTED_REGIMES = {"sgd": ["slow", "slow", "slow", "good", "diverged"],
                    "adam": ["slow", "slow", "slow", "good", "good"]}
GENE_CASE = {"split": "train", "rates": "default (1e-4, 1e-3, 1e-2, 0.1, 1.0)", "steps": 100}


@pytest.mark.points(1)
@pytest.mark.full_grade_only  # ten runs of 100 steps: too slow for QUICK=1
@SWEEP_USES
def test_lr_sweep_gene_expression(check):
    """lr_sweep on the gene-expression set finds SGD slow, good and diverged; Adam survives lr 1"""
    case = GENE_CASE
    runs = check.student(probes.embedded_sweep, case)
    if type(runs) is not list or len(runs) != 10 or not all(isinstance(r, dict) for r in runs):
        fail("lr_sweep(x, y) with its defaults should return 10 runs (2 optimizers x 5 rates)",
             case=case, got=runs)
    got = {name: [run.get("regime") for run in runs if run.get("optimizer") == name]
           for name in EXPECTED_REGIMES}
    if got != EXPECTED_REGIMES:
        finals = {name: [run.get("final_loss") for run in runs if run.get("optimizer") == name]
                  for name in EXPECTED_REGIMES}
        fail(f"lr_sweep on the gene-expression training set: regimes per rate differ "
             f"(final losses: {show(finals, 300)})", case=case, expected=EXPECTED_REGIMES,
             got=got, hint="the reference's SGD ends at 6.39, 4.64, 0.328, 0.0108 and inf; "
             "check the defaults (rates, 100 steps, slow_factor 2) and that each run starts "
             "from zero weights")


# --- plot_sweep -----------------------------------------------------------------------------

PLOT_RUNS = [
    {"optimizer": "sgd", "lr": 0.01, "losses": [4.0, 3.5, 3.1, 2.8], "final_loss": 2.8,
     "regime": "slow"},
    {"optimizer": "sgd", "lr": 0.5, "losses": [4.0, 0.9, 0.2, 0.05], "final_loss": 0.05,
     "regime": "good"},
    {"optimizer": "sgd", "lr": 5.0, "losses": [4.0, 400.0, 4.0e6, "inf"], "final_loss": "inf",
     "regime": "diverged"},
    {"optimizer": "adam", "lr": 0.01, "losses": [4.0, 3.9, 3.8, 3.7], "final_loss": 3.7,
     "regime": "slow"},
    {"optimizer": "adam", "lr": 0.5, "losses": [4.0, 1.5, 0.3, 0.06], "final_loss": 0.06,
     "regime": "good"},
]
PLOT_CASE = "two optimizers (sgd: 3 rates, one diverging to inf; adam: 2 rates), 4 steps"


def plotted(check, filename: str | None) -> dict:
    """What plot_sweep drew for PLOT_RUNS, once it is known to return a Figure."""
    return expect_figure(check.student(probes.plot_sweep, {"runs": PLOT_RUNS,
                                                           "filename": filename}),
                         "plot_sweep", case=PLOT_CASE)


def same_points(got: list[list[float]], wanted: list[list[float]], device: str) -> bool:
    """The same points in the same order: steps equal, losses agreeing in float64."""
    return len(got) == len(wanted) and all(
        x == step for (x, _), (step, _) in zip(got, wanted, strict=True)) and same_losses(
        [y for _, y in got], [loss for _, loss in wanted], device)


@pytest.mark.points(1)
def test_plot_sweep_panels(check):
    """plot_sweep draws a titled log-scale panel per optimizer, with a line per rate"""
    got = plotted(check, None)
    for name in dict.fromkeys(run["optimizer"] for run in PLOT_RUNS):
        panels = [axes for axes in got["axes"] if name in axes["title"]]
        if len(panels) != 1:
            fail(f"{len(panels)} axes have {name!r} in their title", case=PLOT_CASE,
                 expected="one axes per optimizer, titled with its name",
                 got=[axes["title"] for axes in got["axes"]],
                 hint="one subplot per optimizer: axes.set_title(name)")
        axes = panels[0]
        for run in (drawn for drawn in PLOT_RUNS if drawn["optimizer"] == name):
            # The picture, not the list that made it: the points a line draws (inf and nan
            # are not drawn, whether passed, left out or replaced by nan).
            wanted = [[float(step), loss] for step, loss
                      in enumerate(probes.losses_from_case(run["losses"])) if math.isfinite(loss)]
            lines = [drawn_points(line) for line in axes["lines"]]
            if not any(same_points(line, wanted, check.device) for line in lines):
                fail(f"the {name!r} panel has no line that draws the losses of lr "
                     f"{run['lr']} ({run['losses']}) at steps 0, 1, ...", case=PLOT_CASE,
                     expected=wanted, got=lines,
                     hint="plot each run's losses against the step (x: 0, 1, ...; inf and nan "
                     "are not drawn) on its optimizer's panel")
        if axes["yscale"] != "log":
            fail(f"the {name!r} panel's y axis is {axes['yscale']!r}", case=PLOT_CASE,
                 expected="log", got=axes["yscale"],
                 hint="put the y axis on a log scale (axes.set_yscale('log')): the losses "
                 "span many orders of magnitude")


@pytest.mark.points(1)
def test_plot_sweep_labels_legend_file(check):
    """plot_sweep labels the axes, draws a legend and writes a PNG at `path`"""
    expect_labels_legend_and_png(
        plotted(check, "sweep.png"), "plot_sweep(runs, path)", "sweep.png", case=PLOT_CASE,
        labels=("step", "loss"),
        label_hint="label both axes: axes.set_xlabel('step'), axes.set_ylabel('loss')",
        legend_hint="give each line a label=f'lr {lr}' and call axes.legend()",
        file_hint="figure.savefig(path) when path is not None")


# --- the schedules --------------------------------------------------------------------------


@per_case
def torch_rates(case: dict) -> list[float]:
    """The rate PyTorch's scheduler sets at each epoch, stepped once per epoch."""
    s = case["settings"]
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=s["base_lr"])
    if case["function"] == "step_decay":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
    elif case["function"] == "cosine_annealing":
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=s["T_max"],
                                                   eta_min=s["eta_min"])
    else:
        warmup = s["warmup_epochs"]
        ramp = lr_scheduler.LinearLR(optimizer, start_factor=s["start_factor"], end_factor=1.0,
                                     total_iters=warmup)
        cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=s["total_epochs"] - warmup,
                                                eta_min=s["eta_min"])
        scheduler = lr_scheduler.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])
    rates = []
    with warnings.catch_warnings():  # SequentialLR steps CosineAnnealingLR with an epoch
        warnings.simplefilter("ignore")
        for _ in range(case["epochs"]):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
    return rates


def cosine(epoch: float, base_lr: float, t_max: float, eta_min: float) -> float:
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


def schedule_mistakes(case: dict) -> dict[str, list[float]]:
    """{advice: the rates that mistake gives} for the case's schedule."""
    s, epochs = case["settings"], range(case["epochs"])
    if case["function"] == "step_decay":
        base, size, gamma = s["base_lr"], s["step_size"], s["gamma"]
        return {
            "the rate drops once every step_size epochs: base_lr * gamma ** (epoch // "
            "step_size), not gamma ** epoch": [base * gamma**e for e in epochs],
            "epochs 0 .. step_size - 1 run at base_lr: the first decay comes at epoch "
            "step_size": [base * gamma ** ((e + 1) // size) for e in epochs],
            "the rate drops in steps: use integer division, epoch // step_size":
                [base * gamma ** (e / size) for e in epochs],
        }
    if case["function"] == "cosine_annealing":
        base, t_max, floor = s["base_lr"], s["T_max"], s["eta_min"]
        return {
            "eta_min is the floor: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / "
            "T_max)) / 2": [cosine(e, base, t_max, 0.0) for e in epochs],
            "epoch 0 runs at base_lr: cos(pi * epoch / T_max), not epoch + 1":
                [cosine(e + 1, base, t_max, floor) for e in epochs],
        }
    base, warmup, start = s["base_lr"], s["warmup_epochs"], s["start_factor"]
    t_max, floor = s["total_epochs"] - warmup, s["eta_min"]

    def joined(ramp, tail) -> list[float]:
        return [ramp(e) if e < warmup else tail(e) for e in epochs]

    def right_ramp(e):
        return base * (start + (1 - start) * e / warmup)

    def right_tail(e):
        return cosine(e - warmup, base, t_max, floor)

    return {
        "the warm-up starts at start_factor * base_lr at epoch 0 and grows linearly to "
        "base_lr at epoch warmup_epochs": joined(lambda e: base, right_tail),
        "the warm-up factor grows by (1 - start_factor) / warmup_epochs per epoch: base_lr "
        "is reached at epoch warmup_epochs, the cosine's first epoch":
            joined(lambda e: base * (start + (1 - start) * e / max(warmup - 1, 1)), right_tail),
        "the cosine starts at epoch warmup_epochs: pass epoch - warmup_epochs to it":
            joined(right_ramp, lambda e: cosine(e, base, t_max, floor)),
        "the cosine lasts total_epochs - warmup_epochs epochs: T_max = total_epochs - "
        "warmup_epochs": joined(right_ramp, lambda e: cosine(e - warmup, base, warmup + t_max,
                                                              floor)),
    }


def judge_schedule(check, case: dict, formula: str) -> None:
    what = f"{case['function']}(epoch, **settings)"
    got = expect_float_list(check.student(probes.schedule, case), f"{what} for epochs 0..",
                            case=case)
    expected = torch.tensor(torch_rates(case), dtype=torch.float64)
    # PyTorch's CosineAnnealingLR and LinearLR compute each rate from the previous one:
    # over 3000 random settings (up to 80 epochs) they drift from the closed forms by at
    # most 3e-14 x base_lr. 1e-10 x base_lr is far above that drift and far below the
    # smallest change a mistake makes (a one-epoch shift of the cosine: > 1e-4 x base_lr).
    assert_close(torch.tensor(got, dtype=torch.float64), expected, what, case=case,
                 device=check.device, rtol=0.0, atol=1e-10 * case["settings"]["base_lr"],
                 hint=lambda a, e: known_mistake(a, {k: torch.tensor(v, dtype=torch.float64)
                                                     for k, v in schedule_mistakes(case).items()},
                                                 default=formula))


@pytest.mark.points(2)
@given(case=strategies.schedule_settings("step_decay"))
@example(case={"function": "step_decay", "epochs": 10,
               "settings": {"base_lr": 0.1, "step_size": 3, "gamma": 0.5}})
@settings(max_examples=10)
def test_step_decay(check, case):
    """step_decay equals torch's StepLR epoch for epoch"""
    judge_schedule(check, case, "base_lr * gamma ** (epoch // step_size)")


@pytest.mark.points(2)
@given(case=strategies.schedule_settings("cosine_annealing"))
@example(case={"function": "cosine_annealing", "epochs": 13,
               "settings": {"base_lr": 0.1, "T_max": 10, "eta_min": 0.01}})
@settings(max_examples=10)
def test_cosine_annealing(check, case):
    """cosine_annealing equals torch's CosineAnnealingLR epoch for epoch (past T_max too)"""
    judge_schedule(check, case, "eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2")


@pytest.mark.points(2)
@pytest.mark.uses(cosine_annealing=[test_cosine_annealing])
@given(case=strategies.schedule_settings("warmup_cosine"))
@example(case={"function": "warmup_cosine", "epochs": 12,
               "settings": {"base_lr": 0.1, "warmup_epochs": 3, "start_factor": 0.1,
                            "total_epochs": 10, "eta_min": 0.01}})
@settings(max_examples=10)
def test_warmup_cosine(check, case):
    """warmup_cosine equals torch's LinearLR then CosineAnnealingLR (SequentialLR)"""
    judge_schedule(check, case, "epoch < W: base_lr * (start_factor + (1 - start_factor) * "
                   "epoch / W); then cosine_annealing(epoch - W, base_lr, total_epochs - W, "
                   "eta_min)")


# --- train_with_schedule --------------------------------------------------------------------

SCHEDULE_CASES = (
    {"samples": 8, "features": 2, "outputs": 1, "seed": 3, "initial_lr": 0.5,
     "rates": [0.01, 0.1, 0.05, 0.02], "batch_size": None},
    {"samples": 1, "features": 2, "outputs": 1, "seed": 5, "initial_lr": 0.5,
     "rates": [0.1, 0.05], "batch_size": None},  # one sample
    {"samples": 9, "features": 3, "outputs": 2, "seed": 4, "initial_lr": 0.5,
     "rates": [0.02, 0.1, 0.04], "batch_size": 4},  # a last mini-batch of one
)


def batches_of(case: dict) -> list[slice]:
    size = case["samples"] if case["batch_size"] is None else case["batch_size"]
    return [slice(start, start + size) for start in range(0, case["samples"], size)]


def step_plan(case: dict) -> list[tuple[slice, float]]:
    return [(rows, rate) for rate in case["rates"] for rows in batches_of(case)]


def rates_hint(case: dict, got: list[list[float]]) -> str:
    """The known mistake the rates each step used show."""
    per_step = [rate for rate in case["rates"] for _ in batches_of(case)]
    first = [rates[0] for rates in got]
    initial = case["initial_lr"]
    late = [initial] * len(batches_of(case)) + per_step[: -len(batches_of(case))]
    if all(rates[0] == initial for rates in got):
        return ("every step used the optimizer's own rate: set group['lr'] = schedule(epoch) "
                "for every group in optimizer.param_groups (an attribute such as optimizer.lr "
                "is not read by torch's optimizers)")
    if first == per_step and any(rates[1] != rates[0] for rates in got):
        return "set the rate of every group in optimizer.param_groups, not only the first"
    if first == late:
        return ("the rates are one epoch late: set the epoch's rate at its start, before its "
                "first update")
    indexed = [case["rates"][min(step, len(case["rates"]) - 1)] for step in range(len(got))]
    if first == indexed:
        return "the schedule is indexed by the epoch, not by the update count"
    return "at the start of each epoch, set the rate of every group to schedule(epoch)"


@pytest.mark.points(2)
@pytest.mark.uses(train_steps=[test_train_steps])
def test_train_with_schedule_sets_rates(check):
    """train_with_schedule gives every update its epoch's rate, in every parameter group"""
    for case in SCHEDULE_CASES:
        got = check.student(probes.train_with_schedule, case)
        expect_returned(got, "train_with_schedule", case=case,
                        hint="the schedule was asked for epochs " + show(got["asked"]) + "; "
                        "call schedule(epoch) once per epoch, epoch = 0 .. epochs - 1")
        expected = [[rate, rate] for rate in case["rates"] for _ in batches_of(case)]
        if got["step_rates"] != expected:
            fail("train_with_schedule: the rates the optimizer used at each update (weight "
                 "group, bias group) differ", case=case, expected=expected,
                 got=got["step_rates"], hint=rates_hint(case, got["step_rates"]))


@pytest.mark.points(2)
@pytest.mark.uses(train_steps=[test_train_steps])
def test_train_with_schedule_returns(check):
    """train_with_schedule returns the epochs' rates and one loss per update"""
    for case in SCHEDULE_CASES:
        outcome = check.student(probes.train_with_schedule, case)
        got = expect_dict(expect_returned(outcome, "train_with_schedule", case=case),
                          "train_with_schedule", ["lrs", "losses"], case=case)
        lrs = expect_float_list(got["lrs"], "train_with_schedule(...)['lrs']", case=case)
        if lrs != case["rates"]:
            fail("train_with_schedule(...)['lrs'] should be schedule(epoch) for each epoch",
                 case=case, expected=case["rates"], got=lrs,
                 hint="one rate per epoch, not per update" if len(lrs) != len(case["rates"])
                 else None)
        expected = descent(case, step_plan(case))[0]
        losses = expect_losses(got["losses"], "train_with_schedule(...)['losses']", case=case,
                               count=len(expected))
        if not same_losses(losses, expected, check.device):
            used = [[rate, rate] for rate in case["rates"] for _ in batches_of(case)]
            hint = ("one loss per update, of its mini-batch (rows in order), before the "
                    "update; each update at its epoch's rate")
            if outcome["step_rates"] != used:
                hint = ("the losses follow the rates the optimizer used, which are not the "
                        "schedule's: see the check of the rates each update used")
            fail(f"train_with_schedule(...)['losses'] differ from update "
                 f"{first_difference(losses, expected, check.device)} on", case=case,
                 expected=expected, got=losses, hint=hint)
