"""What the apps build their runs from: a Trainer that closes itself, the Trainer of a registered
model, a config section read from a file, the dataset section of a training stage."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

import sr_train.api
from sr_train import (
    ConfigError,
    DatasetSection,
    TrainConfig,
    Trainer,
    check_types,
    config_dirs,
    load_section,
    registered_trainer,
)


def test_a_trainer_in_a_with_block_is_closed_also_when_the_block_fails(tiny_model, pairs):
    config = TrainConfig(steps=1, batch_size=2, progress=False, tensorboard=False)
    with pytest.raises(RuntimeError, match="stop"):
        with Trainer(tiny_model(), pairs(4), None, config) as trainer:
            trainer.fit()
            assert trainer.optimizer.state and trainer.step_model is not None
            raise RuntimeError("stop")
    assert not trainer.optimizer.state and trainer.step_model is None  # closed


def test_a_registered_trainer_builds_the_model_by_name_with_weights_from_the_seed(pairs, monkeypatch):
    built = []

    def create_model(name, scale, **kwargs):
        built.append((name, scale, kwargs))
        conv = torch.nn.Conv2d(3, 3 * scale * scale, 3, padding=1)  # initialised from the global stream
        return torch.nn.Sequential(conv, torch.nn.PixelShuffle(scale))

    monkeypatch.setattr(sr_train.api, "create_model", create_model)
    config = TrainConfig(scale=2, steps=1, batch_size=2, seed=5, progress=False, tensorboard=False)
    weights = []
    for _ in range(2):
        torch.manual_seed(len(weights))  # whatever the stream was, the seed decides the weights
        with registered_trainer("tiny", pairs(4), None, config, {"width": 8}) as trainer:
            assert (trainer.model_name, trainer.model_kwargs) == ("tiny", {"width": 8})
            weights.append([p.detach().clone() for p in trainer.model.parameters()])
    assert built == [("tiny", 2, {"width": 8})] * 2
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))


@dataclass
class Settings:
    size: int = 3
    name: str = "a"

    def __post_init__(self) -> None:
        check_types(self)


def test_load_section_reads_a_file_or_a_shipped_name_or_a_record_with_changes(tmp_path):
    shipped = tmp_path / "configs"
    shipped.mkdir()
    (shipped / "small.yaml").write_text("size: 1\nname: b\n")
    section, path = load_section(Settings, "small", [shipped], {"size": 2})
    assert section == Settings(2, "b") and path == shipped / "small.yaml"
    assert load_section(Settings, str(path), data={"name": "c"})[0] == Settings(3, "c")
    (tmp_path / "bad.yaml").write_text("size: 1\nsise: 2\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'sise' in .*bad.yaml; known: name, size"):
        load_section(Settings, str(tmp_path / "bad.yaml"))
    module = tmp_path / "project" / "src" / "app" / "cli.py"
    assert config_dirs(module) == (module.parent / "configs", tmp_path / "project" / "configs")


def test_dataset_section_counts_whole_batches_and_refuses_impossible_sizes():
    assert DatasetSection(batch_size=16, patches_per_epoch=100).steps_per_epoch == 6
    with pytest.raises(ConfigError, match="patches_per_epoch 8 is below batch_size 16"):
        DatasetSection(patches_per_epoch=8)
    with pytest.raises(ConfigError, match="patch_size must be >= 1"):
        DatasetSection(patch_size=0)
