"""Evaluators: in-process, process pool (spawned workers), Ray on a local instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import esr_space, failing_fitness, fake_fitness, slow_fitness

from sr_search_evo import EvoSettings, InProcessEvaluator, ProcessPoolEvaluator, make_evaluator, run_search

SETTINGS = EvoSettings(num_generation=2, num_individual=6, num_elitism=2, mutation_rate=0.1, seed=5)


def candidates(count: int) -> list[list[str]]:
    import random

    space, rng = esr_space(), random.Random(0)
    return [space.decode(space.repair(space.sample(rng), rng)) for _ in range(count)]


def test_inprocess_yields_every_result_and_turns_errors_into_records() -> None:
    batch = candidates(6)
    results = dict(InProcessEvaluator(failing_fitness).imap_unordered(batch))
    assert sorted(results) == list(range(6))
    for index, genes in enumerate(batch):
        if len(genes) % 2:
            assert results[index]["psnr"] is None and "RuntimeError" in results[index]["error"]
        else:
            assert results[index] == fake_fitness(genes)


def test_a_fitness_must_return_psnr() -> None:
    with pytest.raises(TypeError, match="psnr"):
        list(InProcessEvaluator(lambda genes: {"loss": 1.0}).imap_unordered([["S_4_8_8"]]))


def test_process_pool_streams_results_from_every_worker(tmp_path: Path) -> None:
    batch = candidates(8)
    # Each worker takes one entry of devices and keeps it.
    with ProcessPoolEvaluator(slow_fitness, devices=["cpu", "cpu"]) as pool:
        results = list(pool.imap_unordered(batch))
        assert sorted(i for i, _ in results) == list(range(8))
        device_of = {r["pid"]: r["device"] for _, r in results}
        assert set(device_of.values()) == {"cpu"} and len(device_of) <= 2
        assert all(device_of[r["pid"]] == r["device"] for _, r in results)  # one device per worker
        for index, result in results:
            assert result["psnr"] == fake_fitness(batch[index])["psnr"]
        serial = run_search(
            esr_space(), InProcessEvaluator(fake_fitness), SETTINGS, tmp_path / "a", log=lambda line: None
        )
        parallel = run_search(esr_space(), pool, SETTINGS, tmp_path / "b", log=lambda line: None)
    # Completion order may differ; what was evaluated and the final population may not.
    key = lambda r: r["key"]  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if k not in ("pid", "device")}  # noqa: E731
    assert sorted(map(strip, parallel.history), key=key) == sorted(serial.history, key=key)
    state = [json.loads((tmp_path / d / "population.json").read_text()) for d in "ab"]
    assert state[0] == state[1]


def test_process_pool_checks_devices_against_workers() -> None:
    with pytest.raises(ValueError, match="workers=3"):
        ProcessPoolEvaluator(slow_fitness, devices=["cpu"], workers=3)


def test_make_evaluator_rejects_unknown_kinds() -> None:
    assert isinstance(make_evaluator("inprocess", fake_fitness), InProcessEvaluator)
    with pytest.raises(ValueError, match="unknown evaluator kind 'dask'"):
        make_evaluator("dask", fake_fitness)


def test_ray_on_a_local_instance(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'sr-search-evo[ray]')")
    # Ray's workers do not inherit sys.path: tell them where fakes.py is.
    runtime_env = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}
    init = dict(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
    with make_evaluator("ray", slow_fitness, init_kwargs=init) as evaluator:
        assert ray.is_initialized()
        batch = candidates(5)
        results = dict(evaluator.imap_unordered(batch))
        assert sorted(results) == list(range(5))
        assert all(results[i]["psnr"] == fake_fitness(g)["psnr"] for i, g in enumerate(batch))
        search = run_search(esr_space(), evaluator, SETTINGS, tmp_path, log=lambda line: None)
        assert len(search.history) >= SETTINGS.num_individual
    assert not ray.is_initialized()
