"""vega's breeding (`policy.breeding: vega`): vega's counts of mutants and crossovers per generation."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from fakes import QUIET, esr_space, fake_fitness

from sr_search_evo import EvoSettings, InProcessEvaluator, run_search, select_roulette_distinct
from sr_train import ConfigError


def origins_per_generation(out: Path, settings: EvoSettings) -> list[Counter]:
    """How each generation's children were made, read from population.json after every generation
    (the search extended one generation at a time: raising num_generation resumes it)."""
    counts = []
    for last in range(1, settings.num_generation + 1):
        step = EvoSettings(**{**settings.to_dict(), "num_generation": last})
        run_search(esr_space(), InProcessEvaluator(fake_fitness), step, out, **QUIET)
        state = json.loads((out / "population.json").read_text())
        assert len(state["origins"]) == len(state["population"]) == settings.num_individual
        counts.append(Counter(state["origins"]))
    return counts


@pytest.mark.parametrize(("individuals", "elites"), [(8, 4), (6, 2), (5, 3), (4, 2)])
def test_vega_breeding_makes_vegas_counts_every_generation(
    tmp_path: Path, individuals: int, elites: int
) -> None:
    settings = EvoSettings(
        num_generation=4, num_individual=individuals, num_elitism=elites, mutation_rate=0.1, breeding="vega"
    )
    pairs = individuals // 4
    for counts in origins_per_generation(tmp_path, settings):
        assert counts == Counter({"mutation": individuals - 2 * pairs, "crossover": 2 * pairs})


def test_the_origin_reaches_the_history(tmp_path: Path) -> None:
    settings = EvoSettings(
        num_generation=3, num_individual=8, num_elitism=4, mutation_rate=0.1, breeding="vega"
    )
    result = run_search(esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path, **QUIET)
    by_generation = {r["generation"]: r["origin"] for r in result.history}
    assert by_generation[0] == "sample"
    assert {r["origin"] for r in result.history if r["generation"] > 0} <= {"mutation", "crossover"}


def test_ours_mixes_by_crossover_rate(tmp_path: Path) -> None:
    settings = EvoSettings(
        num_generation=3, num_individual=8, num_elitism=4, mutation_rate=0.1, crossover_rate=0.0
    )
    for counts in origins_per_generation(tmp_path, settings):
        assert counts == Counter({"mutation": 8})


def test_vega_breeding_is_reproducible(tmp_path: Path) -> None:
    settings = EvoSettings(
        num_generation=4, num_individual=8, num_elitism=4, mutation_rate=0.1, breeding="vega"
    )
    runs = [
        run_search(esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path / str(i), **QUIET)
        for i in range(2)
    ]
    assert runs[0].history == runs[1].history
    assert runs[0].best()[0]["psnr"] >= max(r["psnr"] for r in runs[0].history if r["generation"] == 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(objective="nsga2"), "breeding 'vega' ranks by PSNR alone"),
        (dict(num_elitism=0), "breeding 'vega' mutates the elites"),
        (dict(breeding="random"), "breeding must be one of"),
    ],
)
def test_vega_settings_that_cannot_work_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EvoSettings.from_dict({"breeding": "vega", **changes}, "esr_ea.yml")


def test_the_old_settings_record_still_resumes() -> None:
    """Searches checkpointed before `breeding` and `objectives` existed compare equal settings."""
    assert "breeding" not in EvoSettings().to_dict() and "objectives" not in EvoSettings().to_dict()
    assert EvoSettings(breeding="vega").to_dict()["breeding"] == "vega"


def test_roulette_draws_distinct_parents_by_fitness() -> None:
    rng = random.Random(0)
    draws = [tuple(select_roulette_distinct([30.0, 31.0, 33.0, 29.0], 2, rng)) for _ in range(2000)]
    assert all(a != b for a, b in draws)
    firsts = Counter(a for a, _ in draws)
    assert firsts[3] == 0  # the worst weighs 0 (fitness - min), as in ESR_EA
    assert firsts[2] > firsts[1] > firsts[0]
    assert select_roulette_distinct([1.0, 1.0], 3, rng) in ([0, 1], [1, 0])
    assert select_roulette_distinct([float("-inf"), 5.0], 2, rng)[0] == 1
