"""Where the data lives: the shared image and official-weights folders, and the image files in a folder."""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.image_io import IMAGE_EXTENSIONS


def _shared_folder(name: str, variable: str) -> Path | None:
    """Env ``variable``, else ``<repo>/../shared/<name>`` when this package runs from a checkout
    (``<repo>/packages/sr-data/src/sr_data``); None when neither is a folder."""
    env = os.environ.get(variable)
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = Path(__file__).resolve()
    if len(here.parents) > 4 and here.parents[2].name == "sr-data" and here.parents[3].name == "packages":
        candidate = here.parents[4].parent / "shared" / name
        if candidate.is_dir():
            return candidate
    return None


def find_datasets_root() -> Path | None:
    """The folder holding Set5/Set14/BSD68/SunHays80: env ``SR_DATASETS``, else ``<repo>/../shared/datasets``
    (from a checkout); None when neither exists."""
    return _shared_folder("datasets", "SR_DATASETS")


def find_weights_root() -> Path | None:
    """The folder holding the authors' checkpoints (IMDN_x2.pth, RFDN_AIM.pth, ...): env ``SR_WEIGHTS``,
    else ``<repo>/../shared/weights`` (from a checkout); None when neither exists. Tests and
    experiments read them there; the toolkit never ships them."""
    return _shared_folder("weights", "SR_WEIGHTS")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; errors name the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return files
