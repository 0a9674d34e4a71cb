"""TrainerSection: a trainer section in torch's names (vega, BasicSR) read strictly, made a TrainConfig."""

from __future__ import annotations

import pytest

from sr_train import ConfigError, TrainConfig, section_from_dict, section_to_dict
from sr_train.trainer_section import TrainerSection

# ESR_EA's fully_train.trainer (vega's esr_ea.yml), as written
SEED = {
    "epochs": 15000,
    "lr_scheduler": {"type": "MultiStepLR", "milestones": [8000, 12000, 13500, 14500], "gamma": 0.5},
}


def read(data: dict) -> TrainerSection:
    return section_from_dict(TrainerSection, data, "fully_train.trainer", "esr_ea.yml")


def test_epochs_and_milestones_become_steps_and_torch_names_become_ours() -> None:
    config = read(SEED).train_config(scale=2, batch_size=16, steps_per_epoch=50, device="cpu")
    assert isinstance(config, TrainConfig)
    assert (config.steps, config.epochs, config.milestones) == (
        750_000,
        None,
        [400_000, 600_000, 675_000, 725_000],
    )
    assert (config.scheduler, config.gamma, config.optimizer, config.lr, config.loss) == (
        "multistep",
        0.5,
        "adam",
        1e-4,
        "l1",
    )
    assert (config.batch_size, config.device, config.scale) == (16, "cpu", 2)


def test_a_step_budget_keeps_its_milestones_and_knobs_pass_through() -> None:
    section = read(
        {
            "steps": 1000,
            "optim": {"type": "AdamW", "lr": "5e-4", "weight_decay": 0.01},
            "lr_scheduler": {"type": "CosineAnnealingLR", "min_lr": 1e-6, "milestones": [10]},
            "loss": {"type": "CharbonnierLoss"},
            "seed": 3,
            "ema_decay": 0.999,
            "amp": "bf16",
            "warmup_steps": 50,
        }
    )
    config = section.train_config(scale=4, batch_size=8, steps_per_epoch=7)
    assert (config.steps, config.milestones, config.optimizer, config.lr) == (1000, [10], "adamw", 5e-4)
    assert (config.scheduler, config.min_lr, config.loss, config.seed) == ("cosine", 1e-6, "charbonnier", 3)
    assert (config.ema_decay, config.amp, config.warmup_steps, config.weight_decay) == (
        0.999,
        "bf16",
        50,
        0.01,
    )
    assert read(section_to_dict(section)) == section


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"epoch": 3}, r"unknown config key 'fully_train\.trainer\.epoch'"),
        ({"epochs": 3, "steps": 9}, r"fully_train\.trainer\.epochs and steps: give one budget, not both"),
        ({"epochs": 0}, r"fully_train\.trainer\.epochs must be >= 1, got 0"),
        ({"epochs": "long"}, r"fully_train\.trainer\.epochs must be int, got 'long'"),
        ({"epochs": 3, "optim": {"lr": -1}}, r"fully_train\.trainer\.optim\.lr must be > 0"),
        (
            {"epochs": 3, "optim": {"lr": "fast"}},
            r"fully_train\.trainer\.optim\.lr must be float, got 'fast'",
        ),
        ({"epochs": 3, "optim": {"type": "SGD"}}, r"optim\.type must be one of \['Adam', 'AdamW'\]"),
        (
            {"epochs": 3, "lr_scheduler": {"milestones": [5, 2]}},
            r"lr_scheduler\.milestones must be increasing",
        ),
        (
            {"epochs": 3, "lr_scheduler": {"milestone": [1]}},
            r"'fully_train\.trainer\.lr_scheduler\.milestone'",
        ),
        ({"epochs": 3, "amp": "fp8"}, r"fully_train\.trainer\.amp must be one of"),
        ({"epochs": 3, "ema_decay": 1.5}, r"fully_train\.trainer\.ema_decay must be in \(0, 1\)"),
    ],
)
def test_a_bad_value_names_the_key_and_the_file(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message + r".*esr_ea\.yml"):
        read(data)


def test_a_section_without_a_budget_is_refused_when_it_is_used() -> None:
    section = read({"optim": {"lr": 1e-3}})  # as the class defaults: section_from_dict builds them too
    with pytest.raises(ConfigError, match="epochs or steps: give one"):
        section.train_config(scale=2, batch_size=4, steps_per_epoch=2)
