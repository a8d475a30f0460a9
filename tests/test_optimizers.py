"""Grading suite of the `optimizers` exercise.

The update rules are judged against `torch.optim` (the oracle), step for step, in float64
so that an algebraically equal formula passes and a different rule cannot hide in the
rounding; a symptom is matched to a known mistake by replaying that mistake. The
experiment runs with the grader's own small model and loaders, and is judged against the
reference (train_with_optimizer), against itself (compare_optimizers: the same initial
weights, a fresh model per run, each run redone alone) and against EXERCISES.md
(plot_loss_curves, summarize).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

# The oracle's first torch.optim optimizer would import torch._dynamo (2 s) in a check;
# imported with the suite, it overlaps the fork server's start instead.
import torch._dynamo  # noqa: F401
from hypothesis import example, given, settings

from grader.judging.figures import expect_figure, expect_labels_legend_and_png
from grader.judging.judge import (
    agrees,
    assert_close,
    expect_dict,
    expect_history,
    expect_modes,
    expect_raises,
    expect_tensor,
    fail,
    per_case,
    scalar_close,
)
from tests import strategies
from tests.probes import optimizers as probes

EXERCISE_POINTS = 20

TORCH_OPTIMIZERS = {
    "sgd": lambda groups, **kw: torch.optim.SGD(groups, dampening=0, nesterov=False,
                                                foreach=False, **kw),
    "adam": lambda groups, **kw: torch.optim.Adam(groups, foreach=False, **kw),
    "adamw": lambda groups, **kw: torch.optim.AdamW(groups, foreach=False, **kw),
}
# The constructors' defaults are the notes' settings.
DEFAULTS = probes.NOTES_SETTINGS
TORCH_NAMES = {"sgd": "torch.optim.SGD(momentum, dampening=0)", "adam": "torch.optim.Adam",
               "adamw": "torch.optim.AdamW"}

# --- the update rules ------------------------------------------------------------------

MISTAKES = {
    "sgd": {
        "dampening": "the momentum buffer is averaged, b = momentum * b + (1 - momentum) * g: "
        "torch's SGD has no dampening, b = momentum * b + g",
        "decay_after_momentum": "the weight decay is added after the momentum buffer: add "
        "weight_decay * p to the gradient before it enters the buffer",
        "no_decay": "weight_decay is ignored: add weight_decay * p to the gradient",
        "steps_without_grad": "a parameter whose .grad is None moved: skip it "
        "(if p.grad is None: continue) so that its state does not advance",
    },
    "adam": {
        "no_bias_correction": "the steps match Adam without bias correction: divide m by "
        "(1 - beta1**t) and v by (1 - beta2**t)",
        "eps_inside_sqrt": "the steps match sqrt(v_hat + eps): eps goes outside the square "
        "root, sqrt(v_hat) + eps",
        "global_step": "the bias correction counts step() calls, but a parameter skipped "
        "earlier has taken fewer steps: keep the step count t per parameter in self.state[p]",
        "no_decay": "weight_decay is ignored: Adam adds weight_decay * p to the gradient "
        "(an L2 penalty) before updating m and v",
        "decoupled_decay": "this is AdamW's decoupled decay: Adam adds weight_decay * p to "
        "the gradient instead",
        "steps_without_grad": "a parameter whose .grad is None moved: skip it "
        "(if p.grad is None: continue) so that its state does not advance",
    },
    "adamw": {
        "no_bias_correction": "the steps match AdamW without bias correction: divide m by "
        "(1 - beta1**t) and v by (1 - beta2**t)",
        "eps_inside_sqrt": "the steps match sqrt(v_hat + eps): eps goes outside the square "
        "root, sqrt(v_hat) + eps",
        "global_step": "the bias correction counts step() calls, but a parameter skipped "
        "earlier has taken fewer steps: keep the step count t per parameter in self.state[p]",
        "coupled_decay": "the weight decay is coupled (added to the gradient, Adam's L2 "
        "penalty): AdamW's decay is decoupled, p = p * (1 - lr * weight_decay), and the "
        "gradient is left alone",
        "decay_without_lr": "the weights shrink by (1 - weight_decay) per step: the decoupled "
        "decay is p * (1 - lr * weight_decay)",
        "decay_after_update": "the decay is applied to the updated weights: shrink p by "
        "(1 - lr * weight_decay) before the Adam update, as torch.optim.AdamW does",
        "no_decay": "weight_decay is ignored: shrink p by (1 - lr * weight_decay) each step",
        "steps_without_grad": "a parameter whose .grad is None moved: skip it "
        "(if p.grad is None: continue) so that its state does not advance",
    },
}
RULE_HINT = {
    "sgd": "check the rule of the docstring: g = grad + weight_decay * p; b = g at the first "
    "step, then momentum * b + g; p -= lr * b, with each group's own hyperparameters",
    "adam": "check the rule of the docstring: g = grad + weight_decay * p; m and v; "
    "m_hat, v_hat with this parameter's t; p -= lr * m_hat / (sqrt(v_hat) + eps), with each "
    "group's own hyperparameters",
    "adamw": "check the rule of the docstring: p *= 1 - lr * weight_decay first; then Adam's "
    "update with the plain gradient, with each group's own hyperparameters",
}


@per_case
def torch_trajectory(case: dict) -> torch.Tensor:
    """The oracle: torch.optim on the CPU, with the constructor defaults made explicit."""
    name = case["optimizer"]
    explicit = {**case, "defaults": {**DEFAULTS[name], **case["defaults"]}}
    optimizer, flat = probes.build_optimizer(TORCH_OPTIMIZERS[name], explicit, "cpu")
    return probes.run_steps(optimizer, flat, probes.gradients(case), "cpu")


@per_case
def mistake_trajectories(case: dict) -> dict[str, torch.Tensor]:
    """{mistake: the trajectory (steps, P) that known mistake produces on the case}."""
    return {mistake: replay(case, mistake) for mistake in MISTAKES[case["optimizer"]]}


def replay(case: dict, mistake: str) -> torch.Tensor:
    """The trajectory a known mistake produces, in float64 (the rules written out)."""
    name = case["optimizer"]
    params, settings = [], []
    for values, group in zip(probes.initial_parameters(case), case["groups"], strict=True):
        merged = {**DEFAULTS[name], **case["defaults"],
                  **{k: v for k, v in group.items() if k != "shapes"}}
        params += [value.double() for value in values]
        settings += [merged] * len(values)
    states = [{"t": 0} for _ in params]
    calls = 0
    rows = []
    for grads in probes.gradients(case):
        calls += 1
        for index, grad in enumerate(grads):
            if grad is None:
                if mistake != "steps_without_grad":
                    continue
                grad = torch.zeros_like(params[index])
            rule = _sgd_step if name == "sgd" else _adam_step
            params[index] = rule(params[index], grad.double(), states[index], settings[index],
                                 mistake, name == "adamw", calls)
        rows.append(torch.cat([p.reshape(-1) for p in params]))
    return torch.stack(rows)


def _sgd_step(p, g, state, s, mistake, _decoupled, _calls):
    lr, momentum, decay = s["lr"], s["momentum"], s["weight_decay"]
    if mistake not in ("no_decay", "decay_after_momentum"):
        g = g + decay * p
    if "buffer" not in state:
        state["buffer"] = g.clone()
    else:
        scale = 1 - momentum if mistake == "dampening" else 1.0
        state["buffer"] = momentum * state["buffer"] + scale * g
    update = state["buffer"] + (decay * p if mistake == "decay_after_momentum" else 0.0)
    return p - lr * update


def _adam_step(p, g, state, s, mistake, decoupled, calls):
    lr, (beta1, beta2), eps, decay = s["lr"], s["betas"], s["eps"], s["weight_decay"]
    state["t"] += 1
    t = calls if mistake == "global_step" else state["t"]
    if mistake != "no_decay":
        coupled = mistake == "coupled_decay" if decoupled else mistake != "decoupled_decay"
        if coupled:
            g = g + decay * p
        elif mistake == "decay_without_lr":
            p = p * (1 - decay)
        elif mistake != "decay_after_update":
            p = p * (1 - lr * decay)
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    corrections = (1.0, 1.0) if mistake == "no_bias_correction" else (1 - beta1**t, 1 - beta2**t)
    v_hat = state["v"] / corrections[1]
    denominator = (v_hat + eps).sqrt() if mistake == "eps_inside_sqrt" else v_hat.sqrt() + eps
    p = p - lr * (state["m"] / corrections[0]) / denominator
    if decoupled and mistake == "decay_after_update":
        p = p * (1 - lr * decay)
    return p


def mistake_hint(case: dict, got: torch.Tensor) -> str:
    """The known mistake whose replay is far closer to the submission's steps than the
    correct rule is (a replay that barely differs from the rule proves nothing), else the rule.
    """
    name = case["optimizer"]
    got = got.double()
    off_rule = (got - torch_trajectory(case).double()).abs().max().item()
    distances = {mistake: (got - trajectory).abs().max().item()
                 for mistake, trajectory in mistake_trajectories(case).items()}
    closest = min(distances, key=distances.get)
    if distances[closest] <= 0.05 * off_rule:
        return MISTAKES[name][closest]
    return RULE_HINT[name]


def describe(case: dict) -> str:
    """An update-rule case in full, in words (the generic printer would cut it short)."""
    groups = []
    for group in case["groups"]:
        settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "shapes")
        groups.append(f"shapes {group['shapes']}" + (f" with {settings}" if settings else ""))
    keywords = ", ".join(f"{k}={v}" for k, v in case["defaults"].items()) or "none"
    text = (f"{probes.CLASS_NAMES[case['optimizer']]}, {case.get('dtype', 'float64')} "
            f"parameters in groups [{'; '.join(groups)}], constructor keywords: {keywords}; "
            f"{case['steps']} steps of seeded random gradients x {case['grad_scale']} "
            f"(seed {case['seed']})")
    if case.get("skip"):
        text += f"; .grad None at (step, parameter) {[tuple(p) for p in case['skip']]} (from 0)"
    return text


def student_trajectory(check, case: dict, probe=probes.optimizer_trajectory) -> dict:
    got = check.student(probe, case)
    name = probes.CLASS_NAMES[case["optimizer"]]
    if not isinstance(got, dict):
        fail(f"{name}: the probe got no trajectory", case=case, got=got)
    return got


def assert_same_steps(got: torch.Tensor, expected: torch.Tensor, what: str, reference: str, *,
                      case: str | dict, device: str, first_step: int = 1,
                      hint: str | None = None) -> None:
    """Compare trajectories (steps, P) step by step: the message names the first step that
    differs and the index of the first differing value in the flattened parameters."""
    for step, (row, wanted) in enumerate(zip(got, expected, strict=True), start=first_step):
        assert_close(row, wanted, f"{what}: the flattened parameters after step {step} differ "
                     f"from {reference}'s", case=case, device=device, hint=hint)


def judge_trajectory(check, case: dict, trajectory, what: str) -> None:
    """Compare the parameters after every step with torch.optim's; explain a mismatch."""
    name = probes.CLASS_NAMES[case["optimizer"]]
    expected = torch_trajectory(case)
    dtype = probes.DTYPES[case.get("dtype", "float64")]
    got = expect_tensor(trajectory, f"{name}: the parameters after each step", case=case,
                        dtype=dtype, shape=tuple(expected.shape), device=check.device)
    if not agrees(got, expected, device=check.device, dtype=dtype):
        assert_same_steps(got, expected, f"{name} {what}", TORCH_NAMES[case["optimizer"]],
                          case=describe(case), device=check.device,
                          hint=mistake_hint(case, got))


