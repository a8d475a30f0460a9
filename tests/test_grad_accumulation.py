"""Grading suite of the `grad_accumulation` exercise.

The oracle is plain large-batch training: the same model and data, each effective batch
concatenated into one batch, one backward, plain SGD (never Adam, which would hide a
scaling error). Probes record the gradient each `optimizer.step()` used, so a mistake is
seen where it happens, not only in the parameters at the end.
"""

from __future__ import annotations

import math

import pytest
import torch

# The oracle's first torch.optim optimizer would import torch._dynamo (2 s) in a check;
# imported with the suite, it overlaps the fork server's start instead.
import torch._dynamo  # noqa: F401
from hypothesis import example, given, settings

from grader.judging.judge import (
    agrees,
    assert_close,
    expect_float,
    expect_modes,
    expect_tensor,
    fail,
    known_mistake,
    per_case,
    scalar_close,
)
from tests import strategies
from tests.probes import flat_gradient, flat_parameters
from tests.probes import grad_accumulation as probes

EXERCISE_POINTS = 20

SCALE_ADVICE = "scale each micro-batch loss by its share of the samples, n_i / N"


def constant_ratio(actual: torch.Tensor, expected: torch.Tensor, device: str) -> float | None:
    """r when actual = r * expected (r != 1), else None."""
    mask = expected.abs() > 1e-6
    if not bool(mask.any()):
        return None
    ratio = (actual.double()[mask] / expected.double()[mask]).median().item()
    if math.isclose(ratio, 1.0, rel_tol=1e-4) or not agrees(actual, ratio * expected,
                                                             device=device):
        return None
    return ratio


# ----------------------------------------------------------------------------- oracles
# The oracles compute in float64, whatever the case's dtype.


@per_case
def oracle_micro_batches(case: dict) -> dict:
    """The one-batch gradient and loss, and each micro-batch's own mean-loss gradient."""
    case = {**case, "dtype": "float64"}
    loss_function = probes.loss_function(case)
    micro_batches = probes.make_micro_batches(case)
    model = probes.make_model(case)
    inputs = torch.cat([x for x, _ in micro_batches])  # (N, F)
    targets = torch.cat([y for _, y in micro_batches])
    loss = loss_function(model(inputs), targets)
    loss.backward()
    gradients, losses = [], []
    for x, y in micro_batches:
        micro_model = probes.make_model(case)
        micro_loss = loss_function(micro_model(x), y)
        micro_loss.backward()
        gradients.append(flat_gradient(micro_model.parameters()))
        losses.append(micro_loss.item())
    stale = torch.cat([g.flatten() for g in probes.stale_gradients(case, model)])
    return {"gradient": flat_gradient(model.parameters()), "loss": loss.item(), "stale": stale,
            "micro_gradients": gradients, "micro_losses": losses}


@per_case
def oracle_epoch(case: dict) -> dict:
    """Large-batch training: each group of micro-batches concatenated into one batch."""
    case = {**case, "dtype": "float64"}
    loss_function = probes.loss_function(case)
    model = probes.make_model(case)
    optimizer = torch.optim.SGD(model.parameters(), lr=case["lr"])
    micro_batches = probes.make_micro_batches(case)
    steps = case["accumulation_steps"]
    step_gradients, unclipped_gradients, losses, sizes = [], [], [], []
    for start in range(0, len(micro_batches), steps):
        group = micro_batches[start:start + steps]
        inputs = torch.cat([x for x, _ in group])  # (n_group, F)
        targets = torch.cat([y for _, y in group])
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        loss.backward()
        unclipped_gradients.append(flat_gradient(model.parameters()).clone())
        if "max_grad_norm" in case:
            torch.nn.utils.clip_grad_norm_(model.parameters(), case["max_grad_norm"])
        step_gradients.append(flat_gradient(model.parameters()).clone())
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(targets))
    stale = torch.cat([g.flatten() for g in probes.stale_gradients(case, model)])
    return {
        "step_gradients": torch.stack(step_gradients),  # (S, P)
        "unclipped_gradients": torch.stack(unclipped_gradients),  # (S, P)
        "first_step_clipped_per_micro_batch": first_step_clipped_per_micro_batch(case),
        "parameters": flat_parameters(model.parameters()),
        "losses": losses,
        "sizes": sizes,
        "mean_loss": sum(loss * n for loss, n in zip(losses, sizes, strict=True)) / sum(sizes),
        "stale": stale,
    }


