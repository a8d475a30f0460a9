"""The exercises' programs: each runs on the reference, on the student's module by default,
reports progress, and calls ties ties.

Their run times are measured by `make benchmark` (benchmarks/bench_programs.py), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from data.progress import EpochProgress, Progress
from grader import ROOT
from programs import optimizers
from programs.options import ProgramParser

# Every program but the optimizer race (tested on its own below), with options that make
# its run a few seconds on the CPU.
SHORT_RUNS = {
    "autograd_basics": ["--steps", "10"],
    "grad_accumulation": ["--epochs", "1", "--samples", "200"],
    "learning_rates": ["--steps", "10"],
    "network_basics": [],
    "protein_features": [],
    "secondary_structure": ["--epochs", "1", "--window", "2"],
    "solubility": ["--epochs", "1", "--max-len", "100"],
    "variant_classifier": ["--epochs", "5"],
}
RUN_EACH = """
import importlib, json, sys
for name, args in json.loads(sys.argv[1]).items():
    print(f"=== {name}", flush=True)
    importlib.import_module(f"programs.{name}").main(["--reference", *args])
"""

RUN_WITHOUT_SOLUBILITY = """
import sys
from programs import optimizers
optimizers.main(sys.argv[1:])
assert "solubility" not in {name.split(".")[-1] for name in sys.modules}, "imported solubility"
"""


def test_every_program_runs_on_the_reference(tmp_path):
    programs = {path.stem for path in (ROOT / "programs").glob("*.py")} - {
        "__init__", "options", "tensors"}
    assert programs == {*SHORT_RUNS, "optimizers"}
    runs = {**SHORT_RUNS, "learning_rates": [*SHORT_RUNS["learning_rates"], "--out",
                                             str(tmp_path / "sweep.png")]}
    done = subprocess.run([sys.executable, "-c", RUN_EACH, json.dumps(runs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert [line for line in done.stdout.splitlines() if line.startswith("=== ")] == [
        f"=== {name}" for name in runs]
    assert (tmp_path / "sweep.png").is_file()


def test_a_program_runs_the_students_module_unless_asked_for_the_reference():
    parser = ProgramParser("network_basics", None)
    threads = torch.get_num_threads()
    try:
        args, impl = parser.start([])
        assert impl.__name__ == "exercises.network_basics" and not args.reference
        args, impl = parser.start(["--reference", "--device", "cpu", "--threads", "1"])
        assert impl.__name__ == "solutions.network_basics"
        assert args.device == torch.device("cpu") and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_reference_without_solutions_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr("programs.options.importlib.util.find_spec", lambda name: None)
    with pytest.raises(SystemExit) as exited:
        ProgramParser("mcc", None).start(["--reference"])
    assert exited.value.code == 2 and "no reference implementation" in capsys.readouterr().err


def test_optimizer_race_runs_without_the_solubility_exercise(tmp_path):
    out = tmp_path / "race.png"
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_SOLUBILITY, "--reference",
                           "--epochs", "2", "--out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
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
