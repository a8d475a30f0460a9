"""The student release: this repository without the reference, graded against recordings.

`build(dest)` writes the repository students get:

- `exercises/` (the stubs, made afresh from `solutions/`), `grader/` without its
  self-tests, `tests/` with hidden checks removed, `data/`, `programs/` (which run the
  student's modules), the pinned requirements;
- `tests/recordings/`: every result the public checks ask of the reference, recorded by
  grading the reference with the release's own suites (so hidden checks leave no trace);
- the files in `release/` (Makefile, README, CI workflow, the release's own test);
- `release.json`: the instructor commit, the recordings' hash, the hidden points per
  exercise, and the files the release owns (so a rebuild knows what it may replace).

Everything is built in a temporary folder first; the destination changes only once the
recordings are made and the release passes its own `make test` there. The destination is
a git repository, ready to push as the course's template: one commit by the course, and a
rebuild (`replace=True`) commits the update on top. A rebuild never overwrites a stub a
student edited.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from grader import ROOT
from grader.course.stubs import expected_stubs
from grader.exercises import exercise_files, exercise_names, marked_checks, marks_of
from grader.git import GitError, git
from grader.judging.environment import MANIFEST, release_version, source_commit

TEMPLATES = ROOT / "release"
# Tracked files shipped as they are, by folder; grader/tests (self-tests, mutants) stays here.
SHIPPED = ("grader/", "tests/", "data/", "programs/", "requirements.txt", "pyproject.toml",
           "common.mk")
KEPT_HERE = ("grader/tests/", "tests/recordings/")
# Template file -> its place in the release.
TEMPLATE_FILES = {
    "Makefile": "Makefile",
    "gitignore": ".gitignore",
    "test_release.py": "grader/tests/test_release.py",
    "tests_init.py": "grader/tests/__init__.py",
}
WORKFLOW = ".github/workflows/grade.yml"
STUDENT_PART = ("<!-- begin student -->", "<!-- end student -->")
# Who commits the release: the course, never a person (checkoff verify matches a receipt's
# student with the emails of a repository's commits).
COURSE_AUTHOR = {"GIT_AUTHOR_NAME": "Course staff", "GIT_AUTHOR_EMAIL": "course@release.invalid",
                 "GIT_COMMITTER_NAME": "Course staff",
                 "GIT_COMMITTER_EMAIL": "course@release.invalid"}
NO_NOTES_URL = "ask the course staff where they are (they are not part of this repository)"


class ReleaseError(Exception):
    """The release could not be built; the message says why and what to do."""


def strip_hidden(source: str) -> tuple[str, float]:
    """A suite's text without its `@pytest.mark.hidden` checks, and their points."""
    lines = source.splitlines(keepends=True)
    hidden_points = 0.0
    spans = []
    for node in marked_checks(source, "hidden"):
        points = marks_of(node).get("pytest.mark.points")
        if isinstance(points, ast.Call):
            hidden_points += float(ast.literal_eval(points.args[0]))
        start = min(d.lineno for d in node.decorator_list)
        spans.append((start - 1, node.end_lineno))
    for start, end in reversed(spans):
        # Take the blank lines after the check too, so the file keeps its spacing.
        while end < len(lines) and not lines[end].strip():
            end += 1
        del lines[start:end]
    return "".join(lines), hidden_points


def tracked_files(root: Path = ROOT) -> list[str]:
    try:
        out = git(root, "ls-files", "-z")
    except GitError as exc:
        raise ReleaseError(f"{root} is not a git checkout: the release ships tracked files "
                           "only") from exc
    return sorted(name for name in out.decode().split("\0") if name)


