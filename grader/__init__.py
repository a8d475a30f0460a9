"""The grading engine: a pytest plugin, a sandbox for student code, reports and a CLI.

It holds no exercise logic: the grading suites live in `tests/`, the exercises in
`exercises/` (student stubs) and `solutions/` (the reference).
"""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
