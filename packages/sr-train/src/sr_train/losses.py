"""Pixel losses for SR training: L1 (the standard), Charbonnier (a smooth L1) and MSE."""

from __future__ import annotations

import torch
from torch import nn


class CharbonnierLoss(nn.Module):
    """mean(sqrt((x - y)^2 + eps^2)): L1-like, but differentiable at zero."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((pred - target) ** 2 + self.eps**2).mean()


def build_loss(name: str, charbonnier_eps: float = 1e-3) -> nn.Module:
    """The loss module called `name` ("l1", "charbonnier" or "mse")."""
    if name == "l1":
        return nn.L1Loss()
    if name == "mse":
        return nn.MSELoss()
    if name == "charbonnier":
        return CharbonnierLoss(charbonnier_eps)
    raise ValueError(f"unknown loss {name!r}; choose l1, charbonnier or mse")
