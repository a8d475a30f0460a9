"""What a grade depends on besides the submission: versions, devices, seeds, and which
grader and reference graded (the release and commit: its provenance)."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import hypothesis
import numpy
import torch

import grader
from grader import ROOT
from grader.git import GitError, git
from grader.isolation import confinement
from grader.judging.reference import SEED

MANIFEST = "release.json"  # a release's manifest, at its root


def describe(devices: tuple[str, ...]) -> dict:
    cuda = torch.cuda.is_available()
    built = installed()
    return {
        "grader": grader.__version__,
        # Which grader and reference graded: a release names the instructor commit it was
        # built from and its recordings; the instructor's checkout, its own commit.
        "release": None if built is None else {
            "version": release_version(built), "commit": built["commit"],
            "recordings": built["recordings"], "recorded_devices": built["devices"]},
        "commit": source_commit() if built is None else built["commit"],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "devices": list(devices),
        "seed": SEED,
        "hypothesis_profile": "grading",
        "executable": sys.executable,
        # What kept each submission's worker in (grader.isolation.confinement).
        "confinement": asdict(confinement.available()),
    }


def installed() -> dict | None:
    """The manifest of the release this checkout is, or None in the instructor's repository."""
    path = ROOT / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def source_commit(root: Path = ROOT) -> str | None:
    """The commit of a git checkout, with "-dirty" when tracked files differ from it."""
    try:
        commit = git(root, "rev-parse", "HEAD").decode().strip()
        dirty = git(root, "status", "--porcelain", "--untracked-files=no").strip()
    except GitError:
        return None
    return commit + ("-dirty" if dirty else "")


def release_version(manifest: dict) -> str:
    """How a release names itself: the instructor commit and the recordings' hash."""
    commit = manifest.get("commit") or "unknown"
    return f"{commit[:12]}{'-dirty' if commit.endswith('-dirty') else ''} " \
           f"(recordings {manifest['recordings'][:12]})"
