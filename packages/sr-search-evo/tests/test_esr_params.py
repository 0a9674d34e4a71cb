"""The closed-form parameter count equals the parameters of the built ESRN."""

from __future__ import annotations

import random

import pytest

from sr_blocks import create_model
from sr_search_evo import ESRSpace, esrn_params


def built_params(genes: list[str], G0: int, scale: int) -> int:
    return sum(p.numel() for p in create_model("esrn", scale=scale, genes=genes, G0=G0).parameters())


@pytest.mark.parametrize(
    ("gene", "expected"),
    [
        ("S_4_16_32", 63_208),
        ("G_4_16_32", 62_056),
        ("C_4_16_32", 61_288),
        ("G_8_16_16", 76_264),
        ("C_8_16_48", 80_296),
        ("S_8_16_24", 80_488),
    ],
)
def test_reference_counts_x2(gene: str, expected: int) -> None:
    assert esrn_params([gene], G0=32, scale=2) == expected
    assert built_params([gene], 32, 2) == expected


@pytest.mark.parametrize(("scale", "G0"), [(2, 32), (3, 24), (4, 16)])
def test_random_networks_match_the_built_model(scale: int, G0: int) -> None:
    space = ESRSpace(scale=scale, G0=G0, node_num=6)
    rng = random.Random(scale)
    for _ in range(6):
        genes = space.decode(space.repair(space.sample(rng), rng))
        assert space.count_params(genes) == built_params(genes, G0, scale), genes


def test_the_searched_network_of_esr_ea() -> None:
    genes = create_model("esrn").genes
    assert esrn_params(genes) == built_params(genes, 32, 2)
