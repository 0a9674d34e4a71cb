"""IMDN: Lightweight Image Super-Resolution with Information Multi-distillation Network
(Hui et al., ACM MM 2019).

Follows the official code (Zheng222/IMDN, `model/architecture.py`, `model/block.py`): a 3x3 head,
six information multi-distillation blocks (IMDB), a 1x1 fusion of all block outputs with
LeakyReLU(0.05), a 3x3 conv plus the head's output, and one conv + pixel shuffle. `IMDN.make_block`
is the only thing RFDN (`sr_blocks.rfdn`) changes.

`imdn_rtc` (`IMDNRTC`) and `imdn_as` (`IMDNAS`) are the repository's two other trained networks:
IMDN-RTC (12 channels, blocks without attention) and the arbitrary-scale IMDN_AS.

`adaptive_crop_forward` is the paper's adaptive cropping strategy (ACS) for arbitrary image sizes:
four overlapping corner tiles whose sides are multiples of what the network needs, run as one
batch and stitched.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sr_blocks.layers import FusedBlockChain, PixelShuffleHead, conv2d
from sr_blocks.registry import register_model


class ContrastChannelAttention(nn.Module):
    """Contrast-aware channel attention (CCA): squeeze by per-channel std + mean, excite, rescale."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.excite = nn.Sequential(
            conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()  # two passes: var_mean is 4x slower
        return x * self.excite(std + mean)


class IMDB(nn.Module):
    """Information multi-distillation block.

    Progressive refinement: each 3x3 conv's output is split into a distilled quarter kept aside and
    the remaining three quarters refined by the next conv; the distilled parts and the last conv's
    output are concatenated, reweighted by CCA, fused by a 1x1 conv and added to the input.
    `attention=False` leaves the CCA out (the official `IMDModule_speed` of IMDN-RTC, whose 12
    channels would give a CCA 12 // 16 = 0 hidden channels): the distilled parts go straight to the
    1x1 fuse.
    """

    def __init__(self, channels: int, distillation_rate: float = 0.25, attention: bool = True) -> None:
        super().__init__()
        self.distilled = int(channels * distillation_rate)
        self.remaining = channels - self.distilled
        self.conv1 = conv2d(channels, channels)
        self.conv2 = conv2d(self.remaining, channels)
        self.conv3 = conv2d(self.remaining, channels)
        self.conv4 = conv2d(self.remaining, self.distilled)
        self.act = nn.LeakyReLU(0.05, inplace=True)
        self.fuse = conv2d(self.distilled * 4, channels, 1)
        self.cca = ContrastChannelAttention(self.distilled * 4) if attention else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = []
        remaining = x
        for conv in (self.conv1, self.conv2, self.conv3):
            distilled, remaining = torch.split(self.act(conv(remaining)), [self.distilled, self.remaining], 1)
            kept.append(distilled)
        kept.append(self.conv4(remaining))
        return x + self.fuse(self.cca(torch.cat(kept, dim=1)))


