"""What the re-parameterisation benchmarks run (`bench_reparam.py`, `bench_deploy.py`, `gpu_suite.py`).

ECBSR-M16C64 and SESR-M5 in their deployed and training forms, the plain conv stacks of the same
shapes that the deployed nets must match (built from plain torch layers, no re-parameterisation
code involved), and one SESR training step (collapsed or expanded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from sr_blocks import create_model
from sr_reparam import deploy


class PlainECBSR(nn.Module):
    """ECBSR's inference topology from plain layers: 3x3 convs + PReLU, residual, pixel shuffle."""

    def __init__(self, m: int, c: int, scale: int, channels: int):
        super().__init__()
        widths = [channels] + [c] * (m + 1)
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.PReLU(cout)]
        layers.append(nn.Conv2d(c, channels * scale * scale, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.upsample = nn.PixelShuffle(scale)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.body(x) + x.repeat_interleave(self.scale**2, dim=1))


class PlainSESR(nn.Module):
    """SESR's inference topology from plain bias-free convs: 5x5, m x (3x3 + PReLU), 5x5, residuals."""

    def __init__(self, m: int, f: int, scale: int, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, f, 5, padding=2, bias=False)
        self.body = nn.Sequential(
            *(nn.Sequential(nn.Conv2d(f, f, 3, padding=1, bias=False), nn.PReLU(f)) for _ in range(m))
        )
        self.last = nn.Conv2d(f, channels * scale * scale, 5, padding=2, bias=False)
        self.upsample = nn.PixelShuffle(scale)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.first(x - 0.5)
        y = self.last(self.body(first) + first) + x.repeat_interleave(self.scale**2, dim=1)
        return self.upsample(y).clamp(0.0, 1.0)


@dataclass
class DeployCase:
    """A re-parameterisable net: its deployed form, a plain stack of the same shape, its training forms.

    ``targeted`` names the training form that the ">= 5x slower than deployed" target is about; the
    other training forms are shown for information. Training forms are timed in train mode (their
    per-call branches or collapse); in eval mode they run a cached fused kernel at deployed speed.
    """

    name: str
    deployed: nn.Module
    plain: nn.Module
    training_forms: dict[str, nn.Module]
    targeted: str


def deploy_cases(scale: int, channels: int) -> list[DeployCase]:
    """ECBSR-M16C64 and SESR-M5 (SESR also in its collapsed training form, SESR's cheap one)."""
    kwargs = {"in_channels": channels, "out_channels": channels}
    ecbsr = create_model("ecbsr_m16c64", scale=scale, training_mode="expanded", **kwargs)
    sesr_expanded = create_model("sesr_m5", scale=scale, training_mode="expanded", **kwargs)
    sesr_collapsed = create_model("sesr_m5", scale=scale, training_mode="collapsed", **kwargs)
    return [
        DeployCase(
            "ECBSR-M16C64",
            deploy(ecbsr),
            PlainECBSR(16, 64, scale, channels),
            {"training form, expanded": ecbsr},
            "training form, expanded",
        ),
        DeployCase(
            "SESR-M5",
            deploy(sesr_collapsed),
            PlainSESR(5, 16, scale, channels),
            {"training form, expanded": sesr_expanded, "training form, collapsed": sesr_collapsed},
            "training form, expanded",
        ),
    ]


def sesr_train_step(mode: str, lr: torch.Tensor, hr: torch.Tensor, scale: int) -> Callable[[], None]:
    """One SESR-M5 training step (forward, L1 backward, Adam) in ``mode`` ("collapsed"/"expanded")."""
    channels = lr.shape[1]
    model = create_model(
        "sesr_m5", scale=scale, in_channels=channels, out_channels=channels, training_mode=mode
    ).to(lr.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        nn.functional.l1_loss(model(lr), hr).backward()
        optimizer.step()

    return step
