"""EDSR: Enhanced Deep Residual Networks for Single Image Super-Resolution (Lim et al., CVPRW 2017).

Follows the official code (sanghyun-son/EDSR-PyTorch, `model/edsr.py`): a fixed mean shift,
a 3x3 head, residual blocks without batch norm (conv-ReLU-conv, output scaled by `res_scale`),
a 3x3 conv and a long skip, a pixel-shuffle upsampler at full width and a 3x3 output conv.
Images are in [0, 1] here (the official `rgb_range` 1); the mean is a buffer, not a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sr_blocks.layers import MeanShift, Upsampler, conv2d, image_mean
from sr_blocks.registry import register_model


class ResBlock(nn.Module):
    """conv3x3 -> ReLU -> conv3x3, scaled by `res_scale`, plus the input."""

    def __init__(self, num_feat: int, res_scale: float = 1.0) -> None:
        super().__init__()
        self.conv1 = conv2d(num_feat, num_feat)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = conv2d(num_feat, num_feat)
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(x, self.conv2(self.act(self.conv1(x))), alpha=self.res_scale)  # one pass, not two


class EDSR(nn.Module):
    """EDSR with `num_block` residual blocks of width `num_feat`.

    Args:
        scale: upscaling factor (2, 3, 4 or 8).
        in_channels / out_channels: image channels.
        num_feat: feature width (64 for the baseline, 256 for the full model).
        num_block: residual blocks (16 / 32).
        res_scale: residual scaling inside each block (1 / 0.1).
        in_mean / out_mean: fixed means subtracted from the input and added to the output.
    """

    def __init__(
        self,
        scale: int,
        in_channels: int = 3,
        out_channels: int = 3,
        num_feat: int = 64,
        num_block: int = 16,
        res_scale: float = 1.0,
        in_mean: Sequence[float] | None = None,
        out_mean: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.scale = scale
        self.sub_mean = MeanShift(in_mean or image_mean(in_channels), sign=-1)
        self.conv_first = conv2d(in_channels, num_feat)
        self.body = nn.Sequential(*(ResBlock(num_feat, res_scale) for _ in range(num_block)))
        self.conv_after_body = conv2d(num_feat, num_feat)
        self.upsample = Upsampler(num_feat, num_feat, scale)
        self.conv_last = conv2d(num_feat, out_channels)
        self.add_mean = MeanShift(out_mean or image_mean(out_channels), sign=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(self.sub_mean(x))
        feat = feat + self.conv_after_body(self.body(feat))
        return self.add_mean(self.conv_last(self.upsample(feat)))


def _create_edsr(variant: str, scale: int, **kwargs) -> EDSR:
    return EDSR(scale=scale, **{**_CONFIGS[variant], **kwargs})


_CONFIGS = {
    "edsr_baseline": dict(num_feat=64, num_block=16, res_scale=1.0),
    "edsr": dict(num_feat=256, num_block=32, res_scale=0.1),
}


@register_model
def edsr_baseline(scale: int = 2, **kwargs) -> EDSR:
    """EDSR baseline: 16 blocks, 64 channels, res_scale 1 (1.37M parameters at x2)."""
    return _create_edsr("edsr_baseline", scale, **kwargs)


@register_model
def edsr(scale: int = 2, **kwargs) -> EDSR:
    """EDSR: 32 blocks, 256 channels, res_scale 0.1 (40.7M parameters at x2)."""
    return _create_edsr("edsr", scale, **kwargs)
