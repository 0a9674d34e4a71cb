"""Small array operations of the SR protocol: modcrop, uint8 quantisation, HWC <-> CHW tensors."""

from __future__ import annotations

import numpy as np
import torch


def modcrop(img, scale: int):
    """Crop the bottom/right so height and width are multiples of ``scale``.

    numpy arrays are (H, W) or (H, W, C); tensors are (..., H, W). Returns a view.
    """
    if int(scale) != scale or scale < 1:
        raise ValueError(f"modcrop: scale must be a positive integer, got {scale}")
    scale = int(scale)
    if isinstance(img, torch.Tensor):
        h, w = img.shape[-2:]
        return img[..., : h - h % scale, : w - w % scale]
    if img.ndim not in (2, 3):
        raise ValueError(f"modcrop: numpy input must be (H, W) or (H, W, C), got shape {img.shape}")
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def quantize(img):
    """Round float [0, 1] values to the uint8 grid (k / 255), half up, clipped; stays float.

    The standard protocol stores LR images as uint8 files, so LR made in memory is quantised the
    same way before use.
    """
    if isinstance(img, torch.Tensor):
        return torch.floor(img.clamp(0, 1) * 255 + 0.5) / 255
    return (np.floor(np.clip(img, 0, 1) * 255 + 0.5) / 255).astype(img.dtype, copy=False)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float [0, 1] to uint8, rounded half up and clipped (the rounding of ``quantize``)."""
    return np.floor(np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 / uint16 / float array to a (3, H, W) float32 tensor in [0, 1]."""
    if array.dtype == np.uint8:
        scaled = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        scaled = array.astype(np.float32) / 65535.0
    else:
        scaled = np.asarray(array, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(scaled.transpose(2, 0, 1)))
