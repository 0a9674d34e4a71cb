"""Evaluate an SR model on benchmark sets with the papers' protocol (Y channel, crop = scale).

RGB models (3 input channels) get the LR image and are scored on the Y of their output. Y-only
models (1 input channel, as ECBSR and SESR are trained in their papers) get the Y of the LR image,
``rgb_to_y(lr)`` in [0, 1] and not rounded (the LR is on the uint8 grid, its Y is not), and their
1-channel output is scored against the HR's Y under the same protocol: the output is clamped and
rounded to the uint8 grid (``round(255 * y)``, as if saved as an 8-bit grayscale PNG), the HR's Y
is computed from the uint8 HR and not rounded (the target an RGB model is scored against, as in
BasicSR and in ECBSR's official code), crop = scale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval.color import rgb_to_y
from sr_eval.ensemble import self_ensemble as ensemble_forward
from sr_eval.metrics import psnr_ssim
from sr_eval.profiling import infer_in_channels
from sr_eval.table import DatasetResult, EvalTable, ImageResult
from sr_eval.tiling import tiled_forward

BenchmarkSpec = str | os.PathLike | Dataset


def resolve_benchmark(spec: BenchmarkSpec, scale: int, data_root: str | os.PathLike | None) -> Dataset:
    """A dataset object as is; a name or folder through ``sr_data.Benchmark``."""
    if isinstance(spec, Dataset):
        return spec
    from sr_data import Benchmark

    return Benchmark(spec, scale, root=data_root)


def make_forward(
    model: nn.Module, scale: int, tile: int | None, overlap: int, self_ensemble: bool
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The inference function: plain, tiled, and/or self-ensembled."""

    def single(lr: torch.Tensor) -> torch.Tensor:
        return tiled_forward(model, lr, scale, tile, overlap) if tile else model(lr)

    if self_ensemble:
        return lambda lr: ensemble_forward(single, lr)
    return single


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's parameters (float32 for a parameter-free model)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def _input_channels(model: nn.Module, in_channels: int | None, test_y_channel: bool) -> int:
    """1 (a Y-only model) or 3 (RGB): ``in_channels`` when given, else detected from the model."""
    channels = in_channels if in_channels is not None else infer_in_channels(model)
    if channels not in (1, 3):
        source = "in_channels=" if in_channels is not None else f"{type(model).__name__} takes "
        raise ValueError(f"evaluate: {source}{channels} input channels; only 1 (Y) or 3 (RGB) can be scored")
    if channels == 1 and not test_y_channel:
        raise ValueError(
            "evaluate: a Y-only model (1 input channel) can only be scored with test_y_channel=True"
        )
    return channels


def evaluate(
    model: nn.Module,
    benchmarks: BenchmarkSpec | Iterable[BenchmarkSpec],
    scale: int,
    tile: int | None = None,
    self_ensemble: bool = False,
    device: str | torch.device | None = None,
    *,
    overlap: int = 16,
    data_root: str | os.PathLike | None = None,
    crop_border: int | None = None,
    test_y_channel: bool = True,
    progress: bool = False,
    in_channels: int | None = None,
) -> EvalTable:
    """PSNR/SSIM of ``model`` on each benchmark, per image and as the per-dataset mean.

    ``benchmarks``: dataset objects yielding ``{"lr", "hr", "name"}`` (sr_data's), or names/folders
    resolved with ``sr_data.Benchmark`` under ``data_root`` (default:
    ``sr_data.find_datasets_root()``: env ``SR_DATASETS``, else the shared datasets folder). The
    model runs in eval mode under ``torch.inference_mode`` on ``device`` (default: where its
    parameters are), fed input of its parameters' dtype; metrics are the batched torch ones,
    float64, on the same device. ``crop_border`` defaults to ``scale``. ``in_channels`` (1 or 3)
    says what the model takes; by default its ``in_channels`` attribute, else its first
    convolution's. A 1-channel model is fed and scored on Y as the module docstring says.
    """
    if isinstance(benchmarks, str | os.PathLike | Dataset):
        benchmarks = [benchmarks]
    target = torch.device(device) if device is not None else _model_device(model)
    model = model.to(target).eval()
    channels = _input_channels(model, in_channels, test_y_channel)
    dtype = _model_dtype(model)  # a half-precision model gets half-precision input
    crop = scale if crop_border is None else crop_border
    forward = make_forward(model, scale, tile, overlap, self_ensemble)
    results = []
    for spec in benchmarks:
        dataset = resolve_benchmark(spec, scale, data_root)
        result = DatasetResult(getattr(dataset, "name", type(dataset).__name__))
        indices: Iterable[int] = range(len(dataset))
        if progress:
            from tqdm import tqdm

            indices = tqdm(indices, desc=result.name, unit="img", leave=False, disable=None)
        with torch.inference_mode():
            for index in indices:
                item = dataset[index]
                lr = item["lr"].unsqueeze(0).to(target, dtype)
                sr = forward(rgb_to_y(lr) if channels == 1 else lr)
                hr = item["hr"].unsqueeze(0).to(target)
                if sr.shape[1] != channels or sr.shape[-2:] != hr.shape[-2:]:
                    raise ValueError(
                        f"{result.name}/{item['name']}: SR {tuple(sr.shape)} vs HR {tuple(hr.shape)} "
                        f"for a model with {channels} input channel(s)"
                    )
                try:
                    values_psnr, values_ssim = psnr_ssim(sr, hr, crop, test_y_channel)
                except ValueError as error:  # e.g. an image too small for the crop or the SSIM window
                    raise ValueError(f"{result.name}/{item['name']}: {error}") from error
                result.rows.append(ImageResult(item["name"], values_psnr.item(), values_ssim.item()))
        results.append(result)
    settings = {
        "scale": scale,
        "crop_border": crop,
        "channel": "Y" if test_y_channel else "RGB",
        "model_input": "Y" if channels == 1 else "RGB",
        "tile": tile,
        "overlap": overlap if tile else None,
        "self_ensemble": self_ensemble,
        "device": str(target),
    }
    return EvalTable(results, settings)
