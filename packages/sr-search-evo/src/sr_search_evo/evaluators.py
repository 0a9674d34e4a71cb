"""Evaluators: run a picklable fitness function over candidates, yielding results as they finish.

Every evaluator has `imap_unordered(candidates) -> Iterator[(index, result)]`, `close()`, and is a
context manager. A fitness call that raises becomes a result {"psnr": None, "error": "..."} so one
broken candidate (say, out of memory) does not end a long search.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sr_search_evo.devices import set_current_device

Fitness = Callable[[Any], dict]


def call_fitness(fn: Fitness, candidate: Any) -> dict:
    """`fn(candidate)` checked to be a dict with "psnr"; an exception becomes an error result."""
    try:
        result = fn(candidate)
    except Exception as err:  # noqa: BLE001 - reported in the history, the search goes on
        return {"psnr": None, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    if not isinstance(result, dict) or "psnr" not in result:
        raise TypeError(f"the fitness function must return a dict with 'psnr', got {result!r}")
    return result


class Evaluator:
    """Base: context-manager support and a no-op `close()`; subclasses define `imap_unordered`."""

    def close(self) -> None:
        """Release workers (nothing to release by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessEvaluator(Evaluator):
    """Evaluate one candidate after another in this process (on `device`, default: the current one)."""

    def __init__(self, fn: Fitness, device: str | None = None) -> None:
        self.fn = fn
        if device is not None:
            set_current_device(device)

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        for index, candidate in enumerate(candidates):
            yield index, call_fitness(self.fn, candidate)


# -- process pool -----------------------------------------------------------------------------
_WORKER_FN: Fitness | None = None


def _init_worker(fn_bytes: bytes, devices: Any, threads: int | None) -> None:
    global _WORKER_FN
    device = devices.get()
    set_current_device(device)
    if threads:
        import torch

        torch.set_num_threads(threads)
    _WORKER_FN = pickle.loads(fn_bytes)


def _run_in_worker(index: int, candidate: Any) -> tuple[int, dict]:
    assert _WORKER_FN is not None, "worker not initialised"
    return index, call_fitness(_WORKER_FN, candidate)


class ProcessPoolEvaluator(Evaluator):
    """A pool of spawned worker processes, one per entry of `devices` (e.g. ["cuda:0", "cuda:1"]).

    Without `devices`, `workers` CPU processes (default: one per CPU) each with
    `threads_per_worker` torch threads (default: CPUs // workers). The fitness function is pickled
    once and sent to each worker at start (so its training data travels once, not per task).
    """

    def __init__(
        self,
        fn: Fitness,
        devices: Sequence[str] | None = None,
        workers: int | None = None,
        threads_per_worker: int | None = None,
    ) -> None:
        if devices is None:
            count = workers or os.cpu_count() or 1
            devices = ["cpu"] * count
            threads_per_worker = threads_per_worker or max(1, (os.cpu_count() or 1) // count)
        elif workers is not None and workers != len(devices):
            raise ValueError(
                f"ProcessPoolEvaluator: workers={workers} but {len(devices)} devices {list(devices)}"
            )
        if not devices:
            raise ValueError("ProcessPoolEvaluator needs at least one device or worker")
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        for device in devices:
            queue.put(device)
        self.devices = list(devices)
        self._queue = queue
        self._pool = ProcessPoolExecutor(
            max_workers=len(devices),
            mp_context=context,
            initializer=_init_worker,
            initargs=(pickle.dumps(fn), queue, threads_per_worker),
        )

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        pending = {self._pool.submit(_run_in_worker, i, c) for i, c in enumerate(candidates)}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._queue.close()


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
