"""The ESR_EA config: vega's example parses, shipped configs load, bad keys and values are named."""

import pytest

from sr_esr_ea.config import EsrConfig, load_config
from sr_search_evo import build_esr_space
from sr_train import ConfigError, section_to_dict
from sr_train.trainer_section import TrainerSection


def test_every_key_of_the_esr_ea_example_reaches_the_search_and_the_trainers(example_file):
    config, path = load_config(str(example_file))
    assert path == example_file
    nas, full = config.nas, config.fully_train
    space = build_esr_space(nas.search_space, nas.search_algorithm.range)
    assert (space.scale, space.G0, space.node_num, space.min_active) == (2, 32, 20, 16)
    assert (space.min_params, space.max_params) == (315000, 325000)
    assert space.block_type == ["S", "G", "C"] and space.conv_num == [4, 6, 8]
    assert space.growth_rate == [8, 16, 24, 32] and space.growth_prob == [1, 1, 1, 1]
    policy = nas.search_algorithm.policy
    assert (policy.num_generation, policy.num_individual, policy.num_elitism) == (20, 8, 4)
    assert policy.mutation_rate == 0.05
    per_epoch = nas.dataset.patches_per_epoch // nas.dataset.batch_size
    fast = nas.trainer.train_config(2, nas.dataset.batch_size, per_epoch)
    assert fast.steps == 500 * per_epoch
    train = full.trainer.train_config(2, full.dataset.batch_size, 50)
    assert (train.steps, train.scheduler, train.gamma) == (15000 * 50, "multistep", 0.5)
    assert train.milestones == [m * 50 for m in (8000, 12000, 13500, 14500)]


def test_sections_left_out_take_esr_eas_values():
    config = EsrConfig()
    assert config.nas.trainer == TrainerSection(epochs=500)
    assert config.fully_train.trainer.epochs == 15000
    assert config.fully_train.trainer.lr_scheduler.milestones == [8000, 12000, 13500, 14500]
    assert config.nas.dataset.val_crop == 256 and config.fully_train.dataset.val_crop == 0


def test_the_shipped_full_config_is_the_esr_ea_example_plus_data_settings(example_file):
    shipped = section_to_dict(load_config("esr_ea")[0])
    example = section_to_dict(load_config(str(example_file))[0])
    assert shipped["nas"]["search_space"] == example["nas"]["search_space"]
    assert shipped["nas"]["search_algorithm"] == example["nas"]["search_algorithm"]
    assert shipped["nas"]["trainer"]["epochs"] == 500
    assert (
        shipped["fully_train"]["trainer"]["lr_scheduler"] == example["fully_train"]["trainer"]["lr_scheduler"]
    )


@pytest.mark.parametrize("name", ["demo_samples", "demo_esrn", "esr_ea", "sunhays80_x2"])
def test_shipped_configs_load_and_their_record_loads_again(name):
    config, path = load_config(name)
    assert load_config("record", data=section_to_dict(config))[0] == config
    if name.startswith("demo"):  # the bundled photos, and the benchmarks where they are found
        assert config.evaluate.test == ["samples", "Set5?", "Set14?", "BSD68?"]


def test_assignments_override_keys_in_order(example_file):
    config, _ = load_config(
        str(example_file),
        ["nas.dataset={patches_per_epoch: 64, batch_size: 16}", "nas.trainer.lr_scheduler.milestones=[2, 3]"],
    )
    assert config.nas.trainer.train_config(2, 16, 4).milestones == [8, 12]  # epochs of 4 steps
    config, _ = load_config(str(example_file), ["evaluate.test=[Set5, samples]", "evaluate.test=[samples]"])
    assert config.evaluate.test == ["samples"]
    with pytest.raises(ConfigError, match="KEY.PATH=VALUE"):
        load_config(str(example_file), ["nas.trainer.epochs"])
    with pytest.raises(FileNotFoundError, match="demo_samples"):
        load_config("no_such_config")


BAD = [
    (
        "nas.search_space.esrbody.grwoth_rate=[8]",
        r"unknown config key 'nas\.search_space\.esrbody\.grwoth_rate'",
    ),
    ("nas.search_algorithm.policy.num_generations=3", r"'nas\.search_algorithm\.policy\.num_generations'"),
    ("nas.trainer.epoch=3", r"unknown config key 'nas\.trainer\.epoch'"),
    ("fully_train.trainer.lr_scheduler.milestone=[1]", r"'fully_train\.trainer\.lr_scheduler\.milestone'"),
    ("pipeline=[nas]", r"unknown config key 'pipeline'"),
    ("nas.search_algorithm.policy.num_generation=many", r"num_generation must be int, got 'many'"),
    ("nas.search_space.esrbody.G0=3.5", r"nas\.search_space\.esrbody\.G0 must be int, got 3\.5"),
    ("nas.search_space.esrbody.type=RDN", r"esrbody\.type must be one of \['ESRN'\], got 'RDN'"),
    ("fully_train.trainer.epochs=long", r"fully_train\.trainer\.epochs must be int, got 'long'"),
    ("fully_train.trainer.optim.lr=fast", r"fully_train\.trainer\.optim\.lr must be float, got 'fast'"),
    ("nas.trainer.amp=fp8", r"nas\.trainer\.amp must be one of"),
    # impossible combinations
    ("nas.search_space.esrbody.type_prob=[1, 1]", r"esrbody\.type_prob has 2 entries but block_type has 3"),
    (
        "nas.search_algorithm.policy.num_elitism=9",
        r"policy\.num_elitism must be in \[0, num_individual=8\], got 9",
    ),
    ("nas.search_algorithm.range.min_params=400000", r"range\.min_params 400000 is above max_params 325000"),
    ("nas.dataset.batch_size=0", r"nas\.dataset\.batch_size must be >= 1, got 0"),
    (
        "fully_train.dataset.patches_per_epoch=8",
        r"fully_train\.dataset\.patches_per_epoch 8 is below batch_size 16",
    ),
    (
        "fully_train.dataset.patch_size=63",
        r"fully_train\.dataset\.patch_size 63 is not a multiple of the scale 2",
    ),
    ("nas.trainer.epochs=null", r"nas\.trainer\.epochs or steps: give one"),
    ("nas.trainer.steps=10", r"nas\.trainer\.epochs and steps: give one budget, not both"),
    ("fully_train.trainer.lr_scheduler.gamma=0", r"fully_train\.trainer\.lr_scheduler\.gamma must be > 0"),
    ("fully_train.top_k=-1", r"fully_train\.top_k must be >= 0 \(0: search only\), got -1"),
]


@pytest.mark.parametrize(("assignment", "match"), BAD, ids=[a.split("=")[0] for a, _ in BAD])
def test_a_bad_key_or_value_of_a_set_is_named_with_set_not_the_file(example_file, assignment, match):
    with pytest.raises(ConfigError, match=match + r".* in --set") as refused:
        load_config(str(example_file), [assignment])
    assert "esr_ea_example" not in str(refused.value)


def test_a_bad_value_in_the_file_is_named_with_the_file_also_beside_a_set(example_file, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_file.read_text().replace("num_elitism: 4", "num_elitism: 9"))
    for assignments in ([], ["nas.trainer.epochs=3"]):
        with pytest.raises(ConfigError, match=r"num_elitism must be .*, got 9 in .*bad\.yaml"):
            load_config(str(bad), assignments)
