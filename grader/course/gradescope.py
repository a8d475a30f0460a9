"""Gradescope: the autograder zip (`make gradescope`), and the grade it runs per submission.

The zip is a release built with the hidden checks kept (and recorded), plus Gradescope's
two scripts from `release/gradescope/`: `setup.sh` installs once, with the Python version
the project is tested with, `requirements.lock`: every package of the environment that
built the zip at its version (so Gradescope grades with what the instructor graded with),
and `run_autograder` grades each submission. No `solutions/` goes into it: the reference's
results are recorded, so nothing in the container can leak the reference.
"""

from __future__ import annotations

import importlib.metadata
import stat
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from grader import ROOT
from grader.course import intake, release
from grader.exercises import declared_points, exercise_names
from grader.judging import environment, reports
from grader.judging.grading import grade
from grader.judging.results import ExerciseResult, SubmissionResult

SCRIPTS = ROOT / "release" / "gradescope"
LOCK = "requirements.lock"
LEFT_OUT = {"pip", "setuptools", "wheel", "triton"}  # see `lock`
DEFAULT_ZIP = ROOT / "build" / "gradescope" / "autograder.zip"
GRADER_ERROR_NOTE = ("The grader itself failed on some checks (marked 'internal error'): "
                     "this is not your fault, and the course staff will regrade.\n\n")


def build_zip(path: Path = DEFAULT_ZIP, exercises: list[str] | None = None) -> dict:
    """Write the autograder zip; return the manifest of the release inside it.

    exercises: the assignment's exercises (default all); the autograder grades only these.
    """
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        tree = Path(tmp) / "source"
        manifest = release.build(tree, keep_hidden=True, exercises=exercises)
        for script in ("setup.sh", "run_autograder"):
            (tree / script).write_bytes((SCRIPTS / script).read_bytes())
        (tree / LOCK).write_text(lock())
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for file in sorted(tree.rglob("*")):
                if file.is_file():
                    info = zipfile.ZipInfo.from_file(file, str(file.relative_to(tree)))
                    executable = file.name in ("setup.sh", "run_autograder")
                    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, file.read_bytes())
        partial.replace(path)
    return manifest


def lock() -> str:
    """`name==version` for every package of this environment but the installers and the
    CUDA runtime that a GPU build of torch brings (Gradescope has no GPU: its torch is the
    CPU build of the same version, from PyTorch's CPU index)."""
    pins = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name.lower() in LEFT_OUT or name.lower().startswith("nvidia-"):
            continue
        version = dist.version.split("+")[0]
        pins[name.lower()] = f"{name}=={version}+cpu" if name.lower() == "torch" \
            else f"{name}=={version}"
    return "".join(f"{pins[key]}\n" for key in sorted(pins))


def run_submission(root: Path) -> dict:
    """Grade `root/submission` and write `root/results/results.json`; return what was written.

    Every check runs, hidden ones included; Gradescope shows those after publication.
    """
    with tempfile.TemporaryDirectory(prefix="submission-") as tmp:
        staging = Path(tmp)
        found = intake.stage(root / "submission", staging, exercise_names())
        if not found:  # every exercise not submitted: its document says so
            nothing = SubmissionResult(
                str(root / "submission"),
                [ExerciseResult(n, declared_points(n), submitted=False) for n in exercise_names()],
                environment.describe(()), datetime.now(UTC).isoformat(timespec="seconds"), 0.0)
            data = {**reports.gradescope(nothing), "output": "No exercise module was found in "
                    f"your submission: upload {', '.join(f'{n}.py' for n in exercise_names())} "
                    "(any of them), as they are in exercises/."}
        else:
            (result,) = grade(targets=[staging], exercises=exercise_names(), judges=None)
            data = reports.gradescope(result)
            if result.internal_errors:
                data["output"] = GRADER_ERROR_NOTE + data["output"]
    reports.write_json(root / "results" / "results.json", data)
    return data