def clipped(gradient: torch.Tensor, max_norm: float) -> torch.Tensor:
    """What clip_grad_norm_ makes of `gradient` (P,)."""
    return gradient * (max_norm / (gradient.norm() + 1e-6)).clamp(max=1.0)


def first_step_clipped_per_micro_batch(case: dict) -> torch.Tensor | None:
    """The first step's gradient when the running sum is clipped after every micro-batch."""
    if "max_grad_norm" not in case:
        return None
    loss_function = probes.loss_function(case)
    model = probes.make_model(case)
    group = probes.make_micro_batches(case)[:case["accumulation_steps"]]
    total = sum(len(y) for _, y in group)
    for inputs, targets in group:
        (loss_function(model(inputs), targets) * (len(targets) / total)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), case["max_grad_norm"])
    return flat_gradient(model.parameters())


# --------------------------------------------------------------- accumulate_gradients


def accumulated_gradient_hint(case: dict, added: torch.Tensor, device: str) -> str | None:
    """Name the mistake whose gradient `added` (the growth of .grad) is."""
    oracle = oracle_micro_batches(case)
    sizes, micro = case["sizes"], oracle["micro_gradients"]
    mistakes = {}
    if case.get("stale"):
        mistakes["the .grad that was already there was lost, replaced instead of added to: "
                 "accumulate_gradients must not zero the gradients (the caller zeroes once per "
                 "effective batch)"] = oracle["gradient"] - oracle["stale"]
    if len(set(sizes)) > 1:  # with equal sizes these are multiples of the one-batch gradient
        mistakes["every micro-batch got the same weight: scale each loss by n_i / N (its share "
                 "of the samples), not by 1 / number of micro-batches, which is wrong when the "
                 "sizes differ"] = sum(micro) / len(micro)
        mistakes[f"each micro-batch's mean loss was backpropagated unscaled: {SCALE_ADVICE}"
                 ] = sum(micro)
    hint = known_mistake(added, mistakes, device=device)
    if hint is not None:
        return hint
    if len(micro) > 1 and any(agrees(added, micro[-1] * scale, device=device)
                              for scale in (sizes[-1] / sum(sizes), 1 / len(micro), 1.0)):
        return ("only the last micro-batch's gradient is left: never zero the gradients "
                "between micro-batches, let backward() add them up")
    ratio = constant_ratio(added, oracle["gradient"], device)
    if ratio is not None:
        return f"the gradient is {ratio:.4g}x the one-batch gradient: {SCALE_ADVICE}"
    return None


def check_accumulated(check, case: dict) -> None:
    """Run accumulate_gradients on `case`; compare .grad with the one-batch gradient."""
    got = check.student(probes.accumulate, case)
    gradient = expect_tensor(got["gradient"], "the parameters' .grad after accumulate_gradients",
                             case=case, device=check.device).double()
    oracle = oracle_micro_batches(case)
    added = gradient - oracle["stale"] if case.get("stale") else gradient
    what = ("the growth of .grad (after minus before)" if case.get("stale")
            else "the parameters' .grad")
    assert_close(added, oracle["gradient"],
                 f"accumulate_gradients: {what} vs the gradient of the mean loss over all "
                 f"{sum(case['sizes'])} samples as one batch", case=case, device=check.device,
                 hint=lambda actual, _: accumulated_gradient_hint(case, actual, check.device))


FOUR_EQUAL = {"seed": 1, "task": "classification", "in_features": 4, "hidden": 6, "outputs": 3,
              "sizes": [8, 8, 8, 8]}
RAGGED = {"seed": 2, "task": "classification", "in_features": 3, "hidden": 5, "outputs": 4,
          "sizes": [9, 2, 6]}


