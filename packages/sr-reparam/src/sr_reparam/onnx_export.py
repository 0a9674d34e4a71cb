"""ONNX export of deployed super-resolution networks.

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
    path: str | os.PathLike,
    dynamic_hw: bool = True,
    opset: int = DEFAULT_OPSET,
    example_input: torch.Tensor | None = None,
) -> Path:
    """Write ``model`` (a deployed network, see `sr_reparam.deploy`) to ``path`` as ONNX.

    Any deployed network exports, plain or not (IMDN's attention, for instance); what is refused is
    a model that still holds a training form, since exporting it would bake the slow branches in.

    Input ``"lr"`` and output ``"sr"`` are NCHW; with ``dynamic_hw`` batch, height and width are
    dynamic. The file is written to a temporary name beside ``path`` and renamed, so a failed
    export never leaves a half-written file. Raises ``ValueError`` naming the modules not deployed.
    """
    pending = undeployed_modules(model)
    if pending:
        raise ValueError(
            "export_onnx expects a deployed model (call sr_reparam.deploy first); "
            f"still in training form: {', '.join(pending)}"
        )
    path = Path(path)
    if example_input is None:
        example_input = _example_input(model)
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # a plain open()'s permissions, not mkstemp's 0600
        os.replace(temp_name, path)
    finally:
        model.train(was_training)
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return path


@torch.no_grad()
def onnxruntime_max_difference(model: nn.Module, path: str | os.PathLike, example: torch.Tensor) -> float:
    """Largest absolute difference between onnxruntime's output for ``example`` and ``model``'s.

    Checks that an exported file (float or QCDQ int8, one input, one output) computes what the
    PyTorch model it came from does; both run on the CPU in float32. Needs ``onnxruntime``.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    example = example.detach().cpu().float()
    (ort_out,) = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    return (torch.from_numpy(ort_out) - model.cpu().eval()(example)).abs().max().item()
