"""ECBSR: Edge-oriented Convolution Blocks for real-time SR (Zhang, Zeng, Zhang, ACM MM 2021).

An ECB trains five parallel branches — a 3x3 conv, a 1x1 expansion followed by a 3x3 conv, and
1x1 convs followed by depthwise Sobel-x, Sobel-y and Laplacian filters with learnable per-channel
scale and bias — and is re-parameterised into one 3x3 conv for inference (`sr_reparam.deploy`).
The network is ECBs with pixel-shuffle upsampling and a global residual: the input, repeated once
per sub-pixel, is added before the shuffle (as in the official code, which trains on the Y channel;
pass ``in_channels=out_channels=1`` for that).

Training: by default (``training_mode="collapsed"``) an ECB trains on the one 3x3 conv its branches
sum to, computed from the branch weights at every step with ``sr_reparam``'s exact algebra: the same
function of the same parameters (borders included, thanks to the bias padding), so the same
gradients, for one convolution instead of five. ``"expanded"`` runs the five branches, as the
official code does; the two agree to float rounding (tests train both for 100 steps).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_blocks.layers import (
    FusedKernelCache,
    add_to_every_subpixel,
    check_training_mode,
    records_gradients,
    training_mode_property,
)
from sr_blocks.registry import preset_kwargs, register_model
from sr_reparam.kernels import (
    fixed_filter,
    fold_residual,
    fuse_depthwise_after_1x1,
    fuse_kxk_after_1x1,
    pad_with_bias,
    scaled_depthwise,
    sum_branches,
)

ACTIVATIONS = ("prelu", "relu", "rrelu", "softplus", "linear")


def make_activation(act: str, channels: int) -> nn.Module | None:
    """The activation of an ECB by name (None for 'linear'), as in the official ECBSR."""
    if act == "prelu":
        return nn.PReLU(num_parameters=channels)
    if act == "relu":
        return nn.ReLU(inplace=True)
    if act == "rrelu":
        return nn.RReLU(lower=-0.05, upper=0.05)
    if act == "softplus":
        return nn.Softplus()
    if act == "linear":
        return None
    raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}")


class ExpandSqueeze3x3(nn.Module):
    """1x1 conv to ``mid`` channels, then a 3x3 conv; the intermediate map is padded with the 1x1's bias."""

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int):
        super().__init__()
        self.expand = nn.Conv2d(in_channels, mid_channels, 1)
        self.conv = nn.Conv2d(mid_channels, out_channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(pad_with_bias(self.expand(x), self.expand.bias))

    def fused(self) -> tuple[Tensor, Tensor]:
        """The (weight, bias) of the single 3x3 conv this branch equals."""
        return fuse_kxk_after_1x1(self.expand.weight, self.expand.bias, self.conv.weight, self.conv.bias)


class Conv1x1EdgeFilter(nn.Module):
    """1x1 conv, then a fixed depthwise edge filter ('sobel_x', 'sobel_y', 'laplacian') scaled per channel."""

    def __init__(self, in_channels: int, out_channels: int, filter_name: str):
        super().__init__()
        self.filter_name = filter_name
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)
        self.scale = nn.Parameter(torch.randn(out_channels) * 1e-3)
        self.bias = nn.Parameter(torch.randn(out_channels) * 1e-3)
        self.register_buffer("filter", fixed_filter(filter_name), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        y = pad_with_bias(self.pointwise(x), self.pointwise.bias)
        return F.conv2d(y, scaled_depthwise(self.filter, self.scale), self.bias, groups=self.scale.numel())

    def fused(self) -> tuple[Tensor, Tensor]:
        """The (weight, bias) of the single 3x3 conv this branch equals."""
        depthwise = scaled_depthwise(self.filter, self.scale)
        return fuse_depthwise_after_1x1(self.pointwise.weight, self.pointwise.bias, depthwise, self.bias)


class ECB(nn.Module):
    """Edge-oriented Convolution Block: five parallel 3x3-equivalent branches, summed, then activated.

    The block runs the one 3x3 conv its branches sum to, except in training mode with
    ``training_mode="expanded"`` (then every branch runs). While gradients are recorded that kernel
    is fused with autograd at every call; otherwise (eval: validation, a search's scoring) it is
    fused once and cached until a parameter changes (``FusedKernelCache``), at deployed speed.

    Args:
        in_channels, out_channels: channels in and out.
        depth_multiplier: width of the 1x1->3x3 branch as a multiple of ``out_channels``.
        act: 'prelu', 'relu', 'rrelu', 'softplus' or 'linear'.
        with_idt: add the input (identity branch); only used when ``in_channels == out_channels``.
        training_mode: 'collapsed' (default) or 'expanded' (see the module docstring).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth_multiplier: float = 2.0,
        act: str = "prelu",
        with_idt: bool = False,
        training_mode: str = "collapsed",
    ):
        super().__init__()
        mid_channels = int(out_channels * depth_multiplier)
        if mid_channels < 1:
            raise ValueError(
                f"ECB depth_multiplier={depth_multiplier!r} gives {out_channels} x {depth_multiplier!r} "
                f"-> {mid_channels} channels in the 1x1->3x3 branch; it needs at least 1"
            )
        self.with_idt = with_idt and in_channels == out_channels
        self.training_mode = check_training_mode(training_mode)
        self.conv3x3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv1x1_3x3 = ExpandSqueeze3x3(in_channels, out_channels, mid_channels)
        self.conv1x1_sbx = Conv1x1EdgeFilter(in_channels, out_channels, "sobel_x")
        self.conv1x1_sby = Conv1x1EdgeFilter(in_channels, out_channels, "sobel_y")
        self.conv1x1_lpl = Conv1x1EdgeFilter(in_channels, out_channels, "laplacian")
        self.act = make_activation(act, out_channels)
        self._fused_cache = FusedKernelCache()

    def _branches(self) -> tuple[nn.Module, ...]:
        return (self.conv1x1_3x3, self.conv1x1_sbx, self.conv1x1_sby, self.conv1x1_lpl)

    def _fused_parameters(self) -> list[Tensor]:
        """The parameters the fused kernel depends on (all but the activation's)."""
        return [p for module in (self.conv3x3, *self._branches()) for p in module.parameters()]

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.training_mode == "expanded":
            y = self.conv3x3(x)
            for branch in self._branches():
                y = y + branch(x)
            if self.with_idt:
                y = y + x
        else:
            parameters = self._fused_parameters()
            if records_gradients(parameters):
                weight, bias = self.fused()
            else:
                weight, bias = self._fused_cache.get(parameters, self.fused)
            y = F.conv2d(x, weight, bias, padding=1)
        return y if self.act is None else self.act(y)

    def fused(self) -> tuple[Tensor, Tensor]:
        """The (weight, bias) of the single 3x3 conv the five branches (and identity) sum to."""
        weight, bias = sum_branches(
            (self.conv3x3.weight, self.conv3x3.bias), *(branch.fused() for branch in self._branches())
        )
        return fold_residual(weight, bias) if self.with_idt else (weight, bias)

    @torch.no_grad()
    def reparameterize(self) -> nn.Module:
        """A plain 3x3 conv (followed by this block's activation) computing the same function."""
        weight, bias = self.fused()
        conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1).to(weight)
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
        return conv if self.act is None else nn.Sequential(conv, copy.deepcopy(self.act))


class ECBSR(nn.Module):
    """ECBSR: an ECB head, ``m`` ECBs of ``c`` channels, a linear ECB tail, pixel shuffle.

    The input is added to the tail's output (each channel repeated ``scale**2`` times, i.e. to
    every sub-pixel of its colour) when ``in_channels == out_channels``, as the official code does.

    Args:
        m, c: number of body ECBs and their channels (the paper's M and C).
        scale: 2, 3 or 4.
        in_channels, out_channels: image channels (the paper works on Y: pass 1 and 1).
        act: activation of every ECB but the linear tail ('prelu', 'relu', 'rrelu', 'softplus', 'linear').
        with_idt: identity branch in the ECBs whose input and output widths agree (official default: off).
        depth_multiplier: width of the 1x1->3x3 branches relative to their output (official: 2).
        training_mode: 'collapsed' (default) or 'expanded' (see the module docstring); settable later.
    """

    training_mode = training_mode_property(ECB)

    def __init__(
        self,
        m: int,
        c: int,
        scale: int,
        in_channels: int = 3,
        out_channels: int = 3,
        act: str = "prelu",
        with_idt: bool = False,
        depth_multiplier: float = 2.0,
        training_mode: str = "collapsed",
    ):
        super().__init__()
        self.scale = scale
        self.global_residual = in_channels == out_channels

        def ecb(cin: int, cout: int, block_act: str) -> ECB:
            return ECB(cin, cout, depth_multiplier, block_act, with_idt, training_mode)

        self.head = ecb(in_channels, c, act)
        self.body = nn.Sequential(*(ecb(c, c, act) for _ in range(m)))
        self.tail = ecb(c, out_channels * scale * scale, "linear")
        self.upsample = nn.PixelShuffle(scale)

    def forward(self, x: Tensor) -> Tensor:
        y = self.tail(self.body(self.head(x)))
        if self.global_residual:
            y = add_to_every_subpixel(y, x, self.scale)
        return self.upsample(y)


def _create_ecbsr(preset: str, m: int, c: int, scale: int, kwargs: dict) -> ECBSR:
    return ECBSR(scale=scale, **preset_kwargs(preset, {"m": m, "c": c}, kwargs, "ecbsr"))


@register_model
def ecbsr(m: int = 4, c: int = 16, scale: int = 2, **kwargs) -> ECBSR:
    """ECBSR with ``m`` blocks of ``c`` channels (defaults: the official M4C16 configuration)."""
    return ECBSR(m=m, c=c, scale=scale, **kwargs)


@register_model
def ecbsr_m4c8(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m4c8", 4, 8, scale, kwargs)


@register_model
def ecbsr_m4c16(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m4c16", 4, 16, scale, kwargs)


@register_model
def ecbsr_m8c16(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m8c16", 8, 16, scale, kwargs)


@register_model
def ecbsr_m8c32(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m8c32", 8, 32, scale, kwargs)


@register_model
def ecbsr_m10c32(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m10c32", 10, 32, scale, kwargs)


@register_model
def ecbsr_m16c64(scale: int = 2, **kwargs) -> ECBSR:
    return _create_ecbsr("ecbsr_m16c64", 16, 64, scale, kwargs)
