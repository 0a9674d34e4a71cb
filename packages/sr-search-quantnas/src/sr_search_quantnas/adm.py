"""Residual connection with QuantNAS' adaptive deviation modulation (ADM, "AdaDM").

With ``skip_mode=True`` a residual is plain ``branch(x) + skip``. With ``skip_mode=False`` (ADM):
the branch input is batch-normalised and the branch output is rescaled by a learned affine function
of the skip's per-sample standard deviation,
``branch(bn(x)) * (w * std(skip) + b) + skip`` with ``w`` initialised to 1.5 and ``b`` to 0 (the
reference's 1x1 conv on a single channel, written as its two scalars). Quantisation removes the
deviation information of the features; ADM puts it back.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class AdaptiveResidual(nn.Module):
    """``branch(x) + skip``, or with ADM ``branch(bn(x)) * phi(std(skip)) + skip``."""

    def __init__(self, channels: int, skip_mode: bool = True) -> None:
        super().__init__()
        self.skip_mode = bool(skip_mode)
        if not self.skip_mode:
            self.bn = nn.BatchNorm2d(channels)
            self.phi_weight = nn.Parameter(torch.tensor(1.5))
            self.phi_bias = nn.Parameter(torch.tensor(0.0))

    def forward(self, x: Tensor, branch: Callable[[Tensor], Tensor], skip: Tensor) -> Tensor:
        if self.skip_mode:
            return branch(x) + skip
        deviation = torch.std(skip, dim=(1, 2, 3), keepdim=True)
        return branch(self.bn(x)) * (deviation * self.phi_weight + self.phi_bias) + skip

    def extra_repr(self) -> str:
        return f"adm={not self.skip_mode}"
