"""RepStackSpace: feasible candidates whose closed-form costs are the deployed network's, operators
that stay in the space, the hand-designed presets as points of it, and the fitness variants."""

from __future__ import annotations

import random

import pytest
import torch
from test_esr_fitness import tiny_pairs

from sr_blocks import create_model
from sr_blocks.repstack import REPSTACK_PRESETS
from sr_eval import profile
from sr_reparam import deploy
from sr_search_evo import GeneFitness, SearchSpace
from sr_search_evo.fitness_variants import fixed_budget, inherit_weights, inherited_budget, successive_halving
from sr_search_evo.repstack_space import RepStackSpace, repstack_macs, repstack_params


def window_space() -> RepStackSpace:
    return RepStackSpace(min_params=5_000, max_params=30_000, depth=[1, 6])


def test_it_is_a_search_space_and_its_candidates_are_feasible_and_varied() -> None:
    space, rng = window_space(), random.Random(0)
    assert isinstance(space, SearchSpace)
    keys = set()
    for _ in range(20):
        ind = space.repair(space.sample(rng), rng)
        assert space.feasible(ind)
        assert 5_000 <= space.count_params(space.decode(ind)) <= 30_000
        child, other = space.crossover(ind, space.repair(space.sample(rng), rng), rng)
        for offspring in (child, other, space.mutate(ind, rng, 0.5)):
            assert space.feasible(space.repair(offspring, rng))
        keys.add(space.key(ind))
    assert len(keys) == 20


@pytest.mark.parametrize("seed", range(4))
def test_closed_form_costs_are_the_deployed_networks(seed: int) -> None:
    space, rng = window_space(), random.Random(seed)
    genes = space.decode(space.repair(space.sample(rng), rng))
    model = create_model("repstack", scale=2, genes=genes)
    deployed = deploy(model)
    costs = profile(deployed, scale=2, hr_size=(48, 64))
    assert repstack_params(genes) == costs.params
    assert repstack_macs(genes, (24, 32)) == costs.macs
    x = torch.rand(1, 3, 13, 15)
    assert (model.eval()(x) - deployed(x)).abs().max() <= 1e-5


@pytest.mark.parametrize("name", sorted(REPSTACK_PRESETS))
def test_presets_encode_into_the_default_space(name: str) -> None:
    space = RepStackSpace(depth=[2, 8])
    ind = space.encode(REPSTACK_PRESETS[name])
    assert space.feasible(ind)
    assert space.decode(ind) == REPSTACK_PRESETS[name]


def test_long_residual_widths_are_repaired() -> None:
    space, rng = RepStackSpace(depth=[2, 2], long=[True]), random.Random(3)
    ind = ["long", "conv_16_relu", "conv", [1, "rep_8_relu"], [1, "conv_24_relu"]]
    fixed = space.repair(ind, rng)
    assert space.feasible(fixed)
    assert space.decode(fixed)[-2].split("_")[1] == "16"


def test_bad_knobs_are_named() -> None:
    with pytest.raises(ValueError, match="depth"):
        RepStackSpace(depth=[4, 2])
    with pytest.raises(ValueError, match="residual"):
        RepStackSpace(residual=["nearest", "lanczos"])
    with pytest.raises(ValueError, match="conv_8_tanh"):
        RepStackSpace(act=["tanh"])


def tiny_fitness(steps: int, start: str = "default") -> GeneFitness:
    return GeneFitness(
        tiny_pairs(8),
        tiny_pairs(2, seed=1),
        steps,
        2,
        "repstack",
        train_overrides={"batch_size": 4, "lr": 1e-3},
        hr_size=(32, 32),
        device="cpu",
        start=start,
    )


GENES = [
    ["nearest", "conv_8_relu", "conv_8_relu", "conv"],
    ["nearest+clip", "rep_8_prelu", "rep_8_prelu", "rep"],
    ["plain", "ecb_8_relu", "ecb"],
    ["bicubic", "lin16_8_prelu", "lin16"],
]


def test_fixed_budget_and_successive_halving_spend_what_they_say() -> None:
    fixed = fixed_budget(tiny_fitness(4), GENES)
    assert [r["steps"] for r in fixed] == [4] * 4 and all(r["cpu_seconds"] > 0 for r in fixed)
    halving = successive_halving(tiny_fitness(4), GENES, min_steps=2)
    assert sorted(r["steps"] for r in halving) == [2, 2, 4, 8]  # 4 -> 2 -> 1 survivors
    best = max(halving, key=lambda r: r["score"])
    assert best["rung"] == 2 and best["steps"] == 8


def test_the_unit_variance_start_rescales_the_candidate_and_trains() -> None:
    default, rescaled = tiny_fitness(2), tiny_fitness(2, "unit_variance")
    genes = GENES[1]
    assert not torch.equal(
        default.build(genes).tail[0].conv.weight, rescaled.build(genes).tail[0].conv.weight
    )
    assert torch.equal(rescaled.build(genes).tail[0].conv.weight, rescaled.build(genes).tail[0].conv.weight)
    results = fixed_budget(rescaled, GENES)
    assert all(r["psnr"] > 0 for r in results)
    assert rescaled(genes)["psnr"] == pytest.approx(results[1]["psnr"])


