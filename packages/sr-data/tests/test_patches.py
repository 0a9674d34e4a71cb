"""RandomPatches: aligned crops, augmentation, reproducibility (also with workers) and the decode cache."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import sr_data.pairs
from sr_data import Benchmark, PairedFolder, RandomPatches, imresize


@pytest.fixture
def folder(image_folder):
    return image_folder("hr", {"a": (40, 50), "b": (37, 44), "c": (30, 30)})


def test_shapes_and_alignment_without_augmentation(folder):
    data = PairedFolder(folder, scale=2)
    patches = RandomPatches(data, 16, 9, augment=False, seed=3)
    full_lr = [item["lr"] for item in data]
    for k in range(9):
        patch = patches[k]
        assert patch["lr"].shape == (3, 8, 8) and patch["hr"].shape == (3, 16, 16)
        lr = full_lr[k % 3]
        hits = [
            (i, j)
            for i in range(lr.shape[1] - 7)
            for j in range(lr.shape[2] - 7)
            if torch.equal(lr[:, i : i + 8, j : j + 8], patch["lr"])
        ]
        assert hits, "LR patch is not a crop of the full LR image"
        i, j = hits[0]
        assert torch.equal(data[k % 3]["hr"][:, 2 * i : 2 * i + 16, 2 * j : 2 * j + 16], patch["hr"])


def test_augmentation_keeps_pairs_aligned(folder):
    patches = RandomPatches(Benchmark(folder, 4), 24, 16, augment=True, seed=1)
    for k in range(16):
        patch = patches[k]
        down = imresize(patch["hr"].double(), 1 / 4)
        # an LR patch made from the full image differs from one made from the crop only near borders
        assert (down - patch["lr"])[:, 2:-2, 2:-2].abs().max() < 0.02


def test_reproducible_and_epoch_dependent(folder):
    make = lambda seed: RandomPatches(PairedFolder(folder, scale=2), 16, 6, seed=seed)  # noqa: E731
    first, again, other = make(0), make(0), make(1)
    assert all(torch.equal(first[k]["hr"], again[k]["hr"]) for k in range(6))
    assert not all(torch.equal(first[k]["hr"], other[k]["hr"]) for k in range(6))
    before = [first[k]["hr"] for k in range(6)]
    first.set_epoch(1)
    assert not all(torch.equal(before[k], first[k]["hr"]) for k in range(6))
    first.set_epoch(0)
    assert all(torch.equal(before[k], first[k]["hr"]) for k in range(6))


def test_workers_give_the_same_patches(folder, tmp_path):
    patches = RandomPatches(PairedFolder(folder, scale=2), 16, 8, seed=5, cache_dir=tmp_path / "cache")
    patches.set_epoch(2)
    loaded = torch.cat([b["hr"] for b in DataLoader(patches, batch_size=3, num_workers=2)])
    assert torch.equal(loaded, torch.stack([patches[k]["hr"] for k in range(8)]))


def test_cache_decodes_once_and_matches_uncached(folder, tmp_path, monkeypatch):
    data = PairedFolder(folder, scale=2)
    cached = RandomPatches(data, 16, 6, seed=2, cache_dir=tmp_path / "cache")
    uncached = RandomPatches(data, 16, 6, seed=2)
    first = [cached[k] for k in range(6)]
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(entries) == 6 and not [e for e in entries if e.startswith(".")]  # 3 HR + 3 LR, no temp files

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(sr_data.pairs, "decode_image", no_decoding)
    second_run = RandomPatches(data, 16, 6, seed=2, cache_dir=tmp_path / "cache")  # a new run, same cache
    for k in range(6):
        assert torch.equal(second_run[k]["hr"], first[k]["hr"])
        assert torch.equal(second_run[k]["lr"], first[k]["lr"])
    monkeypatch.undo()
    assert all(torch.equal(uncached[k]["lr"], first[k]["lr"]) for k in range(6))


def test_cache_entry_changes_with_the_file(folder, tmp_path):
    patches = RandomPatches(PairedFolder(folder, scale=2), 16, 3, cache_dir=tmp_path / "cache")
    source = folder / "a.png"
    before = patches.cache.entry_path(source)
    os.utime(source, ns=(0, 10**9))
    assert patches.cache.entry_path(source) != before


def test_image_smaller_than_patch_named(folder):
    with pytest.raises(ValueError, match=r"c\.png is 30x30.*32x32 patch"):
        RandomPatches(PairedFolder(folder, scale=2), 32, 4)


def test_bad_arguments(folder):
    data = PairedFolder(folder, scale=3)
    with pytest.raises(ValueError, match="multiple of scale 3"):
        RandomPatches(data, 16, 4)
    with pytest.raises(ValueError, match="patches_per_epoch"):
        RandomPatches(data, 12, 0)
    with pytest.raises(TypeError):
        RandomPatches([np.zeros((8, 8, 3))], 4, 1)
    with pytest.raises(IndexError):
        RandomPatches(data, 12, 2)[2]


def test_short_epochs_go_round_the_whole_dataset(image_folder):
    """With fewer patches per epoch than images, later epochs use the images the first one skipped."""
    data = PairedFolder(image_folder("same", {"a": (16, 16), "b": (16, 16), "c": (16, 16)}), scale=2)
    full = [item["hr"] for item in data]
    patches = RandomPatches(data, 16, 2, augment=False)  # a patch is the whole image

    def images_of_epoch(epoch: int) -> list[int]:
        patches.set_epoch(epoch)
        return [next(i for i, hr in enumerate(full) if torch.equal(hr, patches[k]["hr"])) for k in range(2)]

    assert [images_of_epoch(e) for e in range(3)] == [[0, 1], [2, 0], [1, 2]]
