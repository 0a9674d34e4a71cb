"""Bicubic upsampling as MATLAB's `imresize(img, scale)` computes it, as a parameter-free model.

The reference baseline of every SR table. MATLAB's bicubic kernel is Keys' cubic with a = -0.5;
output pixel x (1-based) samples input coordinate u = x/scale + (1 - 1/scale)/2, reads the taps
within distance 2, normalises their weights to sum 1 and mirrors indices past the border
(symmetric padding that repeats the edge pixel). For an integer scale the weights repeat with
period `scale`, so the resize is `scale` fixed 1-D filters per axis (one per output phase) whose
outputs are interleaved — a separable convolution plus a one-axis pixel shuffle — and runs batched
on any device and dtype.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from sr_blocks.registry import register_model

TAPS = 5  # input pixels k-2 .. k+2 around the LR pixel k an output phase belongs to


def cubic(x: torch.Tensor) -> torch.Tensor:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's imresize 'bicubic')."""
    ax = x.abs()
    near = (1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1)
    far = (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))
    return near + far


@functools.lru_cache(maxsize=16)
def phase_filters(scale: int) -> torch.Tensor:
    """(scale, TAPS) float64 weights: row p makes output pixel scale*k + p from input pixels k-2..k+2.

    In 0-based coordinates output pixel o samples (o + 0.5)/scale - 0.5 = k + (p + 0.5)/scale - 0.5.
    """
    offsets = (torch.arange(scale, dtype=torch.float64) + 0.5) / scale - 0.5
    taps = torch.arange(TAPS, dtype=torch.float64) - TAPS // 2
    weights = cubic(offsets[:, None] - taps[None, :])
    return weights / weights.sum(dim=1, keepdim=True)


def symmetric_indices(size: int, pad: int, device: torch.device | None = None) -> torch.Tensor:
    """Indices of `size` samples padded by `pad` on each side with MATLAB's edge-repeating mirror."""
    i = torch.arange(-pad, size + pad, device=device) % (2 * size)
    return torch.where(i < size, i, 2 * size - 1 - i)


def _upsample_axis(x: torch.Tensor, filters: torch.Tensor, dim: int) -> torch.Tensor:
    """Apply the per-phase filters along `dim` (-2 rows, -1 columns) of (N, C, H, W) and interleave."""
    n, c, h, w = x.shape
    scale = filters.shape[0]
    size = x.shape[dim]
    padded = x.index_select(dim, symmetric_indices(size, TAPS // 2, x.device))
    kernel = filters.view(scale, 1, TAPS, 1) if dim == -2 else filters.view(scale, 1, 1, TAPS)
    phases = F.conv2d(padded.reshape(n * c, 1, *padded.shape[-2:]), kernel).view(n, c, scale, h, w)
    if dim == -2:
        return phases.permute(0, 1, 3, 2, 4).reshape(n, c, h * scale, w)
    return phases.permute(0, 1, 3, 4, 2).reshape(n, c, h, w * scale)


class Bicubic(nn.Module):
    """MATLAB-compatible bicubic upsampling by an integer factor; no trainable parameters.

    Args:
        scale: integer upscaling factor.
        in_channels / out_channels: image channels (must be equal: channels are resized independently).
    """

    def __init__(self, scale: int, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        if in_channels != out_channels:
            raise ValueError(
                f"bicubic keeps the channel count: in_channels={in_channels} != out_channels={out_channels}"
            )
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"bicubic upsampling needs a positive integer scale, got {scale!r}")
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Built per call from a cached float64 table: no buffer that .to(dtype) could round.
        filters = phase_filters(self.scale).to(device=x.device, dtype=x.dtype)
        return _upsample_axis(_upsample_axis(x, filters, -2), filters, -1)


@register_model
def bicubic(scale: int = 2, **kwargs) -> Bicubic:
    """MATLAB imresize bicubic upsampling (no parameters): the reference baseline."""
    return Bicubic(scale=scale, **kwargs)
