"""Grading suite of the `mcc` exercise: scikit-learn is the oracle, the reference the witness."""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given, settings
from sklearn.metrics import confusion_matrix
from sklearn.metrics import matthews_corrcoef as sklearn_mcc

from grader.judging.judge import (
    assert_close,
    expect_dict,
    expect_float,
    expect_modes,
    expect_raises,
    expect_tensor,
    fail,
    per_case,
    scalar_close,
)
from tests import strategies
from tests.probes import mcc as probes

EXERCISE_POINTS = 20

COUNT_NAMES = ("tp", "tn", "fp", "fn")


@per_case
def oracle_counts(case: dict) -> tuple[int, int, int, int]:
    tn, fp, fn, tp = confusion_matrix(case["y_true"], case["y_pred"], labels=[0, 1]).ravel()
    return int(tp), int(tn), int(fp), int(fn)


@per_case
def oracle_mcc(case: dict) -> float:
    """scikit-learn's MCC, binary or multiclass (its input validation costs a millisecond a
    call: cached, as every submission is asked the same cases)."""
    return float(sklearn_mcc(case["y_true"], case["y_pred"]))


def counts_hint(got: tuple, expected: tuple) -> str | None:
    tp, tn, fp, fn = expected
    if got == (tn, tp, fn, fp):
        return "the classes are swapped: 1 is the positive class"
    if got == (tp, tn, fn, fp):
        return "fp and fn are swapped: a false positive is a predicted 1 whose truth is 0"
    if sum(got) != sum(expected):
        return f"the four counts add up to {sum(got)}, but there are {sum(expected)} samples"
    return None


def student_counts(check, case: dict) -> tuple[int, ...]:
    returned = check.student(probes.confusion_counts, case)
    if not isinstance(returned, tuple | list) or len(returned) != 4:
        fail("confusion_counts should return a tuple (tp, tn, fp, fn) of four tensors",
             case=case, got=returned, show_values=True, expected="(tp, tn, fp, fn)")
    return tuple(
        int(expect_tensor(value, f"confusion_counts ({name})", case=case, dtype=torch.int64,
                          shape=(), device=check.device))
        for name, value in zip(COUNT_NAMES, returned, strict=True)
    )


def zero_denominator(case: dict) -> bool:
    tp, tn, fp, fn = oracle_counts(case)
    return (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn) == 0


OVERFLOW_HINT = ("(TP+FP)(TP+FN)(TN+FP)(TN+FN) exceeds the int64 range (about 9.2e18) for "
                 "millions of samples: convert the counts to float64 before multiplying")
ZERO_HINT = ("one factor of the denominator is 0 here (a class is missing from the truth or the "
             "predictions): return 0.0 in that case, as scikit-learn does")


def student_mcc(check, case: dict, probe=probes.matthews_corrcoef) -> torch.Tensor:
    """The submission's MCC as a validated 0-dim float tensor; nan explained."""
    value = expect_tensor(check.student(probe, case), "matthews_corrcoef", case=case,
                          dtype="floating", shape=(), device=check.device, finite=False)
    if not torch.isfinite(value):
        large = probe is probes.large_matthews_corrcoef
        hint = OVERFLOW_HINT if large else ZERO_HINT if zero_denominator(case) else None
        fail(f"matthews_corrcoef returned {value.item()}", case=case, hint=hint)
    return value


@pytest.mark.points(2)
def test_confusion_counts_types(check):
    """confusion_counts returns four 0-dim int64 tensors on the labels' device"""
    for case in (
        {"y_true": [1, 0, 1, 1, 0], "y_pred": [1, 1, 0, 1, 0], "dtype": "int64"},
        {"y_true": [1, 0, 1, 1, 0], "y_pred": [1, 1, 0, 1, 0], "dtype": "bool"},
        {"y_true": [0, 1, 1], "y_pred": [0, 0, 1], "dtype": "float32"},
    ):
        student_counts(check, case)


