"""Tiny models and synthetic data shared by the sr_train tests (no other package of ours needed)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from sr_train import PatchTensors


class TinySR(nn.Module):
    """conv-relu-conv-pixelshuffle plus a nearest-neighbour skip: a real (if small) x`scale` SR net."""

    def __init__(self, scale: int = 2, width: int = 8) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 3 * scale * scale, 3, padding=1)
        )
        self.up = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.scale, mode="nearest") + self.up(self.body(x))


def synthetic_pairs(n: int, hr_size: int = 16, scale: int = 2, seed: int = 0) -> PatchTensors:
    """Smooth random HR images (upsampled noise) and their box-downsampled LR."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, hr_size // 4, hr_size // 4, generator=g)
    hr = F.interpolate(coarse, size=(hr_size, hr_size), mode="bilinear", align_corners=False).clamp(0, 1)
    lr = F.avg_pool2d(hr, scale)
    return PatchTensors(lr, hr)


class AugmentedPairs(Dataset):
    """A dict dataset with `set_epoch` that flips with the global torch RNG (tests RNG resume)."""

    def __init__(self, pairs: PatchTensors) -> None:
        self.pairs = pairs
        self.epochs_seen: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs_seen.append(epoch)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        lr, hr = self.pairs.lr[index], self.pairs.hr[index]
        if torch.rand(()) < 0.5:
            lr, hr = lr.flip(-1), hr.flip(-1)
        return {"lr": lr, "hr": hr, "name": f"p{index}"}


@pytest.fixture
def tiny_model():
    def make(seed: int = 0, scale: int = 2) -> TinySR:
        torch.manual_seed(seed)
        return TinySR(scale)

    return make


@pytest.fixture
def pairs():
    return synthetic_pairs


@pytest.fixture
def augmented():
    return AugmentedPairs
