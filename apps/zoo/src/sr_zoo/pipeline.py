"""The zoo's jobs: train (then test, deploy, export), eval, deploy and export.

A training run's results folder holds: config.yaml (the settings used), train.log, metrics.jsonl,
last.pt / best.pt, benchmark.{md,json,csv}, results.json, deployed.pt and model.onnx.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_blocks import create_model, model_entry
from sr_data import RandomPatches, open_test_sets, write_text_atomic
from sr_eval import evaluate, profile
from sr_reparam import deploy, export_onnx
from sr_train import Trainer, deployed_checkpoint, record_run_settings, save_checkpoint
from sr_zoo.datasets import build_run_data
from sr_zoo.models import deploy_gap, load_trained
from sr_zoo.recipe import load_recipe


@dataclass
class TrainRequest:
    """What `zoo train` was asked for (command-line values; None = the recipe's value)."""

    model: str | None
    scale: int
    data: str
    config: str
    out: Path
    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    device: str | None = None
    amp: str | None = None
    quiet: bool = False


def train(request: TrainRequest) -> dict[str, Any] | None:
    """Train, then (rank 0) test, deploy and export; returns the results dict (None on other ranks)."""
    recipe = load_recipe(request.config)
    name = request.model or recipe.model.name
    if not name:
        raise ValueError(f"no model: pass --model or set model.name in {recipe.source}")
    model_entry(name)  # an unknown name fails here, before any file is written
    cfg = recipe.train_config(
        scale=request.scale,
        steps=request.steps,
        epochs=request.epochs,
        batch_size=request.batch_size,
        lr=request.lr,
        device=request.device,
        amp=request.amp,
        out_dir=str(request.out),
        progress=not request.quiet,
    )
    torch.manual_seed(cfg.seed)  # the initial weights follow the recipe's seed, like the data order
    try:  # constructor arguments the model does not take fail here too, before any file is written
        model = create_model(name, scale=request.scale, **recipe.model.kwargs)
    except TypeError as err:
        raise ValueError(
            f"model.kwargs {recipe.model.kwargs} in {recipe.source} do not fit {name!r}: {err}"
        ) from err
    settings = {
        "model": {"name": name, "kwargs": recipe.model.kwargs},
        "scale": request.scale,
        "data": {"source": request.data, **recipe.to_dict()["data"]},
        "train": cfg.to_dict(),
        "recipe": recipe.source,
    }
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun only rank 0 writes
        record_run_settings(request.out, settings, may_change=_MAY_CHANGE_ON_RESUME)

    run_data = build_run_data(request.data, request.scale, recipe.data)
    cache = request.out / "cache" if recipe.data.cache else None
    patches = RandomPatches(
        run_data.train, recipe.data.patch_size, recipe.data.patches_per_epoch, seed=cfg.seed, cache_dir=cache
    )
    trainer = Trainer(model, patches, run_data.val, cfg, model_name=name, model_kwargs=recipe.model.kwargs)
    for note in run_data.notes:
        trainer.log.message(note)
    result = trainer.fit()
    if not trainer.dist.is_main:
        return None
    patches_seen = result.steps * cfg.batch_size * trainer.dist.world_size
    best = request.out / "best.pt"
    final, ckpt = load_trained(best if best.exists() else request.out / "last.pt")
    trainer.log.message(f"testing the {'best' if best.exists() else 'last'} weights")
    report = finish(final, ckpt, run_data.test, request.out, device=trainer.device, log=trainer.log.message)
    report.update(
        # the whole run, also when it was resumed (or re-run after it finished)
        train_seconds=result.total_seconds,
        patches_per_s=patches_seen / max(result.total_seconds, 1e-9),
        steps=result.steps,
        best_val_psnr=result.best_psnr,
        best_step=result.best_step,
        notes=run_data.notes,
    )
    _write_json(request.out / "results.json", report)
    trainer.close()
    return report


def finish(
    model: nn.Module,
    ckpt: dict[str, Any],
    benchmarks: list,
    out: Path,
    device: torch.device | None = None,
    log=print,
) -> dict[str, Any]:
    """Benchmark table (computed on `device`), params/MACs, deployed checkpoint and ONNX, into `out`."""
    scale = ckpt["scale"]
    table = evaluate(model, benchmarks, scale, device=device)
    model = model.cpu()
    table.save(out, "benchmark")
    log("benchmark (PSNR/SSIM on Y, crop = scale):\n" + table.to_markdown())
    prof = profile(model, scale=scale)
    report: dict[str, Any] = {
        "model": ckpt["model_name"],
        "model_kwargs": ckpt["model_kwargs"],
        "scale": scale,
        "params": prof.params,
        "macs_720p": prof.macs,
        "benchmarks": table.summary,
    }
    report.update(deploy_and_export(model, ckpt, out, log))
    return report


def deploy_and_export(model: nn.Module, ckpt: dict[str, Any], out: Path, log=print) -> dict[str, Any]:
    """Write deployed.pt (re-parameterised weights) and model.onnx (when onnx is installed)."""
    deployed = deploy(model)
    gap = deploy_gap(model, deployed)
    save_checkpoint(out / "deployed.pt", deployed_checkpoint(ckpt, deployed))
    log(f"deployed model written to {out / 'deployed.pt'} (max output difference {gap:.2e})")
    prof = profile(deployed, scale=ckpt["scale"])
    info: dict[str, Any] = {
        "deploy_max_abs_diff": gap,
        "deployed_params": prof.params,
        "deployed_macs_720p": prof.macs,
    }
    info["onnx"] = export(deployed, out / "model.onnx", log)
    return info


def export(deployed: nn.Module, path: Path, log=print) -> str | None:
    """ONNX export of a deployed model; None (with the reason logged) when it cannot be made."""
    try:
        import onnx  # noqa: F401  (export needs it; skip cleanly without)
    except ImportError:
        log("ONNX export skipped: the onnx package is not installed (pip install onnx)")
        return None
    export_onnx(deployed, path)
    log(f"ONNX written to {path}")
    return str(path)


def evaluate_checkpoint(
    weights: str | None,
    model_name: str | None,
    scale: int,
    sets: list[str],
    out: Path | None,
    device: str | None = None,
    per_image: bool = False,
) -> Any:
    """Table for trained weights (or for an untrained/fixed model by name, e.g. bicubic)."""
    if weights:
        model, ckpt = load_trained(weights)
        scale = ckpt["scale"]
    elif model_name:
        model = create_model(model_name, scale=scale)
    else:
        raise ValueError("give --weights CHECKPOINT or --model NAME")
    notes: list[str] = []
    table = evaluate(model, open_test_sets(sets, scale, notes), scale, device=device)
    for note in notes:
        print(note)
    print(table.to_markdown(per_image=per_image))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        table.save(out, "benchmark")
    return table


def deploy_checkpoint(weights: str, out: Path) -> dict[str, Any]:
    """Deployed checkpoint + ONNX of trained weights, into `out`."""
    model, ckpt = load_trained(weights)
    out.mkdir(parents=True, exist_ok=True)
    return deploy_and_export(model, ckpt, out)


def export_checkpoint(weights: str, path: Path) -> str | None:
    """ONNX of the deployed form of trained (or already deployed) weights."""
    model, _ = load_trained(weights, deployed=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return export(model, path)


_MAY_CHANGE_ON_RESUME = ("train.progress", "train.device", "train.num_workers")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, torch.Tensor) else str(value)
