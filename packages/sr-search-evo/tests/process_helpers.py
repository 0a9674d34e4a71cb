"""Waiting for processes to end, without racing a fixed sleep."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

GENEROUS_WAIT = 120.0  # seconds: a bound for a hung process, not a measure of speed


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a zombie has ended; only its exit status is left)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): os.kill said it exists
        return True


def wait_until_gone(pids: Iterable[int], timeout: float = GENEROUS_WAIT) -> list[int]:
    """Poll until none of `pids` runs or `timeout` passes; the ones still running."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if is_running(pid)]
    return alive
