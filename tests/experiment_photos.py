"""Small training photos for the experiments' --quick runs: crops of the shared SunHays80 photos."""

from __future__ import annotations

from pathlib import Path

from sr_data import read_image, write_image


def write_photo_crops(datasets: Path, folder: Path, count: int = 6) -> Path:
    """The first `count` SunHays80 HR photos cropped to 160x160 px, written into `folder`."""
    for path in sorted((datasets / "SunHays80" / "HR").glob("*"))[:count]:
        write_image(folder / f"{path.stem}.png", read_image(path)[200:360, 300:460])
    return folder
