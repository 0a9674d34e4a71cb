"""A dependency-free progress line: step, loss, lr, patches/s and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line on a terminal; elsewhere (logs, CI) prints a line every ~10% of the run."""

    def __init__(
        self, total: int, start: int = 0, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.total, self.start, self.enabled = total, start, enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self._last_reported_tenth = -1

    def update(self, step: int, loss: float, lr: float, patches_per_s: float) -> None:
        if not self.enabled:
            return
        done = step - self.start
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / done * (self.total - step) if done > 0 else float("nan")
        width = 24
        filled = int(width * step / self.total)
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {step}/{self.total} loss {loss:.4f} "
            f"lr {lr:.2e} {patches_per_s:.0f} patches/s ETA {format_seconds(eta)}"
        )
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
        elif step * 10 // self.total > self._last_reported_tenth:
            self._last_reported_tenth = step * 10 // self.total
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def format_seconds(seconds: float) -> str:
    """12s, 3m05s or 2h01m; '?' when unknown."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
