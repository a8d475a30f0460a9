"""The exercises' programs: they run on their own, report progress, and call ties ties.

Their run times are measured by `make benchmark` (benchmarks/bench_programs.py), not here.
"""

from __future__ import annotations

import subprocess
import sys

from data.progress import EpochProgress, Progress
from grader import ROOT
from solutions import optimizers

RUN_WITHOUT_SOLUBILITY = """
import sys
from solutions import optimizers
optimizers.main(sys.argv[1:])
assert "solubility" not in {name.split(".")[-1] for name in sys.modules}, "imported solubility"
"""


def test_optimizer_race_runs_without_the_solubility_exercise(tmp_path):
    out = tmp_path / "race.png"
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_SOLUBILITY, "--epochs", "2",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "adamw epoch  2/2" in done.stdout and "s left]" in done.stdout
    assert out.is_file() and (tmp_path / "race_weight_norm.png").is_file()


def test_a_race_decided_below_the_printed_precision_is_a_tie():
    keys = {"sgd": (5, 0.61), "adam": (3, 0.500001), "adamw": (3, 0.50004)}
    assert optimizers._verdict("adam", keys) == (
        "a tie between adam and adamw (epoch 3, loss 0.5000)")
    assert optimizers._verdict("adam", {**keys, "adamw": (3, 0.5001)}) == (
        "adam (epoch 3, loss 0.5000)")
    assert optimizers._verdict(None, keys) == "None"


def test_epoch_progress_reports_each_pass_with_time_left():
    lines = []
    progress = Progress(4, log=lines.append)
    loader = EpochProgress([1, 2, 3], progress, lambda epoch: f"epoch {epoch}/4")
    assert [list(loader) for _ in range(2)] == [[1, 2, 3]] * 2 and len(loader) == 3
    assert [line.split("  [")[0] for line in lines] == ["epoch 1/4", "epoch 2/4"]
    assert all(line.endswith(" s left]") for line in lines)
