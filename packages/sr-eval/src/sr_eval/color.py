"""The luma (Y) channel that SR papers evaluate on: MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, studio range).

Also the whole conversion and its exact inverse (``rgb_to_ycbcr``/``ycbcr_to_rgb``): a Y-only model
(in_channels=1: SESR, ECBSR as in their papers) upscales a colour photo by sending Y through the
model and Cb/Cr through bicubic, then turning the three planes back into RGB.
"""

from __future__ import annotations

import numpy as np
import torch

# Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1]; Y lies in [16, 235] (of 255).
Y_OFFSET = 16.0
Y_WEIGHTS = (65.481, 128.553, 24.966)


def luma_255(r, g, b):
    """Y on the 0..255 scale from R, G, B planes on the 0..1 scale (numpy arrays or tensors)."""
    return Y_OFFSET + (Y_WEIGHTS[0] * r + Y_WEIGHTS[1] * g + Y_WEIGHTS[2] * b)


def rgb_to_y(img: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Y channel of an RGB image in [0, 1], returned in [0, 1] (so 16/255 .. 235/255).

    numpy images are (H, W, 3) and give (H, W); tensors are (..., 3, H, W) and give (..., 1, H, W).
    Integer inputs are rejected: scale them to [0, 1] first.
    """
    if isinstance(img, torch.Tensor):
        if img.dim() < 3 or img.shape[-3] != 3:
            raise ValueError(f"rgb_to_y expects a tensor (..., 3, H, W), got shape {tuple(img.shape)}")
        if not img.is_floating_point():
            raise TypeError(f"rgb_to_y expects a float tensor in [0, 1], got {img.dtype}")
        r, g, b = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
        return luma_255(r, g, b) / 255.0
    array = np.asarray(img)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"rgb_to_y expects an array (H, W, 3), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"rgb_to_y expects a float array in [0, 1], got {array.dtype}")
    return luma_255(array[..., 0], array[..., 1], array[..., 2]) / 255.0


# rows: Y, Cb, Cr on the 0..255 scale from R, G, B on the 0..1 scale (MATLAB rgb2ycbcr)
_YCBCR_FORWARD = np.array([Y_WEIGHTS, (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214)]) / 255.0
_YCBCR_OFFSET = np.array([Y_OFFSET, 128.0, 128.0]) / 255.0
_YCBCR_INVERSE = np.linalg.inv(_YCBCR_FORWARD)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1] -> (H, W, 3) float32 Y, Cb, Cr in [0, 1] (Y in 16/255..235/255)."""
    return (rgb @ _YCBCR_FORWARD.T + _YCBCR_OFFSET).astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """The inverse of ``rgb_to_ycbcr`` (unclipped float32 RGB)."""
    return ((ycbcr - _YCBCR_OFFSET) @ _YCBCR_INVERSE.T).astype(np.float32)
