"""Exponential moving average of a model's weights (evaluated instead of the raw weights)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEMA:
    """Keeps `shadow = decay * shadow + (1 - decay) * weights` after every optimiser step.

    Floating-point parameters and buffers are averaged; integer buffers (counters) are copied.
    The shadow is a full copy of the model, so it can be evaluated or saved directly.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the shadow weights towards `model`'s current weights."""
        current = model.state_dict()
        for name, shadow in self.module.state_dict().items():
            value = current[name].detach()
            if shadow.dtype.is_floating_point:
                shadow.lerp_(value.to(shadow.dtype), 1.0 - self.decay)
            else:
                shadow.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
