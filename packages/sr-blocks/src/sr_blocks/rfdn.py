"""RFDN: Residual Feature Distillation Network for Lightweight Image Super-Resolution
(Liu et al., ECCV Workshops 2020; AIM 2020 efficient SR winner).

Follows the official code (njulj/RFDN, `RFDN.py`, `block.py`): IMDN's frame (`sr_blocks.imdn.IMDN`)
with residual feature distillation blocks (RFDB) — 1x1 distillation convs beside shallow residual
blocks (3x3 conv + identity) — and enhanced spatial attention (ESA). Preset `rfdn`: 50 channels,
4 blocks. Two departures, both identical to the official network wherever that one runs: the
upsampler uses the requested scale (the official file always builds x4), and ESA's 7x7 max pool
shrinks to the feature map when the map is smaller than 7 (the official code fails on LR inputs
smaller than 15 pixels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sr_blocks.imdn import IMDN
from sr_blocks.layers import conv2d
from sr_blocks.registry import register_model


class ESA(nn.Module):
    """Enhanced spatial attention: a strided, pooled, low-resolution branch yields a sigmoid mask."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        reduced = channels // 4
        self.reduce = conv2d(channels, reduced, 1)
        self.conv_skip = conv2d(reduced, reduced, 1)
        self.conv_pooled = conv2d(reduced, reduced, 3)
        self.down = nn.Conv2d(reduced, reduced, 3, stride=2, padding=0)
        self.conv_low1 = conv2d(reduced, reduced, 3)
        self.conv_low2 = conv2d(reduced, reduced, 3)
        self.expand = conv2d(reduced, channels, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = self.reduce(x)
        low = self.down(reduced)
        kernel = (min(7, low.shape[-2]), min(7, low.shape[-1]))
        low = self.relu(self.conv_pooled(F.max_pool2d(low, kernel_size=kernel, stride=3)))
        low = self.conv_low2(self.relu(self.conv_low1(low)))
        low = F.interpolate(low, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.expand(low + self.conv_skip(reduced)))


class RFDB(nn.Module):
    """Residual feature distillation block.

    Three stages, each a 1x1 distillation conv (to channels/2) and a shallow residual block
    (3x3 conv + input, LeakyReLU 0.05) that feeds the next stage; a final 3x3 conv to channels/2;
    the four distilled parts are concatenated, fused by a 1x1 conv and reweighted by ESA.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        distilled = channels // 2
        self.distill = nn.ModuleList(conv2d(channels, distilled, 1) for _ in range(3))
        self.refine = nn.ModuleList(conv2d(channels, channels, 3) for _ in range(3))
        self.conv_last = conv2d(channels, distilled, 3)
        self.act = nn.LeakyReLU(0.05, inplace=True)
        self.fuse = conv2d(distilled * 4, channels, 1)
        self.esa = ESA(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = []
        for distill, refine in zip(self.distill, self.refine, strict=True):
            kept.append(self.act(distill(x)))
            x = self.act(refine(x) + x)
        kept.append(self.act(self.conv_last(x)))
        return self.esa(self.fuse(torch.cat(kept, dim=1)))


class RFDN(IMDN):
    """RFDN: IMDN's frame (head, fused block chain, pixel-shuffle head) with RFDBs."""

    @staticmethod
    def make_block(num_feat: int) -> nn.Module:
        return RFDB(num_feat)


def _create_rfdn(variant: str, scale: int, **kwargs) -> RFDN:
    return RFDN(scale=scale, **{**_CONFIGS[variant], **kwargs})


_CONFIGS = {
    "rfdn": dict(num_feat=50, num_block=4),
}


@register_model
def rfdn(scale: int = 2, **kwargs) -> RFDN:
    """RFDN as in its official code: 4 RFDBs of 50 channels (433,448 parameters at x4)."""
    return _create_rfdn("rfdn", scale, **kwargs)
