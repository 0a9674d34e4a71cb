"""PSNR and SSIM as SR papers report them, batched in torch (CPU or GPU, float64).

Same protocol and same numbers as the per-image numpy reference in :mod:`sr_eval.reference`
(which these functions also use for numpy inputs): uint8 quantisation, ``crop_border`` pixels cut
from each edge, the Y channel of MATLAB's ``rgb2ycbcr`` (or every RGB channel), float64 on the
0..255 scale, Wang et al.'s SSIM with an 11x11 Gaussian window (sigma 1.5) and 'valid' filtering.
With ``test_y_channel``, a 1-channel SR image may be scored against an RGB HR image: it is taken
as the Y output of a Y-only model (quantised to the uint8 grid like any SR output) and compared
with the HR's unrounded Y, the same target the RGB path uses.

A batch is processed an image or a few at a time (``_CHUNK_ELEMENTS``): on a CPU, float64 element-wise
work on cache-sized tensors is several times faster than on one huge tensor, and memory stays
bounded on a GPU too.
"""

from __future__ import annotations

import numpy as np
import torch

from sr_eval.color import Y_OFFSET, Y_WEIGHTS
from sr_eval.reference import (
    SSIM_C1,
    SSIM_C2,
    SSIM_WINDOW_SIZE,
    gaussian_kernel_1d,
    psnr_reference,
    ssim_reference,
)

_CHUNK_ELEMENTS = 1 << 18
_SSIM_TAPS = gaussian_kernel_1d().tolist()
_Y_PER_LEVEL = tuple(weight / 255.0 for weight in Y_WEIGHTS)  # Y weights for R, G, B on the 0..255 scale


def _as_batch(img: torch.Tensor, name: str) -> torch.Tensor:
    if img.dim() == 3:
        img = img.unsqueeze(0)
    if img.dim() != 4 or img.shape[1] not in (1, 3):
        raise ValueError(
            f"{name}: expected a tensor (N, 3, H, W), (3, H, W) or 1-channel, got {tuple(img.shape)}"
        )
    if img.dtype != torch.uint8 and not img.is_floating_point():
        raise TypeError(f"{name}: expected a uint8 tensor or a float tensor in [0, 1], got {img.dtype}")
    return img


def _to_protocol(img: torch.Tensor, crop_border: int, test_y_channel: bool) -> torch.Tensor:
    """Crop, quantise to the uint8 grid (float64, 0..255) and optionally take Y: (N, 1 or 3, h, w)."""
    if crop_border:
        img = img[..., crop_border:-crop_border, crop_border:-crop_border]
    if img.dtype == torch.uint8:
        img = img.to(torch.float64)
    else:
        img = img.to(torch.float64, copy=True).clamp_(0.0, 1.0).mul_(255.0).round_()
    if test_y_channel and img.shape[1] == 3:
        img = _luma_of_levels(img)
    return img


def _luma_of_levels(rgb: torch.Tensor) -> torch.Tensor:
    """MATLAB's Y (0..255 scale, unrounded) of (N, 3, h, w) RGB levels 0..255: four passes over one plane."""
    y = rgb[:, 0:1] * _Y_PER_LEVEL[0]
    y.add_(rgb[:, 1:2], alpha=_Y_PER_LEVEL[1]).add_(rgb[:, 2:3], alpha=_Y_PER_LEVEL[2])
    return y.add_(Y_OFFSET)


def _filter_valid(planes: torch.Tensor) -> torch.Tensor:
    """Correlate (..., H, W) planes with the SSIM window, keeping only 'valid' positions.

    The window is separable: shifted in-place multiply-adds along W, then along H. On a CPU this
    is far faster than ``conv2d`` in float64 (which has no optimised kernel); it runs on a GPU as is.
    """
    taps, size = _SSIM_TAPS, len(_SSIM_TAPS)
    out_h, out_w = planes.shape[-2] - size + 1, planes.shape[-1] - size + 1
    rows = planes[..., :, 0:out_w] * taps[0]
    for offset in range(1, size):
        rows.add_(planes[..., :, offset : offset + out_w], alpha=taps[offset])
    out = rows[..., 0:out_h, :] * taps[0]
    for offset in range(1, size):
        out.add_(rows[..., offset : offset + out_h, :], alpha=taps[offset])
    return out


