"""The command-line runtime every command of the toolkit shares (`sr-eval`, `zoo`, `esr-ea`, `sesr`,
`quantnas`): one device resolver, one `--version`, and one mapping from what went wrong to a
one-line message and an exit status, so every command behaves the same under the same fault.

Exit statuses:
    0    done
    1    the operating system refused (a folder not writable, `--out` is a file, disk full); the
         message names the path, and nothing half-written is left (every write is atomic)
    2    bad input: a config key, value, file or flag (the message names it); nothing was started
    3    the run started and failed (a non-finite loss, every search candidate failed, the device
         ran out of memory); what was computed before is kept
    130  interrupted (Ctrl-C); a resumable checkpoint was written where training can, and the same
         command resumes

It sits in sr-eval because sr-eval is the lowest package with a command; the packages above reuse it.
"""

from __future__ import annotations

import argparse
import errno
import re
import sys
from collections.abc import Callable

import torch

EXIT_OS_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 3
EXIT_INTERRUPTED = 130

_DEVICE_PATTERN = re.compile(r"(auto|cpu|cuda)(:\d+)?")


class RunFailed(RuntimeError):
    """A run that started and could not finish (exit status 3); its message says why and where."""


class EnvironmentFault(RunFailed):
    """The machine, not the input, failed the run: the device is missing or out of memory, a module
    cannot be imported. Searches stop on it instead of recording a failed candidate."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, caught where the work could stop cleanly; `where` says how far it got."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class DeviceError(ValueError):
    """A `--device` that is unknown or not present on this machine."""


def resolve_device(name: str | torch.device | None = "auto", local_rank: int = 0) -> torch.device:
    """`auto` (or None) -> CUDA device `local_rank` when CUDA is present, else the CPU; `cpu`,
    `cuda`, `cuda:N` as given once checked to exist here. Anything else is a DeviceError, raised
    before any work starts."""
    if isinstance(name, torch.device):
        name = str(name)
    text = "auto" if name is None else str(name).strip().lower()
    if not _DEVICE_PATTERN.fullmatch(text) or text.startswith(("auto:", "cpu:")):
        raise DeviceError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")
    if text == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} is not available: this machine has no CUDA device")
    device = torch.device(text)
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise DeviceError(f"device {name!r} does not exist: this machine has {count} CUDA device(s)")
    return device


def add_version_argument(parser: argparse.ArgumentParser, version: str) -> None:
    """`--version`: print `<prog> <version>` and exit."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")


def run_cli(prog: str, work: Callable[[], int | None]) -> int:
    """Run a command's `work` and turn what it raises into one line on stderr and an exit status
    (table above). No traceback for any of these; a bug (any other exception) still shows one."""
    try:
        return work() or 0
    except KeyboardInterrupt as err:
        where = err.where if isinstance(err, Interrupted) else None
        at = f" at {where}" if where else ""
        _say(f"{prog}: interrupted{at}; rerun the same command to resume")
        return EXIT_INTERRUPTED
    except RunFailed as err:
        _say(f"{prog}: failed: {_one_line(err)}")
        return EXIT_RUN_FAILED
    except torch.cuda.OutOfMemoryError as err:
        _say(f"{prog}: failed: the device ran out of memory ({_one_line(err)})")
        return EXIT_RUN_FAILED
    except FileNotFoundError as err:  # an input that is not there
        _say(f"{prog}: error: {_os_message(err)}")
        return EXIT_BAD_INPUT
    except OSError as err:
        _say(f"{prog}: error: {_os_message(err)}")
        return EXIT_OS_ERROR
    except (ValueError, LookupError, ImportError) as err:
        _say(f"{prog}: error: {_one_line(err)}")
        return EXIT_BAD_INPUT


def _os_message(err: OSError) -> str:
    if err.filename is None:
        return _one_line(err)
    reason = err.strerror or type(err).__name__
    if err.errno == errno.ENOSPC:
        reason = "no space left on the device"
    target = f"{err.filename} -> {err.filename2}" if err.filename2 else str(err.filename)
    return f"{target}: {reason}"


def _one_line(err: BaseException) -> str:
    """The first line of an exception's text (a KeyError without its quotes)."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    text = str(text).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    return first


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
