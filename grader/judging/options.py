"""The options of a grading, declared once.

`python -m grader grade` takes them as `--device cpu`, the pytest plugin as
`--grade-device=cpu` (what `grade()` passes to its pytest session, and what an author types
to run a suite as plain pytest), and Python callers as `GradingOptions(device="cpu")`. The
flags, their help and their defaults all come from the fields below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from typing import Any

DEVICE_CHOICES = ("cpu", "cuda", "all")


def _option(default: Any, help: str, **flag: Any) -> Any:
    """A field whose metadata is its command-line flag's keywords (argparse's, pytest's)."""
    return field(default=default, metadata={"help": help, **flag})


@dataclass(frozen=True)
class GradingOptions:
    device: str = _option("all", "devices to grade on (default all: every one present)",
                          choices=DEVICE_CHOICES)
    timeout_scale: float = _option(1.0, "multiply every per-call time limit by F (e.g. 2 on a "
                                   "slow machine)", type=float, metavar="F")
    quick: bool = _option(False, "grade as a checkoff does: leave out the few slow checks "
                          "(training to a threshold) and the hidden ones; the full grade runs "
                          "them", action="store_true")
    check: tuple[str, ...] = _option((), "grade only the checks whose name matches PATTERN: a "
                                     "part of the name (e.g. confusion_counts) or a glob "
                                     "(test_mcc_*); repeatable", action="append",
                                     metavar="PATTERN")

    def flags(self, prefix: str = "") -> list[str]:
        """These options as command-line flags, defaults left out (prefix "grade-": the
        plugin's)."""
        args = []
        for option in fields(self):
            value, flag = getattr(self, option.name), _flag(option, prefix)
            if value == option.default:
                continue
            if option.metadata.get("action") == "store_true":
                args.append(flag)
            elif option.metadata.get("action") == "append":
                args += [f"{flag}={item}" for item in value]
            else:
                args.append(f"{flag}={value}")
        return args

    @classmethod
    def read(cls, value_of: Callable[[str], Any], prefix: str = "") -> GradingOptions:
        """The options as parsed: `value_of(dest)` is a flag's value (`getattr` on argparse's
        namespace, pytest's `config.getoption`)."""
        values = {}
        for option in fields(cls):
            value = value_of(_flag(option, prefix).removeprefix("--").replace("-", "_"))
            values[option.name] = tuple(value or ()) if isinstance(option.default, tuple) else value
        return cls(**values)


def add_flags(add: Callable[..., Any], prefix: str = "") -> None:
    """Declare the options with `add`: argparse's `add_argument`, pytest's `addoption`."""
    for option in fields(GradingOptions):
        default = list(option.default) if isinstance(option.default, tuple) else option.default
        add(_flag(option, prefix), default=default, **option.metadata)


def _flag(option: Field, prefix: str) -> str:
    return f"--{prefix}{option.name.replace('_', '-')}"


DEFAULTS = GradingOptions()
