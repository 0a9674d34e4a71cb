"""Plain per-image numpy PSNR/SSIM: the readable definition, and the yardstick for the torch path.

The protocol of the SR literature (and of BasicSR's ``calculate_psnr``/``calculate_ssim``):
quantise both images to uint8, crop ``crop_border`` pixels from every edge, optionally take the Y
channel of MATLAB's ``rgb2ycbcr``, then compute in float64 on the 0..255 scale. SSIM is Wang et
al.'s: an 11x11 Gaussian window (sigma 1.5), 'valid' filtering, K1 = 0.01, K2 = 0.03, the mean of
the SSIM map, averaged over channels when ``test_y_channel`` is False.

A 1-channel SR image against an RGB HR image (with ``test_y_channel``) is a Y-only model's output:
it is quantised to the uint8 grid like any SR image and compared with the HR's Y, which is not
rounded (the same target as for an RGB model).
"""

from __future__ import annotations

import numpy as np

from sr_eval.color import luma_255

SSIM_WINDOW_SIZE = 11
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 255.0) ** 2
SSIM_C2 = (0.03 * 255.0) ** 2


def gaussian_kernel_1d(size: int = SSIM_WINDOW_SIZE, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps (float64); the SSIM window is its outer product."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return taps / taps.sum()


def to_uint8_grid(img: np.ndarray) -> np.ndarray:
    """(H, W, C) or (H, W) image, uint8 or float in [0, 1] -> float64 on 0..255 with integer values."""
    array = np.asarray(img)
    if array.dtype == np.uint8:
        return array.astype(np.float64)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"expected a uint8 image or a float image in [0, 1], got {array.dtype}")
    return np.round(np.clip(array.astype(np.float64), 0.0, 1.0) * 255.0)


def _prepare(sr: np.ndarray, hr: np.ndarray, crop_border: int, test_y_channel: bool) -> tuple:
    sr_arr, hr_arr = np.asarray(sr), np.asarray(hr)
    sr_arr, hr_arr = (a[..., None] if a.ndim == 2 else a for a in (sr_arr, hr_arr))
    y_against_rgb = test_y_channel and sr_arr.shape[2:] == (1,) and hr_arr.shape[2:] == (3,)
    if sr_arr.shape[:2] != hr_arr.shape[:2] or (sr_arr.shape != hr_arr.shape and not y_against_rgb):
        raise ValueError(f"image shapes differ: sr {np.shape(sr)} vs hr {np.shape(hr)}")
    if sr_arr.ndim != 3 or sr_arr.shape[2] not in (1, 3):
        raise ValueError(f"expected images (H, W, 3), (H, W, 1) or (H, W), got shape {np.shape(sr)}")
    if crop_border < 0 or 2 * crop_border >= min(sr_arr.shape[:2]):
        raise ValueError(f"crop_border {crop_border} does not fit an image of shape {sr_arr.shape}")
    images = []
    for arr in (sr_arr, hr_arr):
        img = to_uint8_grid(arr)
        if crop_border:
            img = img[crop_border:-crop_border, crop_border:-crop_border]
        if test_y_channel and img.shape[2] == 3:
            rgb = img / 255.0
            img = luma_255(rgb[..., 0], rgb[..., 1], rgb[..., 2])[..., None]
        images.append(img)
    return images[0], images[1]


def psnr_reference(sr: np.ndarray, hr: np.ndarray, crop_border: int, test_y_channel: bool = True) -> float:
    """PSNR in dB of one image pair (peak 255); ``inf`` for identical images."""
    a, b = _prepare(sr, hr, crop_border, test_y_channel)
    mse = np.mean((a - b) ** 2)
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(255.0**2 / mse))


def filter_valid(img: np.ndarray, window: np.ndarray) -> np.ndarray:
    """2-D correlation of ``img`` with ``window`` keeping only positions where the window fits."""
    kh, kw = window.shape
    out_h, out_w = img.shape[0] - kh + 1, img.shape[1] - kw + 1
    out = np.zeros((out_h, out_w), dtype=np.float64)
    for dy in range(kh):
        for dx in range(kw):
            out += window[dy, dx] * img[dy : dy + out_h, dx : dx + out_w]
    return out


def ssim_single_channel(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two single-channel float64 images on the 0..255 scale."""
    if min(a.shape) < SSIM_WINDOW_SIZE:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW_SIZE}x{SSIM_WINDOW_SIZE}, got {a.shape}"
        )
    taps = gaussian_kernel_1d()
    window = np.outer(taps, taps)
    mu_a, mu_b = filter_valid(a, window), filter_valid(b, window)
    var_a = filter_valid(a * a, window) - mu_a**2
    var_b = filter_valid(b * b, window) - mu_b**2
    cov = filter_valid(a * b, window) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_a**2 + mu_b**2 + SSIM_C1) * (var_a + var_b + SSIM_C2)
    return float(np.mean(numerator / denominator))


def ssim_reference(sr: np.ndarray, hr: np.ndarray, crop_border: int, test_y_channel: bool = True) -> float:
    """SSIM of one image pair: Y channel, or the mean over channels when ``test_y_channel`` is False."""
    a, b = _prepare(sr, hr, crop_border, test_y_channel)
    return float(np.mean([ssim_single_channel(a[..., c], b[..., c]) for c in range(a.shape[2])]))
