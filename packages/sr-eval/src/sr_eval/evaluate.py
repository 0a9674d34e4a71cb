"""Evaluate an SR model on benchmark sets with the papers' protocol (Y channel, crop = scale)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval.ensemble import self_ensemble as ensemble_forward
from sr_eval.metrics import psnr_ssim
from sr_eval.table import DatasetResult, EvalTable, ImageResult
from sr_eval.tiling import tiled_forward

BenchmarkSpec = str | os.PathLike | Dataset


def resolve_benchmark(spec: BenchmarkSpec, scale: int, data_root: str | os.PathLike | None) -> Dataset:
    """A dataset object as is; a name or folder through ``sr_data.Benchmark``."""
    if isinstance(spec, Dataset):
        return spec
    from sr_data import Benchmark, find_datasets_root

    root = data_root
    if root is None and not os.environ.get("SR_DATA_ROOT"):
        root = find_datasets_root()
    return Benchmark(spec, scale, root=root)


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
) -> EvalTable:
    """PSNR/SSIM of ``model`` on each benchmark, per image and as the per-dataset mean.

    ``benchmarks``: dataset objects yielding ``{"lr", "hr", "name"}`` (sr_data's), or names/folders
    resolved with ``sr_data.Benchmark`` under ``data_root`` (default: env ``SR_DATA_ROOT``, else
    the shared datasets folder). The model runs in eval mode under ``torch.inference_mode`` on
    ``device`` (default: where its parameters are); metrics are the batched torch ones, float64,
    on the same device. ``crop_border`` defaults to ``scale``.
    """
    if isinstance(benchmarks, str | os.PathLike | Dataset):
        benchmarks = [benchmarks]
    target = torch.device(device) if device is not None else _model_device(model)
    model = model.to(target).eval()
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
                sr = forward(item["lr"].unsqueeze(0).to(target))
                hr = item["hr"].unsqueeze(0).to(target)
                if sr.shape != hr.shape:
                    raise ValueError(
                        f"{result.name}/{item['name']}: SR {tuple(sr.shape)} vs HR {tuple(hr.shape)}"
                    )
                values_psnr, values_ssim = psnr_ssim(sr, hr, crop, test_y_channel)
                result.rows.append(ImageResult(item["name"], values_psnr.item(), values_ssim.item()))
        results.append(result)
    settings = {
        "scale": scale,
        "crop_border": crop,
        "channel": "Y" if test_y_channel else "RGB",
        "tile": tile,
        "overlap": overlap if tile else None,
        "self_ensemble": self_ensemble,
        "device": str(target),
    }
    return EvalTable(results, settings)