@pytest.mark.points(3)
@given(case=strategies.accumulation_cases())
@example(case=FOUR_EQUAL)
@example(case={**FOUR_EQUAL, "task": "regression", "outputs": 2, "sizes": [5, 5]})
@settings(max_examples=20)
def test_accumulate_equal_micro_batches(check, case):
    """accumulate_gradients gives the one-big-batch gradient (equal micro-batches)"""
    check_accumulated(check, case)


@pytest.mark.points(2)
@given(case=strategies.accumulation_cases(ragged=True))
@example(case=RAGGED)
@settings(max_examples=20)
def test_accumulate_unequal_micro_batches(check, case):
    """accumulate_gradients gives the one-big-batch gradient for unequal micro-batch sizes"""
    check_accumulated(check, case)


@pytest.mark.points(2)
def test_accumulate_adds_to_existing_grad(check):
    """accumulate_gradients adds to .grad that already holds values, never replaces it"""
    for case in ({**FOUR_EQUAL, "stale": True},
                 {**FOUR_EQUAL, "seed": 5, "task": "regression", "outputs": 1, "sizes": [3] * 3,
                  "stale": True}):
        check_accumulated(check, case)


@pytest.mark.points(2)
def test_accumulate_returns_mean_loss(check):
    """accumulate_gradients returns the mean loss over all samples of all micro-batches"""
    for case in (FOUR_EQUAL, {**FOUR_EQUAL, "task": "regression", "outputs": 2},
                 RAGGED, {**RAGGED, "seed": 7, "sizes": [1, 7, 4, 4]}):
        got = check.student(probes.accumulate, case)
        returned = expect_float(got["returned"], "accumulate_gradients' return value", case=case)
        oracle = oracle_micro_batches(case)
        # The probe's model and data are float64, and so is the loss it returns.
        if scalar_close(returned, oracle["loss"], device=check.device, dtype=torch.float64):
            continue
        losses = oracle["micro_losses"]
        fail("accumulate_gradients returned the wrong loss (the mean over all samples, as one "
             "batch)", case=case, expected=oracle["loss"], got=returned,
             hint=known_mistake(returned, {
                 "it is the loss of the last micro-batch: return the mean loss over all samples "
                 "of all micro-batches": losses[-1],
                 "it is the sum of the micro-batch means: weight each by n_i / N": sum(losses),
                 "it is the plain average of the micro-batch means: weight each by its number "
                 "of samples, n_i / N": sum(losses) / len(losses)}, device=check.device))


# ------------------------------------------------------------ train_epoch_accumulated


def epoch_case(sizes: list[int], steps: int, **extra) -> dict:
    return {"seed": 3, "task": "classification", "in_features": 5, "hidden": 8, "outputs": 3,
            "sizes": sizes, "accumulation_steps": steps, "lr": 0.5, **extra}


def run_epoch(check, case: dict, *, counts: bool = True) -> dict:
    """The submission's epoch on `case`; the step and zero_grad counts checked."""
    got = check.student(probes.train_epoch, case)
    if counts:
        check_counts(case, got["events"])
    return got


def check_counts(case: dict, events: list[str]) -> None:
    micro, steps = len(case["sizes"]), case["accumulation_steps"]
    groups = math.ceil(micro / steps)
    stepped = events.count("step")
    # Zeroing twice in a row (optimizer.zero_grad(), then model.zero_grad()) is one zeroing.
    zeroed = sum(1 for i, event in enumerate(events)
                 if event == "zero_grad" and (i == 0 or events[i - 1] != "zero_grad"))
    where = (f"{micro} micro-batches with accumulation_steps={steps} make {groups} effective "
             "batches")
    if stepped != groups:
        hint = None
        if stepped == micro:
            hint = ("it stepped after every micro-batch: call optimizer.step() once per "
                    "effective batch, after its last micro-batch")
        elif stepped == micro // steps:
            hint = ("the trailing shorter group was not stepped: when the loader runs out "
                    "before accumulation_steps micro-batches, step on what was accumulated")
        fail(f"train_epoch_accumulated: optimizer.step() ran {stepped} times, but {where}",
             case=case, expected=groups, got=stepped, hint=hint)
    if not groups <= zeroed <= groups + 1:
        hint = None
        if zeroed >= micro > groups:
            hint = ("the gradients were zeroed before every micro-batch, throwing away what was "
                    "accumulated: zero once per effective batch, before its first micro-batch")
        elif zeroed == 0:
            hint = "call optimizer.zero_grad() once per effective batch"
        fail(f"train_epoch_accumulated: zero_grad() ran {zeroed} times, but {where} (zero "
             "once per effective batch)", case=case, expected=groups, got=zeroed, hint=hint)