UPDATE_RULE_EXAMPLES = {
    "sgd": [
        {"optimizer": "sgd", "defaults": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
         "groups": [{"shapes": [[3], [2, 2]]}], "steps": 6, "grad_scale": 1.0, "seed": 1},
        {"optimizer": "sgd", "defaults": {}, "groups": [{"shapes": [[4]]}], "steps": 4,
         "grad_scale": 1.0, "seed": 2, "dtype": "float32"},
    ],
    "adam": [
        {"optimizer": "adam", "defaults": {"lr": 0.1, "betas": [0.9, 0.99], "eps": 1e-3,
                                           "weight_decay": 0.1},
         "groups": [{"shapes": [[3], [2, 2]]}], "steps": 6, "grad_scale": 0.01, "seed": 1},
        {"optimizer": "adam", "defaults": {}, "groups": [{"shapes": [[4]]}], "steps": 4,
         "grad_scale": 1.0, "seed": 2, "dtype": "float32"},
    ],
    "adamw": [
        {"optimizer": "adamw", "defaults": {"lr": 0.1, "betas": [0.9, 0.99], "eps": 1e-3,
                                            "weight_decay": 0.1},
         "groups": [{"shapes": [[3], [2, 2]]}], "steps": 6, "grad_scale": 0.01, "seed": 1},
        {"optimizer": "adamw", "defaults": {}, "groups": [{"shapes": [[4]]}], "steps": 4,
         "grad_scale": 1.0, "seed": 2, "dtype": "float32"},
    ],
}


