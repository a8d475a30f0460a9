"""A check's cases, drawn once and replayed: the cases hypothesis itself would run."""

from __future__ import annotations

import ast

import pytest
from hypothesis import Phase, example, given, settings

from grader.exercises import exercise_names, suite_path
from grader.judging import cases
from tests import strategies

GRADING = settings(derandomize=True, database=None, max_examples=12,
                   phases=(Phase.explicit, Phase.generate))
FIRST = {"y_true": [1], "y_pred": [0], "dtype": "int64"}


def labels_check(ran: list[dict], fail_at: int | None = None):
    """A grading check (a `check` fixture, drawn labels, one explicit example) whose body
    keeps each case it is given, alters it, and fails on the `fail_at`-th."""

    @GRADING
    @given(case=strategies.binary_labels())
    @example(case={**FIRST, "y_true": list(FIRST["y_true"])})  # its body alters it
    def test_labels(check, case):
        ran.append({**case, "y_true": list(case["y_true"])})
        case["y_true"].append(2)
        if len(ran) == fail_at:
            raise AssertionError(f"case {fail_at}")

    return test_labels


def test_the_cases_replayed_are_those_hypothesis_runs_in_its_order():
    native: list[dict] = []
    labels_check(native)(check=None)  # hypothesis's own run
    replayed: list[dict] = []
    check = labels_check(replayed)
    assert cases.replayable(check)
    cases.replay(check, {"check": None})
    assert replayed == native and len(native) == 13 and native[0] == FIRST


def test_a_replay_stops_at_the_first_failure_and_runs_no_case_twice():
    ran: list[dict] = []
    check = labels_check(ran, fail_at=3)
    with pytest.raises(AssertionError, match="case 3"):
        cases.replay(check, {"check": None})
    assert len(ran) == 3 and len({repr(case) for case in ran}) == 3
    # The check altered its cases: the next target gets them as drawn.
    assert ran[0] == FIRST and cases.drawn_cases(check)[0] == {"case": FIRST}


def test_an_authors_profile_runs_under_hypothesis():
    @settings(derandomize=False, database=None)
    @given(case=strategies.binary_labels())
    def test_labels(check, case):
        pass

    assert not cases.replayable(test_labels)


# What would make a check's cases depend on the code it grades, or on hypothesis running its
# body: the replay would then ask other cases than hypothesis.
OUTCOME_DEPENDENT = {"assume", "target", "data", "reject", "note", "event"}


@pytest.mark.parametrize("exercise", exercise_names())
def test_no_suite_draws_cases_from_what_it_grades(exercise):
    tree = ast.parse(suite_path(exercise).read_text())
    called = {node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
              for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Attribute | ast.Name)}
    assert not called & OUTCOME_DEPENDENT