class IMDN(nn.Module):
    """IMDN with `num_block` blocks of width `num_feat`.

    Args:
        scale: upscaling factor.
        in_channels / out_channels: image channels.
        num_feat: feature width (64).
        num_block: number of distillation blocks (6).
    """

    def __init__(
        self, scale: int, in_channels: int = 3, out_channels: int = 3, num_feat: int = 64, num_block: int = 6
    ) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = conv2d(in_channels, num_feat)
        self.body = FusedBlockChain(
            [self.make_block(num_feat) for _ in range(num_block)],
            [num_feat] * num_block,
            num_feat,
            act=nn.LeakyReLU(0.05, inplace=True),
        )
        self.upsample = PixelShuffleHead(num_feat, out_channels, scale)

    @staticmethod
    def make_block(num_feat: int) -> nn.Module:
        return IMDB(num_feat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(x)
        return self.upsample(feat + self.body(feat))


def _tile_side(size: int, shave: int, multiple: int) -> int:
    """Side of the two overlapping tiles covering `size`: half plus `shave`, a multiple of `multiple`."""
    side = min(size // 2 + shave, size)
    side -= side % multiple
    if side < size - size // 2:
        raise ValueError(
            f"adaptive cropping cannot cover a side of {size} with two tiles of a multiple of {multiple} "
            f"(shave={shave}); use a larger shave or image"
        )
    return side


def adaptive_crop_forward(
    model: nn.Module, lr: torch.Tensor, scale: int, shave: int = 32, multiple: int = 4
) -> torch.Tensor:
    """Run `model` on an image of any size by IMDN's adaptive cropping strategy (ACS).

    `lr` (N, C, h, w) is cut into four corner tiles of size about (h/2 + shave, w/2 + shave),
    rounded down to multiples of `multiple` (what the network needs; 4 for IMDN_AS's two stride-2
    convs); they overlap by about 2*shave pixels. The tiles run as one batch and each output quadrant
    is taken from the tile that covers it with the most context. Call under `torch.inference_mode()`
    for inference. For a network whose receptive field is within `shave` of every pixel and that
    has no global statistics, the result equals whole-image inference (IMDN's contrast attention
    pools over each tile, so IMDN's tiled output differs slightly from its whole-image output).
    """
    n, _, h, w = lr.shape
    th, tw = _tile_side(h, shave, multiple), _tile_side(w, shave, multiple)
    rows, cols = (0, h - th), (0, w - tw)
    tiles = [lr[..., r : r + th, c : c + tw] for r in rows for c in cols]
    outputs = model(torch.cat(tiles, dim=0)).split(n, dim=0)
    # Output rows/columns before the middle come from the first tile, the rest from the second.
    row_parts = (slice(0, h // 2 * scale), slice((h // 2 - rows[1]) * scale, None))
    col_parts = (slice(0, w // 2 * scale), slice((w // 2 - cols[1]) * scale, None))
    quadrants = iter(outputs)
    stripes = [
        torch.cat([next(quadrants)[..., row_part, col_part] for col_part in col_parts], dim=-1)
        for row_part in row_parts
    ]
    return torch.cat(stripes, dim=-2)


def _create_imdn(variant: str, scale: int, **kwargs) -> IMDN:
    return IMDN(scale=scale, **{**_CONFIGS[variant], **kwargs})


_CONFIGS = {
    "imdn": dict(num_feat=64, num_block=6),
}


@register_model
def imdn(scale: int = 2, **kwargs) -> IMDN:
    """IMDN: 6 IMDBs of 64 channels (694,404 parameters at x2, 715,176 at x4)."""
    return _create_imdn("imdn", scale, **kwargs)


class IMDNRTC(nn.Module):
    """IMDN-RTC (Zheng222/IMDN `IMDN_RTC`, winner of the AI in RTC 2019 SR challenge).

    A 3x3 head, `num_block` IMDBs without attention one after another, a 1x1 conv, the head's output
    added back, one conv + pixel shuffle. Unlike IMDN, only the last block's output is used.

    Args:
        scale: upscaling factor.
        in_channels / out_channels: image channels.
        num_feat: feature width (12).
        num_block: number of blocks (5).
    """

    def __init__(
        self, scale: int, in_channels: int = 3, out_channels: int = 3, num_feat: int = 12, num_block: int = 5
    ) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = conv2d(in_channels, num_feat)
        self.body = nn.Sequential(*(IMDB(num_feat, attention=False) for _ in range(num_block)))
        self.conv_after_body = conv2d(num_feat, num_feat, 1)
        self.upsample = PixelShuffleHead(num_feat, out_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(x)
        return self.upsample(feat + self.conv_after_body(self.body(feat)))


class IMDNAS(IMDN):
    """IMDN for any output scale (Zheng222/IMDN `IMDN_AS`; the paper's arbitrary-scale setting).

    The input is first enlarged to the output size by bicubic interpolation (torch's, a = -0.75;
    skipped at scale 1, the RealSR setting the official checkpoint was trained for, where LR and HR
    have the same size); two stride-2 3x3 convs (LeakyReLU 0.05 between them) bring it down 4x,
    IMDN's body runs there and a x4 pixel-shuffle head restores the size. Sides that are not
    multiples of 4 are padded by repeating the last rows/columns and the output is cropped back (the
    official test code uses adaptive cropping instead, `adaptive_crop_forward(..., multiple=4)`);
    the padding is a slice of a fixed 3-pixel pad, so a traced ONNX graph works at any size.

    Args:
        scale: output size / input size; any positive number (the registry offers 1 to 8).
        in_channels / out_channels, num_feat, num_block: as `IMDN`.
    """

    def __init__(
        self,
        scale: float,
        in_channels: int = 3,
        out_channels: int = 3,
        num_feat: int = 64,
        num_block: int = 6,
    ) -> None:
        if not scale > 0:
            raise ValueError(f"IMDN_AS needs a positive scale, got {scale!r}")
        super().__init__(4, in_channels, out_channels, num_feat, num_block)
        self.scale = scale
        self.conv_first = nn.Sequential(
            nn.Conv2d(in_channels, num_feat, 3, stride=2, padding=1),
            nn.LeakyReLU(0.05, inplace=True),
            nn.Conv2d(num_feat, num_feat, 3, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale != 1:
            x = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        h, w = x.shape[-2:]
        padded = F.pad(x, (0, 3, 0, 3), mode="replicate")[..., : (h + 3) // 4 * 4, : (w + 3) // 4 * 4]
        return super().forward(padded)[..., :h, :w]


_CONFIGS["imdn_rtc"] = dict(num_feat=12, num_block=5)
_CONFIGS["imdn_as"] = dict(num_feat=64, num_block=6)


@register_model
def imdn_rtc(scale: int = 2, **kwargs) -> IMDNRTC:
    """IMDN-RTC: 5 IMDBs without attention, 12 channels (20,190 parameters at x2, as model_RTC.pth)."""
    return IMDNRTC(scale=scale, **{**_CONFIGS["imdn_rtc"], **kwargs})


@register_model(scales=tuple(range(1, 9)))
def imdn_as(scale: int = 2, **kwargs) -> IMDNAS:
    """IMDN_AS: bicubic to the output size, then IMDN at 1/4 of it (752,104 parameters at every scale)."""
    return IMDNAS(scale=scale, **{**_CONFIGS["imdn_as"], **kwargs})
