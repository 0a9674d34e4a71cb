"""Trained weights back into a model: find a run folder's weights, rebuild the model they belong to.

Checkpoints are read with `sr_train.load_checkpoint` (``weights_only``: no code runs from the file)
and rebuilt with `sr_eval.models.model_from_checkpoint`, which knows deployed checkpoints too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from sr_eval.models import model_from_checkpoint
from sr_reparam import deploy
from sr_train import load_checkpoint

RUN_WEIGHTS = ("best.pt", "last.pt")  # what a finished sr_train run stands for, in order of preference


def find_weights(path: str | Path) -> Path:
    """The checkpoint ``path`` stands for: the file itself, or a run folder's best.pt, else its last.pt.

    best.pt holds the weights of the best validation PSNR; a run without validation has only last.pt.
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        for name in RUN_WEIGHTS:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path}: no best.pt or last.pt in this run folder (has it been trained?)")
    raise FileNotFoundError(f"no such checkpoint or run folder: {path}")


def load_trained(path: str | Path, deployed: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, checkpoint) rebuilt from a checkpoint file or a run folder (`find_weights`).

    The checkpoint names its model (``model_name``, ``model_kwargs``, ``scale``; written by sr_train,
    or by `deployed_checkpoint` for re-parameterised weights, which are rebuilt in their deployed form).
    ``deployed=True`` also deploys a training checkpoint's model after loading, for inference.
    """
    weights = find_weights(path)
    ckpt = load_checkpoint(weights)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{weights}: holds a {type(ckpt).__name__}, not a checkpoint dict")
    model = model_from_checkpoint(ckpt, weights)
    if deployed and not ckpt.get("deployed"):
        model = deploy(model)
    return model.eval(), ckpt
