"""SESR: collapsible linear blocks for super-efficient SR (Bhardwaj et al., MLSys 2022, ARM).

A linear block is a kxk conv expanding to ``feature_size`` channels followed by a 1x1 conv back,
with no non-linearity between them, so it collapses into one small kxk conv. SESR is a 5x5 input
block, ``m`` 3x3 blocks with short residuals and PReLU, a long residual, a 5x5 output block, a
global residual from the input, pixel shuffle and a clip to [0, 1], as in the official code.

Training modes (official ``linear_block_type``): ``"expanded"`` runs the two convs;
``"collapsed"`` computes the collapsed kernel from the expanded weights at every forward and runs
one small conv, which is far cheaper while the gradients still reach the expanded weights.

Biases: the expanded convs have biases, as in the official code (so the trainable counts match).
The collapse here is exact: the kernel is the product of the expanded kernels and the bias is the
projected expansion bias plus the projection bias, so both modes and the deployed net compute the
same function for any weights. The official code instead collapses by pushing an impulse through
the biased convs, which adds each output bias to every kernel tap and drops the bias; that makes its
expanded and collapsed modes different networks unless the biases are zero. Our deployed net
therefore carries one bias per output channel on top of the published conv-weight sizes (SESR-M5
x2: 13,520 conv weights, the paper's 13.52K; plus 100 biases and 80 PReLU slopes).

Two details differ from the official code on purpose, neither changes a parameter count: x4 uses
one ``PixelShuffle(4)`` where the official applies depth-to-space by 2 twice (the same network up
to a fixed order of the output block's channels), and only the m middle blocks carry a short
residual (the official collapsed block also adds one to the x4 output block whenever its input and
output widths happen to be equal, which its expanded form does not).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_blocks.layers import TRAINING_MODES as TRAINING_MODES  # re-exported (apps/sesr reads it here)
from sr_blocks.layers import (
    FusedKernelCache,
    add_to_every_subpixel,
    check_training_mode,
    records_gradients,
    training_mode_property,
)
from sr_blocks.registry import preset_kwargs, register_model
from sr_reparam.kernels import fold_residual, fuse_1x1_after_kxk


class LinearBlock(nn.Module):
    """kxk conv to ``feature_size`` channels, 1x1 conv to ``out_channels``, optional short residual.

    ``residual`` adds the input (needs ``in_channels == out_channels``); in collapsed mode it is
    folded into the kernel as an identity tap. In eval mode, while no gradient is recorded, either
    training mode runs the collapsed kernel, computed once and cached until a parameter changes
    (``FusedKernelCache``), as the deployed form would.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        feature_size: int,
        residual: bool = False,
        bias: bool = True,
        training_mode: str = "collapsed",
    ):
        super().__init__()
        if residual and in_channels != out_channels:
            raise ValueError(f"a residual needs in == out channels, got {in_channels} -> {out_channels}")
        self.residual = residual
        self.training_mode = check_training_mode(training_mode)
        self.expand = nn.Conv2d(in_channels, feature_size, kernel_size, padding=kernel_size // 2, bias=bias)
        self.project = nn.Conv2d(feature_size, out_channels, 1, bias=bias)
        self._collapsed_cache = FusedKernelCache()

    def collapsed_conv(self) -> tuple[Tensor, Tensor | None]:
        """The (weight, bias) of the one kxk conv equal to this block, residual included."""
        weight, bias = fuse_1x1_after_kxk(
            self.expand.weight, self.expand.bias, self.project.weight, self.project.bias
        )
        if self.residual:
            weight = fold_residual(weight, None)[0]
        return weight, (bias if self.expand.bias is not None else None)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            parameters = list(self.parameters())
            if not records_gradients(parameters):
                weight, bias = self._collapsed_cache.get(parameters, self.collapsed_conv)
                return F.conv2d(x, weight, bias, padding=self.expand.padding)
        if self.training_mode == "collapsed":
            weight, bias = self.collapsed_conv()
            return F.conv2d(x, weight, bias, padding=self.expand.padding)
        y = self.project(self.expand(x))
        return y + x if self.residual else y

    @torch.no_grad()
    def reparameterize(self) -> nn.Conv2d:
        """The single conv this block equals (in either training mode)."""
        weight, bias = self.collapsed_conv()
        out_channels, in_channels, kernel_size = weight.shape[0], weight.shape[1], weight.shape[-1]
        conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias is not None
        ).to(weight)
        conv.weight.copy_(weight)
        if bias is not None:
            conv.bias.copy_(bias)
        return conv


class SESR(nn.Module):
    """SESR with ``m`` 3x3 linear blocks of ``f`` channels, each expanded to ``feature_size``.

    Args:
        scale: 2, 3 or 4 (the official code supports 2 and 4).
        m, f, feature_size: the paper's m, f and the expansion width p.
        in_channels, out_channels: image channels (the paper works on Y: pass 1 and 1).
        training_mode: 'collapsed' or 'expanded' (see the module docstring); settable later.
        bias: biases in the expanded convs (official: True).
    """

    training_mode = training_mode_property(LinearBlock)

    def __init__(
        self,
        scale: int,
        m: int = 5,
        f: int = 16,
        feature_size: int = 256,
        in_channels: int = 3,
        out_channels: int = 3,
        training_mode: str = "collapsed",
        bias: bool = True,
    ):
        super().__init__()
        self.scale = scale
        self.global_residual = in_channels == out_channels

        def block(cin: int, cout: int, k: int, residual: bool = False) -> LinearBlock:
            return LinearBlock(cin, cout, k, feature_size, residual, bias, training_mode)

        self.conv_first = block(in_channels, f, 5)
        self.body = nn.Sequential(
            *(nn.Sequential(block(f, f, 3, residual=True), nn.PReLU(f)) for _ in range(m))
        )
        self.conv_last = block(f, out_channels * scale * scale, 5)
        self.upsample = nn.PixelShuffle(scale)

    def forward(self, x: Tensor) -> Tensor:
        first = self.conv_first(x - 0.5)
        y = self.conv_last(self.body(first) + first)
        if self.global_residual:
            y = add_to_every_subpixel(y, x, self.scale)
        return self.upsample(y).clamp(0.0, 1.0)


def _create_sesr(preset: str, m: int, f: int, feature_size: int, scale: int, kwargs: dict) -> SESR:
    fixed = {"m": m, "f": f, "feature_size": feature_size}
    return SESR(scale=scale, **preset_kwargs(preset, fixed, kwargs, "sesr"))


@register_model
def sesr(m: int = 5, f: int = 16, feature_size: int = 256, scale: int = 2, **kwargs) -> SESR:
    """SESR with any m, f and feature_size (defaults: SESR-M5)."""
    return SESR(scale=scale, m=m, f=f, feature_size=feature_size, **kwargs)


@register_model
def sesr_m3(scale: int = 2, **kwargs) -> SESR:
    return _create_sesr("sesr_m3", 3, 16, 256, scale, kwargs)


@register_model
def sesr_m5(scale: int = 2, **kwargs) -> SESR:
    return _create_sesr("sesr_m5", 5, 16, 256, scale, kwargs)


@register_model
def sesr_m7(scale: int = 2, **kwargs) -> SESR:
    return _create_sesr("sesr_m7", 7, 16, 256, scale, kwargs)


@register_model
def sesr_m11(scale: int = 2, **kwargs) -> SESR:
    return _create_sesr("sesr_m11", 11, 16, 64, scale, kwargs)


@register_model
def sesr_xl(scale: int = 2, **kwargs) -> SESR:
    return _create_sesr("sesr_xl", 11, 32, 64, scale, kwargs)
