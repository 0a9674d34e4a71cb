"""Small classic baselines: FSRCNN and ESPCN.

FSRCNN, "Accelerating the Super-Resolution Convolutional Neural Network" (Dong et al., ECCV 2016):
feature extraction 5x5 (d), shrinking 1x1 (s), m mapping 3x3 (s), expanding 1x1 (d), each with
a per-channel PReLU, and a 9x9 deconvolution with stride `scale` as the last layer. FSRCNN(56, 12, 4)
has 12,464 weights for one channel (the paper's count, biases and PReLU slopes not included). The
deconvolution's padding centres each LR pixel's kernel on its HR footprint as nearly as an integer
offset allows (exactly for odd scales, half a pixel off for even ones).

ESPCN, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network" (Shi et al., CVPR 2016): 5x5 conv to 64, 3x3 conv to 32, 3x3 conv to
C*r^2 and pixel shuffle. The paper chose tanh over ReLU for the hidden layers, and so does this
(`act="relu"` switches); the output layer has no activation. Both papers work on the Y channel
(`in_channels=out_channels=1`); the presets default to RGB like every model here.
"""

from __future__ import annotations

import torch
from torch import nn

from sr_blocks.layers import PixelShuffleHead, conv2d
from sr_blocks.registry import register_model


def _conv_prelu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(conv2d(in_channels, out_channels, kernel_size), nn.PReLU(out_channels))


class FSRCNN(nn.Module):
    """FSRCNN(d, s, m).

    Args:
        scale: upscaling factor (the deconvolution's stride).
        in_channels / out_channels: image channels.
        d: feature width; s: shrunk width; m: mapping layers.
    """

    def __init__(
        self, scale: int, in_channels: int = 3, out_channels: int = 3, d: int = 56, s: int = 12, m: int = 4
    ) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = _conv_prelu(in_channels, d, 5)
        self.body = nn.Sequential(
            _conv_prelu(d, s, 1), *(_conv_prelu(s, s, 3) for _ in range(m)), _conv_prelu(s, d, 1)
        )
        padding = (9 - scale + 1) // 2
        self.conv_last = nn.ConvTranspose2d(
            d, out_channels, 9, stride=scale, padding=padding, output_padding=2 * padding - (9 - scale)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_last(self.body(self.conv_first(x)))


class ESPCN(nn.Module):
    """ESPCN: two hidden convs (5x5 -> 64, 3x3 -> 32) and a 3x3 sub-pixel convolution layer."""

    def __init__(self, scale: int, in_channels: int = 3, out_channels: int = 3, act: str = "tanh") -> None:
        super().__init__()
        activations = {"tanh": nn.Tanh, "relu": nn.ReLU}
        if act not in activations:
            raise ValueError(f"ESPCN act must be one of {sorted(activations)}, got {act!r}")
        self.scale = scale
        self.conv_first = nn.Sequential(conv2d(in_channels, 64, 5), activations[act]())
        self.body = nn.Sequential(conv2d(64, 32, 3), activations[act]())
        self.upsample = PixelShuffleHead(32, out_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.body(self.conv_first(x)))


def _create_small(variant: str, scale: int, **kwargs) -> nn.Module:
    return _CLASSES[variant](scale=scale, **{**_CONFIGS[variant], **kwargs})


_CLASSES = {"fsrcnn": FSRCNN, "espcn": ESPCN}
_CONFIGS = {
    "fsrcnn": dict(d=56, s=12, m=4),
    "espcn": dict(act="tanh"),
}


@register_model
def fsrcnn(scale: int = 2, **kwargs) -> FSRCNN:
    """FSRCNN(56, 12, 4): 9x9 deconvolution upsampling, PReLU."""
    return _create_small("fsrcnn", scale, **kwargs)


@register_model
def espcn(scale: int = 2, **kwargs) -> ESPCN:
    """ESPCN: 5x5-64, 3x3-32, 3x3 sub-pixel layer, tanh."""
    return _create_small("espcn", scale, **kwargs)
