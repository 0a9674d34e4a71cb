"""`EventLog`: a run's TensorBoard event files, the one logging path of the trainer and the searches.

Used when the `tensorboard` package is installed (`pip install sr-train[tensorboard]`):
`open_event_log` returns None without it (or when the caller turns it off), having imported nothing
of TensorBoard, so callers guard each write with `if events is not None`.

The log only appends. Opened on a folder that already holds event files (a resumed run), it reads the
last step of every tag there and writes no point of a tag at or below that step: a run killed after
its last checkpoint and resumed from it continues the same curves, with no step twice, whatever
reads the files. Opened `fresh`, it deletes the folder's event files first (a run that starts over).
The folder and a new event file are made at the first point written, so a rerun of a finished run
leaves the folder as it was.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

EVENTS_DIR = "tensorboard"  # the sub-folder of a run folder that holds its event files
_EVENT_FILES = "events.out.tfevents.*"


def tensorboard_installed() -> bool:
    """True when the `tensorboard` package can be imported (found without importing it)."""
    return importlib.util.find_spec("tensorboard") is not None


def open_event_log(folder: str | Path | None, enabled: bool = True, fresh: bool = False) -> EventLog | None:
    """An `EventLog` writing into `folder`, or None when `enabled` is false, `folder` is None or
    TensorBoard is not installed."""
    if not enabled or folder is None or not tensorboard_installed():
        return None
    return EventLog(Path(folder), fresh=fresh)


class EventLog:
    """Scalars and images of one run, written with `torch.utils.tensorboard.SummaryWriter`."""

    def __init__(self, folder: Path, fresh: bool = False) -> None:
        self.folder = folder
        if fresh:
            for path in folder.glob(_EVENT_FILES):
                path.unlink()
        self.last = last_steps(folder)
        self._writer: Any = None

    @property
    def writer(self) -> Any:
        """The SummaryWriter, made at the first use."""
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.folder))
        return self._writer

    def _new(self, tag: str, step: int) -> bool:
        if step <= self.last.get(tag, -math.inf):
            return False
        self.last[tag] = step
        return True

    def scalars(self, step: int, values: Mapping[str, Any]) -> None:
        """One point per tag at `step`; values that are not numbers (None, a missing result) are left out."""
        for tag, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and self._new(tag, step):
                self.writer.add_scalar(tag, float(value), step)

    def image(self, tag: str, step: int, image: torch.Tensor) -> None:
        """A (channels, height, width) image in [0, 1]; one channel is shown as grey."""
        if self._new(tag, step):
            if image.shape[0] == 1:
                image = image.expand(3, -1, -1)
            self.writer.add_image(tag, image.clamp(0.0, 1.0), step, dataformats="CHW")

    def flush(self) -> None:
        """Write what is pending to disk now (else the writer flushes every two minutes and at close)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def last_steps(folder: Path) -> dict[str, int]:
    """tag -> the largest step logged under it in `folder`'s event files (a record cut short by a
    kill ends its file)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    last: dict[str, int] = {}
    for path in sorted(folder.glob(_EVENT_FILES)):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                last[value.tag] = max(event.step, last.get(value.tag, event.step))
    return last
