"""Run under torchrun by test_ddp.py: train a tiny net with DDP (gloo, CPU) and save this rank's weights.

Usage: torchrun --nproc_per_node 2 ddp_worker.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from sr_train import PatchTensors, TrainConfig, Trainer

STEPS, BATCH, ITEMS = 6, 4, 32


def build(batch_size: int) -> tuple[nn.Module, PatchTensors, TrainConfig]:
    """The same model, data and recipe in every process (and in the single-process reference)."""
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(ITEMS, 3, 16, 16, generator=g)
    data = PatchTensors(nn.functional.avg_pool2d(hr, 2), hr)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2))
    config = TrainConfig(steps=STEPS, batch_size=batch_size, lr=1e-2, ema_decay=0.5, progress=False, seed=1)
    return model, data, config


def main(out_dir: Path) -> None:
    model, data, config = build(BATCH)
    out = out_dir / "run"
    Trainer(model, data, data, config.replace(out_dir=str(out), val_every=3, tensorboard=False)).fit()
    torch.save(model.state_dict(), out_dir / f"rank{dist.get_rank()}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
