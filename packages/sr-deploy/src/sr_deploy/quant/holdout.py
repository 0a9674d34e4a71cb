"""Calibration data with HR targets, split into a calibration part and a held-out part.

The automatic mixed-precision plan judges each conv on images that the quantiser was not calibrated
on and that are not a test set: a held-out share of the calibration items themselves. Items are
held out at a fixed stride (every `HOLDOUT_EVERY`-th), so that both parts cover every photo the
patches were cut from, and the split is the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from sr_eval import psnr

HOLDOUT_EVERY = 4  # every 4th calibration item is held out (a quarter)
BATCH = 16


@dataclass(frozen=True)
class HeldOut:
    """The calibration LR inputs (batches) and the held-out (LR, HR) pairs (batches)."""

    calibration: list[torch.Tensor]
    holdout: list[tuple[torch.Tensor, torch.Tensor]]

    @property
    def counts(self) -> tuple[int, int]:
        """(calibration items, held-out items)."""
        return sum(len(b) for b in self.calibration), sum(len(lr) for lr, _ in self.holdout)


def split_calibration(data: object, every: int = HOLDOUT_EVERY) -> HeldOut:
    """Split calibration data that carries HR targets into calibration inputs and held-out pairs.

    `data` is a `sr_train.PatchTensors` (or anything with `lr` and `hr` tensors), or an iterable of
    dicts with "lr" and "hr" or of (lr, hr) pairs, each a batch (N, C, h, w) or one item (C, h, w).
    Item i is held out when i % `every` == `every` - 1. Needs at least `every` items.
    """
    pairs = _items(data)
    if len(pairs) < every:
        raise ValueError(
            f"the automatic plan needs at least {every} calibration items (one in {every} is held out), "
            f"got {len(pairs)}"
        )
    kept = [lr for index, (lr, _) in enumerate(pairs) if index % every != every - 1]
    held = [pair for index, pair in enumerate(pairs) if index % every == every - 1]
    calibration = [torch.stack(group) for group in _groups(kept, lambda lr: lr.shape)]
    holdout = [
        (torch.stack([lr for lr, _ in group]), torch.stack([hr for _, hr in group]))
        for group in _groups(held, lambda pair: pair[0].shape)
    ]
    return HeldOut(calibration, holdout)


@torch.no_grad()
def holdout_psnr(model: nn.Module, holdout: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """PSNR (dB; Y for RGB, crop = scale) of `model` over the held-out pairs, from their pooled MSE.

    Pooled rather than averaged per patch: a flat patch (sky, a dark background) scores a very high
    float PSNR that any quantisation noise floor cuts by dB, so a mean of per-patch PSNRs is ruled by
    such patches; the pooled MSE weighs each patch by its error, as a whole photo does."""
    device = next(model.parameters()).device
    errors = []
    for lr, hr in holdout:
        sr = model(lr.to(device)).clamp(0, 1).cpu()
        scale = hr.shape[-1] // lr.shape[-1]
        values = torch.atleast_1d(psnr(sr, hr, scale, test_y_channel=hr.shape[1] == 3))
        errors.append(10 ** (-values / 10))  # MSE relative to the peak
    return float(-10 * torch.log10(torch.cat(errors).mean()))


def _items(data: object) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (lr, hr) items of `data`, each (C, h, w)."""
    if isinstance(getattr(data, "lr", None), torch.Tensor) and isinstance(
        getattr(data, "hr", None), torch.Tensor
    ):
        return list(zip(data.lr.float(), data.hr.float(), strict=True))
    if isinstance(data, torch.Tensor) or not isinstance(data, Iterable):
        raise ValueError(_NO_HR)
    pairs = []
    for index, item in enumerate(data):
        if isinstance(item, Mapping) and "lr" in item and "hr" in item:
            lr, hr = item["lr"], item["hr"]
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            lr, hr = item
        else:
            raise ValueError(f"calibration item {index}: {_NO_HR}")
        if lr.dim() == 3:
            lr, hr = lr.unsqueeze(0), hr.unsqueeze(0)
        pairs += list(zip(lr.float(), hr.float(), strict=True))
    return pairs


_NO_HR = (
    "the automatic mixed-precision plan needs HR targets in the calibration data (sr_train.PatchTensors, "
    "dicts with 'lr' and 'hr', or (lr, hr) pairs); for LR inputs alone give keep_float=() (all integer) "
    "or a list of convs"
)


def _groups(items: list, shape: Callable[[Any], torch.Size]) -> list[list]:
    """Consecutive items of one `shape(item)`, in batches of at most `BATCH`."""
    groups: list[list] = []
    for item in items:
        if not groups or len(groups[-1]) == BATCH or shape(groups[-1][0]) != shape(item):
            groups.append([item])
        else:
            groups[-1].append(item)
    return groups
