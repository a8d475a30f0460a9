"""The terminal table: it fits 80 columns, and wrapped text stays readable."""

from __future__ import annotations

from grader.judging.reports import WIDTH, table
from grader.judging.results import CheckResult, DeviceRun, ExerciseResult, SubmissionResult

LONG_TITLE = ("train_secondary_structure: train mode for training batches, eval mode without "
              "gradients for validation, every batch on the device")
MESSAGE = ("fix `masked_cross_entropy` first: this check uses it, and a check of "
           "`masked_cross_entropy` failed above\n"
           "case: {'mask': [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], 'seed': 0, "
           "'padding_targets': '-100'}\n"
           "hint: your loss matches logits.reshape(B, 3, L): a reshape does not move the class "
           "dimension; use logits.transpose(1, 2), or flatten to (B*L, 3) and (B*L,)")


def failing_result() -> SubmissionResult:
    check = CheckResult("secondary_structure", "test_loop", LONG_TITLE, 1.0,
                        [DeviceRun("cpu", "failed", MESSAGE)])
    exercises = [ExerciseResult("secondary_structure", 20.0, [check]),
                 ExerciseResult("mcc", 20.0, [CheckResult("mcc", "t", "title", 20.0, [
                     DeviceRun("cpu", "not implemented", "not implemented yet")])])]
    return SubmissionResult("sub", exercises, {}, "now", 1.0)


def test_every_line_fits_80_columns():
    lines = table(failing_result()).splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert "not started: mcc." in table(failing_result())


def test_wrapped_text_hangs_under_its_label():
    lines = table(failing_result()).splitlines()
    hint = next(i for i, line in enumerate(lines) if line.startswith("     hint: "))
    assert lines[hint + 1].startswith(" " * len("     hint: ")) and lines[hint + 1].strip()


def test_a_long_title_is_shortened_in_the_summary_and_whole_below():
    text = table(failing_result())
    row = next(line for line in text.splitlines() if line.startswith("secondary_structure"))
    assert row.endswith(" ...") and "train_secondary_structure: train" in row
    assert " ".join(text.split()).count(" ".join(LONG_TITLE.split())) == 1
