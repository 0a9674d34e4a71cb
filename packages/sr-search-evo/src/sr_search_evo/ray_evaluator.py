"""`RayEvaluator`: spread evaluations over a Ray cluster (install the `ray` extra)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sr_search_evo.devices import set_current_device
from sr_search_evo.evaluators import Evaluator, Fitness, call_fitness


def _ray_task(fn: Fitness, index: int, candidate: Any, on_gpu: bool) -> tuple[int, dict]:
    # Ray narrows CUDA_VISIBLE_DEVICES to the task's GPU, so it is always "cuda:0" here.
    set_current_device("cuda:0" if on_gpu else "cpu")
    return index, call_fitness(fn, candidate)


class RayEvaluator(Evaluator):
    """One Ray task per candidate, each asking for `num_gpus_per_task` GPUs and `num_cpus_per_task` CPUs.

    Connects with `ray.init(address=address, **init_kwargs)` unless Ray is already initialised
    (address None starts a local instance; "auto" joins a running cluster). The fitness function
    is put in the object store once. `close()` shuts Ray down only if this evaluator started it.
    """

    def __init__(
        self,
        fn: Fitness,
        address: str | None = None,
        num_gpus_per_task: float = 0,
        num_cpus_per_task: float = 1,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError('RayEvaluator needs Ray: pip install "sr-search-evo[ray]"') from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            ray.init(address=address, **(init_kwargs or {}))
        self._fn_ref = ray.put(fn)
        self._on_gpu = num_gpus_per_task > 0
        self._task = ray.remote(num_gpus=num_gpus_per_task, num_cpus=num_cpus_per_task)(_ray_task)

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        ray = self._ray
        pending = [self._task.remote(self._fn_ref, i, c, self._on_gpu) for i, c in enumerate(candidates)]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False