def check_update_rule(check, case: dict) -> None:
    got = student_trajectory(check, case)
    judge_trajectory(check, case, got.get("trajectory"), "on one parameter group")


@pytest.mark.points(2)
@given(case=strategies.optimizer_cases("sgd"))
@example(case=UPDATE_RULE_EXAMPLES["sgd"][0])
@example(case=UPDATE_RULE_EXAMPLES["sgd"][1])
@settings(max_examples=12)
def test_sgd_momentum_matches_torch(check, case):
    """SGDMomentum takes torch.optim.SGD's steps (momentum, weight decay, defaults)"""
    check_update_rule(check, case)


@pytest.mark.points(2)
@given(case=strategies.optimizer_cases("adam"))
@example(case=UPDATE_RULE_EXAMPLES["adam"][0])
@example(case=UPDATE_RULE_EXAMPLES["adam"][1])
@settings(max_examples=12)
def test_adam_matches_torch(check, case):
    """Adam takes torch.optim.Adam's steps (bias correction, eps, L2 weight decay)"""
    check_update_rule(check, case)


@pytest.mark.points(2)
@given(case=strategies.optimizer_cases("adamw"))
@example(case=UPDATE_RULE_EXAMPLES["adamw"][0])
@example(case=UPDATE_RULE_EXAMPLES["adamw"][1])
@settings(max_examples=12)
def test_adamw_matches_torch(check, case):
    """AdamW takes torch.optim.AdamW's steps (decoupled weight decay)"""
    check_update_rule(check, case)


