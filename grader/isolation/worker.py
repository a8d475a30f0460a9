"""The worker process: imports one submission module and runs probes on it.

It is the only place student code runs. Every call is re-seeded, so a probe's result
is a function of (probe, case, device) alone, whatever ran before it. Results go
back through `grader.isolation.wire`, errors as typed facts (the judge words them); the
parent enforces the time limit by killing the whole process group.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.abc
import importlib.util
import linecache
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import operator
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from grader import ROOT
from grader.isolation import by_hand, confinement, wire
from grader.isolation.source_rules import SourceFindings
from grader.isolation.wire import (
    ByHandFinding,
    ErrorKind,
    Raised,
    Reach,
    Reply,
    Tampering,
    WorkerError,
)


@dataclass(frozen=True)
class StudentFrames:
    """Where in the submission an exception went: its functions' qualified names, outermost
    first, a line per frame, and the tensor arguments of the outermost one (the function
    the probe called) as they were when it raised: the dtypes and devices behind most
    errors."""

    functions: tuple[str, ...]
    lines: tuple[str, ...]
    arguments: str


def student_frames(exc: BaseException, module_path: str | None) -> StudentFrames:
    """The frames of `exc`'s traceback that run the submission's file `module_path`."""
    frames = [(frame, line) for frame, line in traceback.walk_tb(exc.__traceback__)
              if module_path and os.path.exists(frame.f_code.co_filename)
              and os.path.samefile(frame.f_code.co_filename, module_path)]
    lines = tuple(f"  {Path(module_path).name}, line {line}, in {frame.f_code.co_qualname}: "
                  f"{linecache.getline(module_path, line).strip()}" for frame, line in frames)
    arguments = ""
    if frames:
        code, values = frames[0][0].f_code, frames[0][0].f_locals
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        try:  # a tensor subclass of the submission's may raise here: no description then
            arguments = ", ".join(
                f"{name} {str(value.dtype).removeprefix('torch.')} {tuple(value.shape)} on "
                f"{value.device}" for name in names
                if isinstance(value := values.get(name), torch.Tensor))
        except Exception:  # noqa: BLE001
            arguments = ""
    return StudentFrames(tuple(frame.f_code.co_qualname for frame, _ in frames), lines,
                         arguments)

OUTPUT_CAP = 4000  # characters of student output kept per call
FILE_SIZE_LIMIT = 64 * 2**20  # bytes any one file (the output file too) may grow to


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker loads and how it is confined."""

    exercise: str
    module_path: str | None  # None: the target has no module for this exercise
    trusted: bool  # the reference; untrusted workers cannot import `solutions`
    output_path: str
    workdir: str  # the worker's current directory, so stray files stay out of the checkout
    threads: int = 1
    memory_limit: int | None = None  # bytes of data segment; None where CUDA is used
    findings: SourceFindings = SourceFindings()  # what the judge read in the file


@dataclass(frozen=True)
class Request:
    probe_module: str
    probe_name: str
    case: Any
    device: str
    seed: int