@pytest.mark.points(3)
@given(case=strategies.binary_labels())
@example(case={"y_true": [1], "y_pred": [1], "dtype": "int64"})
@example(case={"y_true": [0, 0, 0], "y_pred": [1, 0, 1], "dtype": "bool"})
@settings(max_examples=40)
def test_confusion_counts_match_sklearn(check, case):
    """confusion_counts agrees with scikit-learn's confusion matrix"""
    got, expected = student_counts(check, case), oracle_counts(case)
    if got != expected:
        fail("confusion_counts: wrong counts (tp, tn, fp, fn)", case=case, expected=expected,
             got=got, hint=counts_hint(got, expected))


@pytest.mark.points(3)
@given(case=strategies.binary_labels())
@settings(max_examples=40)
def test_mcc_matches_sklearn(check, case):
    """matthews_corrcoef agrees with scikit-learn on random labels"""
    got = student_mcc(check, case)
    expected = oracle_mcc(case)
    assert_close(got, torch.tensor(expected, dtype=torch.float64), "matthews_corrcoef",
                 case=case, device=check.device,
                 hint=lambda a, e: "the sign is flipped: the numerator is TP*TN - FP*FN"
                 if scalar_close(a.item(), -e.item(), device=check.device) else None)


@pytest.mark.points(2)
def test_mcc_zero_denominator(check):
    """matthews_corrcoef is 0.0 when a class is absent from truth or predictions"""
    for case in (
        {"y_true": [1], "y_pred": [1]},
        {"y_true": [0], "y_pred": [1]},
        {"y_true": [1, 1, 1, 1], "y_pred": [1, 0, 1, 0]},
        {"y_true": [0, 1, 0, 1], "y_pred": [0, 0, 0, 0]},
        {"y_true": [0, 0, 0], "y_pred": [0, 0, 0]},
    ):
        got = student_mcc(check, case)
        if got.item() != 0.0:
            fail("matthews_corrcoef should be 0.0 when a factor of the denominator is 0",
                 case=case, expected=0.0, got=got.item(),
                 hint=ZERO_HINT)


@pytest.mark.points(2)
def test_mcc_result_type(check):
    """matthews_corrcoef returns a 0-dim floating tensor on the labels' device"""
    for dtype in ("int64", "bool", "float32"):
        student_mcc(check, {"y_true": [1, 0, 1, 1, 0, 0], "y_pred": [1, 0, 0, 1, 1, 0],
                            "dtype": dtype})


@pytest.mark.points(2)
@pytest.mark.call_timeout(60)
@pytest.mark.full_grade_only  # seconds of counting 7M labels: too slow for a checkoff
def test_mcc_millions_of_samples(check):
    """matthews_corrcoef is exact for millions of samples (no integer overflow)"""
    for case in ({"n": 3_000_000, "seed": 1, "positive_rate": 0.5, "error_rate": 0.1},
                 {"n": 4_000_000, "seed": 2, "positive_rate": 0.3, "error_rate": 0.45}):
        expected = large_oracle(case)
        got = student_mcc(check, case, probe=probes.large_matthews_corrcoef)
        assert_close(got, torch.tensor(expected, dtype=torch.float64), "matthews_corrcoef",
                     case=case, device=check.device, hint=OVERFLOW_HINT)


