"""ONNX export of deployed super-resolution networks.

Uses torch's TorchScript-based exporter (``dynamo=False``), which needs only the ``onnx`` package
and handles height/width as dynamic axes, so one file serves any input size.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from sr_reparam.deploy import undeployed_modules

DEFAULT_OPSET = 17


def _example_input(model: nn.Module) -> torch.Tensor:
    """A 32x32 input with the model's channels (its first conv's, else 3), dtype and device."""
    convs = (m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    channels = next((conv.in_channels for conv in convs), 3)
    reference = next(iter([*model.parameters(), *model.buffers()]), torch.empty(0))
    return torch.rand(1, channels, 32, 32, dtype=reference.dtype, device=reference.device)


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike | BinaryIO,
    dynamic_hw: bool = True,
    opset: int = DEFAULT_OPSET,
    example_input: torch.Tensor | None = None,
) -> Path | BinaryIO:
    """Write ``model`` (a deployed network, see `sr_reparam.deploy`) as ONNX to ``path``; returns it.

    Any deployed network exports, plain or not (IMDN's attention, for instance); what is refused is
    a model that still holds a training form, since exporting it would bake the slow branches in:
    a ``ValueError`` naming the modules not deployed, raised before anything is written.

    Input ``"lr"`` and output ``"sr"`` are NCHW; with ``dynamic_hw`` batch, height and width are
    dynamic. ``path`` is a file path or a binary stream, written where told: an export that fails
    midway can leave a partial file. For an all-or-nothing file with an onnxruntime check, use
    ``sr_deploy.export_onnx_checked``.
    """
    pending = undeployed_modules(model)
    if pending:
        raise ValueError(
            "export_onnx expects a deployed model (call sr_reparam.deploy first); "
            f"still in training form: {', '.join(pending)}"
        )
    target = path if hasattr(path, "write") else Path(path)
    if example_input is None:
        example_input = _example_input(model)
    dynamic_axes = {"lr": {0: "batch", 2: "height", 3: "width"}, "sr": {0: "batch", 2: "height", 3: "width"}}
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
                target,
                input_names=["lr"],
                output_names=["sr"],
                dynamic_axes=dynamic_axes if dynamic_hw else None,
                opset_version=opset,
                dynamo=False,
            )
    finally:
        model.train(was_training)
    return target


def onnxruntime_session(
    model: str | os.PathLike | bytes,
    threads: int | None = 1,
    device: str | torch.device = "cpu",
    optimized_path: str | os.PathLike | None = None,
    profile_prefix: str | os.PathLike | None = None,
) -> Any:
    """An onnxruntime session of an ONNX file (or its bytes) for timing and inference: `threads`
    intra-op threads (None: onnxruntime's default, one per core) and one inter-op thread, every graph
    optimisation (the int8 QLinearConv fusions need them), on the CPU provider or, for a CUDA
    `device`, the CUDA provider (the CPU provider runs what it lacks). `optimized_path` receives the
    graph onnxruntime runs after its optimisations (its warning that such a file is specific to
    this machine is not shown). With `profile_prefix` onnxruntime times every node of every run
    (`session.end_profiling()` writes the JSON trace there and returns its path). Needs
    ``onnxruntime``; every session of the toolkit comes from here.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if optimized_path is not None:
        options.optimized_model_filepath = str(optimized_path)
        options.log_severity_level = 3
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    providers = ["CPUExecutionProvider"]
    if torch.device(device).type == "cuda":
        providers.insert(0, "CUDAExecutionProvider")
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(source, options, providers=providers)


@torch.no_grad()
def onnxruntime_max_difference(model: nn.Module, path: str | os.PathLike, example: torch.Tensor) -> float:
    """Largest absolute difference between onnxruntime's output for ``example`` and ``model``'s.

    Checks that an exported file (float or QCDQ int8, one input, one output) computes what the
    PyTorch model it came from does; both run on the CPU in float32. Needs ``onnxruntime``.
    """
    session = onnxruntime_session(path, threads=None)
    example = example.detach().cpu().float()
    (ort_out,) = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    return (torch.from_numpy(ort_out) - model.cpu().eval()(example)).abs().max().item()