def skip_example(optimizer: str) -> dict:
    settings_ = {"lr": 0.1, "momentum": 0.9} if optimizer == "sgd" else {
        "lr": 0.1, "betas": [0.9, 0.99], "eps": 1e-8}
    return {"optimizer": optimizer, "defaults": {**settings_, "weight_decay": 0.01},
            "groups": [{"shapes": [[3], [2]]}], "steps": 5, "grad_scale": 1.0, "seed": 3,
            "skip": [[0, 0], [1, 0], [3, 1]]}


@pytest.mark.points(1)
@given(case=strategies.optimizer_cases(skip=True))
@example(case=skip_example("sgd"))
@example(case=skip_example("adam"))
@example(case=skip_example("adamw"))
@settings(max_examples=12)
def test_parameters_without_grad_are_skipped(check, case):
    """SGDMomentum, Adam and AdamW skip parameters whose .grad is None (no step, same state)"""
    got = student_trajectory(check, case)
    trajectory = got.get("trajectory")
    expect_tensor(trajectory, "the parameters after each step", case=case,
                  device=check.device)
    values = trajectory.value
    offsets = [0]
    for group in case["groups"]:
        for shape in group["shapes"]:
            offsets.append(offsets[-1] + math.prod(shape))
    initial = torch.cat([v.reshape(-1) for g in probes.initial_parameters(case) for v in g])
    for step, index in case.get("skip", []):
        before = initial if step == 0 else values[step - 1]
        span = slice(offsets[index], offsets[index + 1])
        if values.shape[0] > step and not torch.equal(values[step, span], before[span]):
            fail(f"{probes.CLASS_NAMES[case['optimizer']]}: parameter {index} changed at step "
                 f"{step + 1} although its .grad was None", case=describe(case),
                 hint=MISTAKES[case["optimizer"]]["steps_without_grad"])
    judge_trajectory(check, case, trajectory, "with some gradients None")


def groups_example(optimizer: str) -> dict:
    if optimizer == "sgd":
        first, second = {"lr": 0.3, "momentum": 0.5}, {"weight_decay": 0.1}
        defaults = {"lr": 0.01, "momentum": 0.9}
    else:
        first, second = {"lr": 0.3, "betas": [0.5, 0.9]}, {"weight_decay": 0.1, "eps": 1e-3}
        defaults = {"lr": 0.01}
    return {"optimizer": optimizer, "defaults": defaults,
            "groups": [{"shapes": [[3]], **first}, {"shapes": [[2], [2, 2]], **second}],
            "steps": 5, "grad_scale": 1.0, "seed": 4}


@pytest.mark.points(1)
@given(case=strategies.optimizer_cases(groups=3))
@example(case=groups_example("sgd"))
@example(case=groups_example("adam"))
@example(case=groups_example("adamw"))
@settings(max_examples=12)
def test_parameter_groups(check, case):
    """SGDMomentum, Adam and AdamW use each parameter group's own hyperparameters"""
    got = student_trajectory(check, case)
    judge_trajectory(check, case, got.get("trajectory"), "with several parameter groups")


def resume_case(optimizer: str) -> dict:
    case = skip_example(optimizer)
    # The last parameter never gets a gradient.
    return {**case, "groups": [{"shapes": [[3], [2], [2]]}], "steps": 6, "resume_at": 3,
            "skip": [[0, 0], [1, 0], [3, 1], *([step, 2] for step in range(6))]}


