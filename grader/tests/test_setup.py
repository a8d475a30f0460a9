"""`make grade` and `make test` set up .venv on first use, and only when the pins change.

A fresh clone next to a prepared environment (its files all newer than the stamp) must not
rebuild it: the rebuild takes minutes. Checked with `make -n`, which prints what make would
run without running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from grader import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                                reason="needs make and git")


def stamp_name(requirements: Path) -> str:
    """The stamp common.mk names after the pinned list's content (POSIX cksum)."""
    checksum = subprocess.run(["cksum"], input=requirements.read_bytes(), capture_output=True,
                              check=True).stdout.split()[0].decode()
    return f".installed-{checksum}"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of this checkout with a prepared .venv whose stamp is older than every file."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(clone)],
                   check=True, capture_output=True)
    # The working tree, not the last commit: the Makefiles under test may be uncommitted.
    for name in ("Makefile", "common.mk", "requirements.txt"):
        shutil.copy2(ROOT / name, clone / name)
    stamp = clone / ".venv" / stamp_name(clone / "requirements.txt")
    stamp.parent.mkdir()
    stamp.touch()
    old = time.time() - 3600
    os.utime(stamp, (old, old))
    return clone


def dry_run(folder: Path, target: str) -> str:
    process = subprocess.run(["make", "-n", target], cwd=folder, capture_output=True, text=True,
                             check=True)
    return process.stdout


@pytest.mark.parametrize("target", ["grade", "test"])
def test_a_fresh_clone_next_to_a_prepared_environment_does_not_reinstall(clone, target):
    commands = dry_run(clone, target)
    assert "pip install" not in commands and "rm -rf .venv" not in commands, commands
    assert "-m grader" in commands or "-m pytest" in commands


def test_changed_pins_rebuild_the_environment_and_say_why(clone):
    with open(clone / "requirements.txt", "a") as requirements:
        requirements.write("# one more line\n")
    commands = dry_run(clone, "grade")
    assert "requirements.txt changed since .venv was made" in commands
    assert "pip install" in commands


def test_first_use_creates_the_environment(clone):
    shutil.rmtree(clone / ".venv")
    commands = dry_run(clone, "grade")
    assert "first use: creating .venv" in commands and "pip install" in commands
