"""Deploy a trained model and verify that the inference form computes what the training form did."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from sr_eval.profiling import infer_in_channels
from sr_reparam import deploy
from sr_reparam.deploy import undeployed_modules

# An odd size that is not a multiple of common strides, so padding and border handling are exercised.
CHECK_SIZE = (27, 21)
CHECK_SEED = 0


class DeployCheck(NamedTuple):
    """The deployed (inference) model, the largest |training form - deployed| output difference on a
    fixed random input, and how many modules had a training form (0: deploy was the identity)."""

    model: nn.Module
    max_abs_diff: float
    reparameterized: int


def check_input(model: nn.Module, size: tuple[int, int] = CHECK_SIZE) -> torch.Tensor:
    """A fixed (seeded) random input in [0, 1] with the model's input channels: (1, C, h, w) on the CPU."""
    generator = torch.Generator().manual_seed(CHECK_SEED)
    return torch.rand(1, infer_in_channels(model), *size, generator=generator)


@torch.no_grad()
def deploy_verified(model: nn.Module) -> DeployCheck:
    """`sr_reparam.deploy(model)` and the largest output difference to ``model`` on `check_input`.

    Both forms run in eval mode on ``model``'s device; ``model`` itself is not changed (deploy copies).
    The difference is float rounding (about 1e-6) for a correct re-parameterisation and exactly 0 when
    no block has a training form; callers decide what gap they accept.
    """
    reparameterized = len(undeployed_modules(model))
    was_training = model.training
    model.eval()
    try:
        deployed = deploy(model).eval()
        reference = next(iter([*model.parameters(), *model.buffers()]), torch.empty(0))
        x = check_input(model).to(reference.device)
        gap = (model(x) - deployed(x)).abs().max().item()
    finally:
        model.train(was_training)
    return DeployCheck(deployed, gap, reparameterized)
