"""From a trained run to its shipped artifacts, in one call: `ship_trained`.

What an app does after training, whichever app: benchmark the trained weights (PSNR/SSIM on Y,
``benchmark.{md,json,csv}``), count parameters and MACs, deploy and verify the inference form, write
``deployed.pt`` (rebuilt by `load_trained`) and ``model.onnx`` checked in onnxruntime. The steps are
public too, for pipelines that run them as separate resumable stages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_deploy.loading import check_out_of_official_folder, find_weights, is_official, load_trained
from sr_deploy.onnx_export import export_onnx_checked
from sr_deploy.verify import deploy_verified
from sr_eval import EvalTable, evaluate, profile
from sr_train import deployed_checkpoint, save_checkpoint

DEPLOY_TOLERANCE = 1e-4  # |training form - deployed| above this is reported as a warning
Log = Callable[[str], None]


def benchmark(
    model: nn.Module,
    test_sets: Sequence[Dataset],
    scale: int,
    out: Path,
    device: str | torch.device | None = None,
    stem: str = "benchmark",
) -> EvalTable:
    """`sr_eval.evaluate` on every test set (on ``device``), saved as out/<stem>.{md,json,csv}.

    PSNR/SSIM on Y with ``scale`` border pixels cropped; Y-only models are detected. ``model`` is
    left on the CPU afterwards.
    """
    table = evaluate(model, list(test_sets), scale, device=device)
    model.cpu()
    table.save(Path(out), stem)
    return table


def measure(model: nn.Module, scale: int) -> dict[str, int]:
    """Parameters and MACs for a 1280x720 output."""
    prof = profile(model, scale=scale)
    return {"params": prof.params, "macs_720p": prof.macs}


def deploy_and_export(model: nn.Module, ckpt: dict[str, Any], out: Path, log: Log = print) -> dict[str, Any]:
    """Deploy ``model`` (checked against its training form), write out/deployed.pt and out/model.onnx.

    ``ckpt`` is the training checkpoint ``model`` came from (it names the model for the deployed
    checkpoint). Returns the gap, the deployed model's size and the files written (onnx None when the
    onnx package is missing).
    """
    out = Path(out)
    check = deploy_verified(model)
    path = out / "deployed.pt"
    save_checkpoint(path, deployed_checkpoint(ckpt, check.model))
    if check.reparameterized:
        gap = check.max_abs_diff
        log(f"re-parameterised {check.reparameterized} blocks (max output difference {gap:.1e})")
    else:
        log(
            f"deploy is the identity for {type(model).__name__} (no block has a re-parameterisable "
            f"training form); max output difference {check.max_abs_diff:.1e}"
        )
    if check.max_abs_diff > DEPLOY_TOLERANCE:
        log(f"WARNING: the deployed model differs from the trained one by {check.max_abs_diff:.2e}")
    log(f"deployed model written to {path}")
    deployed_size = measure(check.model, ckpt["scale"])
    onnx = export_onnx_checked(check.model, out / "model.onnx", log=log)
    return {
        "deploy_max_abs_diff": check.max_abs_diff,
        "reparameterized_blocks": check.reparameterized,
        "deployed": str(path),
        "deployed_params": deployed_size["params"],
        "deployed_macs_720p": deployed_size["macs_720p"],
        **(onnx.to_dict() if onnx else {"onnx": None}),
    }


def ship_trained(
    weights: str | Path,
    test_sets: Sequence[Dataset],
    out: str | Path | None = None,
    *,
    device: str | torch.device | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Benchmark, measure, deploy and export trained weights; returns a JSON-ready report.

    ``weights`` is a checkpoint or a run folder (best.pt, else last.pt), or an official weights file;
    ``out`` (default: the checkpoint's folder, never an official file's: it must then be given)
    receives benchmark.{md,json,csv}, deployed.pt and model.onnx. The tables are
    computed on ``device`` (default: where the model is, the CPU). Report keys: weights, model,
    model_kwargs, scale, params, macs_720p, benchmarks (per test set: psnr, ssim), then those of
    `deploy_and_export`.
    """
    path = find_weights(weights)
    model, ckpt = load_trained(path)
    if out is None and is_official(ckpt):
        raise ValueError(f"{path}: official weights; say where the results go (out)")
    out = path.parent if out is None else Path(out)
    check_out_of_official_folder(ckpt, out)
    scale = ckpt["scale"]
    table = benchmark(model, test_sets, scale, out, device)
    log(f"{path.name}: benchmark (PSNR/SSIM on Y, crop = scale):\n" + table.to_markdown())
    return {
        "weights": str(path),
        "model": ckpt["model_name"],
        "model_kwargs": ckpt["model_kwargs"],
        "scale": scale,
        **measure(model, scale),
        "benchmarks": table.summary,
        **deploy_and_export(model, ckpt, out, log),
    }