@pytest.mark.points(1)
def test_state_per_parameter(check):
    """SGDMomentum, Adam and AdamW keep their state per parameter in self.state

    A state_dict saved after some steps restarts a fresh optimizer exactly."""
    for optimizer in ("sgd", "adam", "adamw"):
        case = resume_case(optimizer)
        name = probes.CLASS_NAMES[optimizer]
        shown = f"{describe(case)}; restarted after step {case['resume_at']}"
        got = check.student(probes.optimizer_resume, case)
        empty = [index for index in (0, 1) if got["state_sizes"][index] == 0]
        if empty:
            fail(f"{name}: self.state has nothing for parameter {empty[0]}, which took steps",
                 case=shown, hint="keep each parameter's state (step count, moments, momentum "
                 "buffer) in self.state[p]: state_dict() and load_state_dict() save and "
                 "restore only what is there")
        continued = expect_tensor(got["continued"], f"{name}: steps after the restart",
                                  case=shown, device=check.device)
        resumed = expect_tensor(got["resumed"], f"{name}: steps after load_state_dict",
                                case=shown, shape=tuple(continued.shape), device=check.device)
        assert_same_steps(resumed, continued, f"{name} restarted from state_dict() after "
                          f"{case['resume_at']} steps", "the original optimizer", case=shown,
                          device=check.device, first_step=case["resume_at"] + 1,
                          hint="everything the update needs (each parameter's step count t, "
                          "m, v, momentum buffer) must live in self.state[p], not in "
                          "attributes of the optimizer")


@pytest.mark.points(1)
def test_make_optimizer(check):
    """make_optimizer builds this module's optimizers with the notes' settings; else ValueError"""
    settings_text = {"sgd": "SGDMomentum(params, lr=0.01, momentum=0.9)",
                     "adam": "Adam(params, lr=1e-3)",
                     "adamw": "AdamW(params, lr=1e-3, weight_decay=0.01)"}
    for name in ("sgd", "adam", "adamw"):
        case = {"name": name, "seed": 5, "steps": 4}
        got = check.student(probes.make_optimizer, case)
        if not got["is_own_class"]:
            fail(f"make_optimizer({name!r}) should return this module's "
                 f"{probes.CLASS_NAMES[name]}, got a {got['type']}", case=case,
                 hint="use the classes you wrote in this module, not torch.optim's")
        explicit = got["explicit"].value
        made = expect_tensor(got["made"], f"make_optimizer({name!r})", case=case,
                             shape=tuple(explicit.shape), device=check.device)
        assert_same_steps(made, explicit, f"make_optimizer({name!r})", settings_text[name],
                          case=case, device=check.device,
                          hint=f"use exactly {settings_text[name]}: check lr, momentum and "
                          "weight_decay")
    for name in ("rmsprop", "", "adagrad"):
        outcome = check.student(probes.make_optimizer_unknown, {"name": name})
        expect_raises(outcome, f"make_optimizer({name!r})", "an unknown optimizer name",
                      case={"name": name}, hint="raise ValueError for any name other than "
                      "'sgd', 'adam' and 'adamw', naming the accepted ones")


# --- the experiment --------------------------------------------------------------------

HISTORY_KEYS = ("train_loss", "val_loss")
# 17 training proteins in batches of 8: the last holds one (the kit's batch-of-one rule).
TRAIN_CASE = {"seed": 5, "train_size": 17, "val_size": 13, "batch_size": 8, "epochs": 3,
              "lr": 0.5, "dropout": 0.2}


def means_of_batch_means(losses: list[dict], grad_enabled: bool, batches: int,
                         epochs: int) -> list[float] | None:
    """Per epoch, the plain mean of the criterion's batch means (SpyLoss records of the
    training calls, or of the validation ones), or None when the calls do not add up."""
    chosen = [call["loss"] for call in losses if call["grad_enabled"] == grad_enabled]
    if len(chosen) != batches * epochs:
        return None
    return [sum(chosen[epoch * batches:(epoch + 1) * batches]) / batches
            for epoch in range(epochs)]


def losses_hint(got: dict, key: str, values: list[float], case: dict, device: str) -> str | None:
    training = key == "train_loss"
    batches = got["train_batches"] if training else got["val_batches"]
    means = means_of_batch_means(got["losses"], training, batches, case["epochs"])
    if means is not None and agrees(torch.tensor(values), torch.tensor(means), device=device):
        return ("this is the mean of the batch means: the epoch loss is a mean per sample, "
                "so weight each batch's mean loss by its batch size (the last batch is shorter)")
    return None


# lr 0 and no dropout: the weights never move and the losses depend on how they are
# averaged only, whatever the training loop does. Training batches of 8, 8 and 5;
# validation batches of 8 and 1 (the kit's batch-of-one rule, for validation_loss).
LOSS_CASE = {**TRAIN_CASE, "lr": 0.0, "dropout": 0.0, "train_size": 21, "val_size": 9}


