"""Make the student stubs in `exercises/` from the reference in `solutions/`.

In a solution, the code a student writes sits between marker lines:

    def f(x):
        '''The handout.'''
        # BEGIN SOLUTION
        return x + 1
        # END SOLUTION

The stub keeps everything else (docstrings, signatures, helpers) and
replaces each marked block by `raise NotImplementedError("<exercise>: <function>")`.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from grader import ROOT

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
# What the student reads first; the authors' line is left out of the student release,
# which has neither the solutions nor `make stubs`.
HEADER = (
    "# Exercise {name}: replace each `raise NotImplementedError(...)` with your code, and\n"
    "# keep the names and signatures. Grade it with `make grade EX={name}` (QUICK=1: the\n"
    "# fast checks only).\n"
)
AUTHORS_HEADER = "# Generated from solutions/{name}.py by `make stubs`: never edit it by hand.\n"


def make_stub(source: str, exercise: str, *, for_release: bool = False) -> str:
    """The stub for one solution module's source text (for_release: without the line for
    the course's authors)."""
    lines = source.splitlines(keepends=True)
    owners = _enclosing_functions(source)
    out: list[str] = []
    block_start = None
    for number, line in enumerate(lines, start=1):
        begin = BEGIN.match(line)
        if begin and block_start is None:
            block_start = number
            function = owners.get(number)
            if function is None:
                raise ValueError(f"{exercise}.py:{number}: a solution block outside a function")
            out.append(f'{begin.group(1)}raise NotImplementedError("{exercise}: {function}")\n')
        elif END.match(line) and block_start is not None:
            block_start = None
        elif block_start is None:
            out.append(line)
    if block_start is not None:
        raise ValueError(f"{exercise}.py:{block_start}: BEGIN SOLUTION without END SOLUTION")
    header = HEADER if for_release else HEADER + AUTHORS_HEADER
    return header.format(name=exercise) + "".join(out)


def _enclosing_functions(source: str) -> dict[int, str]:
    """Line number -> qualified name of the innermost function containing it."""
    owners: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                for line in range(child.lineno, child.end_lineno + 1):
                    owners[line] = name
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return owners


def expected_stubs(solutions: Path = ROOT / "solutions", *,
                   for_release: bool = False) -> dict[str, str]:
    """File name -> stub text, for every exercise module in `solutions`."""
    return {
        path.name: make_stub(path.read_text(), path.stem, for_release=for_release)
        for path in sorted(solutions.glob("*.py"))
        if path.name != "__init__.py"
    }


def main(*, check: bool = False, exercises: Path = ROOT / "exercises") -> int:
    stale = []
    for name, text in expected_stubs().items():
        path = exercises / name
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text)
    if check and stale:
        print(f"stale stubs: {', '.join(stale)} (run `make stubs`)", file=sys.stderr)
        return 1
    print("stubs up to date" if not stale else f"wrote {', '.join(stale)}")
    return 0
