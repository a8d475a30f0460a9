"""Grading suite of the `grad_accumulation` exercise.

The oracle is plain large-batch training: the same model and data, each effective batch
concatenated into one batch, one backward, plain SGD (never Adam, which would hide a
scaling error). Probes record the gradient each `optimizer.step()` used, so a mistake is
seen where it happens, not only in the parameters at the end.
"""

from __future__ import annotations

import functools
import json
import math

import pytest
import torch

# The oracle's first torch.optim optimizer would import torch._dynamo (2 s) in a check;
# imported with the suite, it overlaps the fork server's start instead.
import torch._dynamo  # noqa: F401
from hypothesis import example, given, settings

from grader.judge import assert_close, expect_float, expect_tensor, fail
from tests import strategies
from tests.probes import grad_accumulation as probes

EXERCISE_POINTS = 20

SCALE_ADVICE = "scale each micro-batch loss by its share of the samples, n_i / N"


def key(case: dict) -> str:
    return json.dumps(case, sort_keys=True)


def matches(actual: torch.Tensor, candidate: torch.Tensor) -> bool:
    return actual.shape == candidate.shape and bool(
        torch.allclose(actual.double(), candidate.double(), rtol=1e-5, atol=1e-8))


def constant_ratio(actual: torch.Tensor, expected: torch.Tensor) -> float | None:
    """r when actual = r * expected (r != 1), else None."""
    mask = expected.abs() > 1e-6
    if not bool(mask.any()):
        return None
    ratios = actual.double()[mask] / expected.double()[mask]
    ratio = ratios.median().item()
    if math.isclose(ratio, 1.0, rel_tol=1e-4) or not matches(actual, ratio * expected):
        return None
    return ratio


# ----------------------------------------------------------------------------- oracles


@functools.cache
def oracle_micro_batches(case_key: str) -> dict:
    """The one-batch gradient and loss, and each micro-batch's own mean-loss gradient."""
    case = {**json.loads(case_key), "dtype": "float64"}
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
        gradients.append(probes.flat_gradient(micro_model))
        losses.append(micro_loss.item())
    stale = torch.cat([g.flatten() for g in probes.stale_gradients(case, model)])
    return {"gradient": probes.flat_gradient(model), "loss": loss.item(), "stale": stale,
            "micro_gradients": gradients, "micro_losses": losses, "sizes": case["sizes"]}


