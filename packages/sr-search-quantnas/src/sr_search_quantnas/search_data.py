"""The three patch streams of a search: weights, alphas (held out) and selection, as the reference splits.

The reference cuts every training image into 200x200 HR tiles at stride 70, shuffles them, and
gives `search_subsample / 2` of them to the weight step, as many again to the alpha step and a
third share to the per-epoch selection (validation) loss; each tile yields one random
`crop_size` LR patch per epoch. Here each stream is an `sr_data.RandomPatches` of that many
patches over the same images with its own seed, so the three streams draw different crops, and
each epoch draws new ones (`set_epoch`). The reference's `debug_mode` keeps two batches per stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from sr_data import PairedImages, RandomPatches
from sr_train import ConfigError

REFERENCE_TILE, REFERENCE_STRIDE = 200, 70
DEBUG_BATCHES = 2


def reference_tile_count(
    images: PairedImages, tile: int = REFERENCE_TILE, stride: int = REFERENCE_STRIDE
) -> int:
    """How many `tile` x `tile` HR tiles at `stride` the reference's preprocessing cuts from `images`."""
    total = 0
    for index in range(len(images)):
        h, w = images.hr_size(index)
        if h >= tile and w >= tile:
            total += ((h - tile) // stride + 1) * ((w - tile) // stride + 1)
    return total


def epoch_patch_count(
    images: PairedImages, batch_size: int, requested: int | None = None, debug_mode: bool = False
) -> int:
    """The patches an epoch draws: `requested` (`dataset.patches_per_epoch`), else the reference's
    tile count of `images`; two batches in `debug_mode`. Fewer than one batch is a ConfigError."""
    count = DEBUG_BATCHES * batch_size if debug_mode else requested or reference_tile_count(images)
    if count < batch_size:
        raise ConfigError(
            f"dataset.batch_size {batch_size} is more than the {count} patches per epoch of the "
            f"training images: lower it or set dataset.patches_per_epoch"
        )
    return count


@dataclass
class SearchData:
    """Weight, alpha and selection patch streams and the batch size (`len(stream)` patches each)."""

    weights: RandomPatches
    alphas: RandomPatches
    selection: RandomPatches
    batch_size: int
    num_workers: int = 0

    @property
    def lr_size(self) -> tuple[int, int]:
        side = self.weights.patch_size // self.weights.scale
        return side, side

    def batches(
        self, stream: RandomPatches, epoch: int, seed: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(lr, hr) batches of `stream` for `epoch`, in an order that is a pure function of (seed, epoch)."""
        stream.set_epoch(epoch)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        loader = DataLoader(
            stream,
            batch_size=self.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=self.num_workers,
        )
        for batch in loader:
            yield batch["lr"], batch["hr"]


def make_search_data(
    images: PairedImages,
    crop_size: int,
    batch_size: int,
    search_subsample: float,
    seed: int,
    patches_per_epoch: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    num_workers: int = 0,
    debug_mode: bool = False,
) -> SearchData:
    """Split as the reference does: `search_subsample * N / 2` patches to each of weights and alphas.

    `N` is `patches_per_epoch` or, by default, the reference's tile count of `images`; the selection
    stream gets as many patches as each of the others. At least one batch per stream; exactly
    two in `debug_mode`.
    """
    if not 0 < search_subsample <= 1:
        raise ValueError(f"dataset.search_subsample must be in (0, 1], got {search_subsample!r}")
    total = patches_per_epoch if patches_per_epoch is not None else reference_tile_count(images)
    split = max(batch_size, int(search_subsample * total * 0.5))
    if debug_mode:
        split = DEBUG_BATCHES * batch_size
    patch = crop_size * images.scale

    def stream(offset: int) -> RandomPatches:
        return RandomPatches(images, patch, split, augment=True, seed=seed * 3 + offset, cache_dir=cache_dir)

    return SearchData(stream(0), stream(1), stream(2), batch_size, num_workers)