def student_readme(version: str, hidden: dict[str, float], notes_url: str | None = None) -> str:
    """The release README: the template around the student part of this README.

    notes_url: where students read the course notes the handouts cite.
    """
    text = (ROOT / "README.md").read_text()
    begin, end = STUDENT_PART
    if begin not in text or end not in text:
        raise ReleaseError(f"README.md lacks the {begin} ... {end} markers around the part "
                           "students read")
    student = text.split(begin, 1)[1].split(end, 1)[0].strip()
    hidden_lines = "".join(f"  - {name}: {points:g} of its points are graded after you submit\n"
                           for name, points in sorted(hidden.items()) if points)
    fields = {"{student_part}": student, "{version}": version,
              "{hidden}": hidden_lines or "  - none: the table shows every graded point\n",
              "{course_notes}": f"they are at {notes_url}" if notes_url else NO_NOTES_URL}
    text = (TEMPLATES / "README.md").read_text()
    for placeholder, value in fields.items():
        text = text.replace(placeholder, value)
    return text


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assemble(tree: Path, keep_hidden: bool, exercises: list[str]) -> dict[str, float]:
    """Write every file of the release but the recordings into `tree`; return hidden points."""
    hidden: dict[str, float] = {}
    left_out = {path for name in set(exercise_names()) - set(exercises)
                for path in exercise_files(name, optional=True)}
    for name in tracked_files():
        if not name.startswith(SHIPPED) or name.startswith(KEPT_HERE) or name in left_out:
            continue
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.startswith("tests/test_") and name.endswith(".py") and not keep_hidden:
            text, points = strip_hidden(source.read_text())
            hidden[Path(name).stem.removeprefix("test_")] = points
            target.write_text(text)
        else:
            shutil.copy2(source, target)
    (tree / "exercises").mkdir()
    shutil.copy2(ROOT / "exercises" / "__init__.py", tree / "exercises" / "__init__.py")
    for name, text in _stubs(exercises).items():
        (tree / "exercises" / name).write_text(text)
    for template, place in TEMPLATE_FILES.items():
        (tree / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATES / template, tree / place)
    (tree / WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
    (tree / WORKFLOW).write_text(grading_workflow(exercises))
    return hidden


def _stubs(exercises: list[str]) -> dict[str, str]:
    return {name: text for name, text in expected_stubs(for_release=True).items()
            if Path(name).stem in exercises}


def grading_workflow(names: list[str]) -> str:
    """The release's CI workflow, with one GitHub Classroom runner per exercise."""
    env = "".join(f'          {name.upper()}_RESULTS: "${{{{ steps.grade.outputs.{name} }}}}"\n'
                  for name in names)
    return ((TEMPLATES / "grade.yml").read_text().replace("{runner_env}\n", env)
            .replace("{runners}", ",".join(names)))


def _record(tree: Path) -> None:
    """Grade the reference with the release's own suites and keep its results."""
    process = subprocess.run(
        [sys.executable, "-m", "grader", "record", "--reference", str(ROOT / "solutions"),
         "--out", str(tree / "tests" / "recordings")],
        cwd=tree, capture_output=True, text=True,
        # Nothing but the recordings may land in the tree.
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
             "HYPOTHESIS_STORAGE_DIRECTORY": str(tree.parent / "hypothesis")},
    )
    if process.returncode != 0:
        raise ReleaseError(f"recording the reference failed:\n{process.stdout}{process.stderr}")


