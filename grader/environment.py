"""What a grade depends on besides the submission: versions, devices, seeds."""

from __future__ import annotations

import platform
import sys

import hypothesis
import numpy
import torch

import grader
from grader.plugin import SEED


def describe(devices: tuple[str, ...]) -> dict:
    cuda = torch.cuda.is_available()
    return {
        "grader": grader.__version__,
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
    }
