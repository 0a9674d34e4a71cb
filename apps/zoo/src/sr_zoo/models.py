"""Loading trained models from checkpoints (weights_only), and the deploy check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_eval.models import model_from_checkpoint
from sr_reparam import deploy
from sr_train import load_checkpoint


def load_trained(path: str | Path, deployed: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """(model, checkpoint) rebuilt from a checkpoint written by sr_train or `zoo deploy`.

    The checkpoint names the model (`model_name`, `model_kwargs`, `scale`; see
    `sr_eval.models.model_from_checkpoint`, which also rebuilds deployed checkpoints);
    `deployed=True` also deploys a training checkpoint's model after loading.
    """
    ckpt = load_checkpoint(path)
    model = model_from_checkpoint(ckpt, path)
    if deployed and not ckpt.get("deployed"):
        model = deploy(model)
    return model.eval(), ckpt


@torch.no_grad()
def deploy_gap(model: nn.Module, deployed: nn.Module) -> float:
    """Largest absolute output difference of the training and deployed forms on a random 3x24x24 input."""
    x = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0))
    return (model.eval()(x) - deployed(x)).abs().max().item()
