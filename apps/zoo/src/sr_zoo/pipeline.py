"""`zoo train`: a recipe's training run, then its test table, deployed model and ONNX.

A training run's folder (an `sr_train.RunFolder`) holds: config.yaml (the settings, recorded once
every check has passed), train.log, metrics.jsonl, last.pt / best.pt, benchmark.{md,json,csv},
results.json, deployed.pt, model.onnx and stages/results.json (the run's done-marker).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sr_blocks import model_entry
from sr_data import RandomPatches, open_test_sets, open_training_images, open_validation
from sr_deploy import ship_trained
from sr_eval.report import write_results
from sr_eval.runtime import resolve_device
from sr_train import RunFolder, path_setting, registered_trainer, section_to_dict
from sr_zoo.recipe import load_recipe

MAY_CHANGE = ("train.device", "train.progress", "train.num_workers")  # a rerun may change these


def train(
    config: str, out: Path, *, model: str | None, scale: int, data: str, quiet: bool = False, **overrides: Any
) -> dict[str, Any] | None:
    """Train (`overrides`: steps, epochs, batch_size, lr, device, amp; None = the recipe's), then
    (rank 0) test, deploy and export into `out`; returns results.json's content (None on other ranks).
    Every check runs before the run folder is written; a finished run is reported, not redone."""
    recipe = load_recipe(config)
    name = model or recipe.model.name
    if not name:
        raise ValueError(f"no model: pass --model or set model.name in {recipe.source}")
    model_entry(name)  # an unknown name fails here
    cfg = recipe.train_config(**overrides, scale=scale, out_dir=str(out), progress=not quiet)
    resolve_device(cfg.device)
    kwargs = recipe.model.kwargs
    images = open_training_images(data, scale)
    images, val, notes = open_validation(recipe.data.val, images, scale, f"data.val in {recipe.source}")
    test_sets = open_test_sets(recipe.data.test, scale, notes)
    sizes = (recipe.data.patch_size, recipe.data.patches_per_epoch)
    cache = out / "cache" if recipe.data.cache else None  # folders are made on the first write
    patches = RandomPatches(images, *sizes, seed=cfg.seed, cache_dir=cache)
    try:  # the initial weights follow the recipe's seed, like the data order
        trainer = registered_trainer(name, patches, val, cfg, kwargs)
    except TypeError as err:
        raise ValueError(f"model.kwargs {kwargs} in {recipe.source} do not fit {name!r}: {err}") from err
    settings = {
        "model": {"name": name, "kwargs": kwargs},
        "scale": scale,
        "data": {"source": path_setting(data), **section_to_dict(recipe.data)},
        "train": {key: value for key, value in cfg.to_dict().items() if key != "out_dir"},
    }
    folder = RunFolder(out, quiet, log_name="train.log")
    with trainer:
        if trainer.dist.is_main:  # under torchrun only rank 0 writes; the others only check
            folder.open(settings, MAY_CHANGE)
        else:
            folder.check(settings, MAY_CHANGE)
        recorded = folder.done("results")
        if recorded is not None:
            table = ", ".join(f"{k} {v['psnr']:.2f} dB" for k, v in recorded["benchmarks"].items())
            folder.log(f"{out} holds a finished run ({table}; results.json): nothing to do")
            return recorded
        for note in notes:
            folder.log(note)
        result = trainer.fit()
    if not trainer.dist.is_main:
        return None

    def ship() -> dict[str, Any]:
        report = ship_trained(out, test_sets, device=trainer.device, log=folder.log)
        patches_seen = result.steps * cfg.batch_size * trainer.dist.world_size
        report.update(
            # the whole run, also when it was resumed
            train_seconds=result.total_seconds,
            patches_per_s=patches_seen / max(result.total_seconds, 1e-9),
            steps=result.steps,
            best_val_psnr=result.best_psnr,
            best_step=result.best_step,
            notes=notes,
        )
        write_results(out, report)
        return report

    return folder.stage("results", ship)
