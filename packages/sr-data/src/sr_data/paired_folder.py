"""Any folder of HR images, with or without a folder of matching LR images."""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.pairs import ImagePair, PairedImages
from sr_data.paths import list_images


def _match_lr_files(hr_files: list[Path], lr_dir: Path, scale: int) -> list[ImagePair]:
    """Pair each HR file with the LR file of the same stem, or the stem plus ``x<scale>`` (DIV2K style)."""
    by_stem: dict[str, list[Path]] = {}
    for lr in list_images(lr_dir):
        by_stem.setdefault(lr.stem, []).append(lr)
    pairs, partner_of = [], {}
    for hr in hr_files:
        found = by_stem.get(hr.stem, []) + by_stem.get(f"{hr.stem}x{scale}", [])
        if not found:
            raise ValueError(
                f"HR {hr} has no LR partner in {lr_dir} (looked for {hr.stem}.* and {hr.stem}x{scale}.*)"
            )
        if len(found) > 1:
            raise ValueError(f"HR {hr} has {len(found)} LR partners: {', '.join(map(str, found))}")
        if found[0] in partner_of:
            raise ValueError(f"LR {found[0]} is the partner of two HR files: {partner_of[found[0]]} and {hr}")
        partner_of[found[0]] = hr
        pairs.append(ImagePair(hr.stem, hr, found[0]))
    orphans = [lr for files in by_stem.values() for lr in files if lr not in partner_of]
    if orphans:
        raise ValueError(
            f"LR {orphans[0]} has no HR partner in {hr_files[0].parent} ({len(orphans)} LR files unmatched)"
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
