"""Grade many submissions of one exercise in a single grading session, as an instructor would.

One session shares the reference's cached results and the fork server across all the
submissions, which keeps the mutant sets fast. Results are cached for the whole test run,
across xdist workers (a file per grading, made under a lock), so each grading runs once.
The same submissions can be graded in a student release built from this checkout
(`release=True`), which has no `solutions/` and reads the reference's recordings.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from grader import ROOT
from grader.course.release import tracked_files
from grader.course.warm import CommandResult, WarmGrader
from grader.exercises import exercise_names, marked_checks, suite_path
from grader.isolation.sandbox import Outcome, Sandbox
from grader.judging.results import CheckResult, SubmissionResult
from grader.tests.batch_of_one import refusing_mutant
from solutions.variants import DEFAULT_MINIMUMS, Variant
from tests.probes import mcc as mcc_probes

# (exercise, mutant, rule): the known mutants that take a shortcut their exercise's by-hand
# rule forbids, and the rule as feedback and results.json state it. No other known
# submission may break a rule.
BY_HAND_MUTANTS = (
    ("optimizers", "classes_are_torch_optim",
     "SGDMomentum subclasses torch.optim.SGD; write the update rule yourself"),
    ("mcc", "calls_sklearn_mcc",
     "matthews_corrcoef uses sklearn.metrics.matthews_corrcoef; compute the MCC yourself"),
    ("autograd_basics", "manual_uses_autograd", "manual_gradients uses torch.autograd.grad; "
     "write the chain rule yourself, without autograd"),
    ("learning_rates", "step_decay_with_steplr", "step_decay uses "
     "torch.optim.lr_scheduler.StepLR; write the schedule as a formula of the epoch, "
     "without torch.optim.lr_scheduler"),
)


def variants(exercise: str, kind: str) -> list[Variant]:
    """MUTANTS, ALTERNATIVES or HOSTILE of an exercise (empty when it has none); the
    mutants end with the kit's batch-of-one mutant (grader.tests.batch_of_one)."""
    module = importlib.import_module(f"solutions.variants.{exercise}")
    found = list(getattr(module, kind, []))
    return found + [refusing_mutant(exercise)] if kind == "MUTANTS" else found


def minimums(exercise: str) -> tuple[int, int]:
    """(mutants, alternatives) an exercise must keep: its variants module's MINIMUMS."""
    module = importlib.import_module(f"solutions.variants.{exercise}")
    return getattr(module, "MINIMUMS", DEFAULT_MINIMUMS)


def per_exercise(kind: str | None = None) -> list:
    """Params (exercise[, variant]) grouped so one xdist worker grades each exercise once."""
    params = []
    for exercise in exercise_names():
        group = pytest.mark.xdist_group(exercise)
        if kind is None:
            params.append(pytest.param(exercise, marks=group, id=exercise))
        else:
            params += [pytest.param(exercise, v, marks=group, id=f"{exercise}-{v.name}")
                       for v in variants(exercise, kind)]
    return params


def run_grader(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess | CommandResult:
    """`python -m grader ARGS`; env: variables to set on top of this process's.

    In this checkout or the test run's student release, with no variable set, the command
    runs in a warm grader kept for the test run (`grader.course.warm`): it prints and exits as a
    fresh process would, without paying the seconds of imports each time.
    """
    if env is None and Path(cwd) in (ROOT, _cache_folder() / "release"):
        return _warm_grader(Path(cwd)).run(list(args), timeout=1200)
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1200, env={**os.environ, **(env or {})})


_WARM_GRADERS: dict[Path, WarmGrader] = {}


def _warm_grader(cwd: Path) -> WarmGrader:
    warm = _WARM_GRADERS.get(cwd)
    if warm is None or not warm.alive():
        # Hypothesis's caches go to the test run's folder: not into the shared release, whose
        # files other tests inspect.
        warm = _WARM_GRADERS[cwd] = WarmGrader(cwd, env={
            **os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(_cache_folder() / "hypothesis")})
        atexit.register(warm.close)
    return warm