def step_gradient_hint(case: dict, step: int, got: torch.Tensor, device: str) -> str | None:
    """Name the mistake whose gradient `got` (P,) is, at optimizer step `step` (from 0)."""
    oracle = oracle_epoch(case)
    limit = case.get("max_grad_norm")
    unclipped = oracle["unclipped_gradients"][step]
    clipping = limit is not None and unclipped.norm().item() > limit
    norm = got.double().norm().item()
    if clipping and norm > limit * (1 + 1e-4):
        return (f"the gradient at optimizer.step() has norm {norm:.4g} > max_grad_norm={limit}: "
                "clip the accumulated gradient with clip_grad_norm_ after the last micro-batch's "
                "backward() and before optimizer.step()")
    if step == 0:
        leftover = unclipped + oracle["stale"]
        mistakes = {"the gradient of the first step includes gradients left over from before "
                    "the epoch: call optimizer.zero_grad() before accumulating each effective "
                    "batch, the first one included":
                    leftover if limit is None else clipped(leftover, limit)}
        if clipping:
            mistakes["the gradient was clipped after every micro-batch: clip the accumulated "
                     "gradient once per effective batch, not each micro-batch"
                     ] = oracle["first_step_clipped_per_micro_batch"]
        hint = known_mistake(got, mistakes, device=device)
        if hint is not None or clipping:
            return hint
    ratio = None if clipping else constant_ratio(got, oracle["step_gradients"][step], device)
    if ratio is None:
        return None
    if step == len(oracle["sizes"]) - 1 and len(case["sizes"]) % case["accumulation_steps"]:
        return (f"the trailing group's gradient is {ratio:.4g}x the gradient of the mean over "
                "its own samples: weight each micro-batch by its share of the group's samples "
                "(n_i / N of this group), not by 1 / accumulation_steps")
    return f"the gradient is {ratio:.4g}x the one-batch gradient: {SCALE_ADVICE}"


def check_against_large_batch(check, case: dict, got: dict) -> None:
    """Each step's gradient and the final parameters equal large-batch training's."""
    oracle = oracle_epoch(case)
    # clip_grad_norm_ divides by norm + 1e-6: a clip written by hand may differ that much.
    rtol, atol = (1e-5, 1e-8) if "max_grad_norm" in case else (None, None)
    gradients = expect_tensor(got["step_gradients"], "the gradients seen by optimizer.step()",
                              case=case, shape=tuple(oracle["step_gradients"].shape))
    for step, expected in enumerate(oracle["step_gradients"]):
        assert_close(gradients[step], expected,
                     f"train_epoch_accumulated: the gradient used by step {step + 1} vs the "
                     f"one-batch gradient of its {oracle['sizes'][step]} samples", case=case,
                     device=check.device, rtol=rtol, atol=atol,
                     hint=lambda actual, _, step=step: step_gradient_hint(case, step, actual,
                                                                          check.device))
    parameters = expect_tensor(got["parameters"], "the parameters after the epoch", case=case,
                               device=check.device)
    assert_close(parameters, oracle["parameters"],
                 "train_epoch_accumulated: the parameters after one epoch vs large-batch "
                 "training with plain SGD", case=case, device=check.device, rtol=rtol,
                 atol=atol)