@per_case
def large_oracle(case: dict) -> float:
    # scikit-learn's MCC of the four (true, predicted) pairs weighted by their counts: the
    # same float64 formula as on the labels themselves (bit for bit), without the second
    # its confusion matrix of millions of labels takes.
    y_true, y_pred = probes.large_labels(case)
    pair_counts = torch.bincount(2 * y_true + y_pred, minlength=4)
    return sklearn_mcc([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=pair_counts.numpy())


INVALID_CASES = (
    ("confusion_counts", {"y_true": [1, 0, 1], "y_pred": [1, 0]}, "different lengths"),
    ("matthews_corrcoef", {"y_true": [1, 0], "y_pred": [1, 0, 0, 1]}, "different lengths"),
    ("matthews_corrcoef", {"y_true": [1, 0, 2], "y_pred": [1, 0, 1]}, "a label 2"),
    ("matthews_corrcoef", {"y_true": [1, 0, 1], "y_pred": [0.5, 0.0, 1.0], "dtype": "float32"},
     "a label 0.5"),
    ("matthews_corrcoef", {"y_true": [], "y_pred": []}, "empty labels"),
    ("multiclass_mcc", {"y_true": [0, 1, 3], "y_pred": [0, 1, 2], "num_classes": 3},
     "a class outside [0, K)"),
    ("multiclass_mcc", {"y_true": [0, 1], "y_pred": [0, 1, 2], "num_classes": 3},
     "different lengths"),
)


@pytest.mark.points(2)
def test_invalid_labels_raise(check):
    """confusion_counts, matthews_corrcoef and multiclass_mcc raise ValueError for bad labels

    Lengths that differ, values outside 0/1, no labels, classes >= K."""
    for function, case, problem in INVALID_CASES:
        outcome = check.student(probes.invalid_labels, {**case, "function": function})
        expect_raises(outcome, function, problem, case=case)


@pytest.mark.points(2)
@given(case=strategies.class_labels())
@example(case={"y_true": [0, 1, 2, 3, 4, 5], "y_pred": [0, 1, 2, 3, 4, 5], "num_classes": 6})
@example(case={"y_true": [2, 2, 2], "y_pred": [2, 2, 2], "num_classes": 3})
@settings(max_examples=30)
def test_multiclass_mcc_matches_sklearn(check, case):
    """multiclass_mcc equals scikit-learn's multiclass MCC for K = 2..6"""
    got = expect_tensor(check.student(probes.multiclass_mcc, case), "multiclass_mcc", case=case,
                        dtype="floating", shape=(), device=check.device)
    expected = oracle_mcc(case)
    assert_close(got, torch.tensor(expected, dtype=torch.float64), "multiclass_mcc", case=case,
                 device=check.device,
                 hint="R_K is not the mean of one-vs-rest MCCs: build the K x K confusion "
                 "matrix and use Gorodkin's formula from the docstring")


EVALUATE_CASE = {"seed": 3, "num_batches": 5, "batch_size": 8, "dropout": 0.5}


# evaluate_classifier's checks run the submission's own counts and MCC.
EVALUATE_USES = pytest.mark.uses(
    confusion_counts=[test_confusion_counts_types, test_confusion_counts_match_sklearn],
    matthews_corrcoef=[test_mcc_matches_sklearn, test_mcc_zero_denominator,
                       test_mcc_result_type])


@pytest.mark.points(1)
@EVALUATE_USES
def test_evaluate_classifier_modes(check):
    """evaluate_classifier runs the model in eval mode, without gradients"""
    got = check.student(probes.evaluate_classifier, EVALUATE_CASE)
    expect_modes(got["calls"], "evaluate_classifier", training=False, case=EVALUATE_CASE)


@pytest.mark.points(1)
@EVALUATE_USES
def test_evaluate_classifier_matches_reference(check):
    """evaluate_classifier returns the reference's metrics, as Python floats"""
    # Without dropout the metrics do not depend on the mode, which the check above judges;
    # a last batch of one (the kit's batch-of-one rule).
    case = {**EVALUATE_CASE, "dropout": 0.0, "last_batch": 1}
    got, expected = check.both(probes.evaluate_classifier, case)
    metrics = expect_dict(got["metrics"], "evaluate_classifier", expected["metrics"], case=case)
    for name, reference in expected["metrics"].items():
        value = expect_float(metrics[name], f"evaluate_classifier['{name}']", case=case)
        if not scalar_close(value, reference, device=check.device):
            hint = None
            if name == "auc" and scalar_close(value, 1 - reference, device=check.device):
                hint = "the AUC is 1 - expected: rank by P(class 1), softmax(logits)[:, 1]"
            fail(f"evaluate_classifier['{name}'] differs from the reference", case=case,
                 expected=reference, got=value, hint=hint)
