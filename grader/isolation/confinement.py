"""What confines a worker that runs a submission (Linux): the kernel, not Python, says no.

Same-process Python cannot be protected, and a worker is only a process of the grader's
own user, so each untrusted worker locks itself in before it imports the submission:

- Landlock (kernel 5.13 and later) grants reads on an allowlist (`allowlist()`): the
  interpreter, the virtual environment, the system libraries, the parts of the checkout
  that probes import, and the submission's own module. Nothing else exists for it: not the
  reference, not another student's folder, not the home directory, not another process's
  /proc entry. Only the worker's own folder can be written. From ABI 6 (kernel 6.12) it
  also scopes signals (no signal to the judge, the fork server or another worker) and
  abstract UNIX sockets; from ABI 4 it refuses TCP.
- A seccomp filter refuses to create a socket of any family (INET, INET6, UNIX, NETLINK,
  PACKET...: no network, and no way to ask the fork server, which listens on a UNIX socket,
  for an unconfined process), io_uring (which creates sockets without the socket call), and
  any change of file modes, owners or times.
- A root worker drops every capability (it cannot chmod its way around, mount, or kill).
- The fork server is a child subreaper (`grader.isolation.subreaper`): what a submission starts and
  detaches (setsid, double fork) is re-parented to it, where the judge finds and kills it.

`available()` says what this machine gives; results.json carries it as `confinement`.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import platform
import site
import stat
import struct
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

# Landlock's filesystem rights (linux/landlock.h), by the ABI that added them.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_ABI1 = (1 << 13) - 1  # execute ... make_sym
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE  # all a file rule may hold
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
NET_TCP = 0b11  # bind, connect (ABI 4)
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}  # create, add, restrict
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
# The seccomp filter's (audit arch, calls that reach a network, calls that change file
# metadata) per machine. Network: socket (any family) and io_uring_setup (io_uring creates
# sockets without the socket call). Metadata: chmod, chown, utime and xattr calls,
# fchmodat2, setxattrat and removexattrat included.
_SECCOMP = {
    "x86_64": (0xC000003E, (41, 425), (90, 91, 92, 93, 94, 132, 188, 189, 190, 197, 198, 199,
                                       235, 260, 261, 268, 280, 452, 463, 466)),
    "aarch64": (0xC00000B7, (198, 425), (5, 6, 7, 14, 15, 16, 52, 53, 54, 55, 88, 452, 463,
                                         466)),
}
_PR_GET_SECCOMP = 21

# What of the checkout a worker may read: the grader's modules (not its tests), the probes
# and data the worker imports. Everything else (solutions/ and the known submissions kept
# there, the suites, the recordings, the stubs, .git, build/) is absent to it.
SHOWN = ("grader", "data", "tests/probes", "tests/__init__.py")
HIDDEN_IN_SHOWN = ("grader/tests",)
# What a worker may read outside the checkout and the Python installation. Measured
# (grader/tests/test_confinement.py traces every file a correct submission of every exercise
# opens or runs): the CPU's description, which PyTorch's cpuinfo reads at run time.
# Granted besides, as what a library may read on another machine and tells nothing of
# anyone: shared libraries and the loader's cache, locale and time-zone data, the memory's
# size, the random devices.
SYSTEM = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime",
          "/usr/share/zoneinfo", "/usr/share/locale", "/proc/cpuinfo", "/proc/meminfo",
          "/sys/devices/system/cpu", "/dev/urandom", "/dev/random")
# What CUDA opens besides the devices in DEVICES (the driver's /proc and /sys entries).
# Not yet measured on a GPU: taken from the NVIDIA driver's documented paths.
CUDA = ("/proc/driver/nvidia", "/sys/bus/pci", "/sys/devices/pci*", "/sys/module/nvidia*",
        "/etc/nvidia")
# Devices a worker may write: the usual sinks, shared memory, and the GPU's nodes.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/shm", "/dev/nvidia*", "/dev/dri")


@dataclass(frozen=True)
class Confinement:
    """What holds for an untrusted worker on this machine (results.json: `confinement`)."""

    landlock_abi: int  # 0: no Landlock
    reference_hidden: bool  # solutions/, recordings and suites unreadable
    reads_allowlisted: bool  # nothing readable but `allowlist()`: no other student, no home
    read_only: bool  # writes only in the worker's own folder
    signals_scoped: bool  # no signal to any process outside the worker
    unix_sockets_blocked: bool  # no way to ask the fork server for an unconfined process
    metadata_read_only: bool  # no chmod, chown, utime or xattr change (seccomp)
    network_blocked: bool  # no socket of any family (seccomp), so no TCP, UDP, raw or netlink
    detached_processes_killed: bool  # setsid/double-fork children are found and killed

    def missing(self) -> list[str]:
        return [name.replace("_", " ") for name, held in asdict(self).items()
                if name != "landlock_abi" and not held]

    def warning(self) -> str | None:
        """A line for the instructor where something a hostile submission could use is open."""
        missing = self.missing()
        if not missing:
            return None
        where = ("this kernel has no Landlock" if not self.landlock_abi
                 else f"this kernel has Landlock ABI {self.landlock_abi}")
        return (f"warning: {where}, so submissions are graded without: {', '.join(missing)}. "
                "Grade untrusted code on Linux 6.12 or later (Landlock ABI 6), or in a "
                "throwaway container per submission.")


def _libc() -> ctypes.CDLL | None:
    if sys.platform != "linux":
        return None
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers; 0 where there is none."""
    libc = _libc()
    calls = _SYSCALLS.get(platform.machine())
    if libc is None or calls is None:
        return 0
    version = libc.syscall(calls[0], None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(version, 0)


def seccomp_available() -> bool:
    """Whether this kernel filters system calls (a container's profile may refuse it)."""
    libc = _libc()
    if libc is None or platform.machine() not in _SECCOMP:
        return False
    return libc.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) >= 0