class _BlockSolutions(importlib.abc.MetaPathFinder):
    """A submission is only its exercise modules: it may not borrow the reference."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "solutions" or fullname.startswith("solutions."):
            raise ImportError(f"submissions cannot import {fullname!r}")
        return None


def serve(conn, spec: WorkerSpec) -> None:
    """Entry point of the worker process: answer requests until the pipe closes."""
    os.setpgrp()  # the parent kills the whole group, children of student code included
    output = _confine(spec)
    _close_inherited(keep=(conn.fileno(), output))
    submission: ModuleType | None = None
    import_error: WorkerError | None = None
    harness: Harness = {}
    if not spec.trusted:
        try:
            _lock_in(spec)
        except OSError as exc:  # never run a submission less confined than reported
            import_error = WorkerError(ErrorKind.INTERNAL,
                                       internal=f"could not confine the worker: {exc}")
        harness = _harness(spec.exercise)
    while True:
        try:
            request: Request = conn.recv()
        except EOFError:
            return
        started = time.perf_counter()
        if submission is None and import_error is None:
            submission, import_error = _import_submission(spec, request.device)
        if import_error is None:
            import_error = _tampered(harness)
        if import_error is not None:
            reply = Reply(error=import_error)
        else:
            reply = _run(submission, request, spec)
            import_error = _tampered(harness)
            if import_error is not None:  # what it returned may be forged
                reply = Reply(error=import_error)
        reply = dataclasses.replace(reply, output=_take_output(output),
                                    seconds=time.perf_counter() - started)
        try:
            data = wire.dump_reply(reply)
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            data = wire.dump_reply(Reply(error=_describe(exc, spec, kind=ErrorKind.UNSENDABLE)))
        conn.send_bytes(data)


def _confine(spec: WorkerSpec) -> int:
    """Limits, determinism and the worker's own folder; returns the output file's descriptor.

    The output file is read and emptied through that descriptor, opened before the worker
    is locked in, because afterwards its path cannot be written.
    """
    os.makedirs(spec.workdir, exist_ok=True)
    os.chdir(spec.workdir)
    # Temporary files, caches and plots of a probe or a submission stay in the worker's folder.
    os.environ["TMPDIR"] = os.environ["MPLCONFIGDIR"] = spec.workdir
    tempfile.tempdir = spec.workdir
    output = os.open(spec.output_path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    # With SIGXFSZ ignored, a flood of output makes `print` raise instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    if spec.memory_limit is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (spec.memory_limit, spec.memory_limit))
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # deterministic cuBLAS
    os.environ["OMP_NUM_THREADS"] = str(spec.threads)
    torch.set_num_threads(spec.threads)
    # warn_only: ops without a deterministic kernel (e.g. bincount on CUDA) still run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    if not spec.trusted:
        sys.meta_path.insert(0, _BlockSolutions())
    return output


def _close_inherited(keep: tuple[int, ...]) -> None:
    """Close every descriptor but stdin, stdout, stderr and `keep`. A worker inherits from
    multiprocessing the write ends of the fork server's liveness pipe (a byte written there
    stops the server, and every worker under it) and of the resource tracker's pipe (what
    is registered there, any name, it unlinks when it exits), and a sentinel pipe: none of
    them its own."""
    listing = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    for fd in map(int, os.listdir(listing)):
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor, now closed
                os.close(fd)
    # multiprocessing would write into whatever file takes their numbers next.
    multiprocessing.forkserver._forkserver._forkserver_alive_fd = None  # noqa: SLF001
    multiprocessing.resource_tracker._resource_tracker._fd = None  # noqa: SLF001


def _lock_in(spec: WorkerSpec) -> None:
    """Read only the allowlist, write only the worker's folder, no socket, signals scoped
    (grader.isolation.confinement)."""
    sys.dont_write_bytecode = True  # the submission's folder is read-only now
    module = Path(spec.module_path) if spec.module_path else None
    confinement.confine(readable=confinement.allowlist(ROOT, module),
                        writable=[Path(spec.workdir)])


# What a probe relies on in the worker: its own modules, the data loaders, the wire, the
# builtins. A submission that rebinds any of it (to make a probe report the right answer)
# is caught after the call. This is a check, not a wall: the wall is that the judge trusts
# nothing the worker sends but plain data (grader.isolation.wire), and the confinement.
HARNESS = ("tests.probes", "data", "grader.isolation.wire", "grader.isolation.by_hand", "builtins")


# module name -> (its attribute names, their values) as the probe found them
Harness = dict[str, tuple[tuple[str, ...], tuple[Any, ...]]]


def _harness(exercise: str) -> Harness:
    """The namespaces of HARNESS before the submission is imported."""
    importlib.import_module(f"tests.probes.{exercise}")
    below = tuple(f"{root}." for root in HARNESS)
    return {name: (tuple(module.__dict__), tuple(module.__dict__.values()))
            for name, module in list(sys.modules.items())
            if name in HARNESS or name.startswith(below)}


def _tampered(harness: Harness, modules: dict = sys.modules) -> WorkerError | None:
    """A tampering error when something in the harness was rebound or removed (a module
    replaced in sys.modules by anything but a module included). Checked before and after
    every call, so each module's names are compared in C (map): 0.013-0.02 ms instead of
    0.034-0.041 ms for a loop over them."""
    for name, (names, values) in harness.items():
        module = modules.get(name)
        namespace = module.__dict__ if type(module) is ModuleType else {}
        if all(map(operator.is_, map(namespace.get, names, repeat(_MISSING)), values)):
            continue
        attribute = next(attribute for attribute, value in zip(names, values, strict=True)
                         if namespace.get(attribute, _MISSING) is not value)
        return WorkerError(ErrorKind.TAMPERING, tampering=(
            Tampering(Reach.CHANGED, f"{name}.{attribute}"),))
    return None


_MISSING = object()


def _import_submission(spec: WorkerSpec, device: str,
                       ) -> tuple[ModuleType | None, WorkerError | None]:
    if spec.module_path is None:
        return None, WorkerError(ErrorKind.MISSING_MODULE)
    if spec.findings.tampering:  # never run
        return None, WorkerError(ErrorKind.TAMPERING, tampering=spec.findings.tampering)
    _seed(0, device)
    if not spec.trusted:
        # Before the submission binds any alias of what its exercise asks it to write.
        rule = by_hand.rule_of(spec.exercise)
        if rule is not None:
            by_hand.enforce(rule, spec.exercise, spec.module_path)
    module_spec = importlib.util.spec_from_file_location(spec.exercise, spec.module_path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[spec.exercise] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - any failure of student code is reported
        sys.modules.pop(spec.exercise, None)
        return None, _describe(exc, spec, kind=ErrorKind.IMPORT)
    for finding in spec.findings.by_hand:
        if hasattr(module, finding.owner):
            setattr(module, finding.owner, _refusing(finding))
    return module, None


def _refusing(finding: ByHandFinding):
    """Stands in for a class or function whose source breaks a by-hand rule: each check
    that uses it fails with the line and the rule."""

    def refuse(*args, **kwargs):
        raise by_hand.ByHandViolation(finding)

    return refuse


def _run(submission: ModuleType, request: Request, spec: WorkerSpec) -> Reply:
    try:
        probe = getattr(importlib.import_module(request.probe_module), request.probe_name)
    except Exception as exc:  # noqa: BLE001 - the grader's own fault, reported as such
        return Reply(error=WorkerError(ErrorKind.INTERNAL, internal=repr(exc)))
    _seed(request.seed, request.device)
    try:
        value = probe(submission, request.case, request.device)
        _sync(request.device)
        plain = wire.to_plain(value)
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: reported, not obeyed
        return Reply(error=_describe(exc, spec, submission=submission))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return Reply(value=plain)


def _seed(seed: int, device: str) -> None:
    random.seed(seed)
    np.random.seed(seed)
    # Not torch.manual_seed: it also queues a lazy seeding of CUDA, XPU and MTIA when they
    # are not initialised, formatting the stack each time (0.14 ms of every call, more than
    # a small probe takes). The grader runs on the CPU and CUDA; a submission that starts
    # CUDA in a CPU call gets CUDA's fixed default seed, and this seed from its next call.
    torch.default_generator.manual_seed(seed)
    if device.startswith("cuda") or torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()  # surface asynchronous CUDA errors inside the call


def _describe(
    exc: BaseException, spec: WorkerSpec, *, kind: ErrorKind | None = None, submission=None
) -> WorkerError:
    """An exception as facts: its kind, type and first line, the submission's frames only."""
    if kind is None:
        kind = _classify(exc, submission)
    frames = student_frames(exc, spec.module_path)
    finding = None
    if isinstance(exc, by_hand.ByHandViolation) and isinstance(
            getattr(exc, "finding", None), ByHandFinding):
        raised, finding = Raised(type(exc).__name__), exc.finding
    elif isinstance(exc, SystemExit):  # its subclasses too: what counts is that it exits
        raised = Raised("SystemExit", repr(exc.code))
    elif isinstance(exc, SyntaxError):
        raised = Raised("SyntaxError", str(exc.msg), exc.lineno)
    else:
        text = str(exc).strip().splitlines()
        raised = Raised(type(exc).__name__, text[0][:300] if text else "")
    if kind == ErrorKind.BY_HAND and finding is None:  # raised by the submission itself
        kind = ErrorKind.EXCEPTION
    # PyTorch's CPU allocator reports RLIMIT_DATA as a RuntimeError (only its words say so),
    # CUDA as its own type.
    out_of_memory = isinstance(exc, MemoryError | torch.OutOfMemoryError) or (
        not isinstance(exc, SystemExit | SyntaxError) and "can't allocate memory" in raised.text)
    return WorkerError(kind, raised, "\n".join(frames.lines[-5:]), out_of_memory,
                       frames.functions, frames.arguments, by_hand=finding)


def _classify(exc: BaseException, submission) -> ErrorKind:
    if isinstance(exc, NotImplementedError):
        return ErrorKind.NOT_IMPLEMENTED
    if isinstance(exc, by_hand.ByHandViolation):
        return ErrorKind.BY_HAND
    if isinstance(exc, AttributeError) and getattr(exc, "obj", None) is submission:
        return ErrorKind.MISSING_NAME
    return ErrorKind.EXCEPTION


def _take_output(output: int) -> str:
    """The output since the last call, capped; the file is emptied so it cannot grow."""
    try:
        head = os.pread(output, OUTPUT_CAP + 1, 0)
        size = os.fstat(output).st_size
        os.ftruncate(output, 0)
    except OSError:  # the submission closed it
        return ""
    text = head[:OUTPUT_CAP].decode("utf-8", "replace")
    if size > OUTPUT_CAP:
        text += f"\n... ({size - OUTPUT_CAP} more bytes of output not shown)"
    return text