def _psnr_of(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mse = (a - b).square_().mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(255.0**2 / mse)


def _ssim_of(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Wang et al.'s SSIM, arranged for few passes over memory (this is CPU-bound on element-wise work).

    The two variances only appear summed, so one filtered ``a² + b²`` replaces two filters, and
    every intermediate is updated in place.
    """
    n, c, h, w = a.shape
    if min(h, w) < SSIM_WINDOW_SIZE:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW_SIZE}x{SSIM_WINDOW_SIZE}, got {h}x{w}")
    mu_a, mu_b = _filter_valid(a), _filter_valid(b)
    cross = _filter_valid(a * b)
    squares = _filter_valid(torch.addcmul(a * a, b, b))
    mu_ab = mu_a * mu_b
    mu_sq = mu_a.square_().add_(mu_b.square_())
    numerator = cross.sub_(mu_ab).mul_(2.0).add_(SSIM_C2).mul_(mu_ab.mul_(2.0).add_(SSIM_C1))
    denominator = squares.sub_(mu_sq).add_(SSIM_C2).mul_(mu_sq.add_(SSIM_C1))
    return numerator.div_(denominator).mean(dim=(2, 3)).mean(dim=1)


def _batched(
    sr: torch.Tensor,
    hr: torch.Tensor,
    crop_border: int,
    test_y_channel: bool,
    want_psnr: bool,
    want_ssim: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    sr_b, hr_b = _as_batch(sr, "sr"), _as_batch(hr, "hr")
    same_pixels = len(sr_b) == len(hr_b) and sr_b.shape[-2:] == hr_b.shape[-2:]
    y_against_rgb = test_y_channel and sr_b.shape[1] == 1 and hr_b.shape[1] == 3  # a Y-only model's output
    if not same_pixels or (sr_b.shape[1] != hr_b.shape[1] and not y_against_rgb):
        raise ValueError(f"image shapes differ: sr {tuple(sr.shape)} vs hr {tuple(hr.shape)}")
    if crop_border < 0 or 2 * crop_border >= min(sr_b.shape[-2:]):
        raise ValueError(f"crop_border {crop_border} does not fit images of shape {tuple(sr.shape)}")
    per_chunk = max(1, _CHUNK_ELEMENTS // sr_b[0].numel())
    psnrs, ssims = [], []
    for sr_chunk, hr_chunk in zip(sr_b.split(per_chunk), hr_b.split(per_chunk), strict=True):
        a = _to_protocol(sr_chunk, crop_border, test_y_channel)
        b = _to_protocol(hr_chunk, crop_border, test_y_channel)
        if want_psnr:
            psnrs.append(_psnr_of(a, b))
        if want_ssim:
            ssims.append(_ssim_of(a, b))
    empty = sr_b.new_empty(0, dtype=torch.float64)
    return (torch.cat(psnrs) if psnrs else empty), (torch.cat(ssims) if ssims else empty)


def _squeeze_like(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values[0] if like.dim() == 3 else values


def _check_same_kind(sr, hr, name: str) -> bool:
    """True for two tensors, False for two arrays; a mix is an error."""
    if isinstance(sr, torch.Tensor) and isinstance(hr, torch.Tensor):
        return True
    if isinstance(sr, torch.Tensor) or isinstance(hr, torch.Tensor):
        raise TypeError(f"{name}: pass two tensors or two numpy arrays, not one of each")
    return False


def psnr(
    sr: np.ndarray | torch.Tensor,
    hr: np.ndarray | torch.Tensor,
    crop_border: int,
    test_y_channel: bool = True,
) -> float | torch.Tensor:
    """PSNR in dB (peak 255, ``inf`` for identical images).

    numpy (H, W, 3) uint8 or float [0, 1] -> float (per-image reference). Tensors (N, 3, H, W) ->
    float64 tensor of N values on the same device; (3, H, W) -> a 0-d tensor. With
    ``test_y_channel``, ``sr`` may have one channel (a Y image in [0, 1]) while ``hr`` is RGB.
    """
    if not _check_same_kind(sr, hr, "psnr"):
        return psnr_reference(sr, hr, crop_border, test_y_channel)
    return _squeeze_like(_batched(sr, hr, crop_border, test_y_channel, True, False)[0], sr)


def ssim(
    sr: np.ndarray | torch.Tensor,
    hr: np.ndarray | torch.Tensor,
    crop_border: int,
    test_y_channel: bool = True,
) -> float | torch.Tensor:
    """SSIM (Y channel, or the mean of the per-channel SSIMs when ``test_y_channel`` is False).

    Same input conventions as :func:`psnr`.
    """
    if not _check_same_kind(sr, hr, "ssim"):
        return ssim_reference(sr, hr, crop_border, test_y_channel)
    return _squeeze_like(_batched(sr, hr, crop_border, test_y_channel, False, True)[1], sr)


def psnr_ssim(
    sr: torch.Tensor, hr: torch.Tensor, crop_border: int, test_y_channel: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both metrics of tensor batches in one pass (the images are prepared once)."""
    if not _check_same_kind(sr, hr, "psnr_ssim"):
        raise TypeError("psnr_ssim takes tensors; use psnr and ssim for numpy arrays")
    values_psnr, values_ssim = _batched(sr, hr, crop_border, test_y_channel, True, True)
    return _squeeze_like(values_psnr, sr), _squeeze_like(values_ssim, sr)