def copy_of_checkout(dest: Path) -> Path:
    """The checkout's tracked files (solutions/ included) copied to `dest`, for a test that
    breaks or attacks them."""
    for name in tracked_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _cache_folder() -> Path:
    folder = Path(os.environ.get("GRADER_SELFTEST_CACHE") or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock named after `path`: another xdist worker may be making it."""
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def student_release() -> Path:
    """A student release built from this checkout, once per test run."""
    dest = _cache_folder() / "release"
    with _locked(dest):
        if not (dest / "release.json").is_file():
            shutil.rmtree(dest, ignore_errors=True)
            # Without its own make test: test_release_passes_its_own_make_test runs it.
            process = run_grader("release", "--dest", str(dest), "--no-self-check")
            if process.returncode != 0:
                raise RuntimeError(f"make release failed:\n{process.stdout}{process.stderr}")
    return dest


@functools.cache
def graded(exercise: str, kinds: tuple[str, ...] = ("MUTANTS", "ALTERNATIVES"),
           timeout_scale: float = 1.0, *, release: bool = False,
           ) -> dict[str, SubmissionResult]:
    """{submission name: its result} for the reference, the stub and the variants (read
    from the results documents the grader wrote)."""
    return {name: SubmissionResult.from_dict(document) for name, document
            in graded_documents(exercise, kinds, timeout_scale, release=release).items()}


def graded_documents(exercise: str, kinds: tuple[str, ...] = ("MUTANTS", "ALTERNATIVES"),
                     timeout_scale: float = 1.0, *, release: bool = False) -> dict[str, dict]:
    """{submission name: the results document the grader wrote}, as `graded`."""
    stored = _stored(exercise, kinds, timeout_scale, release)
    with _locked(stored):
        if not stored.exists():
            root = student_release() if release else ROOT
            asked = None if release else stored.with_suffix(".asked")
            stored.write_text(json.dumps(_grade_variants(exercise, kinds, timeout_scale, root,
                                                         asked)))
    return json.loads(stored.read_text())


def asked_of_reference(exercise: str, kinds: tuple[str, ...] = ("MUTANTS", "ALTERNATIVES"),
                       timeout_scale: float = 1.0) -> list[Path]:
    """Recordings of every reference result that grading the variants here compared with
    (one folder per grading session)."""
    graded(exercise, kinds, timeout_scale)
    asked = _stored(exercise, kinds, timeout_scale, False).with_suffix(".asked")
    return sorted(asked.iterdir())


def _stored(exercise: str, kinds: tuple[str, ...], timeout_scale: float, release: bool) -> Path:
    where = "release" if release else "live"
    return _cache_folder() / f"{exercise}-{'-'.join(kinds)}-{timeout_scale}-{where}.json"


def slow_checks(exercise: str) -> set[str]:
    """The checks of a suite marked `full_grade_only` (read from its syntax tree)."""
    return {node.name for node in marked_checks(suite_path(exercise).read_text(),
                                                "full_grade_only")}


def graded_quickly(exercise: str, kind: str, variant: Variant) -> bool:
    """Whether a variant is graded without the slow checks (see `Variant.full`)."""
    named = {*variant.keeps, *(check for check, _ in (*variant.knock_on, *variant.unblamed))}
    return kind == "MUTANTS" and not variant.full and not named & slow_checks(exercise)


def _grade_variants(exercise: str, kinds: tuple[str, ...], timeout_scale: float,
                    root: Path, asked: Path | None) -> dict:
    """Grade the variants with the grader and suites of `root` (this checkout or a release);
    `asked`: where to save the reference results the grading compared with (live only).
    Returns {submission name: its results document}."""
    with tempfile.TemporaryDirectory(prefix=f"variants-{exercise}-") as tmp:
        # Targets are named by folder: in this checkout the reference is `solutions`
        # itself, whose results the grading session shares with the reference's.
        targets = {"reference": ROOT / "solutions", "stub": root / "exercises"}
        if root != ROOT:
            targets["reference"] = Path(tmp) / "submissions" / "reference"
            targets["reference"].mkdir(parents=True)
            shutil.copy2(ROOT / "solutions" / f"{exercise}.py", targets["reference"])
        quick = set()
        for kind in kinds:
            for variant in variants(exercise, kind):
                folder = Path(tmp) / "submissions" / variant.name
                folder.mkdir(parents=True)
                (folder / f"{exercise}.py").write_text(variant.source(exercise))
                targets[variant.name] = folder
                if graded_quickly(exercise, kind, variant):
                    quick.add(variant.name)
        results = {}
        for session, names in (("full", set(targets) - quick), ("quick", quick)):
            if not names:
                continue
            out = Path(tmp) / session
            process = run_grader(
                "grade", "--exercise", exercise, "--device", "cpu", "--out", str(out),
                f"--timeout-scale={timeout_scale}", *(["--quick"] if session == "quick" else []),
                *([f"--save-reference={asked / session}"] if asked else []),
                *(f"--target={targets[name]}" for name in sorted(names)), cwd=root)
            if process.returncode != 0:
                raise RuntimeError(f"grading failed ({process.returncode}):\n{process.stdout}\n"
                                   f"{process.stderr}")
            for name in names:
                report = out / targets[name].name / "results.json"
                results[name] = json.loads((report if len(names) > 1 else out / "results.json")
                                           .read_text())
        return results


def checks(result: SubmissionResult) -> list[CheckResult]:
    """Every check graded, of every exercise."""
    return [check for exercise in result.exercises for check in exercise.checks]


def failing_checks(result: SubmissionResult) -> dict[str, str]:
    """{check (test function) name: output} of the checks that lost points."""
    return {check.name: check.output for check in checks(result)
            if check.score < check.max_score}


def same_plain(a, b) -> bool:
    """Whether two recorded results are identical: tensors bit for bit (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.dtype == b.dtype and a.shape == b.shape
                and bool(((a == b) | (a != a) & (b != b)).all()))
    if isinstance(a, dict) or isinstance(b, dict):
        return (type(a) is type(b) and a.keys() == b.keys()
                and all(same_plain(a[k], b[k]) for k in a))
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_plain(x, y) for x, y in zip(a, b, strict=True)))
    return a == b or (a != a and b != b)


def mcc_calls(folder: Path, source: str, *cases: dict) -> list[Outcome]:
    """`source` as `folder`/mcc.py, its confusion_counts called on each case in turn by one
    sandbox (an untrusted worker, replaced only where a call ends it)."""
    (folder / "mcc.py").write_text(source)
    sandbox = Sandbox()
    try:
        return [sandbox.run(folder, "mcc", mcc_probes.confusion_counts, case, "cpu")
                for case in cases]
    finally:
        sandbox.close()
