"""The kit's batch-of-one rule: whatever takes a batch is also graded on a batch of one.

A batch of one is where `.squeeze()` drops the batch dimension, a mean over one sample has
no spread, and a loader's last batch may hold one sample: every exercise's suite must call
each function (or model) that takes a batch with a batch of one. Each exercise's variants
module lists them in `BATCHED` ({name: `Batched`}: the argument that holds the batch, or
an iterable of batches such as a loader), and in `EXEMPT` ({name: reason}) the few that
take a batch and are left out.

`takes_a_batch` finds, in the reference's source, the functions and models a student
writes whose handout gives an argument a batch dimension ("(N, F)", "(B,)") or that take a
loader or a batch by name: the self-tests fail when one is neither listed nor exempt.
`refusing_mutant` is the proof that a suite does call each one with a batch of one: the
reference with every listed callable raising "batch of one refused by NAME" on a batch of
one, graded with the exercise's other mutants; its feedback must name every callable.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass

from solutions.variants import SOLUTIONS, Variant


@dataclass(frozen=True)
class Batched:
    """argument: the parameter that holds the batch (for a model: of its forward);
    batches: it holds an iterable of batches (a loader, micro-batches), not one batch."""

    argument: str
    batches: bool = False


def batched(exercise: str) -> dict[str, Batched]:
    """The exercise's `BATCHED` (in its variants module)."""
    return getattr(importlib.import_module(f"solutions.variants.{exercise}"), "BATCHED", {})


def exempt(exercise: str) -> dict[str, str]:
    """The exercise's `EXEMPT` (in its variants module): name -> why it is left out."""
    return getattr(importlib.import_module(f"solutions.variants.{exercise}"), "EXEMPT", {})


# A shape whose first dimension is the batch: "(N, F)", "(B,)", "(N)".
BATCH_SHAPE = re.compile(r"\((?:N|B)\b[,)]")
BATCH_PARAMETERS = re.compile(r"(^|_)(loader|batch|batches)$")


def takes_a_batch(exercise: str) -> list[str]:
    """The functions and models (classes with a forward) a student writes (with a
    solution region) that take a batch, read from their docstrings and parameter names."""
    text = (SOLUTIONS / f"{exercise}.py").read_text()
    found = []
    for node in ast.parse(text).body:
        if (not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_")
                or "# BEGIN SOLUTION" not in ast.get_source_segment(text, node)):
            continue
        function = _method(node, "forward") if isinstance(node, ast.ClassDef) else node
        if function is None:
            continue
        names = [a.arg for a in (*function.args.args, *function.args.kwonlyargs)]
        if BATCH_SHAPE.search(ast.get_docstring(node) or "") or any(
                BATCH_PARAMETERS.search(name) for name in names):
            found.append(node.name)
    return found


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    return next((node for node in cls.body
                 if isinstance(node, ast.FunctionDef) and node.name == name), None)


def _position(exercise: str, name: str, argument: str) -> int:
    """Where `argument` is among the positional parameters of `name` (a model: its
    forward's, self included)."""
    tree = ast.parse((SOLUTIONS / f"{exercise}.py").read_text())
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    function = _method(node, "forward") if isinstance(node, ast.ClassDef) else node
    return [a.arg for a in function.args.args].index(argument)


REFUSAL = "batch of one refused by"

# Appended to the reference: plain code a submission could hold (no grader import).
_REFUSING = '''

def _batch_size(value):
    """The first dimension of a batch: a tensor, a list of samples, an (x, y) pair or a dict
    of tensors."""
    if isinstance(value, tuple) and value:
        return _batch_size(value[0])
    if isinstance(value, dict) and value:
        return _batch_size(next(iter(value.values())))
    if isinstance(value, list):
        return len(value)
    shape = getattr(value, "shape", None)
    return shape[0] if shape is not None and len(shape) else None


class _RefusingBatches:
    """An iterable of batches (a loader) that refuses a batch of one as it is iterated."""

    def __init__(self, batches, name):
        self.batches, self.name = batches, name

    def __iter__(self):
        for batch in self.batches:
            if _batch_size(batch) == 1:
                raise ValueError("{refusal} " + self.name)
            yield batch

    def __len__(self):
        return len(self.batches)

    def __getattr__(self, attribute):
        return getattr(self.batches, attribute)


def _refusing(function, name, argument, position, batches):
    def refusing(*args, **kwargs):
        args = list(args)
        if argument in kwargs:
            value = kwargs[argument]
        elif len(args) > position:
            value = args[position]
        else:
            return function(*args, **kwargs)
        if batches:
            wrapped = _RefusingBatches(value, name)
            if argument in kwargs:
                kwargs[argument] = wrapped
            else:
                args[position] = wrapped
        elif _batch_size(value) == 1:
            raise ValueError("{refusal} " + name)
        return function(*args, **kwargs)

    return refusing
'''.replace("{refusal}", REFUSAL)


@dataclass(frozen=True)
class RefusingMutant(Variant):
    """The reference followed by `appended` (module-level code)."""

    appended: str = ""

    def source(self, exercise: str) -> str:
        return super().source(exercise) + self.appended


def refusing_mutant(exercise: str) -> RefusingMutant:
    """The reference with every `BATCHED` callable of `exercise` refusing a batch of one."""
    lines = [_REFUSING]
    listed = batched(exercise)
    for name, batch in listed.items():
        position = _position(exercise, name, batch.argument)
        target = f"{name}.forward" if name[0].isupper() else name
        lines.append(f"{target} = _refusing({target}, {name!r}, {batch.argument!r}, "
                     f"{position}, {batch.batches})")
    return RefusingMutant(
        name="refuses_a_batch_of_one",
        description="every function or model that takes a batch fails on a batch of one "
                    f"(the kit's batch-of-one rule): {', '.join(listed)}",
        expect=REFUSAL, appended="\n".join(lines) + "\n")
