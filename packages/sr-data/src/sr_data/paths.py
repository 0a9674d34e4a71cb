"""Where the data lives: the shared real-image folder, and the image files inside a folder."""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.image_io import IMAGE_EXTENSIONS


def find_datasets_root() -> Path | None:
    """The folder holding Set5/Set14/BSD68/SunHays80: env ``SR_DATASETS``, else ``<repo>/../shared/datasets``.

    ``<repo>`` is found from this file when the package is used from a checkout
    (``<repo>/packages/sr-data/src/sr_data``). Returns None when neither exists.
    """
    env = os.environ.get("SR_DATASETS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = Path(__file__).resolve()
    if len(here.parents) > 4 and here.parents[2].name == "sr-data" and here.parents[3].name == "packages":
        candidate = here.parents[4].parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return None


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; errors name the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return files
