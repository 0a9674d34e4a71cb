"""Full training of one searched candidate with sr_train.Trainer, resumable, in its own folder.

The folder holds `genes.json` (which candidate), the Trainer's `last.pt`, `best.pt`, `train.log` and
`metrics.jsonl`, and `trained.json` once the budget is spent: a re-run skips a candidate whose
`trained.json` exists and continues one whose `last.pt` exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sr_blocks import create_model
from sr_data import write_text_atomic
from sr_esr_ea.config import EsrConfig
from sr_esr_ea.data import StageImages, training_patches
from sr_train import Trainer

MODEL_NAME = "esrn"


def model_kwargs(genes: list[str], config: EsrConfig) -> dict[str, Any]:
    """`create_model("esrn", ...)` arguments of a candidate (what checkpoints record)."""
    return {"genes": list(genes), "G0": config.nas.search_space.esrbody.G0}


def fully_train(
    genes: list[str],
    folder: Path,
    config: EsrConfig,
    images: StageImages,
    device: str,
    progress: bool,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Train the candidate `genes` to the fully_train budget in `folder`; returns trained.json's data."""
    done = folder / "trained.json"
    if done.exists():
        log(f"{folder.name}: already fully trained, skipped ({done})")
        return json.loads(done.read_text(encoding="utf-8"))
    _claim(folder, genes)
    stage = config.fully_train
    kwargs = model_kwargs(genes, config)
    torch.manual_seed(stage.trainer.seed)  # initial weights follow the trainer's seed
    model = create_model(MODEL_NAME, scale=config.scale, **kwargs)
    train_config = stage.trainer.train_config(
        stage.dataset, config.scale, device=device, out_dir=str(folder), progress=progress
    )
    patches = training_patches(
        images.train, stage.dataset, stage.trainer.seed, cache_dir=folder.parent / "cache"
    )
    trainer = Trainer(model, patches, images.val, train_config, model_name=MODEL_NAME, model_kwargs=kwargs)
    for note in images.notes:
        trainer.log.message(note)
    try:
        result = trainer.fit()
    finally:
        trainer.close()
    summary = {
        "genes": list(genes),
        "steps": result.steps,
        "train_seconds": result.total_seconds,
        "best_val_psnr": result.best_psnr,
        "best_step": result.best_step,
    }
    write_text_atomic(done, json.dumps(summary, indent=2) + "\n")
    log(
        f"{folder.name}: {result.steps} steps in {result.total_seconds:.0f} s, best validation PSNR "
        f"{result.best_psnr:.3f} dB at step {result.best_step}"
    )
    return summary


def _claim(folder: Path, genes: list[str]) -> None:
    """Record which candidate `folder` trains; refuse a folder that holds another one."""
    record = folder / "genes.json"
    if record.exists():
        before = json.loads(record.read_text(encoding="utf-8"))
        if before != list(genes):
            raise ValueError(
                f"{folder} trains another candidate ({before}, not {list(genes)}); use another --out "
                f"or delete {folder} to start that training over"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(record, json.dumps(list(genes)) + "\n")
