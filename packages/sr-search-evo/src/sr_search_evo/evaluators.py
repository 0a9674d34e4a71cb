"""Evaluators: run a picklable fitness function over candidates, yielding results as they finish.

Every evaluator has `imap_unordered(candidates) -> Iterator[(index, result)]`, `close()`, `abort()`
and is a context manager. A fitness call that raises for the candidate becomes a result
{"psnr": None, "error": "..."}, so one broken candidate does not end a long search; an error of the
environment raises `EnvironmentFault` instead (see `sr_search_evo.fitness_call`). Devices are
checked when the evaluator is made, before any work.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import torch

from sr_eval.runtime import EnvironmentFault, resolve_device
from sr_search_evo.devices import available_cpus, set_current_device, set_thread_budget
from sr_search_evo.evaluator_base import Evaluator
from sr_search_evo.fitness_call import Fitness, as_environment_fault, call_fitness
from sr_search_evo.worker_lifetime import SigtermGuard, exit_with_parent, workers_deaf_to_ctrl_c


class InProcessEvaluator(Evaluator):
    """Evaluate one candidate after another in this process (on `device`, default: the current one).

    An unknown or absent `device` is a `sr_eval.runtime.DeviceError` here, before any work.
    """

    def __init__(self, fn: Fitness, device: str | None = None) -> None:
        self.fn = fn
        if device is not None:
            resolve_device(device)
            set_current_device(device)

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        for index, candidate in enumerate(candidates):
            yield index, call_fitness(self.fn, candidate)


# -- process pool -----------------------------------------------------------------------------
STARTED_POLL_S = 0.05  # how long start()'s probe holds a worker
WORKER_DIED = "a pool worker process died (killed from outside, out of host memory, or it could not start)"
_WORKER_FN: Fitness | None = None
_WORKER_FAULT: EnvironmentFault | None = None


def _write_fitness(fn: Fitness) -> Path:
    """`fn` pickled into a temporary file, which each worker reads when it starts.

    Not the pool's start arguments: a spawned worker receives those through a pipe that the parent
    writes while still holding the pipe's other end, so megabytes of fitness data (training
    patches) would block the parent forever once a worker died or failed to start before reading.
    """
    handle, name = tempfile.mkstemp(prefix="sr-search-fitness-", suffix=".pkl")
    with os.fdopen(handle, "wb") as stream:
        pickle.dump(fn, stream)
    return Path(name)


def _init_worker(fitness_file: str, devices: Any, threads: int | None) -> None:
    """Start a worker: exit with the parent, take a device and its thread budget, load the fitness.

    A failure here is kept and raised by the worker's first task as an `EnvironmentFault` (an
    initializer that raises would only break the pool, without saying why).
    """
    global _WORKER_FN, _WORKER_FAULT
    exit_with_parent()
    try:
        set_current_device(devices.get())
        if threads is not None:
            set_thread_budget(threads)
        _WORKER_FN = pickle.loads(Path(fitness_file).read_bytes())
    except Exception as err:  # noqa: BLE001 - reported by the first task
        _WORKER_FAULT = as_environment_fault(err, "a pool worker could not start")


def _worker_pid() -> int:
    """A worker's id once it has started (raising the fault of a worker that could not start)."""
    if _WORKER_FAULT is not None:
        raise _WORKER_FAULT
    time.sleep(STARTED_POLL_S)  # hold the task, so that the other workers take the others
    return os.getpid()


def _run_in_worker(index: int, candidate: Any) -> tuple[int, dict]:
    if _WORKER_FAULT is not None:
        raise _WORKER_FAULT
    assert _WORKER_FN is not None, "worker not initialised"
    return index, call_fitness(_WORKER_FN, candidate)


