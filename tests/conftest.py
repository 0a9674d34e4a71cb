"""Shared by the cross-package tests: small training photos for the experiments' --quick runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sr_data import read_image, write_image


def write_photo_crops(datasets: Path, folder: Path, count: int = 6) -> Path:
    """The first `count` SunHays80 HR photos cropped to 160x160 px, written into `folder`."""
    for path in sorted((datasets / "SunHays80" / "HR").glob("*"))[:count]:
        write_image(folder / f"{path.stem}.png", read_image(path)[200:360, 300:460])
    return folder


@pytest.fixture(scope="session")
def photo_crops() -> Callable[..., Path]:
    """`write_photo_crops(datasets, folder, count=6)`."""
    return write_photo_crops
