"""`TrainConfig`: every knob of the training loop, loaded from a dict or a YAML file and checked.

An unknown key is an error that names the key (and the file); a value of the wrong type is an error
that names the key and the value (checks from `sr_train.strict_config`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sr_train.strict_config import ConfigError, check_keys, check_types, read_yaml

__all__ = ["ConfigError", "TrainConfig", "check_types"]


@dataclass
class TrainConfig:
    """Settings of one training run.

    Budget: exactly one of `steps` or `epochs`. With `epochs`, `milestones` count epochs too (as in
    ESR_EA's `fully_train.trainer.lr_scheduler`); with `steps` they count steps. `batch_size` is per
    process under DistributedDataParallel. Validation runs every `val_every` steps and at the end;
    `last.pt` is written at validations, every `checkpoint_every` steps and at the end.
    """

    scale: int = 2
    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 16
    loss: Literal["l1", "charbonnier", "mse"] = "l1"
    charbonnier_eps: float = 1e-3
    optimizer: Literal["adam", "adamw"] = "adam"
    lr: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    scheduler: Literal["multistep", "cosine", "constant"] = "multistep"
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.5
    min_lr: float = 0.0
    warmup_steps: int = 0
    grad_clip: float | None = None
    ema_decay: float | None = None
    amp: Literal["none", "bf16", "fp16"] = "none"
    compile: bool = False
    channels_last: bool = False
    device: str = "auto"
    seed: int = 0
    deterministic: bool = False
    num_workers: int = 0
    val_every: int | None = None
    val_ssim: bool = True
    log_every: int = 50
    checkpoint_every: int | None = None
    out_dir: str | None = None
    resume: bool = True
    progress: bool = True
    tensorboard: bool = True

    def __post_init__(self) -> None:
        check_types(self)
        if (self.steps is None) == (self.epochs is None):
            raise ConfigError(
                f"give exactly one budget: steps or epochs (got steps={self.steps}, epochs={self.epochs})"
            )
        for key in ("steps", "epochs", "batch_size", "log_every", "val_every", "checkpoint_every", "scale"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value!r}")
        for key in ("warmup_steps", "num_workers", "min_lr", "weight_decay"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be >= 0, got {getattr(self, key)!r}")
        for key in ("lr", "grad_clip", "gamma", "eps", "charbonnier_eps"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise ConfigError(f"{key} must be > 0, got {value!r}")
        if len(self.betas) != 2:
            raise ConfigError(f"betas must hold two numbers, got {self.betas!r}")
        if sorted(self.milestones) != list(self.milestones):
            raise ConfigError(f"milestones must be increasing, got {self.milestones!r}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in (0, 1), got {self.ema_decay!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> TrainConfig:
        """Build from a mapping; `source` (a file name) is named in errors."""
        where = f" in {source}" if source else ""
        if not isinstance(data, dict):
            raise ConfigError(f"training config{where} must be a mapping, got {type(data).__name__}")
        check_keys(data, [f.name for f in dataclasses.fields(cls)], source=source, what="training config key")
        try:
            return cls(**data)
        except ConfigError as err:
            raise ConfigError(f"{err}{where}") from None

    @classmethod
    def from_yaml(cls, path: str | Path, section: str | None = None) -> TrainConfig:
        """Load a YAML file (optionally one top-level `section` of it)."""
        path = Path(path)
        data = read_yaml(path)
        if section is not None:
            data = data.get(section, {})
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of primitives (what checkpoints and results folders store)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (checked like the original)."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})
