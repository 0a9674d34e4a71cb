"""What one `sesr` run is: the network (the seed's SESR flags) and the reference's training recipe.

The network is SESR on the Y channel (1 channel in and out) as in the official code; a run lives in
``<out>/x<scale>_models/<name>/`` where ``<name>`` is the official save name without its
FP32/QAT suffix (here quantisation is a later stage of the same run, in a subfolder), e.g.
``SESR_m5_f16_x2_fs256_collapsedTraining``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sr_blocks.sesr import TRAINING_MODES
from sr_train import TrainConfig

MODEL_NAMES = ("SESR",)
SCALES = (2, 4)
PATCHES_PER_IMAGE = 64  # random HR patches per training image per epoch (official utils.py)
HR_PATCH_SIZE = {2: 128, 4: 200}  # official utils.py: 128 at x2, 200 at x4


@dataclass(frozen=True)
class Network:
    """The seed's network flags: scale, m, int_features (the paper's f), feature_size, linear_block_type."""

    scale: int = 2
    m: int = 5
    int_features: int = 16
    feature_size: int = 256
    linear_block_type: str = "collapsed"

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"--scale must be 2 or 4 (as in the official SESR code), got {self.scale}")
        if self.linear_block_type not in TRAINING_MODES:
            raise ValueError(
                f"--linear_block_type must be one of {', '.join(TRAINING_MODES)}, "
                f"got {self.linear_block_type!r}"
            )
        for flag in ("m", "int_features", "feature_size"):
            if getattr(self, flag) < 1:
                raise ValueError(f"--{flag} must be >= 1, got {getattr(self, flag)}")

    @property
    def run_name(self) -> str:
        return (
            f"SESR_m{self.m}_f{self.int_features}_x{self.scale}_fs{self.feature_size}_"
            f"{self.linear_block_type}Training"
        )

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``sr_blocks.create_model("sesr", scale, ...)`` (Y in, Y out)."""
        return {
            "m": self.m,
            "f": self.int_features,
            "feature_size": self.feature_size,
            "in_channels": 1,
            "out_channels": 1,
            "training_mode": self.linear_block_type,
        }

    def at_scale(self, scale: int) -> Network:
        return replace(self, scale=scale)

    def run_dir(self, out: Path) -> Path:
        return Path(out) / f"x{self.scale}_models" / self.run_name


@dataclass(frozen=True)
class Recipe:
    """The official training recipe, with the overrides tests and laptops need (None = the recipe's).

    ``steps_per_epoch`` replaces "64 patches per training image" by a fixed number of batches per
    epoch; ``patch_size`` replaces the HR patch side (128 at x2, 200 at x4).
    """

    epochs: int = 300
    batch_size: int = 32
    learning_rate: float = 2e-4
    steps_per_epoch: int | None = None
    patch_size: int | None = None
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0

    def hr_patch_size(self, scale: int) -> int:
        return self.patch_size or HR_PATCH_SIZE[scale]

    def patches_per_epoch(self, training_images: int) -> int:
        if self.steps_per_epoch is not None:
            return self.steps_per_epoch * self.batch_size
        return PATCHES_PER_IMAGE * training_images

    def train_config(self, scale: int, out_dir: Path, steps_per_epoch: int, progress: bool) -> TrainConfig:
        """Adam (amsgrad) at a constant learning rate, L1, validated (PSNR on Y) after every epoch."""
        return TrainConfig(
            scale=scale,
            epochs=self.epochs,
            batch_size=self.batch_size,
            loss="l1",
            optimizer="adam",
            lr=self.learning_rate,
            amsgrad=True,
            scheduler="constant",
            val_every=steps_per_epoch,
            log_every=max(1, min(100, steps_per_epoch)),
            device=self.device,
            seed=self.seed,
            num_workers=self.num_workers,
            out_dir=str(out_dir),
            progress=progress,
            tensorboard=False,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
