"""The exercises: one grading suite `tests/test_<name>.py` each, worth its `EXERCISE_POINTS`."""

from __future__ import annotations

import ast
import functools
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
    return _declared_points(suite_path(name), suite_path(name).read_text())


@functools.cache  # by the suite's text: every grade reads it, a warm grader many times
def _declared_points(path: Path, source: str) -> float:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EXERCISE_POINTS" for t in node.targets
        ):
            return float(ast.literal_eval(node.value))
    raise ValueError(f"{path} does not declare EXERCISE_POINTS")


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


TITLE_LENGTH = 90


def check_titles(name: str) -> dict[str, str]:
    """{check (test function) name: title} of a suite, read without importing it: a title
    is the first line of the check's docstring."""
    return {node.name: (ast.get_docstring(node) or "").strip().partition("\n")[0]
            for node in ast.parse(suite_path(name).read_text()).body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def graded_names(name: str) -> set[str]:
    """The public functions and classes of exercise `name`'s module (read from its stub,
    which a student release has too)."""
    tree = ast.parse((ROOT / "exercises" / f"{name}.py").read_text())
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")}


def title_problem(title: str, names: set[str]) -> str | None:
    """What is wrong with a check's title under docs/authoring.md's scheme, or None.

    The scheme: a sentence whose subject comes first and is what the check grades, by its
    name in the exercise module (`names`), or several (`A, B and C`); then, after a space,
    what it must do, in lower case and the present tense ("matthews_corrcoef agrees with
    scikit-learn on random labels"); no full stop at the end; at most TITLE_LENGTH
    characters (one row of the table).
    """
    subject, _, rest = title.partition(" ")
    subjects = [subject.rstrip(",")]
    while subject.endswith(",") or rest.startswith("and "):
        subject, _, rest = rest.removeprefix("and ").partition(" ")
        subjects.append(subject.rstrip(","))
    unknown = [word for word in subjects if word.rstrip(":") not in names]
    if unknown:
        return (f"starts with {unknown[0]!r}, not with what it grades (one of "
                f"{sorted(names)})")
    if subjects[-1].endswith(":"):
        return f"puts a colon after {subjects[-1][:-1]!r}: say what it does, as a sentence"
    if not rest or not rest[0].islower():
        return "says what its subject does after the name, in lower case"
    if title.endswith("."):
        return "ends with a full stop"
    if len(title) > TITLE_LENGTH:
        return f"is {len(title)} characters long, more than {TITLE_LENGTH}"
    return None
