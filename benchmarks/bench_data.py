"""Data throughput of sr_data: training patches per second, cached vs uncached, and imresize speed.

    python benchmarks/bench_data.py [--patches 4000] [--workers 2]

Part 1: 96x96 HR patches (x2) from a PairedFolder over SunHays80 (../shared/datasets, or
SR_DATASETS), else over generated 1024x768 PNGs, through a DataLoader with ``--workers`` workers,
once with LR files on disk (made here with imresize) and once with LR made on the fly; each uncached
(every patch decodes its files) and with the decode-once cache (after one pass that fills it; best
of two epochs).
Part 2: imresize of a batch of 3x256x256 images by 1/2 and 1/4, torch batched vs numpy per image.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from sr_data import PairedFolder, RandomPatches, find_datasets_root, imresize, list_images, write_image
from sr_data.image_io import decode_image
from sr_data.pairs import bicubic_lr
from sr_eval import time_calls_ms

SCALE = 2
PATCH = 96


def source_images(workdir: Path) -> tuple[Path, str]:
    """SunHays80/HR when present, else 24 generated 1024x768 PNG photos-like images."""
    root = find_datasets_root()
    if root is not None and (root / "SunHays80" / "HR").is_dir():
        return root / "SunHays80" / "HR", "SunHays80 (80 JPEGs, ~1024x768)"
    folder = workdir / "generated"
    folder.mkdir()
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:768, 0:1024] / 1024.0
    for i in range(24):
        waves = np.stack([np.sin((9 + i) * x + c) * np.cos((7 + i) * y - c) for c in (0, 1, 2)], axis=2)
        noise = 0.03 * rng.standard_normal(waves.shape)
        write_image(folder / f"{i:03d}.png", np.clip(0.5 + 0.4 * waves + noise, 0, 1))
    return folder, "24 generated 1024x768 PNGs"


def write_lr_folder(hr_dir: Path, lr_dir: Path) -> None:
    lr_dir.mkdir()
    for hr in list_images(hr_dir):
        hr_array = decode_image(hr)
        hr_array = hr_array[: hr_array.shape[0] // SCALE * SCALE, : hr_array.shape[1] // SCALE * SCALE]
        write_image(lr_dir / f"{hr.stem}.png", bicubic_lr(hr_array, SCALE) / 255.0)


def patches_per_second(patches: RandomPatches, workers: int) -> float:
    loader = DataLoader(patches, batch_size=16, shuffle=True, num_workers=workers)
    (ms,) = time_calls_ms(lambda: sum(1 for _ in loader), 0, 1)
    return len(patches) / (ms / 1e3)  # the loader yields every patch once


def bench_patches(dataset: PairedFolder, cache_dir: Path, n: int, workers: int) -> tuple[float, float, float]:
    uncached = patches_per_second(RandomPatches(dataset, PATCH, max(n // 10, 32)), workers)
    cached_patches = RandomPatches(dataset, PATCH, n, cache_dir=cache_dir)
    fill = RandomPatches(dataset, PATCH, len(dataset), cache_dir=cache_dir)
    (fill_ms,) = time_calls_ms(lambda: patches_per_second(fill, workers), 0, 1)
    cached = []
    for epoch in (1, 2):  # best of two: the cached rate is short and easily disturbed
        cached_patches.set_epoch(epoch)
        cached.append(patches_per_second(cached_patches, workers))
    return uncached, max(cached), fill_ms / 1e3


def bench_imresize(batch: int = 16) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((batch, 256, 256, 3))
    tensor = torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).float()
    for scale in (1 / 2, 1 / 4):
        singles = [imresize(img, scale) for img in images]
        batched = imresize(tensor, scale)  # also the torch path's warm-up
        (numpy_ms,) = time_calls_ms(lambda s=scale: [imresize(img, s) for img in images], 0, 1)
        (torch_ms,) = time_calls_ms(lambda s=scale: imresize(tensor, s), 0, 1)
        diff = np.abs(batched.numpy().transpose(0, 2, 3, 1) - np.stack(singles)).max()
        print(
            f"imresize x{scale:.2f} of {batch}x3x256x256: numpy per image {numpy_ms:.1f} ms, "
            f"torch batched float32 {torch_ms:.1f} ms ({numpy_ms / torch_ms:.1f}x), max diff {diff:.1e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patches", type=int, default=4000, help="patches per cached measurement")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.workers} DataLoader workers")
    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp:
        work = Path(tmp)
        hr_dir, description = source_images(work)
        write_lr_folder(hr_dir, work / "lr")
        print(f"images: {description}; patches: {PATCH}x{PATCH} HR, x{SCALE}, batch 16")
        for label, lr_dir in (("LR files", work / "lr"), ("LR on the fly", None)):
            dataset = PairedFolder(hr_dir, lr_dir, scale=SCALE)
            uncached, cached, fill_s = bench_patches(
                dataset, work / f"cache-{lr_dir is None}", args.patches, args.workers
            )
            print(
                f"{label:14s}: uncached {uncached:8.1f} patches/s, cached {cached:8.1f} patches/s "
                f"-> {cached / uncached:6.1f}x (filling the cache took {fill_s:.1f} s once)"
            )
    bench_imresize()


if __name__ == "__main__":
    main()
