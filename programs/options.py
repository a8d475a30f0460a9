"""The command line every program shares: which module it runs, on which device, with how
many CPU threads, and on which data.

A program runs the student's module, `exercises/<exercise>.py`, by default: it is how a
student sees their code at work. `--reference` runs the reference implementation instead
(the course staff's repository only: a student's has none).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Sequence
from types import ModuleType

import torch


class ProgramParser(argparse.ArgumentParser):
    """`python -m programs.<exercise>`'s arguments: the shared options, then the program's.

    data_dir: the program can train on the real public sets (`--data-dir DIR`).
    """

    def __init__(self, exercise: str, description: str | None, *, data_dir: bool = False
                 ) -> None:
        super().__init__(prog=f"python -m programs.{exercise}", description=description)
        self.exercise = exercise
        self.add_argument("--reference", action="store_true",
                          help=f"run the reference implementation instead of your "
                          f"exercises/{exercise}.py (the course staff's repository only)")
        self.add_argument("--device", type=torch.device,
                          default="cuda" if torch.cuda.is_available() else "cpu",
                          help="where the tensors and models go (default: cuda when PyTorch "
                          "sees a GPU, else cpu)")
        self.add_argument("--threads", type=int, default=1,
                          help="CPU threads (default 1: faster than 2 on a busy two-core "
                          "machine)")
        if data_dir:
            self.add_argument("--data-dir", default=None,
                              help="folder of the real public sets (`make data-real`, "
                              "data/README.md); default: the embedded data")

    def start(self, argv: Sequence[str] | None) -> tuple[argparse.Namespace, ModuleType]:
        """Parse `argv`, set PyTorch's threads, and import the module the program runs."""
        args = self.parse_args(argv)
        if args.reference and importlib.util.find_spec("solutions") is None:
            self.error("--reference: this repository has no reference implementation (a "
                       "student's has none); leave it out to run your exercises/ module")
        torch.set_num_threads(args.threads)
        package = "solutions" if args.reference else "exercises"
        return args, importlib.import_module(f"{package}.{self.exercise}")

