"""Selection, crossover and block credit."""

from __future__ import annotations

import math
import random
from collections import Counter

from sr_search_evo import block_credit, roulette_weights, two_point_crossover
from sr_search_evo.operators import select_crowded_tournament, select_roulette, select_tournament


def test_roulette_with_equal_fitnesses_is_uniform() -> None:
    assert roulette_weights([31.2, 31.2, 31.2]) == [1.0, 1.0, 1.0]
    counts = Counter(select_roulette([31.2] * 4, 4000, random.Random(0)))
    assert set(counts) == {0, 1, 2, 3} and min(counts.values()) > 850


def test_roulette_is_proportional_to_fitness_above_the_minimum() -> None:
    assert roulette_weights([30.0, 31.0, 33.0]) == [0.0, 1.0, 3.0]
    counts = Counter(select_roulette([30.0, 31.0, 33.0], 4000, random.Random(1)))
    assert counts[0] == 0 and 2.5 < counts[2] / counts[1] < 3.6


def test_roulette_ignores_failed_candidates() -> None:
    assert roulette_weights([-math.inf, 30.0, 30.0]) == [0.0, 1.0, 1.0]
    assert roulette_weights([-math.inf, -math.inf]) == [1.0, 1.0]


def test_tournament_of_the_whole_population_picks_the_best() -> None:
    assert select_tournament([29.0, 31.0, 30.0], 5, size=3, rng=random.Random(0)) == [1] * 5
    picks = select_tournament([29.0, 31.0, 30.0, 28.0], 400, size=2, rng=random.Random(0))
    assert 3 not in picks  # the worst never wins a tournament of two distinct entrants


def test_crowded_tournament_prefers_the_better_front_then_the_lonelier() -> None:
    assert set(select_crowded_tournament([0, 1], [0.0, 5.0], 20, random.Random(0))) == {0}
    assert set(select_crowded_tournament([0, 0], [1.0, math.inf], 20, random.Random(0))) == {1}


def test_two_point_crossover_swaps_one_segment() -> None:
    rng = random.Random(0)
    a, b = list("aaaaaaaaaa"), list("bbbbbbbbbb")
    for _ in range(100):
        child_a, child_b = two_point_crossover(a, b, rng, min_length=2)
        swapped = [i for i, x in enumerate(child_a) if x == "b"]
        assert 2 <= len(swapped) <= 5 and swapped == list(range(swapped[0], swapped[-1] + 1))
        assert [i for i, x in enumerate(child_b) if x == "a"] == swapped


def test_block_credit_ranks_blocks_by_the_fitness_of_their_networks() -> None:
    credit = block_credit([(["x", "y"], 30.0), (["y", "z"], 32.0), (["w"], -math.inf)])
    assert credit == {"x": 0.0, "y": 0.5, "z": 1.0}
    assert block_credit([(["y", "z"], 32.0), (["x", "y"], 30.0)]) == credit  # order-independent
