"""The data every candidate of a search trains and is validated on, built once as tensors.

One fixed draw of random augmented patches, so every candidate sees exactly the same data and a
worker moves the tensors to its device once; and the centre crops of the validation images, cut to
one size so they stack (`val_crop` when given, else the largest that fits every image).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from sr_data import PairedImages, RandomPatches
from sr_train import PatchTensors, stack_patches


class CenterCrops(Dataset):
    """The centre `hr_crop` x `hr_crop` HR crop (and its LR) of every image of a dataset."""

    def __init__(self, dataset: PairedImages, hr_crop: int, scale: int) -> None:
        if hr_crop < scale or hr_crop % scale:
            raise ValueError(f"validation crop {hr_crop} is not a positive multiple of the scale {scale}")
        for index, pair in enumerate(dataset.pairs):  # file headers only: fails before any work
            h, w = dataset.hr_size(index)
            if min(h, w) < hr_crop:
                crop = f"{hr_crop}x{hr_crop}"
                raise ValueError(
                    f"validation image {pair.hr} is {w}x{h}, smaller than the {crop} validation crop"
                )
        self.dataset, self.hr_crop, self.scale = dataset, hr_crop, scale

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[index]
        hr, s, size = item["hr"], self.scale, self.hr_crop // self.scale
        lr_h, lr_w = item["lr"].shape[-2:]
        top, left = (lr_h - size) // 2, (lr_w - size) // 2
        return {
            "lr": item["lr"][:, top : top + size, left : left + size],
            "hr": hr[:, top * s : (top + size) * s, left * s : (left + size) * s],
            "name": item["name"],
        }


def fitness_tensors(
    train: PairedImages,
    val: PairedImages,
    patch_size: int,
    count: int,
    seed: int,
    val_crop: int = 0,
    cache_dir: Path | None = None,
) -> tuple[PatchTensors, PatchTensors]:
    """(`count` random `patch_size` HR patches of `train`, the centre crops of `val`) as tensors.

    With `cache_dir`, every training image is decoded once into a memory-mapped cache there.
    """
    patches = RandomPatches(train, patch_size, count, seed=seed, cache_dir=cache_dir)
    scale = train.scale
    if not val_crop:
        side = min(min(val.hr_size(i)) for i in range(len(val)))
        val_crop = side - side % scale
    return stack_patches(patches), stack_patches(CenterCrops(val, val_crop, scale))