@pytest.mark.points(1)
def test_train_with_optimizer_steps(check):
    """train_with_optimizer zeroes, backpropagates and steps once per training batch (weights)"""
    case = TRAIN_CASE
    got, expected = check.both(probes.train_with_optimizer, case)
    steps, wanted = got["events"].count("step"), case["epochs"] * got["train_batches"]
    if steps != wanted:
        fail(f"optimizer.step() ran {steps} times in {case['epochs']} epochs of "
             f"{got['train_batches']} training batches", case=case, expected=wanted,
             got=steps, hint="step once per training batch, never on validation batches")
    weights = expect_tensor(got["parameters"], "the trained model's parameters", case=case,
                            device=check.device)
    if not agrees(weights, expected["parameters"].value, device=check.device):
        hint = ("the gradients were never zeroed, so they pile up over the batches: call "
                "optimizer.zero_grad() before each backward()"
                if "zero_grad" not in got["events"] else
                "one zero_grad, forward, backward and step per training batch, in that order")
        fail("train_with_optimizer: the trained weights differ from the reference's", case=case,
             hint=hint)


@pytest.mark.points(1)
def test_train_with_optimizer_losses(check):
    """train_with_optimizer records per-sample mean train and validation losses per epoch"""
    case = LOSS_CASE
    got, expected = check.both(probes.train_with_optimizer, case)
    history = expect_history(got["history"], "train_with_optimizer", HISTORY_KEYS,
                             epochs=case["epochs"], case=case)
    for key in ("train_loss", "val_loss"):
        reference = expected["history"][key]
        for epoch, (value, wanted) in enumerate(zip(history[key], reference, strict=True)):
            if not scalar_close(value, wanted, device=check.device):
                fail(f"train_with_optimizer: {key} of epoch {epoch + 1} differs from the "
                     "reference's (same model, optimizer and batches)", case=case,
                     expected=wanted, got=value,
                     hint=losses_hint(got, key, history[key], case, check.device))


@pytest.mark.points(1)
def test_train_with_optimizer_modes(check):
    """train_with_optimizer trains in training mode and validates in eval mode, no gradients"""
    case = TRAIN_CASE
    got = check.student(probes.train_with_optimizer, case)
    for position, call in enumerate(got["calls"], start=1):
        if call["device"] != check.device:
            fail(f"the model received a batch on {call['device']}, but the device is "
                 f"{check.device}", case=case,
                 hint="move every batch to `device` before the forward pass")
        if call["batch"] != "?":
            expect_modes([call], "train_with_optimizer", case=case,
                         training=call["batch"].startswith("training"),
                         where=f" on {call['batch']} (forward call {position})")
    val_calls = sum(call["batch"].startswith("validation") for call in got["calls"])
    wanted = case["epochs"] * got["val_batches"]
    if val_calls != wanted:
        fail(f"the model saw {val_calls} validation batches in {case['epochs']} epochs",
             case=case, expected=wanted, got=val_calls,
             hint="validate once per epoch, on every batch of val_loader")


COMPARE_CASES = (
    {"seed": 2, "train_size": 20, "val_size": 10, "batch_size": 8, "epochs": 3,
     "names": ["sgd", "adam", "adamw"]},
    {"seed": 7, "train_size": 11, "val_size": 6, "batch_size": 5, "epochs": 2,
     "names": ["adamw", "sgd"]},  # a last training batch of one
)


def compare_result(check, case: dict) -> tuple[dict, dict[str, dict[str, list[float]]]]:
    """What the probe observed, and the returned histories once validated."""
    got = check.student(probes.compare_optimizers, case, timeout=60)
    histories = expect_dict(got["histories"], "compare_optimizers", case["names"], case=case)
    if list(histories) != case["names"]:
        fail("compare_optimizers should return one history per name, in the order of `names`",
             case=case, expected=case["names"], got=list(histories))
    return got, {name: expect_history(histories[name], f"compare_optimizers(...)[{name!r}]",
                                      HISTORY_KEYS, epochs=case["epochs"], case=case)
                 for name in case["names"]}


# compare_optimizers' checks run the submission's own helpers.
COMPARE_USES = pytest.mark.uses(
    make_optimizer=[test_make_optimizer],
    train_with_optimizer=[test_train_with_optimizer_steps, test_train_with_optimizer_losses,
                          test_train_with_optimizer_modes])


