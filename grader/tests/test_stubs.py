"""The stubs are generated from the solutions, and say what to write."""

from __future__ import annotations

import ast

import pytest

from grader import ROOT
from grader.course import stubs


def test_committed_stubs_are_generated():
    for name, text in stubs.expected_stubs().items():
        assert (ROOT / "exercises" / name).read_text() == text, f"run make stubs: {name}"


def test_stub_keeps_signatures_and_docstrings():
    source = '''
def f(x: int) -> int:
    """Add one."""
    # BEGIN SOLUTION
    y = x + 1
    return y
    # END SOLUTION


class Model:
    def forward(self, x):
        """Run."""
        # BEGIN SOLUTION
        return x
        # END SOLUTION
'''
    stub = stubs.make_stub(source, "demo")
    tree = ast.parse(stub)
    f, model = tree.body[0], tree.body[1]
    assert ast.get_docstring(f) == "Add one."
    assert ast.unparse(f.body[-1]) == "raise NotImplementedError('demo: f')"
    assert ast.unparse(model.body[0].body[-1]) == "raise NotImplementedError('demo: Model.forward')"
    assert "y = x + 1" not in stub


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "outside a function"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "without END SOLUTION"),
    ],
)
def test_bad_markers_are_reported(source, problem):
    with pytest.raises(ValueError, match=problem):
        stubs.make_stub(source, "demo")


def test_every_solution_has_markers_and_a_stub_that_parses():
    for name, text in stubs.expected_stubs().items():
        assert "NotImplementedError" in text, name
        ast.parse(text)


def test_stub_headers_speak_to_the_student_and_the_authors_line_stays_here():
    source = "def f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n"
    here, shipped = stubs.make_stub(source, "demo"), stubs.make_stub(source, "demo",
                                                                      for_release=True)
    assert shipped.startswith("# Exercise demo: replace each `raise NotImplementedError(...)`")
    assert "make grade EX=demo" in shipped
    assert "solutions/" not in shipped and "make stubs" not in shipped
    assert here == shipped.replace("# fast checks only).\n", "# fast checks only).\n"
                                   + stubs.AUTHORS_HEADER.format(name="demo"))


def test_the_stubs_hold_only_what_a_student_writes_and_reads():
    """The ten stubs together stay at least 40% shorter than the 3075 lines they had before
    issue 31 (programs moved out, overviews no longer repeat the functions' docstrings)."""
    lines = sum(text.count("\n") for text in stubs.expected_stubs().values())
    assert lines <= 1845, f"the stubs hold {lines} lines: keep reference-only text out of them"
