"""Quantisation-aware fine-tuning of a `qat` model with sr_train's loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_train import PatchTensors, TrainConfig, Trainer, load_checkpoint

TEACHER_BATCH = 32


def fine_tune(
    qmodel: nn.Module, patches: Dataset, val: Dataset | None, config: TrainConfig
) -> tuple[nn.Module, dict[str, Any]]:
    """Train ``qmodel`` (from `qat`: learned quantisation scales) with `sr_train.Trainer` and ``config``.

    With ``config.out_dir`` the run writes its checkpoints and log there and resumes from them when
    called again; the model returned then holds the best validation weights (best.pt), else the last
    ones. Returns (qmodel in eval mode, {steps, train_seconds, best_val_psnr, best_step}).
    """
    with Trainer(qmodel, patches, val, config) as trainer:
        result = trainer.fit()
    best = Path(config.out_dir) / "best.pt" if config.out_dir else None
    if best is not None and best.is_file():
        qmodel.load_state_dict(load_checkpoint(best)["state_dict"])
    return qmodel.eval(), {
        "steps": result.steps,
        "train_seconds": result.total_seconds,
        "best_val_psnr": result.best_psnr,
        "best_step": result.best_step,
    }


@torch.no_grad()
def distillation_patches(
    teacher: nn.Module, patches: PatchTensors, batch: int = TEACHER_BATCH
) -> PatchTensors:
    """``patches`` with each HR target replaced by the float ``teacher``'s output on its LR input.

    Fine-tuning a quantised copy of a trained network towards its own float outputs (distillation)
    teaches it to reproduce the float network, not to fit the fine-tuning photos: with a few hundred
    steps on other photos than the network was trained on (JPEG scenes for a DIV2K network), fitting
    the HR targets moves the weights towards those photos and can lower the test scores.
    """
    device = next(teacher.parameters()).device
    was_training = teacher.training
    teacher.eval()
    try:
        outputs = [teacher(lr.to(device)).float().cpu() for lr in patches.lr.split(batch)]
    finally:
        teacher.train(was_training)
    return PatchTensors(patches.lr, torch.cat(outputs))