@pytest.mark.points(1)
@pytest.mark.call_timeout(60)
@COMPARE_USES
def test_compare_optimizers_runs(check):
    """compare_optimizers returns one history per name, each run with the optimizer its name says"""
    for case in COMPARE_CASES:
        got, histories = compare_result(check, case)
        # Runs that start from other weights are judged by the next check: redo only the ones
        # that started where the first did.
        runs = len(case["names"])
        comparable = case["names"] if len(got["initial_weights"]) >= runs else case["names"][:1]
        for name in comparable:
            redone = got["redone"][name]
            for key in ("train_loss", "val_loss"):
                for epoch, (value, wanted) in enumerate(zip(histories[name][key], redone[key],
                                                            strict=True)):
                    if not scalar_close(value, wanted, device=check.device):
                        fail(f"compare_optimizers: the run {name!r} is not train_with_optimizer "
                             f"with make_optimizer({name!r}) from the same initial weights "
                             f"({key}, epoch {epoch + 1})", case=case, expected=wanted,
                             got=value, hint="each run must train with the optimizer its name "
                             "says: make_optimizer(name, model.parameters()) and "
                             "nn.CrossEntropyLoss()")


@pytest.mark.points(1)
@pytest.mark.call_timeout(60)
@COMPARE_USES
def test_compare_optimizers_fresh_models(check):
    """compare_optimizers trains a fresh model of its own in every run, on the device"""
    for case in COMPARE_CASES:
        got = check.student(probes.compare_optimizers, case, timeout=60)
        runs = len(case["names"])
        if len(got["initial_weights"]) < runs:
            fail(f"compare_optimizers trained {len(got['initial_weights'])} model object(s) "
                 f"for {runs} runs", case=case,
                 hint="each run must train its own fresh model: build a new one per run "
                 "(model_factory() after reseeding) or copy.deepcopy an initial one; "
                 "otherwise a run continues from the weights the previous run trained")
        wrong = [device for device in got["devices"] if device != check.device]
        if wrong:
            fail(f"compare_optimizers trained on {wrong[0]}, but the device is {check.device}",
                 case=case, hint="move each model to `device` (model_factory() builds it on the "
                 "CPU)")


@pytest.mark.points(1)
@pytest.mark.call_timeout(60)
@COMPARE_USES
def test_compare_optimizers_same_start(check):
    """compare_optimizers starts every run from the same initial weights"""
    for case in COMPARE_CASES:
        starts = check.student(probes.compare_optimizers, case, timeout=60)["initial_weights"]
        for index, start in enumerate(starts[1:], start=2):
            first = expect_tensor(starts[0], "initial weights", case=case)
            if not torch.equal(expect_tensor(start, "initial weights", case=case), first):
                fail(f"model {index} started from other weights than model 1", case=case,
                     hint="every run must start from the same initial weights: call "
                     "torch.manual_seed(seed) right before each model_factory(), or build one "
                     "model and give each run a copy.deepcopy of it")


PLOT_HISTORIES = {
    "sgd": {"train_loss": [0.69, 0.61, 0.55, 0.52], "val_loss": [0.68, 0.63, 0.6, 0.59]},
    "adam": {"train_loss": [0.66, 0.5, 0.42, 0.37], "val_loss": [0.64, 0.57, 0.55, 0.56]},
    "adamw": {"train_loss": [0.65, 0.51, 0.43, 0.38], "val_loss": [0.63, 0.56, 0.54, 0.53]},
}


def find_line(lines: list[dict], values: list[float]) -> dict | None:
    """The line that draws `values`: to float32's precision, since a history plotted as a
    float32 array or tensor draws the same picture."""
    for line in lines:
        if len(line["y"]) == len(values) and all(
                math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
                for a, b in zip(line["y"], values, strict=True)):
            return line
    return None


def plotted(check, filename: str | None) -> dict:
    """What plot_loss_curves drew for PLOT_HISTORIES, once it is known to return a Figure."""
    return expect_figure(
        check.student(probes.plot_loss_curves, {"histories": PLOT_HISTORIES,
                                                "filename": filename}),
        "plot_loss_curves",
        case=f"three optimizers, 4 epochs, path={filename and '<folder>/' + filename}")


@pytest.mark.points(1)
def test_plot_lines(check):
    """plot_loss_curves draws solid training, dashed validation lines, a colour per optimizer"""
    got = plotted(check, None)
    lines = [line for axes in got["axes"] for line in axes["lines"]]
    colours = {}
    for name, history in PLOT_HISTORIES.items():
        train = find_line(lines, history["train_loss"])
        val = find_line(lines, history["val_loss"])
        for kind, line, values in (("training", train, history["train_loss"]),
                                   ("validation", val, history["val_loss"])):
            if line is None:
                fail(f"no line shows the {kind} loss of {name!r} ({values})",
                     case="three optimizers, 4 epochs",
                     hint="plot each history's values as they are, one point per epoch")
        if train["linestyle"] != "-":
            fail(f"the training line of {name!r} is drawn {train['linestyle']!r}",
                 case="three optimizers, 4 epochs", hint="draw training losses solid ('-')")
        if val["linestyle"] != "--":
            fail(f"the validation line of {name!r} is drawn {val['linestyle']!r}",
                 case="three optimizers, 4 epochs",
                 hint="draw validation losses dashed (linestyle='--')")
        if train["color"] != val["color"]:
            fail(f"the training and validation lines of {name!r} have different colours",
                 case="three optimizers, 4 epochs", hint="give both lines of an optimizer the "
                 "same colour (color=...), a different colour for each optimizer")
        for other, colour in colours.items():
            if colour == train["color"]:
                fail(f"{other!r} and {name!r} share a colour", case="three optimizers, 4 epochs",
                     hint="use one colour per optimizer (e.g. color=f'C{i}')")
        colours[name] = train["color"]


