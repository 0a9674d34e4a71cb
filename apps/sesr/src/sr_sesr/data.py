"""The data of a run: Y-channel training patches from ``--data``, a validation set and the test sets.

Validation (``--val``): "auto" is DIV2K's validation split when ``--data`` is a DIV2K root (as the
official code validates) and otherwise the last ``max(1, n // 16)`` training images, held out;
"holdout:N", "none", or a benchmark name / folder of images are taken as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sr_data import (
    DIV2K,
    Benchmark,
    PairedImages,
    RandomPatches,
    open_test_sets,
    open_training_images,
    split_holdout,
)
from sr_train import LumaView, stack_patches


@dataclass
class RunData:
    """Training images (RGB pairs), Y validation set (or None), test sets and notes for the log."""

    train: PairedImages
    val: Dataset | None
    test: list[PairedImages]
    notes: list[str] = field(default_factory=list)

    def patches(self, patch_size: int, patches_per_epoch: int, seed: int, cache_dir: Path | None) -> LumaView:
        """Y training patches: random crops with flips and 90-degree rotations, new ones every epoch."""
        crops = RandomPatches(self.train, patch_size, patches_per_epoch, seed=seed, cache_dir=cache_dir)
        return LumaView(crops)

    def calibration_inputs(
        self, patch_size: int, count: int, seed: int, cache_dir: Path | None
    ) -> torch.Tensor:
        """``count`` Y LR training patches (N, 1, p/s, p/s) for int8 calibration (epoch 0 of another seed)."""
        return stack_patches(self.patches(patch_size, count, seed + 1, cache_dir), count).lr


def open_run_data(data: str, scale: int, val: str, test_sets: list[str]) -> RunData:
    """Open ``--data`` for training, the ``--val`` set and the ``--test_sets`` that can be found."""
    train = open_training_images(data, scale)
    notes: list[str] = []
    val_set: PairedImages | None
    if val == "none":
        val_set = None
    elif val == "auto" and isinstance(train, DIV2K) and (Path(data) / "DIV2K_valid_HR").is_dir():
        val_set = DIV2K(data, "valid", scale)
        notes.append("validation: DIV2K's validation split (801-900), as the official code")
    elif val == "auto" or val.startswith("holdout:"):
        count = max(1, len(train) // 16) if val == "auto" else _holdout_count(val, len(train))
        if count >= len(train):
            raise ValueError(f"--val {val}: {len(train)} training images leave none for training")
        train, val_set = split_holdout(train, count)
        notes.append(f"validation: the last {count} of the training images (held out)")
    else:
        val_set = Benchmark(val, scale)
    test = open_test_sets(test_sets, scale, notes)
    return RunData(train, None if val_set is None else LumaView(val_set, keys=("lr",)), test, notes)


def _holdout_count(spec: str, images: int) -> int:
    value = spec.split(":", 1)[1]
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--val {spec!r}: 'holdout:N' needs a whole number N >= 1 (of {images} images)")
    return int(value)
