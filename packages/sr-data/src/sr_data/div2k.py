"""DIV2K in its official layout (Agustsson & Timofte 2017): 800 train and 100 validation 2K images.

    <root>/DIV2K_train_HR/0001.png ... 0800.png
    <root>/DIV2K_train_LR_bicubic/X2/0001x2.png ...
    <root>/DIV2K_valid_HR/0801.png ... 0900.png
    <root>/DIV2K_valid_LR_bicubic/X2/0801x2.png ...

The LR folder is optional: without it (or with ``lr="on-the-fly"``) LR images are made from HR with
MATLAB-style bicubic, as the official ones were.
"""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.image_io import IMAGE_EXTENSIONS
from sr_data.pairs import ImagePair, PairedImages

DIV2K_RANGES = {"train": (1, 800), "valid": (801, 900)}


def _find_file(folder: Path, stem: str) -> Path | None:
    for ext in IMAGE_EXTENSIONS:
        if (folder / f"{stem}{ext}").is_file():
            return folder / f"{stem}{ext}"
    return None


class DIV2K(PairedImages):
    """DIV2K ``split`` ("train": 1-800, "valid": 801-900, or ``indices=(first, last)`` inclusive).

    ``lr="bicubic"`` reads ``DIV2K_<split>_LR_bicubic/X<scale>/`` when that folder exists and falls
    back to making LR on the fly when it does not; ``lr="on-the-fly"`` always makes it. A missing HR
    or LR file in the range is an error naming it.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        scale: int = 2,
        lr: str = "bicubic",
        indices: tuple[int, int] | None = None,
    ):
        if split not in DIV2K_RANGES:
            raise ValueError(f"DIV2K: split must be 'train' or 'valid', got {split!r}")
        if lr not in ("bicubic", "on-the-fly"):
            raise ValueError(f"DIV2K: lr must be 'bicubic' or 'on-the-fly', got {lr!r}")
        root = Path(root)
        hr_dir = root / f"DIV2K_{split}_HR"
        if not hr_dir.is_dir():
            raise FileNotFoundError(f"DIV2K: HR folder not found: {hr_dir}")
        lr_dir = root / f"DIV2K_{split}_LR_bicubic" / f"X{int(scale)}"
        use_lr_files = lr == "bicubic" and lr_dir.is_dir()
        first, last = indices or DIV2K_RANGES[split]
        pairs = []
        for number in range(first, last + 1):
            stem = f"{number:04d}"
            hr = _find_file(hr_dir, stem)
            if hr is None:
                raise FileNotFoundError(f"DIV2K: missing HR image {hr_dir / stem}.png")
            lr_file = _find_file(lr_dir, f"{stem}x{int(scale)}") if use_lr_files else None
            if use_lr_files and lr_file is None:
                raise FileNotFoundError(f"DIV2K: missing LR image {lr_dir / stem}x{int(scale)}.png for {hr}")
            pairs.append(ImagePair(stem, hr, lr_file))
        super().__init__(pairs, scale)
        self.name = f"DIV2K-{split}"
        self.lr_source = "files" if use_lr_files else "on-the-fly"
