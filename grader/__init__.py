"""The grading engine, in three wings by process boundary, lower to higher: `isolation` (what
runs in or talks to an untrusted worker), `judging` (the grading API and pytest plugin that
turn suites into scores), `course` (class batches, checkoffs, release, Gradescope, reports of
a class); `cli` on top, and `exercises` and `git` below all. A wing imports only lower ones.

Values cross between parts typed, never as sentences read back: the isolation wing reports
a failed call as facts (`isolation.wire`), and `judging.feedback` alone words them for the
student.

It holds no exercise logic: the grading suites live in `tests/`, the exercises in
`exercises/` (student stubs) and `solutions/` (the reference).
"""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
