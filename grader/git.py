"""Git, as the grader runs it: in a folder, output as bytes, failures as one error type."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitError(Exception):
    """A git command failed (or git is missing); the message is git's own."""


def git(cwd: Path, *args: str, ceiling: Path | None = None,
        env: dict[str, str] | None = None) -> bytes:
    """The standard output of `git ARGS` run in `cwd`.

    ceiling: stop looking for the repository there, so that a folder that is not a
    repository never reads the history of one around it. env: variables to set on top of
    this process's.
    """
    extra = {**(env or {}),
             **({"GIT_CEILING_DIRECTORIES": str(ceiling.resolve())} if ceiling else {})}
    try:
        process = subprocess.run(["git", *args], cwd=cwd, capture_output=True,
                                 env={**os.environ, **extra} if extra else None)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if process.returncode != 0:
        raise GitError(process.stderr.decode(errors="replace").strip())
    return process.stdout


def git_or_none(cwd: Path, *args: str, ceiling: Path | None = None) -> bytes | None:
    """`git`, or None when it fails (no git, not a repository, no such commit...)."""
    try:
        return git(cwd, *args, ceiling=ceiling)
    except GitError:
        return None
