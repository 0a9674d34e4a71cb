"""Optimiser and learning-rate schedule from a `TrainConfig`.

The schedule is one `LambdaLR` whose factor is a pure function of the step: linear warm-up times
either a multi-step decay (milestones + gamma) or a cosine from `lr` to `min_lr`. Being a pure
function of the step, it resumes exactly from the scheduler's saved step count.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

import torch

from sr_train.config import TrainConfig


def build_optimizer(params: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or AdamW with the config's lr, betas, eps, weight decay and amsgrad."""
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[config.optimizer]
    return cls(
        params,
        lr=config.lr,
        betas=tuple(config.betas),
        eps=config.eps,
        weight_decay=config.weight_decay,
        amsgrad=config.amsgrad,
    )


def lr_factor(config: TrainConfig, total_steps: int, milestone_steps: list[int]) -> Callable[[int], float]:
    """The multiplier of the base lr at a given (0-based) optimiser step."""
    base = config.lr
    floor = config.min_lr / base if base > 0 else 0.0
    warmup = config.warmup_steps

    def factor(step: int) -> float:
        scale = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
        if config.scheduler == "multistep":
            return scale * config.gamma ** bisect.bisect_right(milestone_steps, step)
        if config.scheduler == "cosine":
            span = max(1, total_steps - warmup)
            progress = min(1.0, max(0, step - warmup) / span)
            return scale * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))
        return scale

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """The schedule above; milestones count epochs when the budget is in epochs, else steps."""
    unit = steps_per_epoch if config.epochs is not None else 1
    milestone_steps = [m * unit for m in config.milestones]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(config, total_steps, milestone_steps))
