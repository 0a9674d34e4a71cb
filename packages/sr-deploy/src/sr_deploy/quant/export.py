"""`export_onnx_int8`: QCDQ ONNX of a Brevitas model, runnable in onnxruntime.

QCDQ: each quantised tensor appears as QuantizeLinear -> (Clip below 8 bits) -> DequantizeLinear,
weights as int8 initialisers followed by DequantizeLinear, biases as int32 initialisers; the
operations in between stay float. Brevitas' TorchScript path is used (torch >= 2.9 defaults to the
dynamo exporter, whose Brevitas QCDQ path refuses quantised biases), then Brevitas' onnxoptimizer
passes. Then five exact rewrites (`onnx_rewrites`) give onnxruntime's CPU kernels their fast
forms: Clips of constant weights folded, activations as uint8 (zero point + 128) so that every conv
between DequantizeLinear and QuantizeLinear fuses into QLinearConv, the outputs of a Split of a
quantised tensor quantised again on its own grid (so that the Split runs on the integers), PRelu as
min/mul/add and spatial means as GlobalAveragePool.
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from pathlib import Path

import torch
from brevitas.nn.quant_layer import QuantWeightBiasInputOutputLayer as QuantWBIOL
from torch import nn

from sr_data import atomic_write

DEFAULT_OPSET = 13  # the first opset with per-channel QuantizeLinear / DequantizeLinear


def export_onnx_int8(
    qmodel: nn.Module,
    path: str | os.PathLike,
    example: torch.Tensor,
    dynamic_hw: bool = True,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Write `qmodel` (from `ptq`/`qat`) to `path` as QCDQ ONNX; returns the path.

    `example` is one LR input (N, C, h, w) used to trace the model. Input "lr" and output "sr" are
    NCHW, as in `sr_reparam.export_onnx`; with `dynamic_hw` batch, height and width are dynamic.
    The export runs on a CPU copy in eval mode (`qmodel` itself is not changed) and the file is
    written atomically, so a failed export leaves no half-written file.
    """
    if not any(isinstance(m, QuantWBIOL) for m in qmodel.modules()):
        raise ValueError("export_onnx_int8 needs a model from quant.ptq or quant.qat (no quantised layer)")
    try:  # the onnx extra is optional: quantising and QAT work without it
        import onnx
        from brevitas.export import export_onnx_qcdq

        from sr_deploy.quant.onnx_rewrites import (
            activations_as_uint8,
            fold_constant_clips,
            prelu_as_min_mul_add,
            requantise_split_outputs,
            spatial_mean_as_global_average_pool,
        )
    except ImportError as error:
        hint = "pip install 'sr-deploy[quant,onnx]'"
        raise ImportError(f"export_onnx_int8 needs the onnx extra: {hint}") from error
    if example.dim() == 3:
        example = example.unsqueeze(0)
    cpu_model = copy.deepcopy(qmodel).cpu().eval()
    axes = {0: "batch", 2: "height", 3: "width"}
    # Brevitas 0.13's QCDQ manager returns None instead of the model, so it writes to a scratch file
    with tempfile.TemporaryDirectory(prefix="qcdq-") as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is chosen on purpose
        scratch_file = Path(scratch) / "model.onnx"
        export_onnx_qcdq(
            cpu_model,
            args=example.detach().float().cpu(),
            export_path=str(scratch_file),
            dynamo=False,
            opset_version=opset,
            input_names=["lr"],
            output_names=["sr"],
            dynamic_axes={"lr": axes, "sr": axes} if dynamic_hw else None,
            keep_initializers_as_inputs=False,
        )
        onnx_model = onnx.load(str(scratch_file))
    fold_constant_clips(onnx_model)
    activations_as_uint8(onnx_model)
    requantise_split_outputs(onnx_model)
    prelu_as_min_mul_add(onnx_model)
    spatial_mean_as_global_average_pool(onnx_model)
    onnx.checker.check_model(onnx_model)
    path = Path(path)
    with atomic_write(path) as stream:
        stream.write(onnx_model.SerializeToString())
    return path