def available() -> Confinement:
    abi = landlock_abi()
    seccomp = seccomp_available()
    return Confinement(
        landlock_abi=abi,
        reference_hidden=abi >= 1,
        reads_allowlisted=abi >= 1,
        read_only=abi >= 3,  # before ABI 3, truncate() of a readable file is not refused
        signals_scoped=abi >= 6,
        unix_sockets_blocked=seccomp,
        metadata_read_only=seccomp,
        network_blocked=seccomp,
        detached_processes_killed=sys.platform == "linux",
    )


def allowlist(root: Path, module: Path | None) -> list[Path]:
    """What a worker may read: the Python installation and virtual environment, `SYSTEM`
    (and `CUDA` where a GPU's nodes exist), the `SHOWN` parts of the checkout `root`, its
    own /proc entry, and the submission's `module` (the file alone, not its folder).

    Landlock grants, it never takes away, so a hidden part of a shown folder is left out
    by granting each of the folder's other entries.
    """
    root = root.resolve()
    user_site = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    outside = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                           sys.base_exec_prefix, *site.getsitepackages(),
                                           *user_site)]
    outside += [Path(p).resolve() for pattern in (*SYSTEM, *(CUDA if _gpu_nodes() else ()))
                for p in glob.glob(pattern)]
    # Never a folder that holds the checkout (a Python installed above it): all would show.
    paths = [p for p in dict.fromkeys(outside) if p != root and p not in root.parents]
    paths.append(Path(f"/proc/{os.getpid()}"))  # /proc/self, and /proc/thread-self under it
    hidden = {root / part for part in HIDDEN_IN_SHOWN}
    for part in SHOWN:
        paths += _granting_all_but(root / part, hidden)
    if module is not None:
        paths.append(module.resolve())
    return paths


def _granting_all_but(path: Path, hidden: set[Path]) -> list[Path]:
    """`path`, or each of its entries when something under it is `hidden` (recursively)."""
    if not path.exists():
        return []
    if not any(path in h.parents for h in hidden):
        return [] if path in hidden else [path]
    return [p for entry in os.scandir(path) for p in _granting_all_but(Path(entry.path), hidden)]


