"""A `trainer` config section in torch's class names, as vega (ESR_EA's configs) and BasicSR write it:

```yaml
trainer:
  epochs: 500                      # or steps: 25000
  optim: {type: Adam, lr: 1.0e-4}
  lr_scheduler: {type: MultiStepLR, milestones: [200, 400], gamma: 0.5}
  loss: {type: L1Loss}
  seed: 0
  warmup_steps: 100                # any TrainConfig knob that has no torch name, by its TrainConfig name
```

`sr_train.section_from_dict(TrainerSection, data, "trainer", path)` reads it (unknown keys and wrong
values are ConfigErrors naming `trainer.<key>` and the file); `train_config` turns it into the
`TrainConfig` of a run. An epoch is whatever the caller says it is (`steps_per_epoch`); milestones
count in the budget's unit (epochs or steps). Defaults are vega's (Adam, lr 1e-4, MultiStepLR, L1)
and TrainConfig's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from sr_train.config import TrainConfig
from sr_train.strict_config import ConfigError, check_types

OPTIMIZERS = {"Adam": "adam", "AdamW": "adamw"}
SCHEDULERS = {"MultiStepLR": "multistep", "CosineAnnealingLR": "cosine", "ConstantLR": "constant"}
LOSSES = {"L1Loss": "l1", "MSELoss": "mse", "CharbonnierLoss": "charbonnier"}
# TrainConfig keys that live in a sub-section here, so its errors name the section's key
_SECTION_KEYS = {
    "lr": "optim.lr",
    "betas": "optim.betas",
    "weight_decay": "optim.weight_decay",
    "milestones": "lr_scheduler.milestones",
    "gamma": "lr_scheduler.gamma",
    "min_lr": "lr_scheduler.min_lr",
}


@dataclass
class OptimSection:
    """`optim`: torch.optim.Adam / AdamW and their arguments."""

    type: Literal["Adam", "AdamW"] = "Adam"
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    amsgrad: bool = False

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class SchedulerSection:
    """`lr_scheduler`: multi-step decay, cosine to `min_lr`, or constant."""

    type: Literal["MultiStepLR", "CosineAnnealingLR", "ConstantLR"] = "MultiStepLR"
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.5
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class LossSection:
    """`loss`: the pixel loss."""

    type: Literal["L1Loss", "MSELoss", "CharbonnierLoss"] = "L1Loss"

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class TrainerSection:
    """A trainer: a budget (`epochs` or `steps`), optim / lr_scheduler / loss, seed, TrainConfig knobs."""

    epochs: int | None = None
    steps: int | None = None
    optim: OptimSection = field(default_factory=OptimSection)
    lr_scheduler: SchedulerSection = field(default_factory=SchedulerSection)
    loss: LossSection = field(default_factory=LossSection)
    seed: int = 0
    warmup_steps: int = TrainConfig.warmup_steps
    grad_clip: float | None = TrainConfig.grad_clip
    ema_decay: float | None = TrainConfig.ema_decay
    amp: Literal["none", "bf16", "fp16"] = TrainConfig.amp
    compile: bool = TrainConfig.compile
    channels_last: bool = TrainConfig.channels_last
    deterministic: bool = TrainConfig.deterministic
    num_workers: int = TrainConfig.num_workers
    val_every: int | None = TrainConfig.val_every
    val_ssim: bool = TrainConfig.val_ssim
    log_every: int = TrainConfig.log_every
    checkpoint_every: int | None = TrainConfig.checkpoint_every
    tensorboard: bool = TrainConfig.tensorboard
    charbonnier_eps: float = TrainConfig.charbonnier_eps

    def __post_init__(self) -> None:
        check_types(self)
        if self.epochs is not None and self.steps is not None:
            raise ConfigError(
                f"epochs and steps: give one budget, not both (got {self.epochs} and {self.steps})"
            )
        for budget in ("epochs", "steps"):
            if (value := getattr(self, budget)) is not None and value < 1:
                raise ConfigError(f"{budget} must be >= 1, got {value!r}")
        self._config(steps=1, unit=1, scale=2, batch_size=1)  # TrainConfig checks every other value now

    def total_steps(self, steps_per_epoch: int) -> int:
        """The budget in optimiser steps. A section without a budget (as its class defaults, which
        `section_from_dict` builds too) is a ConfigError here, when it is used."""
        if self.steps is not None:
            return self.steps
        if self.epochs is None:
            raise ConfigError("epochs or steps: give one, the budget")
        return self.epochs * steps_per_epoch

    def train_config(self, scale: int, batch_size: int, steps_per_epoch: int, **run: Any) -> TrainConfig:
        """The TrainConfig of this trainer, its budget and milestones in steps (an epoch is
        `steps_per_epoch` steps); `run` sets the rest (device, out_dir, progress, ...)."""
        unit = 1 if self.steps is not None else steps_per_epoch
        return self._config(self.total_steps(steps_per_epoch), unit, scale, batch_size, **run)

    def _config(self, steps: int, unit: int, scale: int, batch_size: int, **run: Any) -> TrainConfig:
        values = {
            "scale": scale,
            "steps": steps,
            "batch_size": batch_size,
            "loss": LOSSES[self.loss.type],
            "optimizer": OPTIMIZERS[self.optim.type],
            "lr": self.optim.lr,
            "betas": self.optim.betas,
            "weight_decay": self.optim.weight_decay,
            "amsgrad": self.optim.amsgrad,
            "scheduler": SCHEDULERS[self.lr_scheduler.type],
            "milestones": [m * unit for m in self.lr_scheduler.milestones],
            "gamma": self.lr_scheduler.gamma,
            "min_lr": self.lr_scheduler.min_lr,
            **{name: getattr(self, name) for name in _KNOBS},
            **run,
        }
        try:
            return TrainConfig.from_dict(values)
        except ConfigError as err:
            key, _, rest = str(err).partition(" ")
            raise ConfigError(f"{_SECTION_KEYS.get(key, key)} {rest}") from None


# the fields above that are TrainConfig's own knobs, passed through by name (not the budget, and not
# `loss`, a section here and a name in TrainConfig)
_KNOBS = tuple(
    f.name
    for f in fields(TrainerSection)
    if f.name in {g.name for g in fields(TrainConfig)} - {"steps", "epochs", "loss"}
)
