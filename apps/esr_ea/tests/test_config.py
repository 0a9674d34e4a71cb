"""The ESR_EA config: the seed's example parses, shipped configs load, bad keys and values are named."""

import pytest

from sr_esr_ea.config import load_config, merge, parse_assignment, shipped_configs
from sr_esr_ea.search import build_settings, build_space, fast_training_overrides
from sr_train import ConfigError


def test_every_key_of_the_seed_example_reaches_the_search_and_the_trainers(seed_file):
    config = load_config(str(seed_file))
    space, settings = build_space(config), build_settings(config)
    assert (space.scale, space.G0, space.node_num, space.min_active) == (2, 32, 20, 16)
    assert (space.min_params, space.max_params) == (315000, 325000)
    assert space.block_type == ["S", "G", "C"] and space.conv_num == [4, 6, 8]
    assert space.growth_rate == [8, 16, 24, 32] and space.growth_prob == [1, 1, 1, 1]
    assert (settings.num_generation, settings.num_individual, settings.num_elitism) == (20, 8, 4)
    assert settings.mutation_rate == 0.05
    nas, full = config.nas, config.fully_train
    assert nas.trainer.steps(nas.dataset) == 500 * (nas.dataset.patches_per_epoch // nas.dataset.batch_size)
    train = full.trainer.train_config(full.dataset, config.scale)
    assert (train.epochs, train.scheduler, train.gamma) == (15000, "multistep", 0.5)
    assert train.milestones == [8000, 12000, 13500, 14500]


def test_the_shipped_full_config_is_the_seed_example_plus_data_settings(seed_file):
    shipped, seed = load_config("esr_ea").to_dict(), load_config(str(seed_file)).to_dict()
    assert shipped["nas"]["search_space"] == seed["nas"]["search_space"]
    assert shipped["nas"]["search_algorithm"] == seed["nas"]["search_algorithm"]
    assert shipped["nas"]["trainer"]["epochs"] == 500
    assert shipped["fully_train"]["trainer"]["lr_scheduler"] == seed["fully_train"]["trainer"]["lr_scheduler"]


def test_shipped_configs_load_and_round_trip(tmp_path):
    assert {"esr_ea", "demo_samples"} <= set(shipped_configs())
    for name in shipped_configs():
        config = load_config(name)
        again = tmp_path / f"{name}.yaml"
        import yaml

        again.write_text(yaml.safe_dump(config.to_dict()))
        assert load_config(str(again)).to_dict() == config.to_dict()


def test_search_milestones_in_epochs_become_steps(seed_file):
    config = load_config(
        str(seed_file),
        {
            "nas": {
                "dataset": {"patches_per_epoch": 64, "batch_size": 16},
                "trainer": {"lr_scheduler": {"milestones": [2, 3]}},
            }
        },
    )
    assert fast_training_overrides(config)["milestones"] == [8, 12]


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            {"nas": {"search_space": {"esrbody": {"grwoth_rate": [8]}}}},
            r"'nas\.search_space\.esrbody\.grwoth_rate'",
        ),
        (
            {"nas": {"search_algorithm": {"policy": {"num_generations": 3}}}},
            r"'nas\.search_algorithm\.policy\.num_generations'",
        ),
        ({"nas": {"trainer": {"epoch": 3}}}, r"'nas\.trainer\.epoch'"),
        (
            {"fully_train": {"trainer": {"lr_scheduler": {"milestone": [1]}}}},
            r"'fully_train\.trainer\.lr_scheduler\.milestone'",
        ),
        ({"pipeline": ["nas"]}, r"'pipeline'"),
    ],
)
def test_an_unknown_key_is_named_with_the_file(seed_file, edit, match):
    with pytest.raises(ConfigError, match=match + r".*seed_example\.yaml"):
        load_config(str(seed_file), edit)


@pytest.mark.parametrize(
    "edit, match",
    [
        ({"nas": {"search_algorithm": {"policy": {"num_generation": "many"}}}}, r"num_generation.*'many'"),
        ({"nas": {"search_space": {"esrbody": {"G0": 3.5}}}}, r"G0.*3\.5"),
        ({"nas": {"search_space": {"esrbody": {"type": "RDN"}}}}, r"type.*'ESRN'.*'RDN'"),
        ({"fully_train": {"trainer": {"epochs": "long"}}}, r"epochs.*'long'"),
        ({"fully_train": {"trainer": {"optim": {"lr": "fast"}}}}, r"lr.*'fast'"),
        ({"nas": {"trainer": {"amp": "fp8"}}}, r"amp.*'fp8'"),
        ({"nas": {"search_space": {"esrbody": {"type_prob": [1, 1]}}}}, r"type_prob has 2 entries"),
    ],
)
def test_a_wrong_value_is_named_with_the_file(seed_file, edit, match):
    with pytest.raises(ConfigError, match=match + r".*seed_example\.yaml"):
        load_config(str(seed_file), edit)


def test_config_names_and_assignments():
    with pytest.raises(FileNotFoundError, match="demo_samples"):
        load_config("no_such_config")
    assert parse_assignment("nas.trainer.epochs=2") == {"nas": {"trainer": {"epochs": 2}}}
    assert parse_assignment("evaluate.test=[Set5, samples]") == {"evaluate": {"test": ["Set5", "samples"]}}
    with pytest.raises(ConfigError, match="KEY"):
        parse_assignment("nas.trainer.epochs")
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}
