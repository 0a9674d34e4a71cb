"""Pool workers never outlive the search that started them.

A worker blocked on its task queue does not notice that the main process died (the other workers
hold the queue open), so without help it lingers, holding its memory and GPU. Two guards:

- in each worker, `exit_with_parent()` starts a daemon thread that waits on the parent's sentinel
  (a pipe that the operating system closes when the parent dies, however it dies: SIGKILL,
  a crash, the OOM killer; on POSIX, once processes *forked* from the parent have ended too) and
  then ends the worker at once. It is portable (POSIX and Windows) and costs nothing while it
  waits. Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread* that spawned the worker
  ends, and the pool spawns workers lazily from whichever thread submits, so it could kill the
  workers of a pool still in use;
- in the main process, `SigtermGuard` ends the workers on SIGTERM before the signal does what it
  did before (by default: end the process), so a terminated search leaves no worker behind.

Ctrl-C is the main process's alone: workers started inside `workers_deaf_to_ctrl_c()` block SIGINT
(a terminal sends it to the whole process group), so the main process ends them and says so in one
line, instead of each worker printing the traceback of wherever it was (importing torch, at start).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

PARENT_GONE_EXIT = 70  # a worker's exit status when it ends because its parent died


def exit_with_parent() -> None:
    """In a worker started by multiprocessing: end this process as soon as its parent dies."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return

    def watch() -> None:
        parent.join()  # returns when the parent's sentinel closes, i.e. when the parent is gone
        os._exit(PARENT_GONE_EXIT)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def workers_deaf_to_ctrl_c() -> Iterator[None]:
    """Block SIGINT in this thread while the block starts processes, which inherit the block.

    A Ctrl-C meanwhile is not lost: it waits, and this process gets it when the block ends. Where
    the platform has no signal masks (Windows), nothing changes.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class SigtermGuard:
    """While installed, SIGTERM first calls `stop_workers`, then does what it did before.

    Installed only from the main thread (Python delivers signals there) and only when SIGTERM is
    not ignored; `remove()` puts the previous handler back. Guards of several pools nest when they
    are removed in the reverse order of installation.
    """

    def __init__(self, stop_workers: Callable[[], None]) -> None:
        self._stop_workers = stop_workers
        self._previous: signal.Handlers | Callable | None = None
        if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_IGN, None):  # ignored, or set outside Python: leave it alone
            return
        self._previous = previous
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._stop_workers()
        previous = self._previous
        self.remove()
        if callable(previous):
            previous(signum, frame)
        else:  # SIG_DFL: end the process the way SIGTERM would have
            os.kill(os.getpid(), signum)

    def remove(self) -> None:
        """Put back the SIGTERM handler that was there before (if this guard installed one)."""
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
