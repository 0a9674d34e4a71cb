"""Random LR/HR-aligned training patches with flips and 90-degree rotations.

Patch ``k`` of epoch ``e`` depends only on (seed, e, k): image ``(e * patches_per_epoch + k) %
len(dataset)`` -- consecutive epochs continue round the dataset, so every image is used equally
often even when an epoch has fewer patches than the dataset has images -- then crop position and
augmentation from ``numpy.random.default_rng([seed, e, k])``. So sampling is identical with any
number of DataLoader workers and in any order; shuffle with the DataLoader.

Decoded images are reused: from a ``cache_dir`` of memory-mapped .npy files when one is given, else
from a size-bounded memory of the most recently used images, filled lazily by each process (a
DataLoader worker fills its own), so a patch costs a crop rather than a decode.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import torch
from torch.utils.data import Dataset

from sr_data.cache import DecodeCache
from sr_data.ops import to_tensor
from sr_data.pairs import PairedImages

DEFAULT_MEMORY_MB = 1024.0  # decoded (lr, hr) pairs kept per process when there is no cache_dir


class DecodedMemory:
    """The (lr, hr) arrays of the most recently used images, at most ``limit_bytes`` in all.

    Not shared between processes: each fills its own; a pickled copy (a spawned worker) starts empty.
    """

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        self.used_bytes = 0
        self._pairs: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def __getstate__(self) -> dict:
        return {"limit_bytes": self.limit_bytes, "used_bytes": 0, "_pairs": OrderedDict()}

    def get(self, dataset: PairedImages, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``dataset.load_arrays(index)``, decoded once while it stays among the kept images."""
        if index in self._pairs:
            self._pairs.move_to_end(index)
            return self._pairs[index]
        pair = dataset.load_arrays(index)
        size = pair[0].nbytes + pair[1].nbytes
        if size <= self.limit_bytes:
            while self.used_bytes + size > self.limit_bytes:
                _, (lr, hr) = self._pairs.popitem(last=False)
                self.used_bytes -= lr.nbytes + hr.nbytes
            self._pairs[index] = pair
            self.used_bytes += size
        return pair


def augment_pair(lr: np.ndarray, hr: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same random horizontal flip, vertical flip and transpose (with the flips: any rot90) on both."""
    hflip, vflip, transpose = rng.random(3) < 0.5
    if hflip:
        lr, hr = lr[:, ::-1], hr[:, ::-1]
    if vflip:
        lr, hr = lr[::-1], hr[::-1]
    if transpose:
        lr, hr = lr.transpose(1, 0, 2), hr.transpose(1, 0, 2)
    return lr, hr


class RandomPatches(Dataset):
    """``patches_per_epoch`` random patches ``{"lr": (3, p/s, p/s), "hr": (3, p, p)}`` from a dataset.

    ``dataset`` is any dataset of this package (PairedFolder, DIV2K, Benchmark, SampleImages);
    ``patch_size`` is the HR side and must be a multiple of the scale. With ``cache_dir`` every image
    (and every LR made from it) is decoded once into a memory-mapped .npy there, shared by workers and
    later runs; without it each process keeps up to ``memory_mb`` MB of decoded images in memory
    (least recently used dropped first; 0 decodes for every patch). Call ``set_epoch(e)`` before each
    epoch's DataLoader iteration (with ``persistent_workers=True`` workers keep the old epoch).
    """

    def __init__(
        self,
        dataset: PairedImages,
        patch_size: int,
        patches_per_epoch: int,
        augment: bool = True,
        seed: int = 0,
        cache_dir: str | os.PathLike | None = None,
        memory_mb: float = DEFAULT_MEMORY_MB,
    ):
        if not isinstance(dataset, PairedImages):
            raise TypeError(f"RandomPatches needs an sr_data dataset, got {type(dataset).__name__}")
        scale = dataset.scale
        if patch_size < scale or patch_size % scale:
            raise ValueError(f"RandomPatches: patch_size {patch_size} is not a multiple of scale {scale}")
        if patches_per_epoch < 1:
            raise ValueError(f"RandomPatches: patches_per_epoch must be >= 1, got {patches_per_epoch}")
        if memory_mb < 0:
            raise ValueError(f"RandomPatches: memory_mb must be >= 0, got {memory_mb}")
        for index, pair in enumerate(dataset.pairs):
            h, w = dataset.hr_size(index)
            if h < patch_size or w < patch_size:
                raise ValueError(
                    f"image {pair.hr} is {w}x{h} (modcropped to x{scale}), "
                    f"smaller than the {patch_size}x{patch_size} patch"
                )
        self.dataset = dataset
        self.scale = scale
        self.patch_size = patch_size
        self.patches_per_epoch = patches_per_epoch
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.cache = DecodeCache(cache_dir) if cache_dir is not None else None
        self.memory = DecodedMemory(int(memory_mb * 2**20)) if cache_dir is None else None

    def set_epoch(self, epoch: int) -> None:
        """Select the sampling of epoch ``epoch`` (deterministic given the seed)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.patches_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.patches_per_epoch:
            raise IndexError(f"patch index {index} out of range 0..{self.patches_per_epoch - 1}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        image = (self.epoch * self.patches_per_epoch + index) % len(self.dataset)
        if self.memory is not None:
            lr, hr = self.memory.get(self.dataset, image)
        else:
            lr, hr = self.dataset.load_arrays(image, self.cache)
        lr_patch = self.patch_size // self.scale
        top = int(rng.integers(0, lr.shape[0] - lr_patch + 1))
        left = int(rng.integers(0, lr.shape[1] - lr_patch + 1))
        lr = lr[top : top + lr_patch, left : left + lr_patch]
        s = self.scale
        hr = hr[top * s : (top + lr_patch) * s, left * s : (left + lr_patch) * s]
        if self.augment:
            lr, hr = augment_pair(lr, hr, rng)
        return {"lr": to_tensor(lr), "hr": to_tensor(hr)}
