"""The closed-form MACs equal sr_eval.profile's count, and the MACs window holds like the parameter window."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fakes import SPACE_KWARGS, fake_fitness

from sr_blocks import create_model
from sr_eval import profile
from sr_search_evo import ESRSpace, EvoSettings, InProcessEvaluator, esrn_macs, run_search


@pytest.mark.parametrize(("scale", "G0"), [(2, 32), (3, 24), (4, 16)])
@pytest.mark.parametrize("lr_size", [(12, 20), (9, 15)])  # even and odd (contextual blocks pad)
def test_random_networks_match_the_profiler(scale: int, G0: int, lr_size: tuple[int, int]) -> None:
    space = ESRSpace(scale=scale, G0=G0, node_num=6)
    rng = random.Random(scale * 100 + lr_size[0])
    for _ in range(4):
        genes = space.decode(space.repair(space.sample(rng), rng))
        model = create_model("esrn", scale=scale, genes=genes, G0=G0)
        assert esrn_macs(genes, lr_size, G0, scale) == profile(model, scale=scale, lr_size=lr_size).macs, (
            genes
        )


def test_the_searched_network_of_esr_ea_at_720p() -> None:
    model = create_model("esrn")
    assert esrn_macs(model.genes, (360, 640)) == profile(model, scale=2).macs


def window_space(**changes) -> ESRSpace:
    """The fakes' space with a MACs window (counted on a 36x64 input) cutting into its parameter window."""
    return ESRSpace(
        **{**SPACE_KWARGS, "min_flops": 4.5e8, "max_flops": 4.7e8, "flops_lr_size": [36, 64], **changes}
    )


def test_repair_holds_both_windows_exactly() -> None:
    space, rng = window_space(), random.Random(1)
    for _ in range(30):
        genes = space.decode(space.repair(space.sample(rng), rng))
        assert 4.5e8 <= space.count_macs(genes) <= 4.7e8
        assert SPACE_KWARGS["min_params"] <= space.count_params(genes) <= SPACE_KWARGS["max_params"]
    unbounded = ESRSpace(**SPACE_KWARGS)
    macs = [
        unbounded.count_macs(unbounded.decode(unbounded.repair(unbounded.sample(rng), rng)))
        for _ in range(30)
    ]
    assert min(macs) < 4.5e8 or max(macs) > 4.7e8  # the window does cut


def test_a_search_only_trains_networks_inside_the_window(tmp_path: Path) -> None:
    space = window_space()
    settings = EvoSettings(num_generation=3, num_individual=6, num_elitism=2, mutation_rate=0.1, seed=2)
    result = run_search(space, InProcessEvaluator(fake_fitness), settings, tmp_path, log=lambda line: None)
    assert all(4.5e8 <= space.count_macs(r["decoded"]) <= 4.7e8 for r in result.history)


def test_the_window_is_part_of_the_config_only_when_set() -> None:
    assert "max_flops" not in ESRSpace(**SPACE_KWARGS).config()  # searches started before it still resume
    config = window_space().config()
    assert (config["min_flops"], config["max_flops"], config["flops_lr_size"]) == (4.5e8, 4.7e8, [36, 64])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(min_flops=2e9, max_flops=1e9), "min_flops 2000000000.0 is above max_flops"),
        (dict(flops_lr_size=[0, 64]), "flops_lr_size must be"),
    ],
)
def test_bad_windows_name_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ESRSpace(**{**SPACE_KWARGS, **changes})


def test_an_impossible_window_says_which_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sr_search_evo.esr_space.REPAIR_STEPS", 300)
    space = window_space(min_flops=1e15, max_flops=2e15)
    with pytest.raises(RuntimeError, match=r"min_flops=1e\+15, max_flops=2e\+15 \(MACs, LR \[36, 64\]\)"):
        space.repair(space.sample(random.Random(0)), random.Random(0))