def build(dest: Path, *, replace: bool = False, keep_hidden: bool = False,
          exercises: list[str] | None = None, check: bool = False, repository: bool = False,
          notes_url: str | None = None) -> dict:
    """Build the student release in `dest`; return its manifest.

    keep_hidden: keep the hidden checks and record them too, for instructor grading where
    students cannot read the files (Gradescope's autograder).
    exercises: ship and record only these (an autograder per assignment); default all.
    check: run the release's own `make test` before installing it (`self_check`).
    repository: make `dest` a git repository and commit the release (the update, on a
    rebuild) as the course.
    notes_url: where the README tells students to read the course notes.
    """
    every = exercise_names()
    exercises = every if exercises is None else sorted(set(exercises))
    unknown = sorted(set(exercises) - set(every))
    if unknown or not exercises:
        raise ReleaseError(f"unknown exercise {', '.join(unknown) or '(none given)'}: "
                           f"choose from {', '.join(every)}")
    dest = dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        raise ReleaseError(f"{dest} is inside this repository: build the release elsewhere")
    previous = _previous_release(dest, replace)
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        tree = Path(tmp) / "release"
        tree.mkdir()
        hidden = _assemble(tree, keep_hidden, exercises)
        _record(tree)
        recordings = json.loads((tree / "tests" / "recordings" / "manifest.json").read_text())
        files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
        strays = [name for name in files if "__pycache__" in name or name.startswith(".hyp")]
        if strays:
            raise ReleaseError(f"recording left files in the release: {strays[:5]}")
        manifest = {
            "commit": source_commit(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "recordings": recordings["sha256"],
            "devices": recordings["devices"],
            "hidden_points": hidden,
            "exercises": exercises,
            "stubs": {name: _file_hash(tree / "exercises" / name) for name in _stubs(exercises)},
            "files": [*files, MANIFEST, "README.md"],
        }
        version = release_version(manifest)
        (tree / "README.md").write_text(student_readme(version, hidden, notes_url))
        (tree / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if check:
            # On a copy: the tests' caches must not land in what is installed.
            self_check(shutil.copytree(tree, Path(tmp) / "checked"))
        kept = _install(tree, dest, previous)
    if repository:
        _commit(dest, f"{'Update the release to' if previous else 'The course release,'} "
                f"version {version}", kept)
    manifest["kept"] = kept
    return manifest


def self_check(folder: Path, python: str = sys.executable) -> str:
    """Run a release's own `make test` in `folder` with `python`'s environment (no set-up:
    the instructor's, with the same pinned requirements); return its output.

    Raises ReleaseError, with the output, when it fails.
    """
    # PY and STAMP given on the command line: make uses this interpreter as it is, and the
    # environment's stamp is a file that exists, so nothing is installed or removed.
    try:
        process = subprocess.run(["make", "--no-print-directory", "test", f"PY={python}",
                                  f"STAMP={python}"], cwd=folder, capture_output=True, text=True)
    except OSError as exc:
        raise ReleaseError(f"cannot run the release's own `make test`: {exc}") from exc
    output = process.stdout + process.stderr
    if process.returncode != 0:
        raise ReleaseError(f"the release fails its own `make test` (nothing was installed):\n"
                           f"{output[-4000:]}")
    return output


def _commit(dest: Path, message: str, kept: list[str]) -> None:
    """Commit everything the release owns in `dest` as the course (a first commit makes the
    repository); a stub a student edited stays as it is, uncommitted."""
    def as_course(*args: str) -> None:
        try:
            git(dest, "-c", "commit.gpgsign=false", *args, env=COURSE_AUTHOR)
        except GitError as exc:
            raise ReleaseError(f"git {args[0]} failed in {dest}: {exc}") from exc

    if not (dest / ".git").exists():
        as_course("init", "--quiet", "--initial-branch=main")
    as_course("add", "--all", "--", ".", *(f":(exclude){name}" for name in kept))
    as_course("commit", "--quiet", "--no-verify", "-m", message)


def _previous_release(dest: Path, replace: bool) -> dict | None:
    if not dest.exists() or not any(dest.iterdir()):
        return None
    manifest_path = dest / MANIFEST
    if not replace:
        raise ReleaseError(f"{dest} is not empty: pass --replace (make release ... REPLACE=1) "
                           "to update the release there; students' edited stubs are kept")
    if not manifest_path.is_file():
        raise ReleaseError(f"{dest} holds no {MANIFEST}: it is not a release, so nothing in it "
                           "is replaced; choose an empty or new folder")
    return json.loads(manifest_path.read_text())


def _install(tree: Path, dest: Path, previous: dict | None) -> list[str]:
    """Move the built tree into `dest`; return the edited stubs that were kept."""
    dest.mkdir(parents=True, exist_ok=True)
    kept = []
    if previous is not None:
        old_stubs = previous.get("stubs", {})
        for name in previous.get("files", []):
            path = dest / name
            stub = Path(name).name
            if (name.startswith("exercises/") and stub in old_stubs and path.is_file()
                    and _file_hash(path) != old_stubs[stub]):
                kept.append(name)  # the student's work: never overwritten
            elif path.is_file():
                path.unlink()
    for path in sorted(tree.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(tree))
        if name in kept:
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return kept
