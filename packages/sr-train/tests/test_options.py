"""Every option of the loop runs and does what it says (on CPU, a few steps each)."""

import io

import pytest
import torch

from sr_train import TrainConfig, Trainer
from sr_train.losses import CharbonnierLoss, build_loss
from sr_train.progress import ProgressBar, format_seconds


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "charbonnier", "optimizer": "adamw", "weight_decay": 1e-4, "amsgrad": True},
        {"loss": "mse", "scheduler": "cosine", "warmup_steps": 2, "min_lr": 1e-5},
        {"amp": "bf16", "channels_last": True, "grad_clip": 0.1},
    ],
)
def test_options_train_and_lower_the_loss(tiny_model, pairs, options):
    cfg = TrainConfig(steps=30, batch_size=8, lr=3e-3, log_every=5, progress=False, **options)
    trainer = Trainer(tiny_model(), pairs(32), None, cfg)
    first = trainer.loss_fn(trainer.model(pairs(32).lr).float(), pairs(32).hr).item()
    result = trainer.fit()
    assert result.final_loss < first


def test_optimizer_and_schedule_follow_the_config(tiny_model, pairs):
    cfg = TrainConfig(
        steps=6,
        batch_size=8,
        lr=1e-2,
        optimizer="adamw",
        amsgrad=True,
        betas=[0.5, 0.9],
        milestones=[3],
        gamma=0.1,
        progress=False,
    )
    trainer = Trainer(tiny_model(), pairs(16), None, cfg)
    group = trainer.optimizer.param_groups[0]
    assert isinstance(trainer.optimizer, torch.optim.AdamW)
    assert group["amsgrad"] and group["betas"] == (0.5, 0.9)
    trainer.fit()
    assert group["lr"] == pytest.approx(1e-3)


def test_fp16_on_cpu_is_refused(tiny_model, pairs):
    with pytest.raises(ValueError, match="fp16"):
        Trainer(tiny_model(), pairs(8), None, TrainConfig(steps=1, batch_size=4, amp="fp16", device="cpu"))


def test_losses():
    a, b = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)
    assert build_loss("l1")(a, b).item() == pytest.approx(0.5)
    assert build_loss("mse")(a, b).item() == pytest.approx(0.25)
    assert CharbonnierLoss(1e-3)(a, b).item() == pytest.approx((0.25 + 1e-6) ** 0.5)
    with pytest.raises(ValueError, match="'l3'"):
        build_loss("l3")


def test_progress_line_and_quiet_mode(tiny_model, pairs, capsys):
    stream = io.StringIO()
    bar = ProgressBar(total=100, stream=stream)
    bar.update(50, loss=0.0123, lr=2e-4, patches_per_s=1234.0)
    line = stream.getvalue()
    assert "50/100" in line and "loss 0.0123" in line and "lr 2.00e-04" in line and "1234 patches/s" in line
    assert "ETA" in line
    assert [format_seconds(s) for s in (5, 185, 7260, float("nan"))] == ["5s", "3m05s", "2h01m", "?"]
    Trainer(tiny_model(), pairs(8), pairs(2), TrainConfig(steps=2, batch_size=4, progress=False)).fit()
    assert capsys.readouterr().err == ""
