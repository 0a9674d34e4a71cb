"""Quantisation-aware fine-tuning of a `qat` model with sr_train's loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from sr_train import TrainConfig, Trainer, load_checkpoint


def fine_tune(
    qmodel: nn.Module, patches: Dataset, val: Dataset | None, config: TrainConfig
) -> tuple[nn.Module, dict[str, Any]]:
    """Train ``qmodel`` (from `qat`: learned quantisation scales) with `sr_train.Trainer` and ``config``.

    With ``config.out_dir`` the run writes its checkpoints and log there and resumes from them when
    called again; the model returned then holds the best validation weights (best.pt), else the last
    ones. Returns (qmodel in eval mode, {steps, train_seconds, best_val_psnr, best_step}).
    """
    trainer = Trainer(qmodel, patches, val, config)
    try:
        result = trainer.fit()
    finally:
        trainer.close()
    best = Path(config.out_dir) / "best.pt" if config.out_dir else None
    if best is not None and best.is_file():
        qmodel.load_state_dict(load_checkpoint(best)["state_dict"])
    return qmodel.eval(), {
        "steps": result.steps,
        "train_seconds": result.total_seconds,
        "best_val_psnr": result.best_psnr,
        "best_step": result.best_step,
    }
