"""RandomPatches without a cache_dir: decoded images kept in memory, bounded, per process."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch.utils.data import DataLoader

import sr_data.pairs
from sr_data import PairedFolder, RandomPatches
from sr_data.patches import DecodedMemory

SIZES = {"a": (40, 50), "b": (36, 44), "c": (32, 32)}


@pytest.fixture
def data(image_folder):
    return PairedFolder(image_folder("hr", SIZES), scale=2)


@pytest.fixture
def decodes(monkeypatch):
    """Paths decoded by sr_data.pairs from now on, in order."""
    seen = []
    decode = sr_data.pairs.decode_image

    def counting(path):
        seen.append(path.name)
        return decode(path)

    monkeypatch.setattr(sr_data.pairs, "decode_image", counting)
    return seen


def stacked(patches: RandomPatches, key: str) -> torch.Tensor:
    return torch.stack([patches[k][key] for k in range(len(patches))])


def test_each_image_is_decoded_once_and_the_patches_do_not_change(data, decodes):
    remembered = RandomPatches(data, 16, 12, seed=4)
    hr, lr = stacked(remembered, "hr"), stacked(remembered, "lr")
    remembered.set_epoch(1)
    stacked(remembered, "hr")
    assert sorted(decodes) == ["a.png", "b.png", "c.png"]
    decodes.clear()
    every_time = RandomPatches(data, 16, 12, seed=4, memory_mb=0)
    items = [every_time[k] for k in range(12)]
    assert len(decodes) == 12  # memory_mb=0: one decode per patch, as before
    assert torch.equal(torch.stack([item["hr"] for item in items]), hr)
    assert torch.equal(torch.stack([item["lr"] for item in items]), lr)


def test_memory_is_bounded_and_drops_the_least_recently_used(data, decodes):
    pair_bytes = {i: sum(a.nbytes for a in data.load_arrays(i)) for i in range(3)}
    decodes.clear()
    memory = DecodedMemory(pair_bytes[0] + pair_bytes[1])
    for index in (0, 1, 0, 2, 0, 1):  # 2 evicts 1 (0 was used more recently), 1 then evicts 2
        memory.get(data, index)
    assert decodes == ["a.png", "b.png", "c.png", "b.png"]
    assert memory.used_bytes <= memory.limit_bytes
    too_small = DecodedMemory(1)
    too_small.get(data, 0)
    assert too_small.used_bytes == 0


def test_copies_for_workers_start_empty_and_sample_the_same(data):
    patches = RandomPatches(data, 16, 8, seed=5)
    patches.set_epoch(2)
    expected = stacked(patches, "hr")
    assert pickle.loads(pickle.dumps(patches)).memory.used_bytes == 0
    loaded = torch.cat([batch["hr"] for batch in DataLoader(patches, batch_size=3, num_workers=2)])
    assert torch.equal(loaded, expected)


def test_negative_memory_is_refused(data):
    with pytest.raises(ValueError, match="memory_mb"):
        RandomPatches(data, 16, 4, memory_mb=-1)