@pytest.mark.points(1)
def test_plot_labels_legend_file(check):
    """plot_loss_curves labels the axes, draws a legend and writes a PNG at `path`"""
    expect_labels_legend_and_png(
        plotted(check, "curves.png"), "plot_loss_curves(histories, path)", "curves.png",
        case="three optimizers, 4 epochs", labels=("epoch", "loss"),
        label_hint="label both axes: ax.set_xlabel('epoch'), ax.set_ylabel('loss')",
        legend_hint="give each line a label=... and call ax.legend()",
        file_hint="figure.savefig(path) (the file name ends in .png) when path is not None")


def oracle_summary(histories: dict, threshold: float, strict: bool = False,
                   best_val: bool = False) -> dict:
    """EXERCISES.md's definition; `strict` and `best_val` replay known mistakes."""
    fastest = None
    for name, history in histories.items():
        for epoch, loss in enumerate(history["train_loss"]):
            if loss < threshold or (loss == threshold and not strict):
                if fastest is None or (epoch, loss) < fastest[0]:
                    fastest = ((epoch, loss), name)
                break
    pick = min if best_val else (lambda values: values[-1])
    finals = {name: pick(history["val_loss"]) for name, history in histories.items()}
    return {"fastest": fastest and fastest[1], "lowest_val_loss": min(finals, key=finals.get)}


def summary_hint(case: dict, key: str, got_value) -> str | None:
    histories, threshold = case["histories"], case["threshold"]
    if key == "lowest_val_loss":
        if got_value == oracle_summary(histories, threshold, best_val=True)[key]:
            return ("this is the lowest validation loss of any epoch: compare the final "
                    "(last-epoch) validation losses")
        return None
    if got_value == oracle_summary(histories, threshold, strict=True)[key]:
        return "a training loss equal to the threshold counts as reaching it (<=)"
    firsts = [next((e for e, loss in enumerate(h["train_loss"]) if loss <= threshold), None)
              for h in histories.values()]
    reached = [e for e in firsts if e is not None]
    if reached and reached.count(min(reached)) > 1:
        return ("several optimizers reach the threshold at the same epoch: that tie goes to "
                "the lower training loss at that epoch")
    if not reached:
        return "no training loss falls to the threshold: 'fastest' is None"
    return "'fastest' is the name whose training loss first falls to <= threshold"


@pytest.mark.points(2)
@given(case=strategies.loss_histories())
@example(case={"histories": {  # a tie in the epoch: the lower loss wins
    "sgd": {"train_loss": [0.8, 0.5], "val_loss": [0.7, 0.6]},
    "adam": {"train_loss": [0.7, 0.4], "val_loss": [0.6, 0.5]}}, "threshold": 0.5})
@example(case={"histories": {  # equal to the threshold counts
    "sgd": {"train_loss": [0.6, 0.5, 0.3], "val_loss": [0.6, 0.5, 0.4]},
    "adamw": {"train_loss": [0.7, 0.6, 0.4], "val_loss": [0.7, 0.5, 0.3]}}, "threshold": 0.5})
@example(case={"histories": {  # best validation epoch is not the final one
    "sgd": {"train_loss": [0.8, 0.7, 0.6], "val_loss": [0.5, 0.3, 0.6]},
    "adam": {"train_loss": [0.8, 0.7, 0.6], "val_loss": [0.6, 0.5, 0.4]}}, "threshold": 0.3})
@settings(max_examples=30)
def test_summarize(check, case):
    """summarize names the fastest optimizer (ties: lower loss) and the lowest final val loss"""
    got = check.student(probes.summarize, case)
    expected = oracle_summary(case["histories"], case["threshold"])
    shown = json.dumps(case)  # in the dicts' own order: the generic printer sorts keys
    expect_dict(got, "summarize", expected, case=shown)
    for key, wanted in expected.items():
        if got[key] != wanted:
            fail(f"summarize: wrong {key!r}", case=shown, expected=wanted, got=got[key],
                 hint=summary_hint(case, key, got[key]))
