"""Latency in the loop: measured before training, cached, a limit that rejects before any training,
NSGA-II over (psnr, latency), the per-block lookup table and the `latency` config section."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
import torch
from fakes import QUIET, SMALL, CountingFitness, CountingScreen, ImportingFitness, esr_space, fake_fitness
from torch import nn

from sr_blocks import create_model
from sr_reparam import onnxruntime_session
from sr_search_evo import (
    EnvironmentFault,
    ESRLatencyScreen,
    ESRLatencyTable,
    ESRSearchAlgorithm,
    ESRSearchSpace,
    EvoSettings,
    InProcessEvaluator,
    LatencySettings,
    build_esr_screen,
    measure_latency_ms,
    run_search,
)
from sr_train import ConfigError, section_from_dict

TINY = LatencySettings(lr_size=[8, 12], warmup=0, repeats=2)  # real timing, kept short


def test_a_candidate_over_the_limit_is_never_trained(tmp_path: Path) -> None:
    screen, fitness = CountingScreen(limit=106.0), CountingFitness()
    result = run_search(
        esr_space(), InProcessEvaluator(fitness), EvoSettings(**SMALL), tmp_path, screen=screen, **QUIET
    )
    rejected = [r for r in result.history if r.get("rejected")]
    trained = {",".join(call) for call in fitness.calls}
    assert rejected and all(r["key"] not in trained and r["psnr"] is None for r in rejected)
    assert all(r["latency_ms"] > 106.0 for r in rejected)
    assert all(r["latency_ms"] <= 106.0 for r in result.history if r["key"] in trained)
    assert all(r["psnr"] is not None for r in result.best(100)) and result.best()[0]["latency_ms"] <= 106.0
    # every candidate was screened once, and before it was trained
    assert len(screen.calls) == len(set(screen.calls)) == len(result.history)


def test_screening_happens_before_any_training_of_the_generation(tmp_path: Path) -> None:
    events: list[str] = []

    class Screen(CountingScreen):
        def __call__(self, genes):
            events.append("screen")
            return super().__call__(genes)

    def fitness(genes):
        events.append("train")
        return fake_fitness(genes)

    settings = EvoSettings(**{**SMALL, "num_generation": 1})
    run_search(esr_space(), InProcessEvaluator(fitness), settings, tmp_path, screen=Screen(), **QUIET)
    assert events == ["screen"] * events.count("screen") + ["train"] * events.count("train")


def test_a_resumed_search_never_measures_a_candidate_twice(tmp_path: Path) -> None:
    first = CountingScreen()
    with pytest.raises(EnvironmentFault):  # training fails mid-generation, after the screen ran
        run_search(
            esr_space(),
            InProcessEvaluator(ImportingFitness("no_such_module_x", 3)),
            EvoSettings(**SMALL),
            tmp_path,
            screen=first,
            **QUIET,
        )
    assert len(first.calls) == SMALL["num_individual"]
    again = CountingScreen()
    result = run_search(
        esr_space(), InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), tmp_path, screen=again, **QUIET
    )
    assert not set(again.calls) & set(first.calls)
    assert all("latency_ms" in r for r in result.history)
    with pytest.raises(ValueError, match=r"screen\.limit was None and is now 50"):
        run_search(
            esr_space(),
            InProcessEvaluator(fake_fitness),
            EvoSettings(**SMALL),
            tmp_path,
            screen=CountingScreen(limit=50),
            **QUIET,
        )


def dominated(record: dict, others: list[dict]) -> bool:
    return any(
        o["psnr"] >= record["psnr"]
        and o["latency_ms"] <= record["latency_ms"]
        and (o["psnr"] > record["psnr"] or o["latency_ms"] < record["latency_ms"])
        for o in others
    )


def test_nsga2_over_psnr_and_latency_gives_a_non_dominated_front(tmp_path: Path) -> None:
    settings = EvoSettings(
        **{**SMALL, "num_generation": 5, "objective": "nsga2", "objectives": ["psnr", "latency"]}
    )
    result = run_search(
        esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path, screen=CountingScreen(), **QUIET
    )
    front = result.pareto(("latency_ms",))
    assert len(front) >= 2 and not any(dominated(r, result.history) for r in front)
    # NSGA-II's elites are the first fronts of everything evaluated: the whole front survives
    elite_keys = {r["key"] for r in result.elites}
    assert len(front) > settings.num_individual or {r["key"] for r in front} <= elite_keys
    first_front = [r for r in result.elites if not dominated(r, result.elites)]
    assert not any(dominated(r, result.history) for r in first_front)


def test_a_latency_objective_without_a_screen_says_where_latency_comes_from(tmp_path: Path) -> None:
    settings = EvoSettings(**{**SMALL, "objective": "nsga2", "objectives": ["psnr", "latency"]})
    with pytest.raises(ValueError, match="latency_ms.*build_esr_screen"):
        run_search(esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path, **QUIET)


# -- measuring ---------------------------------------------------------------------------------
def test_measuring_times_the_deployed_form_and_restores_the_threads(monkeypatch) -> None:
    from sr_eval import latency
    from sr_reparam.deploy import undeployed_modules

    model = create_model("ecbsr", scale=2)
    assert undeployed_modules(model)  # ECB blocks in training form
    timed, before = [], torch.get_num_threads()
    monkeypatch.setattr(
        "sr_search_evo.latency.latency", lambda m, *a, **k: timed.append(m) or latency(m, *a, **k)
    )
    torch.set_num_threads(2)
    try:
        value = measure_latency_ms(model, 3, LatencySettings(lr_size=[8, 12], warmup=0, repeats=2, threads=1))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert value > 0 and not undeployed_modules(timed[0])
    assert undeployed_modules(model)  # the model itself is untouched


def test_onnxruntime_engine_measures_the_exported_network(monkeypatch) -> None:
    sessions = []

    def recorded(*args, **kwargs):
        sessions.append(onnxruntime_session(*args, **kwargs))
        return sessions[-1]

    monkeypatch.setattr(sys.modules["sr_search_evo.latency"], "onnxruntime_session", recorded)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 12, 3, padding=1), nn.PixelShuffle(2)
    )
    settings = LatencySettings(lr_size=[8, 12], warmup=1, repeats=3, threads=2, engine="onnxruntime")
    assert measure_latency_ms(net, 3, settings) > 0
    (session,) = sessions  # the exported network ran in onnxruntime, on the settings' threads
    assert session.get_inputs()[0].shape[1] == 3 and session.get_session_options().intra_op_num_threads == 2


def test_the_esr_screen_measures_the_whole_network_and_applies_the_limit() -> None:
    genes = ["S_2_8_16", "C_2_8_8"]
    result = ESRLatencyScreen(16, 2, TINY)(genes)
    assert result["latency_source"] == "measured" and result["latency_ms"] > 0 and "rejected" not in result
    rejected = ESRLatencyScreen(16, 2, TINY, max_latency_ms=1e-6)(genes)
    assert (
        rejected["rejected"].startswith("latency ") and "range.max_latency_ms 1e-06" in rejected["rejected"]
    )


# -- the lookup table --------------------------------------------------------------------------
class FakeTiming:
    """measure_latency_ms stand-in: a deterministic value from the module's parameters, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, module: nn.Module, in_channels: int, settings: LatencySettings) -> float:
        self.calls += 1
        return 0.001 * sum(p.numel() for p in module.parameters()) + in_channels


