"""Shared fixtures: small deterministic images written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sr_data import find_datasets_root, write_image


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A float (H, W, 3) image in [0, 1] with smooth structure and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(7 * x + c) * np.cos(5 * y - c) for c in (0.0, 1.0, 2.0)], axis=2)
    return np.clip(0.5 + 0.4 * base + 0.05 * rng.standard_normal((height, width, 3)), 0, 1)


@pytest.fixture
def image_folder(tmp_path: Path):
    """Write named (H, W) images as PNGs into tmp_path/<sub>; returns a writer."""

    def write(sub: str, sizes: dict[str, tuple[int, int]], ext: str = ".png") -> Path:
        folder = tmp_path / sub
        folder.mkdir(parents=True, exist_ok=True)
        for index, (name, (h, w)) in enumerate(sizes.items()):
            write_image(folder / f"{name}{ext}", smooth_image(h, w, seed=index))
        return folder

    return write


@pytest.fixture
def datasets_root() -> Path:
    root = find_datasets_root()
    if root is None or not (root / "Set5" / "HR").is_dir():
        pytest.skip("real images not found (../shared/datasets or SR_DATASETS)")
    return root
