"""RDN: Residual Dense Network for Image Super-Resolution (Zhang et al., CVPR 2018).

Follows the official EDSR-PyTorch `model/rdn.py` (configuration B: D=16 blocks, C=8 convs per
block, growth G=64, G0=64 features; no mean shift). `ResidualDenseFrame` is the network around
the blocks (two shallow convs, global feature fusion of every block output, global residual,
pixel-shuffle upsampler); ESR_EA's ESRN (`sr_blocks.esrn`) reuses it with its own blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sr_blocks.layers import FusedBlockChain, Upsampler, conv2d
from sr_blocks.registry import register_model


class DenseLayer(nn.Module):
    """conv3x3 + ReLU producing `growth` channels, concatenated to its input."""

    def __init__(self, in_channels: int, growth: int) -> None:
        super().__init__()
        self.conv = conv2d(in_channels, growth)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.act(self.conv(x))], dim=1)


class RDB(nn.Module):
    """Residual dense block: `num_layer` dense layers, 1x1 local fusion back to `num_feat`, skip."""

    def __init__(self, num_feat: int, growth: int, num_layer: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*(DenseLayer(num_feat + i * growth, growth) for i in range(num_layer)))
        self.fuse = conv2d(num_feat + num_layer * growth, num_feat, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fuse(self.layers(x))


class ResidualDenseFrame(nn.Module):
    """RDN's frame around a list of blocks.

    conv_first (3x3, in -> num_feat) and conv_shallow (3x3) extract shallow features; the blocks
    run in sequence and `body` fuses all their outputs (1x1 + 3x3); the first conv's output is
    added back (global residual); `upsample` (3x3 convs + pixel shuffle, `upsample_width`
    channels after shuffling) and conv_last (3x3 -> out) reconstruct the image.
    """

    def __init__(
        self,
        scale: int,
        blocks: Sequence[nn.Module],
        block_channels: Sequence[int],
        *,
        in_channels: int,
        out_channels: int,
        num_feat: int,
        upsample_width: int,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = conv2d(in_channels, num_feat, bias=bias)
        self.conv_shallow = conv2d(num_feat, num_feat, bias=bias)
        self.body = FusedBlockChain(blocks, block_channels, num_feat, bias=bias)
        self.upsample = Upsampler(num_feat, upsample_width, scale, bias=bias)
        self.conv_last = conv2d(upsample_width, out_channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow = self.conv_first(x)
        feat = shallow + self.body(self.conv_shallow(shallow))
        return self.conv_last(self.upsample(feat))


class RDN(ResidualDenseFrame):
    """RDN with `num_block` RDBs of `num_layer` dense layers (growth `growth`, width `num_feat`)."""

    def __init__(
        self,
        scale: int,
        in_channels: int = 3,
        out_channels: int = 3,
        num_feat: int = 64,
        growth: int = 64,
        num_block: int = 16,
        num_layer: int = 8,
    ) -> None:
        super().__init__(
            scale,
            [RDB(num_feat, growth, num_layer) for _ in range(num_block)],
            [num_feat] * num_block,
            in_channels=in_channels,
            out_channels=out_channels,
            num_feat=num_feat,
            upsample_width=growth,
        )


def _create_rdn(variant: str, scale: int, **kwargs) -> RDN:
    return RDN(scale=scale, **{**_CONFIGS[variant], **kwargs})


_CONFIGS = {
    "rdn": dict(num_feat=64, growth=64, num_block=16, num_layer=8),
}


@register_model
def rdn(scale: int = 2, **kwargs) -> RDN:
    """RDN, configuration B of the paper (D=16, C=8, G=64, G0=64; 22.1M parameters at x2)."""
    return _create_rdn("rdn", scale, **kwargs)
