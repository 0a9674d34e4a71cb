import math

import pytest
import torch
from torch import nn

from sr_train import NonFiniteLossError, TrainConfig, Trainer, load_checkpoint


class BlowsUp(nn.Module):
    """Wraps a model and returns NaN from its `at`-th training forward on."""

    def __init__(self, inner: nn.Module, at: int) -> None:
        super().__init__()
        self.inner, self.at, self.calls = inner, at, 0

    def forward(self, x):
        self.calls += self.training
        out = self.inner(x)
        return out * float("nan") if self.calls >= self.at else out


def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path, tiny_model, pairs):
    cfg = TrainConfig(
        steps=20,
        batch_size=4,
        checkpoint_every=5,
        log_every=3,
        out_dir=str(tmp_path),
        progress=False,
        tensorboard=False,
    )
    model = BlowsUp(tiny_model(), at=8)
    with pytest.raises(NonFiniteLossError, match=r"nan at step 8") as err:
        Trainer(model, pairs(32), None, cfg).fit()
    assert err.value.step == 8
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt["train_state"]["step"] == 5
    assert all(torch.isfinite(t).all() for t in ckpt["state_dict"].values())
    assert "non-finite loss (nan) at step 8" in (tmp_path / "train.log").read_text()
    assert not list(tmp_path.glob("*.tmp"))


def test_inf_loss_is_caught_without_output_folder(tiny_model, pairs):
    class Inf(nn.Module):
        def forward(self, x):
            return torch.full((x.shape[0], 3, x.shape[2] * 2, x.shape[3] * 2), math.inf) + self.w

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))

    with pytest.raises(NonFiniteLossError, match="step 1"):
        Trainer(Inf(), pairs(8), None, TrainConfig(steps=3, batch_size=4, progress=False)).fit()


def test_a_bad_step_on_another_process_is_reported_as_such(tiny_model, pairs, monkeypatch):
    """Under DDP the first bad step can be another rank's: this rank must not report its finite loss."""
    import sr_train.trainer

    monkeypatch.setattr(sr_train.trainer, "min_across_ranks", lambda value, ctx, device: 2)
    cfg = TrainConfig(steps=4, batch_size=4, log_every=4, progress=False)
    with pytest.raises(NonFiniteLossError, match="nan at step 2") as err:
        Trainer(tiny_model(), pairs(16), None, cfg).fit()
    assert math.isnan(err.value.value)
