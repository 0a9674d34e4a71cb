"""RGB <-> YCbCr as MATLAB's rgb2ycbcr / ycbcr2rgb (ITU-R BT.601, studio range), for Y-only models.

Y-only models (in_channels=1: SESR, ECBSR as in their papers) are trained and evaluated on the Y of
``sr_eval.rgb_to_y``; to upscale a colour photo with one, Y goes through the model and Cb/Cr through
bicubic, then the three planes are turned back into RGB with the exact inverse.
"""

from __future__ import annotations

import numpy as np

from sr_eval.color import Y_OFFSET, Y_WEIGHTS

# rows: Y, Cb, Cr on the 0..255 scale from R, G, B on the 0..1 scale (MATLAB rgb2ycbcr)
_FORWARD = np.array([Y_WEIGHTS, (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214)]) / 255.0
_OFFSET = np.array([Y_OFFSET, 128.0, 128.0]) / 255.0
_INVERSE = np.linalg.inv(_FORWARD)

# full-range luma weights (what Pillow's convert("L") uses) for writing a grayscale result
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1] -> (H, W, 3) float32 Y, Cb, Cr in [0, 1] (Y in 16/255..235/255)."""
    return (rgb @ _FORWARD.T + _OFFSET).astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """The inverse of ``rgb_to_ycbcr`` (unclipped float32 RGB)."""
    return ((ycbcr - _OFFSET) @ _INVERSE.T).astype(np.float32)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W) full-range luma, for writing the result of a grayscale input as grayscale."""
    return rgb @ LUMA_WEIGHTS
