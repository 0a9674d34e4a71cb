"""ESRSpace: encoding, operators and the constraints every individual must meet."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from fakes import esr_space

from sr_search_evo import ESRSpace


def check_constraints(space: ESRSpace, ind: list) -> None:
    genes = space.decode(ind)
    assert len(ind) == space.node_num
    assert len(genes) >= space.min_active
    assert space.min_params <= space.count_params(genes) <= space.max_params
    assert space.feasible(ind)


def test_every_operator_output_meets_the_constraints_after_repair() -> None:
    space, rng = esr_space(), random.Random(0)
    population = [space.repair(space.sample(rng), rng) for _ in range(40)]
    for ind in population:
        check_constraints(space, ind)
    for _ in range(150):
        a, b = rng.sample(population, 2)
        for child in space.crossover(a, b, rng):
            check_constraints(space, space.repair(child, rng))
        check_constraints(space, space.repair(space.mutate(a, rng, 0.3), rng))
        check_constraints(
            space, space.repair(space.mutate(a, rng, 0.3, credit={g: 0.9 for g in space.decode(b)}), rng)
        )


def test_the_esr_ea_config_window_is_reachable() -> None:
    space = ESRSpace(node_num=20, min_active=16, max_params=325_000, min_params=315_000)
    rng = random.Random(1)
    for _ in range(20):
        check_constraints(space, space.repair(space.sample(rng), rng))


def test_operators_do_not_change_their_inputs_and_repair_is_a_no_op_on_feasible() -> None:
    space, rng = esr_space(), random.Random(2)
    a, b = (space.repair(space.sample(rng), rng) for _ in range(2))
    frozen = repr((a, b))
    space.mutate(a, rng, 1.0)
    space.crossover(a, b, rng)
    assert repr((a, b)) == frozen
    assert space.repair(a, rng) == a


def test_crossover_swaps_one_segment_of_at_least_four_nodes() -> None:
    space, rng = esr_space(), random.Random(3)
    a = [[1, "S_4_8_8"]] * space.node_num
    b = [[0, "G_4_8_8"]] * space.node_num
    for _ in range(50):
        child_a, child_b = space.crossover(a, b, rng)
        swapped = [i for i, node in enumerate(child_a) if node == [0, "G_4_8_8"]]
        assert 4 <= len(swapped) <= space.node_num // 2
        assert swapped == list(range(swapped[0], swapped[-1] + 1))
        assert [i for i, node in enumerate(child_b) if node == [1, "S_4_8_8"]] == swapped


def test_mutation_rate_is_per_gene() -> None:
    space, rng = ESRSpace(node_num=20), random.Random(4)
    ind = [[1, "S_4_8_8"]] * 20
    flips = sum(sum(1 for n in space.mutate(ind, rng, 0.05) if n[0] == 0) for _ in range(400))
    assert 0.03 < flips / (400 * 20) < 0.07
    assert space.mutate(ind, rng, 0.0) == ind


def test_guided_mutation_replaces_low_credit_blocks_first() -> None:
    space, rng = ESRSpace(node_num=20), random.Random(5)
    ind = [[1, "S_4_8_8"]] * 10 + [[1, "G_8_32_32"]] * 10
    credit = {"S_4_8_8": 0.0, "G_8_32_32": 1.0}
    changed = Counter()
    for _ in range(300):
        for before, after in zip(ind, space.mutate(ind, rng, 0.1, credit), strict=True):
            changed[before[1]] += before[1] != after[1]
    assert changed["G_8_32_32"] == 0  # full credit: never redrawn
    assert changed["S_4_8_8"] > 300 * 10 * 0.1


def test_gene_probabilities_follow_the_knobs() -> None:
    space = ESRSpace(
        block_type=["S", "G"],
        type_prob=[1, 0],
        conv_num=[4],
        conv_prob=[1],
        growth_rate=[16, 32],
        growth_prob=[1, 1],
    )
    assert space.choices == ["S_4_16_16", "S_4_16_32", "S_4_32_32"]
    rng = random.Random(6)
    assert {gene for _, gene in space.sample(rng)} <= set(space.choices)


def test_decode_and_key() -> None:
    space = ESRSpace(node_num=3)
    ind = [[1, "G_8_16_24"], [0, "C_4_8_8"], [1, "S_4_16_32"]]
    assert space.decode(ind) == ["G_8_16_24", "S_4_16_32"]
    assert space.key(ind) == "G_8_16_24,S_4_16_32"
    assert space.key([[1, "G_8_16_24"], [1, "C_4_8_8"], [1, "S_4_16_32"]]) != space.key(ind)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(type_prob=[1, 1]), "type_prob has 2 entries but block_type has 3"),
        (dict(growth_prob=[0, 0, 0, 0]), "not all 0"),
        (dict(min_active=30), "min_active"),
        (dict(min_params=10, max_params=5), "above max_params"),
        (dict(growth_rate=[6, 8], growth_prob=[1, 1]), "cannot be built"),
        (dict(scale=5), "scales"),
    ],
)
def test_bad_knobs_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ESRSpace(**kwargs)


def test_an_unreachable_window_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sr_search_evo.esr_space.REPAIR_STEPS", 200)
    space = ESRSpace(node_num=4, min_active=1, min_params=10_000_000, max_params=10_000_001)
    with pytest.raises(RuntimeError, match="min_params=10000000"):
        space.repair(space.sample(random.Random(0)), random.Random(0))


def test_foreign_nodes_are_rejected() -> None:
    space = ESRSpace(node_num=2)
    with pytest.raises(ValueError, match="node"):
        space.feasible([[1, "X_1_2_3"], [1, "S_4_8_8"]])
    with pytest.raises(ValueError, match="node_num=2"):
        space.repair([[1, "S_4_8_8"]], random.Random(0))
