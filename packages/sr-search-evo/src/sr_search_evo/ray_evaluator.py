"""`RayEvaluator`: spread evaluations over a Ray cluster (install the `ray` extra)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sr_search_evo.devices import set_current_device
from sr_search_evo.evaluator_base import Evaluator
from sr_search_evo.fitness_call import Fitness, as_environment_fault, call_fitness, environment_fault


def _ray_task(fn: Fitness, index: int, candidate: Any, on_gpu: bool) -> tuple[int, dict]:
    # Ray narrows CUDA_VISIBLE_DEVICES to the task's GPU, so it is always "cuda:0" here.
    try:
        set_current_device("cuda:0" if on_gpu else "cpu")
    except Exception as err:  # noqa: BLE001 - the task's device is the environment's business
        raise as_environment_fault(err, "the Ray task's device could not be selected") from err
    return index, call_fitness(fn, candidate)


class RayEvaluator(Evaluator):
    """One Ray task per candidate, each asking for `num_gpus_per_task` GPUs and `num_cpus_per_task` CPUs.

    Connects with `ray.init(address=address, **init_kwargs)` unless Ray is already initialised
    (address None starts a local instance; "auto" joins a running cluster). The fitness function
    is put in the object store once. `close()` shuts Ray down only if this evaluator started it.
    A task's environment fault (classified in the task, or here for what fails before the fitness
    runs, such as unpickling it) and a lost worker or node raise `EnvironmentFault`.
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

    def _result(self, ref: Any) -> tuple[int, dict]:
        """`ray.get(ref)`, with Ray's wrapping of a task's fault or of a lost worker undone."""
        errors = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except errors.RayTaskError as err:
            cause = getattr(err, "cause", None) or err
            fault = environment_fault(cause)
            if fault is None:
                raise cause from None  # a bug (say, a fitness without "psnr"): its own type
            raise fault from None
        except errors.RayError as err:  # a worker, node or object lost: the cluster's fault
            raise as_environment_fault(err, "a Ray worker was lost") from err

    def imap_unordered(self, candidates: Sequence[Any]) -> Iterator[tuple[int, dict]]:
        ray = self._ray
        pending = [self._task.remote(self._fn_ref, i, c, self._on_gpu) for i, c in enumerate(candidates)]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield self._result(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False
