"""Where the reference's results come from: run live from `solutions/`, or read from recordings.

Probes are pure functions of (probe, case, device) and grading is derandomized, so
everything a grading run can ask of the reference can be recorded once (`record`) and
looked up exactly later. The student release ships recordings instead of `solutions/`:

    tests/recordings/manifest.json   devices recorded, one sha256 per exercise, the total
    tests/recordings/<exercise>.pt   {device: {key: result}}, plain data only

A recording is read with `torch.load(weights_only=True)`, which rebuilds tensors and
builtin containers and runs no code. A lookup that misses is the grader's fault (the
release is stale or was built from other suites), never a pass or a fail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from grader import ROOT
from grader.isolation import wire
from grader.isolation.sandbox import DEFAULT_TIMEOUT, Outcome, Sandbox
from grader.isolation.wire import ErrorKind

RECORDINGS = ROOT / "tests" / "recordings"
SOLUTIONS = ROOT / "solutions"
MANIFEST = "manifest.json"
SEED = 0  # every call is seeded with it, in the worker


class ReferenceUnavailable(RuntimeError):
    """The reference could not answer: a fault of the grader or of the release, not the student."""


class DeviceNotRecorded(Exception):
    """The recordings hold no results for this device (e.g. a release built on a CPU machine)."""


def device_kind(device: str) -> str:
    """"cuda:1" -> "cuda": recordings are per kind of device, not per index."""
    return device.split(":", 1)[0]


def canonical(value: Any) -> str:
    """A text that identifies a case exactly: equal plain data gives equal text.

    Dict keys are sorted, tuples and lists stay distinct, floats keep every bit (repr
    round-trips). Anything but plain data is refused: its text could not be trusted to
    identify it.
    """
    if value is None or type(value) in (bool, int, float, str):
        return repr(value)
    if type(value) is list:
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if type(value) is tuple:
        return "(" + ",".join(canonical(item) for item in value) + ",)"
    if type(value) is dict and all(type(key) is str for key in value):
        return "{" + ",".join(f"{key!r}:{canonical(value[key])}" for key in sorted(value)) + "}"
    raise TypeError(f"a case must be plain data (None, bool, int, float, str, list, tuple, "
                    f"dict with str keys), not {type(value).__name__}")


def record_key(exercise: str, probe: Callable, case: Any) -> str:
    """The key of one reference call, the same in every process and on every machine."""
    text = canonical((exercise, probe.__module__, probe.__name__, case, SEED))
    return hashlib.sha256(text.encode()).hexdigest()


# (reference folder, fingerprint of its modules) -> {(device, record key): outcome}: for the
# whole process, since a warm grader grades student after student (grader.course.warm).
_ANSWERED: dict[tuple[Path, str], dict[tuple[str, str], Outcome]] = {}


@dataclass
class LiveReference:
    """Runs the reference modules in the sandbox (trusted workers) and caches their results.

    The cache outlives the grading session: the reference answers every student alike (calls
    are seeded, grading derandomized), so a warm grader asks it once per case for as long as
    its modules' bytes stay the same. With `recording` set, it also keeps every result as
    plain data, to be saved.
    """

    sandbox: Sandbox
    directory: Path
    recording: bool = False
    _cache: dict[tuple[str, str], Outcome] = field(init=False)
    _records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory = self.directory.resolve()  # serves() compares with it on every call
        self._cache = _ANSWERED.setdefault((self.directory, _fingerprint(self.directory)), {})

    def serves(self, target: Path) -> bool:
        """Whether grading `target` is grading the reference itself (results are shared)."""
        return Path(target).resolve() == self.directory

    def run(self, exercise: str, probe: Callable, case: Any, device: str, *,
            timeout: float = DEFAULT_TIMEOUT, record: bool = True) -> Outcome:
        """The reference's outcome; `record=False` for calls made as the graded target."""
        key = record_key(exercise, probe, case)
        outcome = self._cache.get((device, key))
        if outcome is None:
            outcome = self.sandbox.run(self.directory, exercise, probe, case, device,
                                       timeout=timeout, seed=SEED, trusted=True)
            if outcome.kind not in (ErrorKind.TIMEOUT, ErrorKind.CRASH):
                self._cache[(device, key)] = outcome
        if outcome.ok and record and self.recording:
            self._records.setdefault(exercise, {}).setdefault(device_kind(device), {})[key] = (
                wire.encode(outcome.value))
        return outcome

    def save(self, folder: Path, devices: tuple[str, ...]) -> dict:
        """Write the recordings and their manifest into `folder`; return the manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        exercises = {}
        for exercise in sorted(self._records):
            path = folder / f"{exercise}.pt"
            torch.save(self._records[exercise], path)
            exercises[exercise] = {
                "file": path.name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "records": {device: len(records)
                            for device, records in self._records[exercise].items()},
            }
        manifest = {
            "devices": sorted(device_kind(d) for d in devices),
            "exercises": exercises,
            "sha256": recordings_hash(exercises),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest


def _fingerprint(directory: Path) -> str:
    """sha256 over the names and bytes of the reference's modules."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def recordings_hash(exercises: dict) -> str:
    """One hash naming a set of recordings: over each exercise's name and file hash."""
    text = "\n".join(f"{name} {entry['sha256']}" for name, entry in sorted(exercises.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(folder: Path = RECORDINGS) -> dict | None:
    path = folder / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


@dataclass
class RecordedReference:
    """The reference's results read from recordings; nothing of the reference runs."""

    folder: Path
    _loaded: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        manifest = read_manifest(self.folder)
        if manifest is None:
            raise ReferenceUnavailable(f"no recorded reference results in {self.folder} "
                                  "(rebuild the release: make release)")
        self.manifest = manifest

    def serves(self, target: Path) -> bool:
        return False

    def run(self, exercise: str, probe: Callable, case: Any, device: str, *,
            timeout: float = DEFAULT_TIMEOUT, record: bool = True) -> Outcome:
        kind = device_kind(device)
        if kind not in self.manifest["devices"]:
            raise DeviceNotRecorded(
                f"this release holds reference results for {', '.join(self.manifest['devices'])}"
                f" only, so checks that compare with the reference are not graded on {kind}")
        by_device = self.results(exercise).get(kind, {})
        key = record_key(exercise, probe, case)
        if key not in by_device:
            raise ReferenceUnavailable(
                f"no recorded reference result for {probe.__module__}.{probe.__name__} on "
                f"{kind} for this case: the recordings are stale (rebuild the release: "
                "make release)")
        return Outcome(value=wire.decode(by_device[key]))

    def results(self, exercise: str) -> dict[str, dict[str, Any]]:
        """{device kind: {key: result}} of one exercise, checked against the manifest."""
        if exercise not in self._loaded:
            entry = self.manifest["exercises"].get(exercise)
            if entry is None:
                raise ReferenceUnavailable(f"the recordings hold nothing for {exercise} "
                                      "(rebuild the release: make release)")
            path = self.folder / entry["file"]
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ReferenceUnavailable(f"{path} does not match its manifest: it was changed "
                                      "after the release was built (restore it from the release)")
            self._loaded[exercise] = wire.load_plain(data)
        return self._loaded[exercise]


def has_solutions() -> bool:
    """Whether this checkout holds the reference modules (the instructor's, not a release)."""
    return any(SOLUTIONS.glob("*.py"))


def open_reference(sandbox: Sandbox, *, directory: str | Path | None = None,
                   recordings: str | Path | None = None,
                   recording: bool = False) -> LiveReference | RecordedReference:
    """The reference a grading run compares with.

    An explicit directory runs live and explicit recordings are read; by default the
    reference runs live from `solutions/` where the checkout has it (the instructor's
    repository), and is read from `tests/recordings/` where it does not (the release).
    """
    if directory is None and recordings is None:
        if has_solutions():
            directory = SOLUTIONS
        else:
            recordings = RECORDINGS
    if directory is not None:
        return LiveReference(sandbox, Path(directory).resolve(), recording=recording)
    return RecordedReference(Path(recordings).resolve())
