"""Ctrl-C during training: finish the step in progress, write a resumable checkpoint, then stop.

A KeyboardInterrupt raised in the middle of an optimiser step would leave half-updated weights, so
while training runs the first Ctrl-C only asks to stop; the loop stops at the next step boundary.
A second Ctrl-C stops at once (without a new checkpoint; the last one written is intact).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopRequest:
    """Set by the first Ctrl-C; the training loop reads `requested` after every step."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def stop_on_interrupt() -> Iterator[StopRequest]:
    """Catch SIGINT into a StopRequest while the block runs (main thread only; elsewhere, and when
    another handler than Python's default is installed, SIGINT keeps its usual behaviour)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield request
        return
    signal.signal(signal.SIGINT, request._handle)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)
