"""The kit's batch-of-one rule (grader.tests.batch_of_one), for every exercise.

Every function and model a student writes that takes a batch is listed (or exempt, with its
reason), and each listed one is graded on a batch of one: the refusing mutant, graded with
the exercise's other mutants, is told so by name. The test ids list what the rule covers.
"""

from __future__ import annotations

import pytest

from grader.exercises import exercise_names
from grader.tests.batch_of_one import REFUSAL, batched, exempt, takes_a_batch
from grader.tests.grading import failing_checks, graded


@pytest.mark.parametrize("exercise", exercise_names())
def test_every_function_that_takes_a_batch_is_listed(exercise):
    assert batched(exercise), f"{exercise} has no function under the batch-of-one rule"
    listed = set(batched(exercise)) | set(exempt(exercise))
    assert sorted(set(takes_a_batch(exercise)) - listed) == [], "take a batch, not listed"
    assert all(exempt(exercise).values()), "an exemption without its reason"


@pytest.mark.parametrize(("exercise", "function"), [
    pytest.param(exercise, function, marks=pytest.mark.xdist_group(exercise),
                 id=f"{exercise}.{function}")
    for exercise in exercise_names() for function in batched(exercise)])
def test_a_batch_of_one_reaches(exercise, function):
    """Some check of the exercise calls `function` with a batch of one."""
    feedback = "\n".join(failing_checks(graded(exercise)["refuses_a_batch_of_one"]).values())
    assert f"{REFUSAL} {function}" in feedback, (
        f"no check calls {function} with a batch of one:\n{feedback}")