@functools.cache
def oracle_epoch(case_key: str) -> dict:
    """Large-batch training: each group of micro-batches concatenated into one batch."""
    case = {**json.loads(case_key), "dtype": "float64"}
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
        unclipped_gradients.append(probes.flat_gradient(model).clone())
        if "max_grad_norm" in case:
            torch.nn.utils.clip_grad_norm_(model.parameters(), case["max_grad_norm"])
        step_gradients.append(probes.flat_gradient(model).clone())
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(targets))
    stale = torch.cat([g.flatten() for g in probes.stale_gradients(case, model)])
    return {
        "step_gradients": torch.stack(step_gradients),  # (S, P)
        "unclipped_gradients": torch.stack(unclipped_gradients),  # (S, P)
        "first_step_clipped_per_micro_batch": first_step_clipped_per_micro_batch(case),
        "parameters": probes.flat_parameters(model),
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
    return probes.flat_gradient(model)


# --------------------------------------------------------------- accumulate_gradients


def accumulated_gradient_hint(case: dict, got: torch.Tensor) -> str | None:
    """Name the mistake whose gradient `got` (stale part removed) is."""
    oracle = oracle_micro_batches(key(case))
    sizes, total = oracle["sizes"], sum(oracle["sizes"])
    micro = oracle["micro_gradients"]
    if len(set(sizes)) > 1 and matches(got, sum(micro) / len(micro)):
        return ("every micro-batch got the same weight: scale each loss by n_i / N (its share "
                "of the samples), not by 1 / number of micro-batches, which is wrong when the "
                "sizes differ")
    if len(micro) > 1 and any(matches(got, micro[-1] * scale)
                              for scale in (sizes[-1] / total, 1 / len(micro), 1.0)):
        return ("only the last micro-batch's gradient is left: never zero the gradients "
                "between micro-batches, let backward() add them up")
    ratio = constant_ratio(got, oracle["gradient"])
    if ratio is not None:
        return f"the gradient is {ratio:.4g}x the one-batch gradient: {SCALE_ADVICE}"
    if matches(got, sum(micro)):
        return f"each micro-batch's mean loss was backpropagated unscaled: {SCALE_ADVICE}"
    return None


def check_accumulated(check, case: dict) -> dict:
    """Run accumulate_gradients on `case`; compare .grad with the one-batch gradient."""
    got = check.student(probes.accumulate, case)
    gradient = expect_tensor(got["gradient"], "the parameters' .grad after accumulate_gradients",
                             case=case, device=check.device)
    oracle = oracle_micro_batches(key(case))
    added = gradient.double() - oracle["stale"] if case.get("stale") else gradient.double()
    if case.get("stale") and matches(gradient, oracle["gradient"]):
        fail("accumulate_gradients: the .grad that was already there was lost", case=case,
             hint="the existing .grad was replaced instead of added to: accumulate_gradients "
             "must not zero the gradients (the caller zeroes once per effective batch)")
    what = ("the growth of .grad (after minus before)" if case.get("stale")
            else "the parameters' .grad")
    assert_close(added, oracle["gradient"],
                 f"accumulate_gradients: {what} vs the gradient of the mean loss over all "
                 f"{sum(case['sizes'])} samples as one batch", case=case, device=check.device,
                 hint=accumulated_gradient_hint(case, added))
    return got


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


def check_accumulated_loss(check, case: dict) -> None:
    got = check.student(probes.accumulate, case)
    returned = expect_float(got["returned"], "accumulate_gradients' return value", case=case)
    oracle = oracle_micro_batches(key(case))
    expected, losses = oracle["loss"], oracle["micro_losses"]
    if math.isclose(returned, expected, rel_tol=1e-6, abs_tol=1e-9):
        return
    hint = None
    if math.isclose(returned, losses[-1], rel_tol=1e-6):
        hint = ("it is the loss of the last micro-batch: return the mean loss over all "
                "samples of all micro-batches")
    elif math.isclose(returned, sum(losses), rel_tol=1e-6):
        hint = "it is the sum of the micro-batch means: weight each by n_i / N"
    elif math.isclose(returned, sum(losses) / len(losses), rel_tol=1e-6):
        hint = ("it is the plain average of the micro-batch means: weight each by its number "
                "of samples, n_i / N")
    fail("accumulate_gradients returned the wrong loss (the mean over all samples, as one "
         "batch)", case=case, expected=expected, got=returned, hint=hint)


@pytest.mark.points(2)
def test_accumulate_returns_mean_loss(check):
    """accumulate_gradients returns the mean loss over all samples of all micro-batches"""
    for case in (FOUR_EQUAL, {**FOUR_EQUAL, "task": "regression", "outputs": 2},
                 RAGGED, {**RAGGED, "seed": 7, "sizes": [1, 7, 4, 4]}):
        check_accumulated_loss(check, case)


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


def step_gradient_hint(case: dict, step: int, got: torch.Tensor) -> str | None:
    oracle = oracle_epoch(key(case))
    expected = oracle["step_gradients"][step]
    if step == 0 and matches(got, expected + oracle["stale"]):
        return ("the gradient of the first step includes gradients left over from before the "
                "epoch: call optimizer.zero_grad() before accumulating each effective batch, "
                "the first one included")
    limit = case.get("max_grad_norm")
    if limit is not None and oracle["unclipped_gradients"][step].norm() > limit:
        norm = got.double().norm().item()
        if norm > limit * (1 + 1e-4):
            return (f"the gradient at optimizer.step() has norm {norm:.4g} > max_grad_norm="
                    f"{limit}: clip the accumulated gradient with clip_grad_norm_ after the "
                    "last micro-batch's backward() and before optimizer.step()")
        if step == 0 and matches(got, clipped(oracle["unclipped_gradients"][0]
                                               + oracle["stale"], limit)):
            return ("the gradient of the first step includes gradients left over from before "
                    "the epoch: call optimizer.zero_grad() before accumulating each effective "
                    "batch, the first one included")
        if step == 0 and matches(got, oracle["first_step_clipped_per_micro_batch"]):
            return ("the gradient was clipped after every micro-batch: clip the accumulated "
                    "gradient once per effective batch, not each micro-batch")
        return None
    ratio = constant_ratio(got, expected)
    trailing = step == len(oracle["sizes"]) - 1 and len(case["sizes"]) % case[
        "accumulation_steps"]
    if ratio is not None and trailing:
        return (f"the trailing group's gradient is {ratio:.4g}x the gradient of the mean over "
                "its own samples: weight each micro-batch by its share of the group's samples "
                "(n_i / N of this group), not by 1 / accumulation_steps")
    if ratio is not None:
        return f"the gradient is {ratio:.4g}x the one-batch gradient: {SCALE_ADVICE}"
    return None


def check_against_large_batch(check, case: dict, got: dict) -> None:
    """Each step's gradient and the final parameters equal large-batch training's."""
    oracle = oracle_epoch(key(case))
    # clip_grad_norm_ divides by norm + 1e-6: a clip written by hand may differ that much.
    rtol, atol = (1e-5, 1e-8) if "max_grad_norm" in case else (None, None)
    gradients = expect_tensor(got["step_gradients"], "the gradients seen by optimizer.step()",
                              case=case, shape=tuple(oracle["step_gradients"].shape))
    for step, expected in enumerate(oracle["step_gradients"]):
        sizes = oracle["sizes"][step]
        assert_close(gradients[step], expected,
                     f"train_epoch_accumulated: the gradient used by step {step + 1} vs the "
                     f"one-batch gradient of its {sizes} samples", case=case,
                     device=check.device, rtol=rtol, atol=atol,
                     hint=step_gradient_hint(case, step, gradients[step]))
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
    """an epoch equals large-batch SGD training and the reference (equal micro-batches)"""
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
    """a trailing shorter group is stepped, weighted by its own samples"""
    for case in (epoch_case([3] * 10, 4), epoch_case([4] * 7 + [1], 3, seed=6)):
        check_against_large_batch(check, case, run_epoch(check, case))


@pytest.mark.points(2)
@EPOCH_USES
def test_epoch_clips_accumulated_gradient(check):
    """max_grad_norm clips the accumulated gradient once per effective batch, before the step"""
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
        oracle = oracle_epoch(key(case))
        if math.isclose(returned, oracle["mean_loss"], rel_tol=1e-6, abs_tol=1e-9):
            continue
        losses = oracle["losses"]
        hint = None
        if math.isclose(returned, losses[-1], rel_tol=1e-6):
            hint = ("it is the loss of the last effective batch: return the mean loss per "
                    "sample over the whole epoch")
        elif math.isclose(returned, sum(losses) / len(losses), rel_tol=1e-6):
            hint = ("it averages the effective batches' mean losses: weight each by its "
                    "number of samples")
        fail("train_epoch_accumulated returned the wrong mean loss per sample", case=case,
             expected=oracle["mean_loss"], got=returned, hint=hint)


@pytest.mark.points(1)
@EPOCH_USES
def test_epoch_moves_batches_and_trains(check):
    """train_epoch_accumulated moves each batch to the device and runs in training mode"""
    case = epoch_case([2] * 4, 2)
    got = run_epoch(check, case, counts=False)
    if not got["training_flags"] or not all(got["training_flags"]):
        fail("train_epoch_accumulated ran the model in eval mode (it started in eval mode, as "
             "after a validation pass)", case=case,
             hint="call model.train() at the start of the epoch")
    device_kind = check.device.split(":")[0]
    for name, seen in (("inputs", got["inputs_seen"]), ("targets", got["targets_seen"])):
        for number, arrival in enumerate(seen, start=1):
            if arrival["device"].split(":")[0] != device_kind:
                problem = f"on {arrival['device']}, not on device={check.device!r}"
            elif not arrival["moved"]:
                problem = ("without a .to(device) (on a machine with a GPU they would still "
                           "be on the CPU)")
            else:
                continue
            fail(f"train_epoch_accumulated: the {name} of micro-batch {number} reached the "
                 f"{'model' if name == 'inputs' else 'criterion'} {problem}", case=case,
                 hint=f"move each micro-batch with {name}.to(device) before the forward pass: "
                 "the loader yields CPU tensors")
