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

from sr_blocks import create_model, model_entry
from sr_data import RandomPatches, open_test_sets, write_text_atomic
from sr_deploy import deploy_and_export, export_onnx_checked, load_trained, ship_trained
from sr_eval import evaluate
from sr_train import Trainer, record_run_settings
from sr_zoo.datasets import build_run_data
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
    report = ship_trained(request.out, run_data.test, device=trainer.device, log=trainer.log.message)
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
    return deploy_and_export(model, ckpt, out)


def export_checkpoint(weights: str, path: Path) -> str | None:
    """ONNX of the deployed form of trained (or already deployed) weights."""
    model, _ = load_trained(weights, deployed=True)
    report = export_onnx_checked(model, path)
    return None if report is None else str(report.path)


_MAY_CHANGE_ON_RESUME = ("train.progress", "train.device", "train.num_workers")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, torch.Tensor) else str(value)