def test_the_unit_variance_start_is_checked_before_any_work() -> None:
    with pytest.raises(ValueError, match="start 'lsuv' is not one of"):
        tiny_fitness(2, "lsuv")
    with pytest.raises(ValueError, match="'esrn' has none"):
        GeneFitness(tiny_pairs(4), tiny_pairs(2), 2, 2, "esrn", {"G0": 8}, start="unit_variance")


def test_inheritance_copies_only_what_fits() -> None:
    parent = create_model("repstack", genes=["nearest", "conv_8_relu", "conv_8_relu", "conv"])
    child = create_model("repstack", genes=["nearest", "conv_8_relu", "conv_16_relu", "conv"])
    copied = inherit_weights(child, parent.state_dict())
    assert torch.equal(child.head[0].weight, parent.head[0].weight)
    assert not torch.equal(child.body[0][0].bias[:8], parent.body[0][0].bias)
    assert copied == 3  # the head (weight, bias) and the tail's bias; the body and tail weight differ
    results = inherited_budget(tiny_fitness(2), GENES[:1], [GENES[0]], 2, lambda genes: parent.state_dict())
    assert results[0]["inherited"] == len(parent.state_dict())


RESUME_SCRIPT = """
import os, sys
from sr_search_evo import EvoSettings, InProcessEvaluator, run_search
from sr_search_evo.repstack_space import RepStackSpace, repstack_params
calls = 0
def dying_fitness(genes):
    global calls
    calls += 1
    if calls == int(sys.argv[2]):
        os._exit(17)  # no cleanup, like a SIGKILL
    return {"psnr": 30 + repstack_params(genes) / 1e4 + len(genes) / 100, "params": repstack_params(genes)}
space = RepStackSpace(min_params=5_000, max_params=30_000, depth=[1, 6])
settings = EvoSettings(num_generation=3, num_individual=5, num_elitism=2, mutation_rate=0.3, seed=1)
run_search(space, InProcessEvaluator(dying_fitness), settings, sys.argv[1], log=lambda line: None)
"""


def test_a_killed_plain_stack_search_resumes_to_the_same_end(tmp_path) -> None:
    import subprocess
    import sys

    def run(out, die_at: int) -> int:
        return subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(out), str(die_at)]).returncode

    assert run(tmp_path / "straight", 10_000) == 0
    resumed = tmp_path / "resumed"
    for die_at in (3, 4, 4):  # dies in generation 0, then later ones
        assert run(resumed, die_at) == 17
    assert run(resumed, 10_000) == 0
    for name in ("history.jsonl", "population.json"):
        assert (resumed / name).read_text() == (tmp_path / "straight" / name).read_text()


def test_the_screen_times_the_deployed_plain_stack(monkeypatch) -> None:
    from sr_reparam import is_plain
    from sr_search_evo import ESRLatencyScreen, LatencySettings
    from sr_search_evo import latency as latency_module

    timed = []

    def fake_latency(model, lr_size, **kwargs):
        timed.append(model)
        return type("Timing", (), {"median_ms": 12.5})()

    monkeypatch.setattr(latency_module, "latency", fake_latency)
    settings = LatencySettings(lr_size=[8, 8], warmup=0, repeats=1)
    screen = ESRLatencyScreen(0, 2, settings, max_latency_ms=10.0, model="repstack")
    result = screen(REPSTACK_PRESETS["sesr_m5"])
    assert result["latency_ms"] == 12.5 and "rejected" in result
    assert len(timed) == 1 and is_plain(timed[0])
    assert screen.config()["model"] == "repstack"


def test_a_search_starts_from_its_initial_networks(tmp_path) -> None:
    from sr_search_evo import EvoSettings, InProcessEvaluator, run_search

    space = RepStackSpace(min_params=5_000, max_params=30_000, initial=[REPSTACK_PRESETS["ecbsr_m4c16"]])
    settings = EvoSettings(num_generation=1, num_individual=3, num_elitism=1, seed=0)
    fitness = lambda genes: {"psnr": 30.0 + repstack_params(genes) / 1e5}  # noqa: E731
    result = run_search(space, InProcessEvaluator(fitness), settings, tmp_path, log=lambda _: None)
    first = result.history[0]
    assert first["decoded"] == REPSTACK_PRESETS["ecbsr_m4c16"] and first["origin"] == "initial"
    assert [r["origin"] for r in result.history[1:]] == ["sample", "sample"]
    with pytest.raises(ValueError, match="initial network .* outside the windows"):
        RepStackSpace(max_params=5_000, initial=[REPSTACK_PRESETS["sesr_m5"]])
