"""`onnx_int8_agreement`: how closely onnxruntime reproduces the Brevitas model an int8 ONNX came from.

A max-abs-difference bound alone is the wrong test for deep nets: onnxruntime and PyTorch add up
convolutions in different orders, so a value sitting on a rounding boundary of one of the dozens of
quantisers in a residual chain (EDSR-baseline has about 70) lands one step apart, and that step
travels to the output (EDSR-baseline: max 2.6/255, mean 0.4/255, both runtimes equally close to the
float model). The mean difference and the PSNR between the two outputs say whether the runtimes
agree as a whole; the max stays meaningful for shallow nets.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import nn

from sr_reparam import onnxruntime_session


@torch.no_grad()
def onnx_int8_agreement(
    qmodel: nn.Module, path: str | os.PathLike, example: torch.Tensor
) -> dict[str, float]:
    """Run `example` (N, C, h, w or C, h, w; values in [0, 1]) through `qmodel` and through the ONNX
    file at `path` in onnxruntime (CPU); return the difference of the two outputs:
    `max_diff_255` and `mean_diff_255` (absolute, in 1/255 units) and `psnr_db` (peak 1; inf when
    they are identical)."""
    if example.dim() == 3:
        example = example.unsqueeze(0)
    device = next(qmodel.parameters()).device
    was_training = qmodel.training
    try:
        expected = qmodel.eval()(example.float().to(device)).float().cpu().numpy()
    finally:
        qmodel.train(was_training)
    session = onnxruntime_session(path, threads=None)
    feed = {session.get_inputs()[0].name: example.float().cpu().numpy()}
    got = session.run(None, feed)[0]
    if got.shape != expected.shape:
        raise ValueError(f"{path}: onnxruntime output {got.shape} != model output {expected.shape}")
    difference = np.abs(got.astype(np.float64) - expected)
    mse = float(np.mean(difference**2))
    return {
        "max_diff_255": float(difference.max() * 255),
        "mean_diff_255": float(difference.mean() * 255),
        "psnr_db": math.inf if mse == 0 else 10 * math.log10(1 / mse),
    }
