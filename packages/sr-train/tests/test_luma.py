"""LumaView: Y views of datasets for Y-only models; resolve_device without a DDP context."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from sr_eval import rgb_to_y
from sr_train import LumaView, resolve_device


class Pairs(Dataset):
    def __init__(self) -> None:
        self.epoch = None
        self.name = "pairs"

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> dict:
        g = torch.Generator().manual_seed(index)
        return {"lr": torch.rand(3, 4, 4, generator=g), "hr": torch.rand(3, 8, 8, generator=g), "name": "x"}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


def test_luma_view_converts_the_chosen_keys_and_passes_set_epoch_on():
    data = Pairs()
    both, lr_only = LumaView(data), LumaView(data, keys=("lr",))
    assert len(both) == 2 and both.name == "pairs"
    item = both[1]
    assert item["lr"].shape == (1, 4, 4) and item["hr"].shape == (1, 8, 8) and item["name"] == "x"
    torch.testing.assert_close(item["hr"], rgb_to_y(data[1]["hr"]))
    assert lr_only[0]["hr"].shape == (3, 8, 8)
    both.set_epoch(3)
    assert data.epoch == 3
    with pytest.raises(ValueError, match="'sr'"):
        LumaView(data, keys=("sr",))


def test_resolve_device_without_a_context():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    assert resolve_device("auto") == expected
