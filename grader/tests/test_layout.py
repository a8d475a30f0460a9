"""The engine's structure: wings by process boundary, imports only downward, no circle.

Levels, lower to higher: the shared base (`grader`, `grader.exercises`, `grader.git`), the
isolation wing, the judging wing, the course wing, then the CLI. Every import counts,
those inside functions too: a lazy import does not make a circle go away.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader import ROOT

LEVELS = {"grader": 0, "grader.exercises": 0, "grader.git": 0, "grader.isolation": 1,
          "grader.judging": 2, "grader.course": 3, "grader.cli": 4, "grader.__main__": 4}


def level(module: str) -> int:
    return max(value for prefix, value in LEVELS.items()
               if module == prefix or module.startswith(prefix + "."))


def engine_imports() -> dict[str, set[str]]:
    """{module: the grader modules it imports} for every module of the engine."""
    graph = {}
    for path in sorted((ROOT / "grader").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module.startswith("grader.tests"):
            continue
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from grader.judging import plugin` imports grader.judging.plugin.
                imported |= {f"{node.module}.{alias.name}" for alias in node.names} | {
                    node.module}
        graph[module] = {name for name in imported if name in _modules()} - {module}
    return graph


def _modules() -> set[str]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for p in (ROOT / "grader").rglob("*.py")}


def test_no_wing_imports_a_higher_one():
    upward = [f"{module} -> {name}" for module, names in engine_imports().items()
              for name in names if level(name) > level(module)]
    assert upward == []


def test_no_import_circle():
    graph = engine_imports()
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(graph.get(module, ())):
            if state.get(name) == "open":
                circles.append(" -> ".join([*path[path.index(name):], name]))
            elif name not in state:
                visit(name, [*path, name])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_walk_sees_an_upward_import_and_a_circle(tmp_path, monkeypatch):
    """The two checks above on a planted engine: they fail where they should."""
    planted = tmp_path / "grader"
    for wing in ("isolation", "judging"):
        (planted / wing).mkdir(parents=True)
        (planted / wing / "__init__.py").write_text("")
    (planted / "__init__.py").write_text("")
    (planted / "isolation" / "worker.py").write_text("from grader.judging import judge\n")
    (planted / "judging" / "judge.py").write_text("import grader.isolation.worker\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    graph = engine_imports()
    assert graph["grader.isolation.worker"] == {"grader.judging", "grader.judging.judge"}
    assert [m for m, names in graph.items() for n in names if level(n) > level(m)] == [
        "grader.isolation.worker", "grader.isolation.worker"]
    try:
        test_no_import_circle()
    except AssertionError as failure:
        assert "grader.isolation.worker -> grader.judging.judge -> grader.isolation.worker" in str(
            failure)
    else:
        raise AssertionError("the circle was not found")


MAX_LINES = 400  # an engine file longer than this holds two jobs: split it along its seam


def long_files(root: Path) -> list[str]:
    """The engine's files (its self-tests aside) over MAX_LINES lines, with their length."""
    found = []
    for path in sorted((root / "grader").rglob("*.py")):
        relative = path.relative_to(root)
        lines = len(path.read_text().splitlines())
        if relative.parts[1] != "tests" and lines > MAX_LINES:
            found.append(f"{relative}: {lines} lines")
    return found


def test_no_engine_file_is_over_the_line_limit():
    assert long_files(ROOT) == []


def test_the_line_limit_sees_a_long_file(tmp_path):
    (tmp_path / "grader" / "tests").mkdir(parents=True)
    (tmp_path / "grader" / "judge.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "grader" / "tests" / "test_long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_files(tmp_path) == [f"grader/judge.py: {MAX_LINES + 1} lines"]