# The epoch checks run the submission's own accumulate_gradients.
EPOCH_USES = pytest.mark.uses(accumulate_gradients=[
    test_accumulate_equal_micro_batches, test_accumulate_unequal_micro_batches,
    test_accumulate_adds_to_existing_grad, test_accumulate_returns_mean_loss])


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_counts_steps_and_zero_grads(check):
    """train_epoch_accumulated zeroes and steps once per effective batch"""
    for case in (epoch_case([3] * 8, 4), epoch_case([2] * 6, 1), epoch_case([2] * 6, 6)):
        run_epoch(check, case)


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_equals_large_batch_training(check):
    """train_epoch_accumulated equals large-batch SGD and the reference (equal micro-batches)"""
    for case in (epoch_case([4] * 8, 4),
                 epoch_case([5] * 6, 2, seed=4, task="regression", outputs=2, lr=0.2)):
        check_against_large_batch(check, case, run_epoch(check, case))
    case = epoch_case([4] * 8, 4, dtype="float32")
    got, expected = run_epoch(check, case), check.reference(probes.train_epoch, case)
    parameters = expect_tensor(got["parameters"], "the parameters after the epoch", case=case,
                               dtype=torch.float32, device=check.device)
    assert_close(parameters, expected["parameters"].value,
                 "train_epoch_accumulated: the parameters after one float32 epoch vs the "
                 "reference's", case=case, device=check.device)


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_trailing_group(check):
    """train_epoch_accumulated steps a trailing shorter group, weighted by its own samples"""
    for case in (epoch_case([3] * 10, 4), epoch_case([4] * 7 + [1], 3, seed=6)):
        check_against_large_batch(check, case, run_epoch(check, case))


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_clips_accumulated_gradient(check):
    """train_epoch_accumulated clips to max_grad_norm once per effective batch, before the step"""
    for case in (epoch_case([4] * 8, 4, max_grad_norm=0.05),
                 epoch_case([3] * 6, 2, seed=8, task="regression", outputs=2, max_grad_norm=0.02),
                 epoch_case([4] * 8, 4, max_grad_norm=1e6)):
        check_against_large_batch(check, case, run_epoch(check, case))


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_returns_mean_loss_per_sample(check):
    """train_epoch_accumulated returns the epoch's mean loss per sample"""
    # Effective batches of different sizes, without a trailing group (checked on its own).
    for case in (epoch_case([4] * 8, 4), epoch_case([5, 5, 2, 2], 2),
                 epoch_case([5, 5, 5, 1], 2, seed=9, task="regression", outputs=1)):
        got = run_epoch(check, case, counts=False)
        returned = expect_float(got["returned"], "train_epoch_accumulated's return value",
                                case=case)
        oracle = oracle_epoch(case)
        # The probe's model and data are float64, and so is the loss it returns.
        if scalar_close(returned, oracle["mean_loss"], device=check.device, dtype=torch.float64):
            continue
        losses = oracle["losses"]
        fail("train_epoch_accumulated returned the wrong mean loss per sample", case=case,
             expected=oracle["mean_loss"], got=returned, hint=known_mistake(returned, {
                 "it is the loss of the last effective batch: return the mean loss per sample "
                 "over the whole epoch": losses[-1],
                 "it averages the effective batches' mean losses: weight each by its number of "
                 "samples": sum(losses) / len(losses)}, device=check.device))


@pytest.mark.points(1)
@EPOCH_USES
def test_epoch_moves_batches_and_trains(check):
    """train_epoch_accumulated moves each batch to the device and runs in training mode"""
    case = epoch_case([2] * 4, 2)
    got = run_epoch(check, case, counts=False)
    if not got["calls"]:
        fail("train_epoch_accumulated never called the model", case=case)
    expect_modes(got["calls"], "train_epoch_accumulated", training=True, case=case,
                 where=" (it was handed the model in eval mode, as after a validation pass)")
    device_type = check.device.split(":")[0]
    for name, receiver, arrivals in (("inputs", "model", got["calls"]),
                                     ("targets", "criterion", got["target_arrivals"])):
        for number, arrival in enumerate(arrivals, start=1):
            if arrival["device"] != device_type:
                problem = f"on {arrival['device']}, not on device={check.device!r}"
            elif not arrival["moved"]:
                problem = ("without a .to(device) (on a machine with a GPU they would still "
                           "be on the CPU)")
            else:
                continue
            fail(f"train_epoch_accumulated: the {name} of micro-batch {number} reached the "
                 f"{receiver} {problem}", case=case,
                 hint=f"move each micro-batch with {name}.to(device) before the forward pass: "
                 "the loader yields CPU tensors")
