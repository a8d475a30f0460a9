"""The exercises: one grading suite `tests/test_<name>.py` each, worth its `EXERCISE_POINTS`."""

from __future__ import annotations

import ast
from pathlib import Path

from grader import ROOT

SUITES = ROOT / "tests"


# The files an exercise is made of, relative to the checkout (docs/authoring.md's table):
# the reference, the generated stub, the probes, the grading suite and the known
# submissions. Besides them an exercise may have a program and a benchmark (and data sets,
# in data/).
EXERCISE_FILES = (
    "solutions/{name}.py",
    "exercises/{name}.py",
    "tests/probes/{name}.py",
    "tests/test_{name}.py",
    "solutions/variants/{name}.py",
)
OPTIONAL_EXERCISE_FILES = (
    "programs/{name}.py",
    "benchmarks/bench_{name}.py",
)


def suite_path(name: str) -> Path:
    return SUITES / f"test_{name}.py"


def exercise_files(name: str, optional: bool = False) -> list[str]:
    """The files of exercise `name`, relative to the checkout, in EXERCISE_FILES' order
    (then OPTIONAL_EXERCISE_FILES', whether they exist or not, when `optional`)."""
    templates = EXERCISE_FILES + (OPTIONAL_EXERCISE_FILES if optional else ())
    return [template.format(name=name) for template in templates]


def exercise_names() -> list[str]:
    """Every exercise that has a grading suite, in alphabetical order."""
    return sorted(p.stem.removeprefix("test_") for p in SUITES.glob("test_*.py"))


def declared_points(name: str) -> float:
    """The `EXERCISE_POINTS = ...` of a suite, read without importing it."""
    for node in ast.parse(suite_path(name).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EXERCISE_POINTS" for t in node.targets
        ):
            return float(ast.literal_eval(node.value))
    raise ValueError(f"{suite_path(name)} does not declare EXERCISE_POINTS")


def marks_of(check: ast.FunctionDef) -> dict[str, ast.expr]:
    """A check's decorators by name ("pytest.mark.points" -> its call), read from the tree."""
    return {ast.unparse(d.func if isinstance(d, ast.Call) else d): d
            for d in check.decorator_list}


def marked_checks(source: str, marker: str) -> list[ast.FunctionDef]:
    """The checks in a suite's text that carry `@pytest.mark.<marker>`, without importing it."""
    return [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
            and f"pytest.mark.{marker}" in marks_of(node)]


def compares_with_reference(name: str) -> bool:
    """Whether the exercise's suite calls `check.reference` or `check.both` anywhere (an
    oracle-only suite asks the reference nothing, so a release records nothing for it)."""
    tree = ast.parse(suite_path(name).read_text())
    return any(isinstance(node, ast.Attribute) and node.attr in ("reference", "both")
               and isinstance(node.value, ast.Name) and node.value.id == "check"
               for node in ast.walk(tree))
