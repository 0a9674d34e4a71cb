import pytest

from sr_train import ConfigError, TrainConfig
from sr_train.optim import lr_factor


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("steps: 10\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"'learning_rate'.*cfg\.yaml"):
        TrainConfig.from_yaml(path)


def test_wrong_type_names_key_and_value(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("steps: ten\n")
    with pytest.raises(ConfigError, match=r"steps.*'ten'.*cfg\.yaml"):
        TrainConfig.from_yaml(path)
    with pytest.raises(ConfigError, match=r"amp.*'fp8'"):
        TrainConfig(steps=1, amp="fp8")
    with pytest.raises(ConfigError, match=r"milestones\[1\].*'x'"):
        TrainConfig(steps=1, milestones=[1, "x"])
    with pytest.raises(ConfigError, match=r"amsgrad.*'yes'"):
        TrainConfig(steps=1, amsgrad="yes")


def test_yaml_float_strings_and_section(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  epochs: 3\n  lr: 2e-4\n  milestones: [1, 2]\n")
    cfg = TrainConfig.from_yaml(path, section="train")
    assert cfg.lr == pytest.approx(2e-4) and cfg.epochs == 3 and cfg.milestones == [1, 2]
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"steps": 5, "epochs": 5},
        {"steps": 0},
        {"steps": 5, "milestones": [3, 1]},
        {"steps": 5, "ema_decay": 1.0},
        {"steps": 5, "betas": [0.9]},
        {"steps": 5, "grad_clip": 0},
        {"steps": 5, "lr": 0},
        {"steps": 5, "warmup_steps": -1},
        {"steps": 5, "num_workers": -2},
    ],
)
def test_inconsistent_values_are_rejected(kwargs):
    with pytest.raises(ConfigError, match="|".join(kwargs) or "budget"):
        TrainConfig(**kwargs)


def test_multistep_schedule_in_epochs_like_esr_ea():
    # ESR_EA's fully_train: milestones [8000, 12000, 13500, 14500] epochs, gamma 0.5
    cfg = TrainConfig(epochs=15000, milestones=[8000, 12000, 13500, 14500], gamma=0.5)
    f = lr_factor(cfg, total_steps=15000 * 2, milestone_steps=[m * 2 for m in cfg.milestones])
    steps = (0, 15999, 16000, 24000, 27000, 29000, 29999)
    assert [f(s) for s in steps] == [1, 1, 0.5, 0.25, 0.125, 0.0625, 0.0625]


def test_cosine_with_warmup():
    cfg = TrainConfig(steps=110, scheduler="cosine", lr=1e-3, min_lr=1e-5, warmup_steps=10)
    f = lr_factor(cfg, 110, [])
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.5 * (1 + 0.01), rel=1e-6)
    assert f(110) == pytest.approx(0.01)
    assert all(f(s) >= f(s + 1) for s in range(10, 110))