class ProcessPoolEvaluator(Evaluator):
    """A pool of spawned worker processes, one per entry of `devices` (e.g. ["cuda:0", "cuda:1"]).

    Without `devices`, `workers` CPU processes (default: one per available CPU). Each worker holds
    `threads_per_worker` CPU threads (torch's pool and the OpenMP/MKL variables; see
    `sr_search_evo.devices.set_thread_budget`); on the CPU the default is the available CPUs
    divided among the workers (at least 1), so 2 workers on 2 cores train 2 candidates side by side
    with 1 thread each. With `devices`, threads are left as they are unless given. The fitness
    function is pickled once into a temporary file that each worker reads at start (so its
    training data travels once, not per task; the file goes on `close()` and `abort()`). Every
    device is checked here, before a worker starts. Workers end when this process dies (however it
    dies), on SIGTERM, and on `abort()` (an environment fault, Ctrl-C), even mid-task; they ignore
    Ctrl-C themselves. A worker that dies, also one that cannot start, is an `EnvironmentFault`.
    """

    def __init__(
        self,
        fn: Fitness,
        devices: Sequence[str] | None = None,
        workers: int | None = None,
        threads_per_worker: int | None = None,
    ) -> None:
        threads = threads_per_worker
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"ProcessPoolEvaluator: threads_per_worker must be >= 1, got {threads!r}")
        if devices is None:
            count = workers or available_cpus()
            devices = ["cpu"] * count
            threads = threads or max(1, available_cpus() // count)
        elif workers is not None and workers != len(devices):
            raise ValueError(
                f"ProcessPoolEvaluator: workers={workers} but {len(devices)} devices {list(devices)}"
            )
        if not devices:
            raise ValueError("ProcessPoolEvaluator needs at least one device or worker")
        for device in devices:
            resolve_device(device)
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        for device in devices:
            queue.put(device)
        self.devices = list(devices)
        self.threads_per_worker = threads
        self._queue = queue
        self._fitness_file = _write_fitness(fn)
        self._pool = ProcessPoolExecutor(
            max_workers=len(devices),
            mp_context=context,
            initializer=_init_worker,
            initargs=(str(self._fitness_file), queue, threads),
        )
        self._sigterm = SigtermGuard(self._terminate_workers)

    def start(self) -> set[int]:
        """Start every worker now and wait until each has started (device, thread budget, fitness
        unpickled); returns their process ids. Workers otherwise start with the first candidates:
        call this first to time candidates without the start-up."""
        pids: set[int] = set()
        while len(pids) < len(self.devices):
            with workers_deaf_to_ctrl_c():
                pending = [self._pool.submit(_worker_pid) for _ in self.devices]
            try:
                pids.update(future.result() for future in pending)
            except BrokenProcessPool as err:
                raise EnvironmentFault(f"{WORKER_DIED} while starting") from err
        return pids

    def describe(self) -> str:
        """E.g. "2 workers (cpu, cpu), 1 thread each", for logs."""
        count, threads = len(self.devices), self.threads_per_worker
        budget = "" if threads is None else f", {threads} thread{'s' if threads > 1 else ''} each"
        return f"{count} worker{'s' if count > 1 else ''} ({', '.join(self.devices)}){budget}"

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        with workers_deaf_to_ctrl_c():  # the pool starts its workers on the first submissions
            pending = {self._pool.submit(_run_in_worker, i, c) for i, c in enumerate(candidates)}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        yield future.result()
                    except BrokenProcessPool as err:
                        raise EnvironmentFault(WORKER_DIED) from err
        finally:
            for future in pending:
                future.cancel()

    def _terminate_workers(self) -> None:
        """End every worker now, also those in the middle of a task."""
        terminate = getattr(self._pool, "terminate_workers", None)  # Python >= 3.14
        if terminate is not None:
            terminate()
            return
        processes = getattr(self._pool, "_processes", None) or {}  # before 3.14: the executor's table
        for process in list(processes.values()):
            if process.is_alive():
                process.terminate()

    def close(self) -> None:
        self._sigterm.remove()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._queue.close()
        self._fitness_file.unlink(missing_ok=True)

    def abort(self) -> None:
        self._sigterm.remove()
        self._terminate_workers()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._queue.close()
        self._fitness_file.unlink(missing_ok=True)


EVALUATORS = ("inprocess", "pool", "ray")


def evaluator_options(
    kind: str, device: str = "auto", workers: int | None = None, threads_per_worker: int | None = None
) -> dict[str, Any]:
    """`make_evaluator(kind, fn, **options)`'s options for a command line's `--device`, `--workers`
    and `--threads-per-worker`.

    `device` (auto, cpu, cuda, cuda:N) is checked here, before any work: an unknown or absent one is
    a `DeviceError`. On CUDA, "pool" runs one worker per GPU (`workers` caps them; `cuda:N` is that
    GPU alone) and "ray" gives each task a GPU; on the CPU, "pool" runs `workers` processes with
    `threads_per_worker` threads each (default: the CPUs shared among them). "inprocess" runs one
    candidate at a time on the device.
    """
    if kind not in EVALUATORS:
        raise ValueError(f"unknown evaluator {kind!r}; choose {', '.join(EVALUATORS)}")
    for flag, value in (("--workers", workers), ("--threads-per-worker", threads_per_worker)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    resolved = resolve_device(device)
    if threads_per_worker is not None and kind != "pool":
        raise ValueError(
            f"--threads-per-worker needs --evaluator pool ({kind} sets no thread budget; use OMP_NUM_THREADS)"
        )
    if kind == "inprocess":
        if workers not in (None, 1):
            raise ValueError(f"--workers {workers} needs --evaluator pool (inprocess trains one at a time)")
        return {"device": str(resolved)}
    if kind == "ray":
        if workers is not None:
            raise ValueError("--workers is for --evaluator pool; Ray runs as many tasks as its cluster holds")
        return {"num_gpus_per_task": 1 if resolved.type == "cuda" else 0}
    budget = {} if threads_per_worker is None else {"threads_per_worker": threads_per_worker}
    if resolved.type != "cuda":
        return {"workers": workers, **budget}
    if str(device).strip().lower() in ("auto", "cuda"):
        gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return {"devices": gpus[: workers or len(gpus)], **budget}
    return {"devices": [str(resolved)] * (workers or 1), **budget}


def make_evaluator(kind: str, fn: Fitness, **kwargs: Any) -> Evaluator:
    """ "inprocess", "pool" (ProcessPoolEvaluator) or "ray" (RayEvaluator), built with `kwargs`."""
    if kind == "inprocess":
        return InProcessEvaluator(fn, **kwargs)
    if kind == "pool":
        return ProcessPoolEvaluator(fn, **kwargs)
    if kind == "ray":
        from sr_search_evo.ray_evaluator import RayEvaluator

        return RayEvaluator(fn, **kwargs)
    raise ValueError(f"unknown evaluator kind {kind!r}; choose inprocess, pool or ray")
