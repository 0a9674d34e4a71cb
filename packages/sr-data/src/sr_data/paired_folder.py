"""Any folder of HR images, with or without a folder of matching LR images."""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.pairs import ImagePair, PairedImages
from sr_data.paths import list_images


def _match_lr_files(hr_files: list[Path], lr_dir: Path, scale: int) -> list[ImagePair]:
    """Pair each HR file with the LR file of the same stem, or the stem plus ``x<scale>`` (DIV2K style)."""
    lr_files = list_images(lr_dir)
    by_stem: dict[str, Path] = {}
    for lr in lr_files:
        stem = lr.stem.removesuffix(f"x{scale}")
        if stem in by_stem:
            raise ValueError(f"two LR files for one HR stem {stem!r}: {by_stem[stem]} and {lr}")
        by_stem[stem] = lr
    pairs = []
    for hr in hr_files:
        lr = by_stem.pop(hr.stem, None)
        if lr is None:
            raise ValueError(
                f"HR {hr} has no LR partner in {lr_dir} (looked for {hr.stem}.* and {hr.stem}x{scale}.*)"
            )
        pairs.append(ImagePair(hr.stem, hr, lr))
    if by_stem:
        orphan = next(iter(by_stem.values()))
        raise ValueError(
            f"LR {orphan} has no HR partner in {hr_files[0].parent} ({len(by_stem)} LR files unmatched)"
        )
    return pairs


class PairedFolder(PairedImages):
    """HR images in ``hr_dir``; LR from ``lr_dir`` (same stem, or ``<stem>x<scale>``) or made bicubically.

    Every image in ``hr_dir`` is used; with ``lr_dir``, every HR file needs exactly one LR partner
    and every LR file an HR partner, and sizes must agree after modcropping HR (checked from the file
    headers at construction, so a bad pair fails early, naming both files).
    """

    def __init__(self, hr_dir: str | os.PathLike, lr_dir: str | os.PathLike | None = None, *, scale: int):
        hr_files = list_images(hr_dir)
        if lr_dir is None:
            pairs = [ImagePair(hr.stem, hr) for hr in hr_files]
        else:
            pairs = _match_lr_files(hr_files, Path(lr_dir), int(scale))
        super().__init__(pairs, scale)
        folder = Path(hr_dir)
        self.name = folder.parent.name if folder.name == "HR" else folder.name
