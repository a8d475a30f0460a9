"""A submission's source read as data, in the judge: by-hand rules and harness tampering.

The file is parsed, never imported. A name is resolved through the file's imports
(`import torch.optim as optim`, `from sklearn import metrics`, in any function) and its
module-level aliases (`Base = torch.optim.Adam`), then looked up among the modules the
judge has loaded, without importing anything the submission names: a re-export
(`torch.optim.adam.Adam`) is the same callable as `torch.optim.Adam`.

- By hand (`grader.isolation.by_hand.ByHand`): a class or function the rule names may not refer to
  the library callables it lists, in its body, its bases or the module's functions and
  classes it refers to. The worker makes each such class or function raise the finding
  when a probe uses it, so the checks that run it fail, with the line and the rule.
- Tampering: the harness is not the submission's to change. A file that imports the
  grader's packages or reaches the interpreter's internals (module tables, the garbage
  collector, stack frames, the builtins, a function's globals) is not run at all: every
  check of its exercise fails with the line, and results.json flags it for staff.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.isolation import by_hand
from grader.isolation.by_hand import ByHand
from grader.isolation.wire import ByHandFinding, Reach, Tampering

GRADER_PACKAGES = ("grader", "tests", "solutions")
# Ways to reach the grader's objects without naming them.
INTERNALS = ("sys.modules", "sys._getframe", "sys.settrace", "sys.setprofile", "gc",
             "inspect", "builtins", "importlib", "ctypes", "__import__", "__builtins__")
INTERNAL_ATTRIBUTES = ("__globals__", "__builtins__", "f_back", "f_globals", "f_locals",
                       "f_builtins", "gi_frame", "cr_frame", "tb_frame", "__subclasses__")


@dataclass(frozen=True)
class SourceFindings:
    """What a file breaks, as facts (grader.isolation.wire): each way it reaches into the
    grader, each by-hand rule a named class or function breaks."""

    tampering: tuple[Tampering, ...] = ()
    by_hand: tuple[ByHandFinding, ...] = ()


def read(path: Path, rule: ByHand | None) -> SourceFindings:
    """What `path`'s source breaks; nothing for a file that does not parse (importing it
    fails and says why)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return SourceFindings()
    names = _aliases(tree)
    return SourceFindings(tampering=tuple(_tampering(tree, names)),
                          by_hand=tuple(_by_hand(tree, names, rule)) if rule else ())


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name, from every import and module-level alias assignment."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            dotted = _dotted(node.value, names)
            if dotted is not None:
                names[node.targets[0].id] = dotted
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    """`optim.Adam` -> "torch.optim.Adam" when `optim` names a module; None otherwise."""
    if isinstance(node, ast.Name):
        if node.id in ("__import__", "__builtins__"):
            return node.id
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, names)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _references(node: ast.AST, names: dict[str, str], *, outermost: bool = False,
                ) -> list[tuple[ast.AST, str]]:
    """(node, dotted name) of every name chain under `node` that resolves; with
    `outermost`, not its prefixes (`gc.collect`, not also `gc`)."""
    inner = {id(child.value) for child in ast.walk(node)
             if outermost and isinstance(child, ast.Attribute)}
    return [(child, dotted) for child in ast.walk(node)
            if isinstance(child, ast.Name | ast.Attribute) and id(child) not in inner
            and (dotted := _dotted(child, names)) is not None]


def _tampering(tree: ast.Module, names: dict[str, str]) -> list[Tampering]:
    found = []
    for node in ast.walk(tree):
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                   [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for module in modules:
            if module.split(".")[0] in GRADER_PACKAGES:
                found.append(Tampering(Reach.IMPORTS, module, node.lineno))
        if isinstance(node, ast.Attribute) and node.attr in INTERNAL_ATTRIBUTES:
            found.append(Tampering(Reach.READS, node.attr, node.lineno))
    for node, dotted in _references(tree, names, outermost=True):
        if any(dotted == name or dotted.startswith(f"{name}.") for name in INTERNALS):
            found.append(Tampering(Reach.USES, dotted, node.lineno))
    return list(dict.fromkeys(found))


def _by_hand(tree: ast.Module, names: dict[str, str], rule: ByHand) -> list[ByHandFinding]:
    definitions = {node.name: node for node in tree.body if isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    found = []
    for owner, banned_names in rule.uses.items():
        banned = [(by_hand.library(name), name) for name in banned_names]
        for name in _reached(owner, definitions):
            node = definitions[name]
            bases = {id(base) for base in getattr(node, "bases", [])}
            for child, dotted in _references(node, names):
                value = _resolve(dotted)
                library = next((text for obj, text in banned if obj is value), None)
                if library is not None:
                    found.append(ByHandFinding(owner, library, child.lineno, rule.advice,
                                               subclasses=id(child) in bases,
                                               through="" if name == owner else name))
    return list(dict.fromkeys(found))


def _reached(owner: str, definitions: dict[str, ast.AST]) -> list[str]:
    """`owner` and the module's functions and classes it refers to, transitively."""
    reached, todo = [], [owner] if owner in definitions else []
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.append(name)
        todo += [child.id for child in ast.walk(definitions[name])
                 if isinstance(child, ast.Name) and child.id in definitions]
    return reached


def _resolve(dotted: str) -> Any:
    """The object a dotted name names among the loaded modules (nothing is imported), or a
    fresh object that is nothing else."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is not None:
            value: Any = module
            for attribute in parts[cut:]:
                value = getattr(value, attribute, None)
            return object() if value is None else value
    return object()