def test_the_table_sums_its_entries_and_measures_each_piece_once(tmp_path: Path, monkeypatch) -> None:
    timing = FakeTiming()
    monkeypatch.setattr("sr_search_evo.latency_table.measure_latency_ms", timing)
    path = tmp_path / "table.json"
    table = ESRLatencyTable(path, 16, 2, TINY)
    genes = ["S_2_8_16", "C_2_8_8", "S_2_8_16"]
    estimate = table.estimate(genes)
    entries = json.loads(path.read_text())["entries"]
    expected = ["head", "block:S_2_8_16@16", "block:C_2_8_8@16", "block:S_2_8_16@8", "fusion:40", "tail"]
    assert sorted(entries) == sorted(expected) and timing.calls == len(expected)
    assert estimate == pytest.approx(sum(entries.values()))
    again = ESRLatencyTable(path, 16, 2, TINY)  # a later search reads the file, measures nothing
    assert again.estimate(genes) == pytest.approx(estimate) and timing.calls == len(expected)
    with pytest.raises(
        ValueError,
        match=r"table\.json: the table was measured with threads=1, this search measures with threads=2",
    ):
        ESRLatencyTable(path, 16, 2, LatencySettings(lr_size=[8, 12], warmup=0, repeats=2, threads=2))


def test_a_table_search_rejects_before_training(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("sr_search_evo.latency_table.measure_latency_ms", FakeTiming())
    space_section = section_from_dict(
        ESRSearchSpace,
        {
            "esrbody": {
                "block_type": ["S", "C"],
                "conv_num": [2],
                "growth_rate": [8, 16],
                "type_prob": [1, 1],
                "conv_prob": [1],
                "growth_prob": [1, 1],
                "G0": 16,
            }
        },
        "search_space",
    )
    algorithm = section_from_dict(
        ESRSearchAlgorithm,
        {
            "policy": {"num_generation": 3, "num_individual": 4, "num_elitism": 2, "mutation_rate": 0.2},
            "range": {
                "node_num": 5,
                "min_active": 2,
                "max_params": None,
                "min_params": None,
                "max_latency_ms": 110.0,
            },
            "latency": {"lr_size": [8, 12], "use_table": True},
        },
        "search_algorithm",
    )
    from sr_search_evo import build_esr_space

    screen = build_esr_screen(space_section, algorithm, tmp_path)
    assert isinstance(screen, ESRLatencyScreen) and screen.table is not None
    fitness = CountingFitness()
    result = run_search(
        build_esr_space(space_section, algorithm.range),
        InProcessEvaluator(fitness),
        algorithm.policy,
        tmp_path,
        screen=screen,
        **QUIET,
    )
    assert (tmp_path / "latency_table.json").exists()
    trained = {",".join(call) for call in fitness.calls}
    assert all(r["latency_source"] == "table" for r in result.history)
    assert all((r["latency_ms"] > 110.0) == (r["key"] not in trained) for r in result.history)
    assert trained and len(trained) < len(result.history)  # the limit cuts


# -- the config section ------------------------------------------------------------------------
def test_no_screen_unless_latency_is_asked_for(tmp_path: Path) -> None:
    space = section_from_dict(ESRSearchSpace, {}, "search_space")
    plain = section_from_dict(ESRSearchAlgorithm, {}, "search_algorithm")
    assert build_esr_screen(space, plain, tmp_path) is None
    objective = section_from_dict(
        ESRSearchAlgorithm,
        {"policy": {"objective": "nsga2", "objectives": ["psnr", "latency"]}},
        "search_algorithm",
    )
    screen = build_esr_screen(space, objective, tmp_path)
    assert isinstance(screen, ESRLatencyScreen) and screen.max_latency_ms is None and screen.table is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"latency": {"threads": 0}}, "search_algorithm.latency.threads must be a positive integer"),
        ({"latency": {"engine": "tvm"}}, "search_algorithm.latency.engine must be one of"),
        ({"latency": {"lr_size": [360]}}, "search_algorithm.latency.lr_size must be"),
        ({"latency": {"warmup": -1}}, "search_algorithm.latency.warmup must be 0 or more"),
        ({"latency": {"frames": 3}}, "unknown config key 'search_algorithm.latency.frames'"),
        ({"range": {"max_latency_ms": -1}}, "search_algorithm.range.max_latency_ms must be above 0"),
        (
            {"policy": {"objectives": ["psnr", "latency"]}},
            "search_algorithm.policy.objectives .* needs objective: nsga2",
        ),
        ({"policy": {"objective": "nsga2", "objectives": ["latency"]}}, "two or more distinct"),
    ],
)
def test_bad_latency_settings_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message + ".* in esr_ea.yml"):
        section_from_dict(ESRSearchAlgorithm, section, "search_algorithm", "esr_ea.yml")


def test_an_absent_device_is_refused_before_any_work() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from sr_eval.runtime import DeviceError

    with pytest.raises(DeviceError):
        ESRLatencyScreen(16, 2, LatencySettings(device="cuda"))


def test_random_networks_are_timed_in_their_deployed_form(monkeypatch) -> None:
    """The screen times create_model's ESRN (no training-form blocks: deploy is a copy of it)."""
    seen = []
    monkeypatch.setattr("sr_search_evo.esr_latency.measure_latency_ms", lambda m, c, s: seen.append(m) or 1.0)
    space, rng = esr_space(), random.Random(0)
    genes = space.decode(space.repair(space.sample(rng), rng))
    ESRLatencyScreen(32, 2, TINY)(genes)
    assert seen[0].genes == genes
