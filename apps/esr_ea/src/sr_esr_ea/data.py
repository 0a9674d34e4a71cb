"""The images of each stage: training images from `--data` (see `sr_data.open_training_images`), the
validation images a dataset section names, patches for the search's fast training, and test sets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import Dataset

from sr_data import Benchmark, PairedImages, RandomPatches, SampleImages, open_training_images, split_holdout
from sr_esr_ea.config import DatasetSection
from sr_train import ConfigError, PatchTensors, stack_patches


@dataclass
class StageImages:
    """Training images and validation data of one stage."""

    train: PairedImages
    val: PairedImages | CenterCrops
    notes: list[str]


class CenterCrops(Dataset):
    """The centre `hr_crop` x `hr_crop` HR crop (and its LR) of every image of a dataset."""

    def __init__(self, dataset: PairedImages, hr_crop: int, scale: int) -> None:
        if hr_crop % scale:
            raise ValueError(f"validation crop {hr_crop} is not a multiple of the scale {scale}")
        self.dataset, self.hr_crop, self.scale = dataset, hr_crop, scale

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[index]
        hr, s, size = item["hr"], self.scale, self.hr_crop // self.scale
        lr_h, lr_w = item["lr"].shape[-2:]
        if min(lr_h, lr_w) < size:
            raise ValueError(
                f"validation image {item['name']} is {lr_w * s}x{lr_h * s}, smaller than the "
                f"{self.hr_crop}x{self.hr_crop} validation crop"
            )
        top, left = (lr_h - size) // 2, (lr_w - size) // 2
        return {
            "lr": item["lr"][:, top : top + size, left : left + size],
            "hr": hr[:, top * s : (top + size) * s, left * s : (left + size) * s],
            "name": item["name"],
        }


def open_stage_images(data: str, scale: int, section: DatasetSection, key: str) -> StageImages:
    """Training images and validation data for `--data` and a dataset section (`key` names it)."""
    notes: list[str] = []
    train = open_training_images(data, scale)
    if section.val.startswith("holdout:"):
        held = section.val.split(":", 1)[1]
        if not held.isdigit() or not 0 < int(held) < len(train):
            raise ConfigError(
                f"{key}.val {section.val!r}: 'holdout:N' needs a whole number 0 < N < {len(train)} "
                f"(the number of training images of --data {data})"
            )
        count = int(held)
        train, val = split_holdout(train, count)
        notes.append(f"{key}: validation on the last {count} training images (held out)")
    elif section.val == "samples":
        val = SampleImages("test", scale)
    else:
        val = Benchmark(section.val, scale)
    if section.val_crop:
        val = CenterCrops(val, section.val_crop, scale)
    return StageImages(train, val, notes)


def training_patches(
    images: PairedImages, section: DatasetSection, seed: int, cache_dir: Path | None = None
) -> RandomPatches:
    """`patches_per_epoch` random augmented patches per epoch (a new draw each epoch); with
    `cache_dir` every image is decoded once into a memory-mapped cache there."""
    return RandomPatches(
        images, section.patch_size, section.patches_per_epoch, seed=seed, cache_dir=cache_dir
    )


def search_tensors(
    stage: StageImages, section: DatasetSection, seed: int, cache_dir: Path | None = None
) -> tuple[PatchTensors, PatchTensors]:
    """The fixed patches every candidate of the search trains on, and the validation crops, as tensors.

    One draw of `patches_per_epoch` patches, so every candidate sees exactly the same data and the
    tensors are built once (and moved to the GPU once per worker). Validation images of different
    sizes are cut to their common centre crop (`val_crop` when given, else the largest that fits).
    """
    train = stack_patches(training_patches(stage.train, section, seed, cache_dir))
    val = stage.val
    if not isinstance(val, CenterCrops):
        scale = stage.train.scale
        side = min(min(val.hr_size(i)) for i in range(len(val)))
        val = CenterCrops(val, side - side % scale, scale)
    return train, stack_patches(val)
