"""What runs an SR network on single images: a torch model or an ONNX file (the upscaler's engines).

Both take an LR image as an (H, W, C) float32 array in [0, 1] (C = the network's input channels)
and give the (H*s, W*s, C) result clipped to [0, 1], optionally computed on overlapping tiles
(``sr_eval.tiled_forward``, equal to untiled inference for fully convolutional networks) to bound
memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from sr_blocks import create_model
from sr_deploy.loading import load_trained
from sr_eval import tiled_forward
from sr_eval.profiling import infer_in_channels
from sr_eval.runtime import resolve_device
from sr_reparam import onnxruntime_session


class Engine(Protocol):
    """An SR network ready to run on single images."""

    scale: int
    in_channels: int
    name: str

    def __call__(self, lr: np.ndarray) -> np.ndarray: ...


class TorchEngine:
    """A torch model on ``device`` (checked by `sr_eval.runtime.resolve_device`: "auto" is CUDA when
    present); fp16 (``half``) and channels-last memory on CUDA."""

    def __init__(
        self,
        model: nn.Module,
        scale: int,
        name: str,
        device: str | torch.device = "cpu",
        half: bool = False,
        tile: int | None = None,
        overlap: int = 16,
    ) -> None:
        self.device = resolve_device(device)
        if half and self.device.type != "cuda":
            raise ValueError(f"--half needs a CUDA device (got {self.device}); CPU runs float32")
        self.dtype = torch.float16 if half else torch.float32
        self.memory_format = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self.model = model.eval().to(self.device, self.dtype, memory_format=self.memory_format)
        self.scale, self.name = scale, name
        self.tile, self.overlap = checked_tiling(tile, overlap)
        self.in_channels = infer_in_channels(model)

    @torch.inference_mode()
    def __call__(self, lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1), dtype=np.float32))[None]
        x = x.to(self.device, self.dtype, non_blocking=True).contiguous(memory_format=self.memory_format)
        y = (
            self.model(x)
            if self.tile is None
            else tiled_forward(self.model, x, self.scale, self.tile, self.overlap)
        )
        return y[0].float().clamp_(0.0, 1.0).permute(1, 2, 0).contiguous().cpu().numpy()


class OnnxEngine:
    """An ONNX file (fp32, or int8 QCDQ from `sr_deploy.quant.export_onnx_int8`) in onnxruntime.

    The input channels come from the model's input shape and the scale from a probe run, so an ONNX
    file needs nothing else; ``scale`` when given must agree with the probe.
    """

    def __init__(
        self,
        path: str | Path,
        scale: int | None = None,
        device: str | torch.device = "cpu",
        tile: int | None = None,
        overlap: int = 16,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise ImportError("an ONNX engine needs onnxruntime: pip install 'sr-deploy[onnx]'") from err
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX file not found: {path}")
        on_cuda = resolve_device(device).type == "cuda"
        if on_cuda and "CUDAExecutionProvider" not in ort.get_available_providers():
            on_cuda = False  # onnxruntime without CUDA: the CPU runs the file
        try:
            self.session = onnxruntime_session(path, threads=None, device="cuda" if on_cuda else "cpu")
        except Exception as err:  # onnxruntime raises its own exception types for bad files
            raise ValueError(f"{path}: onnxruntime cannot load it: {err}") from err
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self.in_channels = first.shape[1] if isinstance(first.shape[1], int) else 3
        self.name = path.stem
        self.tile, self.overlap = checked_tiling(tile, overlap)
        probe = self._run(torch.zeros(1, self.in_channels, 8, 8))
        self.scale = probe.shape[-1] // 8
        if scale is not None and scale != self.scale:
            raise ValueError(f"{path} upscales x{self.scale}, not x{scale} as --scale says")

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, {self.input_name: x.numpy()})[0])

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1), dtype=np.float32))[None]
        y = (
            self._run(x)
            if self.tile is None
            else tiled_forward(self._run, x, self.scale, self.tile, self.overlap)
        )
        return y[0].clamp_(0.0, 1.0).permute(1, 2, 0).contiguous().numpy()


def checked_tiling(tile: int | None, overlap: int) -> tuple[int | None, int]:
    """(tile, overlap) after checking them once, before any image is read."""
    if overlap < 0:
        raise ValueError(f"--overlap must be >= 0, got {overlap}")
    if tile is not None and tile <= overlap:
        raise ValueError(f"--tile ({tile}) must be larger than --overlap ({overlap})")
    return tile, overlap


def open_engine(
    *,
    weights: str | Path | None = None,
    onnx: str | Path | None = None,
    model: str | None = None,
    scale: int | None = None,
    device: str | None = None,
    half: bool = False,
    tile: int | None = None,
    overlap: int = 16,
) -> Engine:
    """The engine the command line asks for: trained weights, an ONNX file, or a weight-free model.

    Trained weights (any sr_train checkpoint or run folder, deployed or not, or an official weights
    file: `load_trained`) are re-parameterised first. ``model`` and ``scale``, when given beside
    weights, must agree with the checkpoint (an official file is loaded into them). A model by name
    alone is allowed only when it has no weights to train (bicubic).
    """
    if weights and onnx:
        raise ValueError("give --weights or --onnx, not both")
    target = resolve_device(device)  # an unknown or absent device fails before any file is read
    if onnx:
        if model:
            raise ValueError("--model does not apply to --onnx (the ONNX file is the model)")
        return OnnxEngine(onnx, scale, target, tile, overlap)
    if weights:
        net, ckpt = load_trained(weights, deployed=True, model=model, scale=scale)
        return TorchEngine(net, ckpt["scale"], ckpt["model_name"], target, half, tile, overlap)
    if not model:
        raise ValueError("give --weights CHECKPOINT, --onnx FILE, or --model NAME of a weight-free model")
    if scale is None:
        raise ValueError(f"--model {model} needs --scale")
    net = create_model(model, scale=scale)
    if any(p.requires_grad for p in net.parameters()):
        raise ValueError(f"model {model!r} has weights to train: pass --weights with a trained checkpoint")
    return TorchEngine(net, scale, model, target, half, tile, overlap)


def engine_from_spec(spec: str, scale: int | None = None, device: str | None = None) -> Engine:
    """An engine from one word: an .onnx file, a checkpoint file, or a weight-free model name."""
    path = Path(spec)
    if path.suffix.lower() == ".onnx":
        return open_engine(onnx=path, scale=scale, device=device)
    if path.is_file():
        return open_engine(weights=path, scale=scale, device=device)
    if path.suffix or "/" in spec:
        raise FileNotFoundError(f"model file not found: {spec}")
    return open_engine(model=spec, scale=scale, device=device)
