"""ESR_EA's config sections (vega's keys), the evaluator options of a command line, the fitness
data, and ESRFitness fed a TrainConfig."""

from __future__ import annotations

import pytest
import torch

from sr_blocks.repstack import REPSTACK_PRESETS
from sr_data import PairedFolder, write_image
from sr_eval.runtime import DeviceError
from sr_search_evo import (
    CenterCrops,
    ESRFitness,
    ESRSearchAlgorithm,
    ESRSearchSpace,
    EvoSettings,
    build_esr_space,
    evaluator_options,
    fitness_tensors,
)
from sr_train import ConfigError, TrainConfig, section_from_dict

# vega's ESR_EA documentation, section 2.2, as written
SEARCH_SPACE = {
    "type": "SearchSpace",
    "modules": ["esrbody"],
    "esrbody": {
        "type": "ESRN",
        "block_type": ["S", "G", "C"],
        "conv_num": [4, 6, 8],
        "growth_rate": [8, 16, 24, 32],
        "type_prob": [1, 1, 1],
        "conv_prob": [1, 1, 1],
        "growth_prob": [1, 1, 1, 1],
        "G0": 32,
        "scale": 2,
    },
}
SEARCH_ALGORITHM = {
    "type": "ESRSearch",
    "codec": "ESRCodec",
    "policy": {"num_generation": 20, "num_individual": 8, "num_elitism": 4, "mutation_rate": 0.05},
    "range": {"node_num": 20, "min_active": 16, "max_params": 325000, "min_params": 315000},
}
SOURCE = "esr_ea.yml"


def sections(space_edit: dict | None = None, algorithm_edit: dict | None = None):
    space = section_from_dict(ESRSearchSpace, {**SEARCH_SPACE, **(space_edit or {})}, "search_space", SOURCE)
    algorithm = section_from_dict(
        ESRSearchAlgorithm, {**SEARCH_ALGORITHM, **(algorithm_edit or {})}, "search_algorithm", SOURCE
    )
    return space, algorithm


def test_every_key_of_esr_ea_reaches_the_space_and_the_evolution() -> None:
    space_section, algorithm = sections()
    space = build_esr_space(space_section, algorithm.range)
    assert space.config() == {
        **{k: v for k, v in SEARCH_SPACE["esrbody"].items() if k != "type"},
        **SEARCH_ALGORITHM["range"],
    }
    assert algorithm.policy == EvoSettings(
        num_generation=20, num_individual=8, num_elitism=4, mutation_rate=0.05
    )


BODY = SEARCH_SPACE["esrbody"]


@pytest.mark.parametrize(
    ("space_edit", "algorithm_edit", "message"),
    [
        ({"esrbody": {**BODY, "type_prob": [1, 1]}}, None, "search_space.esrbody.type_prob has 2 entries"),
        (
            {"esrbody": {**BODY, "growth_rate": [6, 8]}},
            None,
            "search_space.esrbody.growth_prob has 4 entries",
        ),
        (
            {"esrbody": {**BODY, "growth_rate": [6], "growth_prob": [1]}},
            None,
            r"esrbody\.block_type/conv_num/growth_rate give the block G_4_6_6, which cannot be built",
        ),
        ({"esrbody": {**BODY, "scale": 5}}, None, r"esrbody\.scale 5: pixel-shuffle"),
        ({"esrbody": {**BODY, "G0": 3.5}}, None, r"esrbody\.G0 must be int, got 3\.5"),
        ({"esrbody": {**BODY, "type": "RDN"}}, None, r"esrbody\.type must be one of \['ESRN'\], got 'RDN'"),
        (
            {"esrbody": {**BODY, "grwoth_rate": [8]}},
            None,
            r"unknown config key 'search_space\.esrbody\.grwoth_rate'",
        ),
        (
            None,
            {"range": {"min_params": 5, "max_params": 4}},
            r"search_algorithm\.range\.min_params 5 is above",
        ),
        (None, {"range": {"node_num": 4}}, r"range\.min_active must be in \[1, node_num=4\], got 16"),
        (
            None,
            {"policy": {"num_individual": 2, "num_elitism": 3}},
            r"policy\.num_elitism must be in \[0, num_individual=2\], got 3",
        ),
        (None, {"policy": {"num_generation": "many"}}, r"policy\.num_generation must be int, got 'many'"),
        (None, {"policy": {"mutation_rate": 1.5}}, r"policy\.mutation_rate must be a probability"),
        (None, {"policy": {"selection": "best"}}, r"policy\.selection must be one of"),
        (
            None,
            {"policy": {"num_generations": 3}},
            r"unknown config key 'search_algorithm\.policy\.num_generations'",
        ),
    ],
)
def test_a_bad_or_impossible_value_names_the_key_and_the_file(space_edit, algorithm_edit, message) -> None:
    with pytest.raises(ConfigError, match=message + r".*esr_ea\.yml"):
        sections(space_edit, algorithm_edit)


def test_yaml_spellings_are_read_and_settings_round_trip() -> None:
    policy = section_from_dict(EvoSettings, {"mutation_rate": "5e-2", "num_elitism": 0}, "policy")
    assert policy.mutation_rate == 0.05 and policy.num_elitism == 0
    assert EvoSettings.from_dict(policy.to_dict()) == policy
    with pytest.raises(ConfigError, match="unknown config key 'seeds' in run.yaml"):
        EvoSettings.from_dict({"seeds": 1}, "run.yaml")


