"""The image pairs behind data/golden_metrics.json (shared by make_golden.py and the tests).

Synthetic pairs are stored in data/golden_images.npz (uint8), so they need nothing else. Real
pairs are Set5 HR images against deterministic degradations of themselves, rebuilt here from the
shared datasets folder; the JSON keeps each degraded image's SHA-256 so that a change of input
is told apart from a change of metric.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
GOLDEN_JSON = DATA_DIR / "golden_metrics.json"
SYNTHETIC_NPZ = DATA_DIR / "golden_images.npz"

SYNTHETIC_CROPS = (0, 2, 4)
REAL_IMAGES = ("baby.png", "bird.png", "butterfly.png", "head.png", "woman.png")
REAL_DEGRADATIONS = ("bicubic_x2", "bicubic_x3", "bicubic_x4", "blur_noise")


def make_synthetic_pairs(seed: int = 0) -> dict[str, np.ndarray]:
    """HR/SR uint8 pairs of a few shapes (odd sizes, grayscale) with noise, blur and a shift."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for name, shape in {"rgb_64x80": (64, 80, 3), "rgb_37x53": (37, 53, 3), "gray_48x40": (48, 40)}.items():
        yy, xx = np.meshgrid(np.linspace(0, 1, shape[0]), np.linspace(0, 1, shape[1]), indexing="ij")
        base = 0.5 + 0.35 * np.sin(7 * xx + 3 * yy)
        if len(shape) == 3:
            base = np.stack([base, np.roll(base, 5, axis=1), 1 - base], axis=2)
        hr = np.clip(base + rng.uniform(-0.1, 0.1, shape), 0, 1)
        sr = np.clip(np.roll(hr, 1, axis=0) * 0.9 + 0.05 + rng.normal(0, 0.03, shape), 0, 1)
        arrays[f"{name}_hr"] = np.round(hr * 255).astype(np.uint8)
        arrays[f"{name}_sr"] = np.round(sr * 255).astype(np.uint8)
    return arrays


def synthetic_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (sr, hr) uint8 arrays from data/golden_images.npz."""
    with np.load(SYNTHETIC_NPZ) as stored:
        names = sorted({key.rsplit("_", 1)[0] for key in stored.files})
        return {name: (stored[f"{name}_sr"], stored[f"{name}_hr"]) for name in names}


def _box_blur_3x3(img: np.ndarray) -> np.ndarray:
    padded = np.pad(img.astype(np.int64), ((1, 1), (1, 1), (0, 0)), mode="edge")
    total = sum(padded[dy : dy + img.shape[0], dx : dx + img.shape[1]] for dy in range(3) for dx in range(3))
    return (total + 4) // 9


def _pattern_noise(shape: tuple[int, ...]) -> np.ndarray:
    """Integer 'noise' in [-8, 8] from index arithmetic: the same on every machine."""
    y, x, c = np.indices(shape)
    return (y * 7919 + x * 104729 + c * 31 + (x * y) % 13) % 17 - 8


def degrade(hr: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(hr, sr) uint8 pair for one degradation of an (H, W, 3) uint8 HR image.

    ``bicubic_xS``: modcrop to S, MATLAB bicubic down by S, quantise, up by S, quantise (sr_data).
    ``blur_noise``: 3x3 box blur plus deterministic pattern noise, in integers.
    """
    if kind.startswith("bicubic_x"):
        from sr_data import imresize, modcrop

        scale = int(kind.removeprefix("bicubic_x"))
        hr = np.ascontiguousarray(modcrop(hr, scale))
        lr = np.round(np.clip(imresize(hr.astype(np.float64) / 255, 1 / scale), 0, 1) * 255)
        sr = np.round(np.clip(imresize(lr / 255, scale), 0, 1) * 255)
        return hr, sr.astype(np.uint8)
    if kind == "blur_noise":
        sr = np.clip(_box_blur_3x3(hr) + _pattern_noise(hr.shape), 0, 255)
        return hr, sr.astype(np.uint8)
    raise ValueError(f"unknown degradation {kind!r}")


def crop_for(kind: str) -> int:
    """The crop border of a real case: the scale for bicubic, 4 otherwise."""
    return int(kind.removeprefix("bicubic_x")) if kind.startswith("bicubic_x") else 4


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
