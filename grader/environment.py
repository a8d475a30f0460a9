"""What a grade depends on besides the submission: versions, devices, seeds."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict

import hypothesis
import numpy
import torch

import grader
from grader import confinement, release
from grader.reference import SEED


def describe(devices: tuple[str, ...]) -> dict:
    cuda = torch.cuda.is_available()
    built = release.installed()
    return {
        "grader": grader.__version__,
        # Which grader and reference graded: a release names the instructor commit it was
        # built from and its recordings; the instructor's checkout, its own commit.
        "release": None if built is None else {
            "version": release.release_version(built), "commit": built["commit"],
            "recordings": built["recordings"], "recorded_devices": built["devices"]},
        "commit": release.source_commit() if built is None else built["commit"],
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
        # What kept each submission's worker in (grader.confinement).
        "confinement": asdict(confinement.available()),
    }
