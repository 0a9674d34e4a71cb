"""The process pool's thread budget: each worker holds the threads it was given, torch and OpenMP alike."""

from __future__ import annotations

import os

import pytest

from sr_search_evo import ProcessPoolEvaluator, evaluator_options
from sr_search_evo.devices import THREAD_ENV, available_cpus, set_thread_budget


def threads_seen(genes: list[str]) -> dict:
    """A fitness reporting the worker's threads (picklable by reference: this module is importable)."""
    import torch

    return {
        "psnr": 0.0,
        "torch_threads": torch.get_num_threads(),
        "env": {name: os.environ.get(name) for name in THREAD_ENV},
        "pid": os.getpid(),
    }


@pytest.mark.parametrize(("workers", "threads"), [(2, 1), (1, 2), (2, 3)])
def test_every_worker_holds_its_thread_budget(workers: int, threads: int) -> None:
    with ProcessPoolEvaluator(threads_seen, workers=workers, threads_per_worker=threads) as pool:
        results = [result for _, result in pool.imap_unordered([["S_4_8_8"]] * 6)]
        assert pool.describe().startswith(f"{workers} worker")
    assert {r["torch_threads"] for r in results} == {threads}
    assert all(r["env"] == dict.fromkeys(THREAD_ENV, str(threads)) for r in results)
    assert 1 <= len({r["pid"] for r in results}) <= workers


def test_start_waits_for_every_worker() -> None:
    with ProcessPoolEvaluator(threads_seen, workers=2, threads_per_worker=1) as pool:
        started = pool.start()
        results = [result for _, result in pool.imap_unordered([["S_4_8_8"]] * 4)]
    assert len(started) == 2 and {r["pid"] for r in results} <= started


def test_cpu_workers_share_the_available_cpus_by_default() -> None:
    with ProcessPoolEvaluator(threads_seen, workers=1) as pool:
        assert pool.threads_per_worker == available_cpus()
        (_, result), *_ = pool.imap_unordered([["S_4_8_8"]])
    assert result["torch_threads"] == available_cpus()
    with ProcessPoolEvaluator(threads_seen, workers=available_cpus() * 2) as pool:
        assert pool.threads_per_worker == 1  # more workers than CPUs: never 0 threads


def test_a_bad_thread_budget_is_refused_before_any_worker_starts() -> None:
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="threads_per_worker must be >= 1"):
            ProcessPoolEvaluator(threads_seen, workers=1, threads_per_worker=bad)
    with pytest.raises(ValueError, match="thread budget must be a positive integer"):
        set_thread_budget(0)


def test_evaluator_options_pass_the_budget_to_the_pool_only() -> None:
    assert evaluator_options("pool", "cpu", 2, 1) == {"workers": 2, "threads_per_worker": 1}
    assert evaluator_options("pool", "cpu", 2) == {"workers": 2}
    with pytest.raises(ValueError, match="--threads-per-worker must be >= 1, got 0"):
        evaluator_options("pool", "cpu", 2, 0)
    for kind in ("inprocess", "ray"):
        with pytest.raises(ValueError, match="--threads-per-worker needs --evaluator pool"):
            evaluator_options(kind, "cpu", threads_per_worker=2)
