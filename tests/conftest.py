"""Lets an author run a grading suite as plain pytest, e.g.

    .venv/bin/python -m pytest tests/test_mcc.py --grade-target solutions -k counts --pdb

`python -m grader` loads the same plugin itself; loaded twice, pytest registers it once.
"""

pytest_plugins = ["grader.judging.plugin"]
