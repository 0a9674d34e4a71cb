"""Building registered models and loading trained ones from checkpoints (weights_only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_blocks import create_model
from sr_reparam import deploy
from sr_train import load_checkpoint


def load_trained(path: str | Path, deployed: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """(model, checkpoint) rebuilt from a checkpoint written by sr_train or `zoo deploy`.

    The checkpoint names the model (`model_name`, `model_kwargs`, `scale`); a deployed checkpoint
    (`"deployed": True`) is rebuilt as `deploy(create_model(...))` before its weights are loaded.
    """
    ckpt = load_checkpoint(path)
    name = ckpt.get("model_name")
    if not name:
        raise ValueError(
            f"{path}: the checkpoint does not name its model (no 'model_name'), so it cannot be rebuilt"
        )
    model = create_model(name, scale=ckpt["scale"], **ckpt.get("model_kwargs", {}))
    if ckpt.get("deployed"):
        model = deploy(model)
    model.load_state_dict(ckpt["state_dict"])
    if deployed and not ckpt.get("deployed"):
        model = deploy(model)
    return model.eval(), ckpt


def deployed_checkpoint(model: nn.Module, ckpt: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint dict of a deployed model (rebuilt by `load_trained`)."""
    return {
        "format": ckpt.get("format"),
        "model_name": ckpt["model_name"],
        "model_kwargs": ckpt["model_kwargs"],
        "scale": ckpt["scale"],
        "deployed": True,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


@torch.no_grad()
def deploy_gap(model: nn.Module, deployed: nn.Module) -> float:
    """Largest absolute output difference of the training and deployed forms on a random 3x24x24 input."""
    x = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0))
    return (model.eval()(x) - deployed(x)).abs().max().item()
