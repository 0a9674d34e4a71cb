"""ONNX export of deployed (plain) super-resolution networks.

Uses torch's TorchScript-based exporter (``dynamo=False``), which needs only the ``onnx`` package
and handles height/width as dynamic axes, so one file serves any input size.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from sr_reparam.deploy import plain_violations

DEFAULT_OPSET = 17


def _input_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    raise ValueError("cannot infer the input channels: the model has no nn.Conv2d; pass example_input")


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    dynamic_hw: bool = True,
    opset: int = DEFAULT_OPSET,
    example_input: torch.Tensor | None = None,
) -> Path:
    """Write ``model`` (a deployed network, see `sr_reparam.deploy`) to ``path`` as ONNX.

    Input ``"lr"`` and output ``"sr"`` are NCHW; with ``dynamic_hw`` batch, height and width are
    dynamic. The file is written to a temporary name beside ``path`` and renamed, so a failed
    export never leaves a half-written file. Raises ``ValueError`` if the model is not plain.
    """
    problems = plain_violations(model)
    if problems:
        raise ValueError(
            "export_onnx expects a deployed model (call sr_reparam.deploy first): " + "; ".join(problems)
        )
    path = Path(path)
    if example_input is None:
        parameter = next(model.parameters())
        example_input = torch.rand(
            1, _input_channels(model), 32, 32, dtype=parameter.dtype, device=parameter.device
        )
    dynamic_axes = {"lr": {0: "batch", 2: "height", 3: "width"}, "sr": {0: "batch", 2: "height", 3: "width"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(suffix=".onnx.tmp", dir=path.parent)
    os.close(handle)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", DeprecationWarning
            )  # the TorchScript exporter is chosen on purpose
            torch.onnx.export(
                model,
                (example_input,),
                temp_name,
                input_names=["lr"],
                output_names=["sr"],
                dynamic_axes=dynamic_axes if dynamic_hw else None,
                opset_version=opset,
                dynamo=False,
            )
        os.replace(temp_name, path)
    finally:
        model.train(was_training)
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return path
