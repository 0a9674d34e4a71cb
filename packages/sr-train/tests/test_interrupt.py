"""Ctrl-C during training: the step in progress finishes, last.pt is written at that step, and the
rerun resumes from it to the same end as an uninterrupted run."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from torch.utils.data import Dataset

from sr_eval.runtime import Interrupted
from sr_train import TrainConfig, Trainer, load_checkpoint


class InterruptOnce(Dataset):
    """Wraps patch tensors; the first time item `at` is read, sends this process a SIGINT (Ctrl-C)."""

    def __init__(self, pairs, at: int) -> None:
        self.pairs, self.at, self.sent = pairs, at, False

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        if index == self.at and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
        return self.pairs[index]


def _config(out_dir):
    return TrainConfig(
        steps=10,
        batch_size=4,
        lr=1e-2,
        out_dir=str(out_dir),
        progress=False,
        seed=1,
        val_ssim=False,
        checkpoint_every=100,
    )


@pytest.mark.skipif(os.name != "posix", reason="sends a real SIGINT")
def test_ctrl_c_checkpoints_at_the_step_boundary_and_the_rerun_resumes(tmp_path, tiny_model, pairs):
    data, val = pairs(16), pairs(4, seed=5)
    full = Trainer(tiny_model(seed=0), data, val, _config(tmp_path / "full")).fit()

    stopping = InterruptOnce(data, at=9)  # read during step 3 (4 patches per step, shuffled order aside)
    with pytest.raises(Interrupted) as caught:
        Trainer(tiny_model(seed=0), stopping, val, _config(tmp_path / "run")).fit()
    step = load_checkpoint(tmp_path / "run" / "last.pt")["train_state"]["step"]
    assert 1 <= step < 10 and f"step {step} of 10" in caught.value.where
    assert "interrupted at step" in (tmp_path / "run" / "train.log").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler put back

    resumed = Trainer(tiny_model(seed=0), data, val, _config(tmp_path / "run")).fit()
    assert resumed.steps == full.steps == 10
    a = load_checkpoint(tmp_path / "full" / "last.pt")["state_dict"]
    b = load_checkpoint(tmp_path / "run" / "last.pt")["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