def confine(*, readable: list[Path], writable: list[Path]) -> Confinement:
    """Lock this process and its future children in; raise OSError where it cannot.

    Call it after everything the worker needs is open, before any untrusted code runs.
    """
    expected = available()
    libc = _libc()
    if libc is None:
        return expected
    _call(libc.prctl, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if expected.landlock_abi:
        _landlock(libc, expected.landlock_abi, readable, writable + _devices())
    if expected.unix_sockets_blocked:
        _seccomp(libc)
    if os.geteuid() == 0:
        _drop_capabilities(libc)
    return expected


def _devices() -> list[Path]:
    return [Path(path) for pattern in DEVICES for path in glob.glob(pattern)]


def _gpu_nodes() -> bool:
    return bool(glob.glob("/dev/nvidia*") or glob.glob("/dev/dri"))


def _landlock(libc: ctypes.CDLL, abi: int, readable: list[Path], writable: list[Path]) -> None:
    create, add_rule, restrict = _SYSCALLS[platform.machine()]
    handled = FS_ABI1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("QQQ", handled, NET_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = _call(libc.syscall, create, attr, ctypes.c_size_t(len(attr)), 0)
    try:
        for paths, rights in ((readable, READ), (writable, handled)):
            for path in paths:
                _add_path_rule(libc, add_rule, ruleset, path, rights)
        _call(libc.syscall, restrict, ruleset, 0)
    finally:
        os.close(ruleset)


def _add_path_rule(libc: ctypes.CDLL, add_rule: int, ruleset: int, path: Path,
                   rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return  # gone since it was listed: nothing to grant
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        rule = struct.pack("=Qi", rights, fd)  # struct landlock_path_beneath_attr, packed
        _call(libc.syscall, add_rule, ruleset, _RULE_PATH_BENEATH, rule, 0)
    finally:
        os.close(fd)


def _seccomp(libc: ctypes.CDLL) -> None:
    """Refuse (EPERM) sockets of every family, io_uring, changes of file modes, owners,
    times and attributes.

    Landlock leaves metadata alone, so a worker could chmod the files its user owns (a
    reference made unreadable breaks every later grading), and it refuses TCP only. Any call
    of a foreign ABI (i386 or x32 on x86_64) is refused too, since its numbers differ.
    """
    arch, network, metadata = _SECCOMP[platform.machine()]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JGE|K, BPF_RET|K
    program = [
        (ld, 0, 0, 4),  # seccomp_data.arch
        (jeq, 0, "deny", arch),
        (ld, 0, 0, 0),  # seccomp_data.nr
        (jge, "deny", 0, 0x40000000),  # x32
        *((jeq, "deny", 0, nr) for nr in (*network, *metadata)),
        (ret, 0, 0, 0x7FFF0000),  # allow
        (ret, 0, 0, 0x00050000 | errno.EPERM),  # deny: fail with EPERM
    ]
    labels = {"allow": len(program) - 2, "deny": len(program) - 1}

    def jump(index: int, to: int | str) -> int:  # BPF jumps count from the next instruction
        return labels[to] - index - 1 if isinstance(to, str) else to

    filters = b"".join(struct.pack("HBBI", code, jump(i, jt), jump(i, jf), k)
                       for i, (code, jt, jf, k) in enumerate(program))
    buffer = ctypes.create_string_buffer(filters)
    fprog = struct.pack("HxxxxxxP", len(program), ctypes.addressof(buffer))
    _call(libc.prctl, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog, 0, 0)


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """A root worker keeps uid 0 but no capability: no chmod of others' files, no mount."""
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = bytes(24)  # effective, permitted, inheritable: none, in both 32-bit words
    _call(libc.capset, header, data)


def _call(function, *args) -> int:
    result = function(*args)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{function.__name__}: {os.strerror(code)}")
    return result
