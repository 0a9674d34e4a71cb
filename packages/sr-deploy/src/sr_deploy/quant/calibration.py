"""Calibration data in the shapes the toolkit produces, and Brevitas' calibration passes over it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from brevitas.graph.calibrate import bias_correction_mode, calibration_mode
from torch import nn

CalibrationData = torch.Tensor | Iterable
TENSOR_BATCH = 16  # batch size used when calibration data is given as one stacked tensor


def as_batches(data: CalibrationData) -> list[torch.Tensor]:
    """The LR inputs of `data` as a list of (N, C, h, w) float batches (kept where they are).

    `data` is a tensor of LR inputs (N, C, h, w), split into batches of 16, or an iterable of batches:
    tensors (N, C, h, w) or (C, h, w), dicts with an "lr" entry (sr_data items, DataLoader batches,
    sr_train's `PatchTensors` items) or (lr, hr) pairs. It is read once, so generators work.
    """
    if isinstance(data, torch.Tensor):
        items: Iterable = [data] if data.dim() == 3 else data.split(TENSOR_BATCH)
    else:
        items = data
    batches = [_lr_batch(item, index) for index, item in enumerate(items)]
    if not batches:
        raise ValueError("calibration data is empty: give at least one batch of LR inputs")
    return batches


def _lr_batch(item: object, index: int) -> torch.Tensor:
    if isinstance(item, Mapping):
        if "lr" not in item:
            raise ValueError(f"calibration item {index}: a dict without an 'lr' entry (keys {sorted(item)})")
        item = item["lr"]
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        item = item[0]
    if not isinstance(item, torch.Tensor):
        raise ValueError(
            f"calibration item {index} is a {type(item).__name__}; expected a tensor, a dict with 'lr' "
            "or an (lr, hr) pair"
        )
    batch = item.unsqueeze(0) if item.dim() == 3 else item
    if batch.dim() != 4:
        raise ValueError(f"calibration item {index} has shape {tuple(item.shape)}; expected (N, C, h, w)")
    return batch.float()


@torch.no_grad()
def calibrate(qmodel: nn.Module, batches: CalibrationData, bias_correction: bool = True) -> nn.Module:
    """Set the activation scales of `qmodel` from `batches` and, optionally, correct its biases.

    First pass (Brevitas `calibration_mode`): quantisation off, every input quantiser averages its
    statistic over the batches. Second pass (`bias_correction_mode`), with quantisation on: each conv's
    bias absorbs the mean per-channel difference between its float and quantised outputs (convs
    without a bias are left as they are). Without bias correction, one quantised forward still runs,
    so that weight scales initialised from statistics are set. Works in place; returns `qmodel`.
    """
    batches = as_batches(batches)
    device = next(qmodel.parameters()).device
    was_training = qmodel.training
    qmodel.eval()
    with calibration_mode(qmodel):
        for batch in batches:
            qmodel(batch.to(device))
    if bias_correction:
        with bias_correction_mode(qmodel, skip_if_no_bias=True):
            for batch in batches:
                qmodel(batch.to(device))
    else:
        qmodel(batches[0].to(device))
    return qmodel.train(was_training)
