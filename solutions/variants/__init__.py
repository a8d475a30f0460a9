"""Submissions made from the reference by small edits: mutants, alternatives, hostile code.

A variant is the reference module with a few changes, so it stays in step with the
reference: an edit whose text no longer occurs fails loudly instead of rotting.

- a *mutant* is a plausible wrong solution: it must lose points, and the feedback of
  at least one failing check must contain `expect` (case-insensitive); the checks in
  `keeps` (functions that use the broken one) must still pass, and each check in
  `knock_on` that fails because of it must name the root cause first;
- an *alternative* is a correct solution written differently: it must get full marks;
- a *hostile* variant breaks the sandbox rules (hangs, exits, floods output): it must
  lose only the checks it breaks.

Each exercise lists its variants in `solutions/variants/<exercise>.py` as
`MUTANTS`, `ALTERNATIVES` (and optionally `HOSTILE`, and `MINIMUMS`: how many mutants and
alternatives it must keep at least).
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[1]
# (mutants, alternatives) an exercise keeps at least, unless its module sets MINIMUMS.
DEFAULT_MINIMUMS = (8, 3)


@dataclass(frozen=True)
class Variant:
    """The reference with edits.

    replace: exact (old, new) text edits; each `old` must occur exactly once.
    definitions: top-level functions/classes (and imports) as source text; each one
        replaces the reference's definition of the same name, or is appended when new.
    expect: for mutants, a substring the feedback must contain; None for alternatives.
    keeps: checks (test function names) that must still pass.
    knock_on: for mutants, (check, phrase) pairs: a check downstream of the mistake that
        fails too, and the root-cause note its feedback must contain.
    unblamed: for mutants, (check, phrase) pairs: a check downstream of a broken helper
        that fails on an exception raised outside that helper: its feedback contains
        `phrase` (where it was raised, or the symptom) and blames no helper.
    full: for mutants, graded on every check. Other mutants are graded like a checkoff,
        without the slow `full_grade_only` checks (seconds of training each), which keeps
        `make test` fast; a mutant that names one of those in `keeps` or `knock_on` is
        graded on every check anyway.
    """

    name: str
    description: str
    replace: tuple[tuple[str, str], ...] = ()
    definitions: str = ""
    expect: str | None = None
    keeps: tuple[str, ...] = ()
    knock_on: tuple[tuple[str, str], ...] = ()
    unblamed: tuple[tuple[str, str], ...] = ()
    full: bool = False

    def source(self, exercise: str) -> str:
        """The variant's module text, built from `solutions/<exercise>.py`."""
        text = (SOLUTIONS / f"{exercise}.py").read_text()
        for old, new in self.replace:
            count = text.count(old)
            if count != 1:
                raise ValueError(f"{self.name}: {old!r} occurs {count} times in {exercise}.py")
            text = text.replace(old, new)
        if self.definitions:
            text = replace_definitions(text, textwrap.dedent(self.definitions))
        return text


def replace_definitions(text: str, definitions: str) -> str:
    """Swap the top-level defs/classes of `text` for the same-named ones in `definitions`."""
    new_nodes = ast.parse(definitions).body
    lines = text.splitlines(keepends=True)
    new_lines = definitions.splitlines(keepends=True)
    imports = []
    for node in new_nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append("".join(new_lines[node.lineno - 1 : node.end_lineno]))
            continue
        new_text = "".join(new_lines[_first_line(node) - 1 : node.end_lineno])
        old = _find_definition(ast.parse("".join(lines)), _defined_name(node))
        if old is None:
            lines.append("\n\n" + new_text)
        else:
            lines[_first_line(old) - 1 : old.end_lineno] = [new_text]
        lines = "".join(lines).splitlines(keepends=True)  # keep one line per item
    return _after_docstring_and_future("".join(lines), "".join(imports))


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _defined_name(node: ast.stmt) -> str:
    if isinstance(node, ast.Assign):
        return node.targets[0].id
    return node.name


def _find_definition(tree: ast.Module, name: str) -> ast.stmt | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            if node.name == name:
                return node
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node
    return None


def _after_docstring_and_future(text: str, imports: str) -> str:
    """Insert extra imports after the module docstring and `from __future__` lines."""
    if not imports:
        return text
    tree = ast.parse(text)
    insert_after = 0
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (is_docstring or is_future):
            break
        insert_after = node.end_lineno
    lines = text.splitlines(keepends=True)
    return "".join(lines[:insert_after]) + imports + "".join(lines[insert_after:])