def test_evaluator_options_check_the_device_before_any_work() -> None:
    assert evaluator_options("inprocess", "cpu") == {"device": "cpu"}
    assert evaluator_options("pool", "cpu", workers=3) == {"workers": 3}
    assert evaluator_options("ray", "cpu") == {"num_gpus_per_task": 0}
    if not torch.cuda.is_available():
        assert evaluator_options("pool", "auto", workers=2) == {"workers": 2}
        for kind in ("inprocess", "pool", "ray"):
            with pytest.raises(DeviceError, match="'cuda' is not available"):
                evaluator_options(kind, "cuda")
    with pytest.raises(ValueError, match="--workers 2 needs --evaluator pool"):
        evaluator_options("inprocess", "cpu", workers=2)
    with pytest.raises(ValueError, match="--workers is for --evaluator pool"):
        evaluator_options("ray", "cpu", workers=2)
    with pytest.raises(ValueError, match="unknown evaluator 'cluster'"):
        evaluator_options("cluster", "cpu")


def test_fitness_tensors_are_one_patch_draw_and_equal_centre_crops(tmp_path) -> None:
    for index, (h, w) in enumerate([(40, 52), (36, 64), (48, 38)]):
        write_image(tmp_path / "hr" / f"{index}.png", torch.rand(3, h, w))
    images = PairedFolder(tmp_path / "hr", scale=2)
    patches, crops = fitness_tensors(images, images, patch_size=16, count=6, seed=1, cache_dir=tmp_path / "c")
    assert patches.hr.shape == (6, 3, 16, 16) and patches.lr.shape == (6, 3, 8, 8)
    assert crops.hr.shape == (3, 3, 36, 36) and crops.lr.shape == (3, 3, 18, 18)  # the largest that fits all
    again, small = fitness_tensors(images, images, patch_size=16, count=6, seed=1, val_crop=20)
    assert torch.equal(again.hr, patches.hr)
    assert torch.equal(small.hr[1], images[1]["hr"][:, 8:28, 22:42])  # the centre 20x20 of 36x64
    with pytest.raises(ValueError, match="not a positive multiple of the scale 2"):
        CenterCrops(images, 33, 2)
    with pytest.raises(ValueError, match=r"1\.png is 64x36, smaller than the 40x40 validation crop"):
        CenterCrops(images, 40, 2)


def test_esr_fitness_takes_its_training_from_a_train_config() -> None:
    config = TrainConfig(
        steps=900, batch_size=4, lr=3e-3, scheduler="cosine", device="cpu", out_dir="x", seed=7
    )
    fitness = ESRFitness(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 16, 16), 2, train_config=config)
    overrides = fitness.train_overrides
    assert (overrides["lr"], overrides["batch_size"], overrides["scheduler"]) == (3e-3, 4, "cosine")
    assert overrides["val_ssim"] is False
    assert not {"steps", "epochs", "seed", "device", "out_dir", "scale"} & set(overrides)
    mixed = ESRFitness(
        torch.rand(4, 3, 8, 8), torch.rand(4, 3, 16, 16), 2, train_config=config, train_overrides={"lr": 1e-4}
    )
    assert mixed.train_overrides["lr"] == 1e-4


def test_the_plain_stack_module_reads_its_choices_and_fitness_start() -> None:
    space, algorithm = sections(
        {"modules": ["repstack"], "repstack": {"type": "RepStack", "depth": [2, 4], "width": [8, 16]}},
        {"range": {"min_params": 1000, "max_params": 30000}},
    )
    assert space.kind == "repstack" and space.candidate_model() == ("repstack", {})
    assert space.fitness_start == "unit_variance"  # the measured default for plain stacks
    assert build_esr_space(space, algorithm.range).config()["depth"] == [2, 4]
    esrn, _ = sections()
    assert esrn.fitness_start == "default"
    with pytest.raises(ConfigError, match=r"repstack\.fitness_start must be one of.*esr_ea\.yml"):
        sections({"modules": ["repstack"], "repstack": {"fitness_start": "lsuv"}})


def test_the_first_generation_can_start_from_the_presets() -> None:
    space, algorithm = sections(
        {
            "modules": ["repstack"],
            "repstack": {"initial": ["sesr_m5", "nearest,conv_8_relu,conv_8_relu,conv_8_relu,conv"]},
        },
        {"range": {"min_params": 1000, "max_params": 30000}},
    )
    plain = build_esr_space(space, algorithm.range)
    assert [plain.decode(ind) for ind in plain.initial_population()] == [
        REPSTACK_PRESETS["sesr_m5"],
        ["nearest", "conv_8_relu", "conv_8_relu", "conv_8_relu", "conv"],
    ]
    with pytest.raises(ConfigError, match=r"initial network .* outside the windows"):
        build_esr_space(space, sections(None, {"range": {"min_params": 1000, "max_params": 5000}})[1].range)
    with pytest.raises(ConfigError, match=r"repstack\.initial network .* not a point of the space: 1 active"):
        sections({"modules": ["repstack"], "repstack": {"initial": ["nearest,conv_8_relu,conv_8_relu,conv"]}})
