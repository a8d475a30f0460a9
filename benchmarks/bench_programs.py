"""The exercises' programs: each default run's wall time, and what threads do to an epoch.

Rows: the wall time of `python -m programs.<name> --reference` with its default options (the
budget is 2 minutes on a quiet two-core machine), then the time of one solubility training
epoch with 1 and 2 PyTorch threads, on the machine as it is and with a busy process per core
beside it (a shared machine), which is why the programs default to one thread.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

from grader import ROOT

OUT = ROOT / "build" / "benchmark"
PROGRAMS = {
    "grad_accumulation": [],
    "solubility": [],
    "secondary_structure": [],
    "protein_features": [],
    "network_basics": [],
    "autograd_basics": [],
    "variant_classifier": [],
    "learning_rates": ["--out", str(OUT / "learning_rate_sweep.png")],
    "optimizers": ["--out", str(OUT / "optimizer_comparison.png")],
}
EPOCH = """
import time, torch
from solutions import solubility as s
from data import load_solubility
from programs.solubility import make_loader
torch.set_num_threads({threads})
loader = make_loader(s, load_solubility("train"), 400, 32, True, 0)
torch.manual_seed(0)
model = s.ProteinSolubilityClassifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
started = time.perf_counter()
s.train_one_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer, "cpu")
print(time.perf_counter() - started)
"""


def program_seconds(name: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", f"programs.{name}", "--reference", *PROGRAMS[name]],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def epoch_seconds(threads: int) -> float:
    """One epoch of the solubility program's training, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", EPOCH.format(threads=threads)], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


@contextlib.contextmanager
def busy_cores() -> Iterator[None]:
    """A process spinning on each core, as other users' jobs on a shared machine."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(os.cpu_count() or 1)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def run() -> list[tuple[str, str]]:
    if not (ROOT / "solutions").is_dir():
        return [("programs", "skipped: no solutions/ in this checkout")]
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [(f"program {name}: default run (wall)", f"{program_seconds(name):.0f} s")
            for name in PROGRAMS]
    for condition, context in (("as is", contextlib.nullcontext), ("+ busy cores", busy_cores)):
        load = os.getloadavg()[0]
        with context():
            seconds = {threads: epoch_seconds(threads) for threads in (1, 2)}
        rows.append((f"solubility epoch, 1 / 2 threads ({os.cpu_count()} cores at load "
                     f"{load:.1f}{', ' + condition if context is busy_cores else ''})",
                     f"{seconds[1]:.1f} s / {seconds[2]:.1f} s"))
    return rows
