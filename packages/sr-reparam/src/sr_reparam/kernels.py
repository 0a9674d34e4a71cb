"""Kernel algebra for structural re-parameterisation: pure functions on (weight, bias) pairs.

Every function takes convolution weights shaped ``(out, in // groups, kh, kw)`` and biases shaped
``(out,)`` (or None for "no bias") and returns a new ``(weight, bias)`` pair describing a single
convolution with the same output. They are differentiable, so a training form may call them at
every step (SESR's collapsed training) and an inference form calls them once (``reparameterize``).

All kernels are assumed to be applied with stride 1, dilation 1 and "same" zero padding
(``padding = k // 2``, odd ``k``), the only case the SR blocks need.

Borders. Fusing a kxk convolution *after* a 1x1 convolution that has a bias is exact everywhere
only if the training form pads the 1x1's output with the bias value instead of zeros (a 1x1 conv
sees zero input on the padded ring, so its output there would be its bias). Training forms that
want exact fusion call :func:`pad_with_bias` between the two convolutions, as the official ECBSR
does; the fused convolution then zero-pads its input as usual. Fusing a 1x1 *after* a kxk is exact
with ordinary padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

Bias = Tensor | None

SOBEL_X = ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0))
SOBEL_Y = ((1.0, 2.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -2.0, -1.0))
LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
FIXED_FILTERS = {"sobel_x": SOBEL_X, "sobel_y": SOBEL_Y, "laplacian": LAPLACIAN}


def _bias_or_zeros(bias: Bias, weight: Tensor) -> Tensor:
    return torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device) if bias is None else bias


def _check_pointwise(weight: Tensor, what: str) -> Tensor:
    if weight.shape[-2:] != (1, 1):
        raise ValueError(f"{what} must be a 1x1 kernel, got spatial size {tuple(weight.shape[-2:])}")
    return weight[:, :, 0, 0]


def _check_same_padding(weight: Tensor) -> None:
    kh, kw = weight.shape[-2:]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernels must have odd sizes for 'same' padding, got {kh}x{kw}")


def fuse_kxk_after_1x1(w1: Tensor, b1: Bias, w2: Tensor, b2: Bias) -> tuple[Tensor, Tensor]:
    """One conv equal to ``conv_kxk(w2, b2)`` applied after ``conv_1x1(w1, b1)``.

    Exact at the borders when the intermediate map is padded with ``b1`` (see :func:`pad_with_bias`).
    Shapes: w1 ``(mid, in, 1, 1)``, w2 ``(out, mid, k, k)``; returns ``(out, in, k, k)`` and ``(out,)``.
    """
    pointwise = _check_pointwise(w1, "w1")
    weight = torch.einsum("omhw,mi->oihw", w2, pointwise)
    bias = w2.sum(dim=(2, 3)) @ _bias_or_zeros(b1, w1) + _bias_or_zeros(b2, w2)
    return weight, bias


def fuse_depthwise_after_1x1(w1: Tensor, b1: Bias, w2: Tensor, b2: Bias) -> tuple[Tensor, Tensor]:
    """One conv equal to a depthwise ``conv_kxk(w2, b2, groups=mid)`` applied after ``conv_1x1(w1, b1)``.

    The same conv as ``fuse_kxk_after_1x1(w1, b1, depthwise_to_dense(w2), b2)`` (exact at the borders
    with :func:`pad_with_bias`), built by one broadcast product instead of a dense ``mid x mid`` kernel.
    Shapes: w1 ``(mid, in, 1, 1)``, w2 ``(mid, 1, k, k)``; returns ``(mid, in, k, k)`` and ``(mid,)``.
    """
    pointwise = _check_pointwise(w1, "w1")
    if w2.shape[1] != 1 or w2.shape[0] != pointwise.shape[0]:
        raise ValueError(
            f"w2 must be a depthwise kernel ({pointwise.shape[0]}, 1, k, k), got {tuple(w2.shape)}"
        )
    weight = w2 * pointwise[:, :, None, None]
    bias = w2.sum(dim=(1, 2, 3)) * _bias_or_zeros(b1, w1) + _bias_or_zeros(b2, w2)
    return weight, bias


def fuse_1x1_after_kxk(w1: Tensor, b1: Bias, w2: Tensor, b2: Bias) -> tuple[Tensor, Tensor]:
    """One conv equal to ``conv_1x1(w2, b2)`` applied after ``conv_kxk(w1, b1)`` (exact at borders).

    Shapes: w1 ``(mid, in, k, k)``, w2 ``(out, mid, 1, 1)``; returns ``(out, in, k, k)`` and ``(out,)``.
    """
    pointwise = _check_pointwise(w2, "w2")
    weight = torch.einsum("om,mihw->oihw", pointwise, w1)
    bias = pointwise @ _bias_or_zeros(b1, w1) + _bias_or_zeros(b2, w2)
    return weight, bias


def pad_kernel(weight: Tensor, size: int) -> Tensor:
    """Zero-pad a kxk kernel symmetrically to ``size x size`` (same output under 'same' padding)."""
    kh, kw = weight.shape[-2:]
    if size < max(kh, kw) or (size - kh) % 2 or (size - kw) % 2:
        raise ValueError(f"cannot pad a {kh}x{kw} kernel to {size}x{size} symmetrically")
    ph, pw = (size - kh) // 2, (size - kw) // 2
    return F.pad(weight, (pw, pw, ph, ph))


def sum_branches(*branches: tuple[Tensor, Bias]) -> tuple[Tensor, Tensor]:
    """One conv equal to the sum of parallel 'same'-padded convs; smaller kernels are centre-padded."""
    if not branches:
        raise ValueError("sum_branches needs at least one (weight, bias) pair")
    for weight, _ in branches:
        _check_same_padding(weight)
    size = max(max(w.shape[-2:]) for w, _ in branches)
    weight = sum(pad_kernel(w, size) for w, _ in branches)
    bias = sum(_bias_or_zeros(b, w) for w, b in branches)
    return weight, bias


def identity_kernel(
    channels: int,
    kernel_size: int = 3,
    groups: int = 1,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """The kernel of a conv that copies its input: ``(channels, channels // groups, k, k)``.

    ``groups=channels`` gives the depthwise identity ``(channels, 1, k, k)``.
    """
    if kernel_size % 2 == 0:
        raise ValueError(f"identity kernel needs an odd size, got {kernel_size}")
    if channels % groups:
        raise ValueError(f"channels ({channels}) must be divisible by groups ({groups})")
    per_group = channels // groups
    weight = torch.zeros(channels, per_group, kernel_size, kernel_size, dtype=dtype, device=device)
    centre = kernel_size // 2
    out_index = torch.arange(channels, device=device)
    weight[out_index, out_index % per_group, centre, centre] = 1.0
    return weight


def fold_residual(weight: Tensor, bias: Bias, groups: int = 1) -> tuple[Tensor, Tensor]:
    """One conv equal to ``conv(x) + x`` (needs as many output as input channels)."""
    channels, per_group = weight.shape[:2]
    if per_group * groups != channels:
        raise ValueError(
            f"a residual needs in == out channels; kernel {tuple(weight.shape)} with groups={groups}"
        )
    kernel_size = weight.shape[-1]
    identity = identity_kernel(channels, kernel_size, groups, dtype=weight.dtype, device=weight.device)
    return weight + identity, _bias_or_zeros(bias, weight)


def fold_batchnorm(
    weight: Tensor,
    bias: Bias,
    running_mean: Tensor,
    running_var: Tensor,
    gamma: Tensor | None = None,
    beta: Tensor | None = None,
    eps: float = 1e-5,
) -> tuple[Tensor, Tensor]:
    """One conv equal to an eval-mode BatchNorm applied after ``conv(weight, bias)``."""
    gamma = torch.ones_like(running_var) if gamma is None else gamma
    beta = torch.zeros_like(running_mean) if beta is None else beta
    factor = gamma / torch.sqrt(running_var + eps)
    fused_bias = (_bias_or_zeros(bias, weight) - running_mean) * factor + beta
    return weight * factor.view(-1, 1, 1, 1), fused_bias


def fixed_filter(name: str, *, dtype: torch.dtype | None = None, device=None) -> Tensor:
    """A 3x3 edge filter by name: 'sobel_x', 'sobel_y' or 'laplacian'."""
    try:
        values = FIXED_FILTERS[name]
    except KeyError:
        raise ValueError(f"unknown fixed filter {name!r}; known: {', '.join(FIXED_FILTERS)}") from None
    return torch.tensor(values, dtype=dtype, device=device)


def scaled_depthwise(filter2d: Tensor, scale: Tensor) -> Tensor:
    """Depthwise kernel ``(C, 1, k, k)``: the fixed ``filter2d`` times a per-channel ``scale`` (C values)."""
    return scale.reshape(-1, 1, 1, 1) * filter2d.to(scale)


def depthwise_to_dense(weight: Tensor) -> Tensor:
    """The dense ``(C, C, k, k)`` kernel of a depthwise conv with kernel ``(C, 1, k, k)``."""
    channels = weight.shape[0]
    if weight.shape[1] != 1:
        raise ValueError(f"expected a depthwise kernel (C, 1, k, k), got {tuple(weight.shape)}")
    index = torch.arange(channels, device=weight.device)
    dense = weight.new_zeros(channels, channels, *weight.shape[-2:])
    dense[index, index] = weight[:, 0]
    return dense


def fixed_filter_kernel(name: str, scale: Tensor, bias: Bias = None) -> tuple[Tensor, Tensor]:
    """Dense kernel of a depthwise Sobel-x / Sobel-y / Laplacian with learnable per-channel scale."""
    depthwise = scaled_depthwise(fixed_filter(name, dtype=scale.dtype, device=scale.device), scale)
    dense = depthwise_to_dense(depthwise)
    return dense, _bias_or_zeros(bias, dense)


def pad_with_bias(x: Tensor, bias: Tensor, padding: int = 1) -> Tensor:
    """Pad ``x`` (N, C, H, W) by ``padding`` pixels whose values are ``bias`` (C,) instead of zeros.

    This is what a 1x1 conv with bias would output on the zero-padded ring of its input, so a kxk
    conv on this map equals the fused conv of :func:`fuse_kxk_after_1x1` at the borders too.
    Only the ring is written after the copy of ``x`` (no full-size temporaries); differentiable in
    ``x`` and ``bias``.
    """
    if padding < 0:
        raise ValueError(f"pad_with_bias: padding must be >= 0, got {padding}")
    if padding == 0:
        return x
    out = F.pad(x, (padding,) * 4)
    ring = bias.view(1, -1, 1, 1).to(out.dtype)
    out[:, :, :padding, :] = ring
    out[:, :, -padding:, :] = ring
    out[:, :, padding:-padding, :padding] = ring
    out[:, :, padding:-padding, -padding:] = ring
    return out
