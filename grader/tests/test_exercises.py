"""Every exercise's grading suite against known submissions.

The reference gets full marks, the stub 0 and "not started", every mutant loses
points with feedback that names its mistake, every alternative gets full marks, and
every check is failed by at least one mutant (a check no mutant fails proves nothing).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import ROOT
from grader.course.release import tracked_files
from grader.exercises import (
    EXERCISE_FILES,
    OPTIONAL_EXERCISE_FILES,
    check_titles,
    declared_points,
    exercise_files,
    exercise_names,
    graded_names,
    suite_path,
    title_problem,
)
from grader.tests.grading import (
    BY_HAND_MUTANTS,
    checks,
    failing_checks,
    graded,
    minimums,
    per_exercise,
    variants,
)


@pytest.mark.parametrize("exercise", per_exercise())
def test_points_add_up(exercise):
    """The points of a suite's checks add up to its declared EXERCISE_POINTS."""
    total = 0.0
    for node in ast.walk(ast.parse(suite_path(exercise).read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.mark.points":
            total += ast.literal_eval(node.args[0])
    assert total == declared_points(exercise)


def test_every_check_title_follows_the_scheme():
    """Every check's title (the first line of its docstring, what the table shows) names
    what it grades first and says what that does (docs/authoring.md, "Check titles")."""
    wrong = {f"{exercise}: {check}": f"{title!r} {problem}"
             for exercise in exercise_names()
             for check, title in check_titles(exercise).items()
             if (problem := title_problem(title, graded_names(exercise)))}
    assert wrong == {}


@pytest.mark.parametrize(("title", "problem"), [
    ("matthews_corrcoef: the MCC of two label tensors", "colon after 'matthews_corrcoef'"),
    ("The whole pipeline reaches the test AUC threshold", "starts with 'The'"),
    ("every run of compare_optimizers starts from the same weights", "starts with 'every'"),
    ("SGDMomentum, Adam and AdamW: the same steps as torch", "colon after 'AdamW'"),
    ("matthews_corrcoef Agrees with scikit-learn", "in lower case"),
    ("matthews_corrcoef agrees with scikit-learn.", "full stop"),
    ("matthews_corrcoef agrees with scikit-learn" + " on random labels" * 4, "characters long"),
    ("matthews_corrcoef agrees with scikit-learn on random labels", None),
    ("SGDMomentum, Adam and AdamW use each parameter group's own hyperparameters", None),
])
def test_the_title_scheme_rejects_a_title_outside_it(title, problem):
    names = {"matthews_corrcoef", "compare_optimizers", "SGDMomentum", "Adam", "AdamW"}
    found = title_problem(title, names)
    assert found == problem if problem is None else problem in found


@pytest.mark.parametrize("exercise", per_exercise())
def test_an_exercise_is_the_five_files_authoring_md_names(exercise):
    """Adding an exercise is writing its files: none is registered anywhere else, and the
    tracked files named after it are those five, besides an optional program, benchmark
    and data."""
    authoring = (ROOT / "docs" / "authoring.md").read_text()
    assert [t for t in EXERCISE_FILES + OPTIONAL_EXERCISE_FILES
            if f"`{t.format(name='<name>')}`" not in authoring] == []
    named = {name for name in tracked_files()
             if exercise in Path(name).stem or exercise in Path(name).parent.name}
    optional = {name for name in named if name.startswith("data/")
                or name in {t.format(name=exercise) for t in OPTIONAL_EXERCISE_FILES}}
    assert sorted(named - optional) == sorted(exercise_files(exercise))


@pytest.mark.parametrize("exercise", per_exercise())
def test_enough_variants(exercise):
    mutants, alternatives = minimums(exercise)
    assert len(variants(exercise, "MUTANTS")) >= mutants
    assert len(variants(exercise, "ALTERNATIVES")) >= alternatives


@pytest.mark.parametrize("exercise", per_exercise())
def test_reference_gets_full_marks(exercise):
    results = graded(exercise)["reference"]
    result = results.exercise(exercise)
    assert (result.score, result.max_score, result.status) == (
        declared_points(exercise), declared_points(exercise), "passed"), failing_checks(results)


@pytest.mark.parametrize("exercise", per_exercise())
def test_stub_is_not_started(exercise):
    results = graded(exercise)["stub"]
    assert results.exercise(exercise).score == 0
    assert results.exercise(exercise).status == "not started"


@pytest.mark.parametrize(("exercise", "variant"), per_exercise("MUTANTS"))
def test_mutant_loses_points_and_is_told_why(exercise, variant):
    results = graded(exercise)[variant.name]
    result = results.exercise(exercise)
    assert result.score < result.max_score, f"{variant.description}: full marks"
    outputs = failing_checks(results)
    feedback = "\n".join(outputs.values())
    assert variant.expect.lower() in feedback.lower(), (
        f"{variant.description}: the feedback does not say {variant.expect!r}:\n{feedback}")
    named = set(variant.keeps) | {check for check, _ in (*variant.knock_on, *variant.unblamed)}
    assert named <= {check.name for check in checks(results)}, "no such check"
    assert set(variant.keeps).isdisjoint(outputs), (
        f"{variant.description}: a function that uses the broken one lost points too")
    for check, phrase in variant.knock_on:
        assert phrase in outputs.get(check, ""), (
            f"{variant.description}: {check} does not name the root cause {phrase!r}")
    for check, phrase in variant.unblamed:
        assert phrase in outputs.get(check, ""), (
            f"{variant.description}: {check} does not say {phrase!r}")
        assert "first: this check uses it" not in outputs[check], (
            f"{variant.description}: {check} blames a helper it did not go through")


@pytest.mark.parametrize(("exercise", "variant"), per_exercise("ALTERNATIVES"))
def test_alternative_gets_full_marks(exercise, variant):
    results = graded(exercise)[variant.name]
    result = results.exercise(exercise)
    assert result.score == result.max_score, (variant.description, failing_checks(results))


@pytest.mark.parametrize("exercise", per_exercise())
def test_every_check_is_failed_by_some_mutant(exercise):
    results = graded(exercise)
    every = {check.name for check in checks(results["reference"])}
    caught = {name for mutant in variants(exercise, "MUTANTS")
              for name in failing_checks(results[mutant.name])}
    assert every - caught == set(), "checks that no mutant fails"


BY_HAND_PARAMS = [pytest.param(*row, marks=pytest.mark.xdist_group(row[0]), id=row[0])
                  for row in BY_HAND_MUTANTS]


@pytest.mark.parametrize(("exercise", "mutant", "rule"), BY_HAND_PARAMS)
def test_by_hand_violations_are_listed_for_staff(exercise, mutant, rule):
    """The results document names the broken by-hand rule; no correct submission is
    flagged."""
    results = graded(exercise)
    listed = results[mutant].exercise(exercise).by_hand_violations
    assert any(rule in line for line in listed), listed
    correct = ["reference", *(v.name for v in variants(exercise, "ALTERNATIVES"))]
    assert [name for name in correct if results[name].exercise(exercise).by_hand_violations] == []
