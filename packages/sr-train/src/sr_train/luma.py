"""Y-channel views of sr_data datasets, for models trained and fed on luma only (SESR, ECBSR).

``sr_eval.rgb_to_y`` is MATLAB's rgb2ycbcr Y (BT.601 studio range, unrounded), the Y that the
benchmark tables score, so training targets, validation and evaluation all use one Y.
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from sr_eval import rgb_to_y


class LumaView(Dataset):
    """``dataset`` with the items' ``keys`` ("lr", "hr" or both) replaced by their Y channel (1, H, W).

    Training uses both keys. Validation converts only "lr": a 1-channel output scored against the RGB
    HR is compared with the HR's unrounded Y, the protocol of ``sr_eval.evaluate`` for Y-only models.
    ``set_epoch`` is passed on, so ``sr_data.RandomPatches`` keeps its per-epoch sampling.
    """

    def __init__(self, dataset: Dataset, keys: tuple[str, ...] = ("lr", "hr")) -> None:
        unknown = set(keys) - {"lr", "hr"}
        if unknown:
            raise ValueError(f"LumaView: keys must be 'lr' and/or 'hr', got {sorted(unknown)}")
        self.dataset = dataset
        self.keys = tuple(keys)
        self.name = getattr(dataset, "name", type(dataset).__name__)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.dataset[index])
        for key in self.keys:
            item[key] = rgb_to_y(item[key])
        return item

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
