"""Score an ONNX file the way the toolkit scores a torch model: what onnxruntime's int8 kernels give.

`OnnxModule` wraps an onnxruntime CPU session as a parameter-free `nn.Module`, so `sr_eval.evaluate`
(and `sr_deploy.ship.benchmark`) score it exactly like the torch model it came from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval import EvalTable, evaluate
from sr_reparam import onnxruntime_session


class OnnxModule(nn.Module):
    """An ONNX SR model (input "lr" NCHW in [0, 1]) run by onnxruntime on the CPU; forward takes and
    returns CPU float tensors. `in_channels` comes from the file's input shape (3 when dynamic)."""

    def __init__(self, path: str | os.PathLike, threads: int = 1) -> None:
        super().__init__()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX file not found: {path}")
        self.path = path
        self.session = onnxruntime_session(path, threads)
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self.in_channels = first.shape[1] if isinstance(first.shape[1], int) else 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feed = {self.input_name: x.detach().float().cpu().contiguous().numpy()}
        return torch.from_numpy(self.session.run(None, feed)[0])


def evaluate_onnx(
    path: str | os.PathLike, test_sets: Sequence[Dataset], scale: int, threads: int = 1
) -> EvalTable:
    """PSNR/SSIM (Y, crop = scale) of the ONNX file at `path`, run by onnxruntime, on `test_sets`."""
    return evaluate(OnnxModule(path, threads), list(test_sets), scale, device="cpu")
