"""What one `sesr` run is: the network (the official code's flags), the official recipe, the int8 options.

The network is SESR on the Y channel (1 channel in and out) as in the official code; a run lives in
``<out>/x<scale>_models/<name>/`` where ``<name>`` is the official save name without its
FP32/QAT suffix (here quantisation is a later stage of the same run, in a subfolder), e.g.
``SESR_m5_f16_x2_fs256_collapsedTraining``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL = "sesr"  # the sr_blocks registry name every checkpoint of this app records
MODEL_NAMES = ("SESR",)
SCALES = (2, 4)
PATCHES_PER_IMAGE = 64  # random HR patches per training image per epoch (official utils.py)
HR_PATCH_SIZE = {2: 128, 4: 200}  # official utils.py: 128 at x2, 200 at x4
RECIPE = {"loss": "l1", "optimizer": "adam", "amsgrad": True, "scheduler": "constant"}  # official train.py


@dataclass(frozen=True)
class Network:
    """The official network flags: scale, m, int_features (the paper's f), feature_size, linear_block_type."""

    scale: int = 2
    m: int = 5
    int_features: int = 16
    feature_size: int = 256
    linear_block_type: str = "collapsed"

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

    def run_dir(self, out: Path) -> Path:
        return Path(out) / f"x{self.scale}_models" / self.run_name


@dataclass(frozen=True)
class Recipe:
    """The official training recipe (`RECIPE`, validated every epoch) and the overrides tests and
    laptops need (None = the recipe's): ``steps_per_epoch`` batches per epoch instead of 64 patches
    per training image, ``patch_size`` instead of the HR patch side (128 at x2, 200 at x4)."""

    epochs: int = 300
    batch_size: int = 32
    learning_rate: float = 2e-4
    steps_per_epoch: int | None = None
    patch_size: int | None = None
    seed: int = 0

    def hr_patch_size(self, scale: int) -> int:
        return self.patch_size or HR_PATCH_SIZE[scale]

    def patches_per_epoch(self, training_images: int) -> int:
        if self.steps_per_epoch is not None:
            return self.steps_per_epoch * self.batch_size
        return PATCHES_PER_IMAGE * training_images


@dataclass(frozen=True)
class Int8Settings:
    """PTQ observer and calibration size; QAT bit widths (None: no QAT), budget and learning rate.
    All of it fixes the QAT weights: it is the QAT folder's config.yaml."""

    method: str = "percentile"
    calibration_patches: int = 256
    qat_bits: tuple[int, int] | None = None
    qat_epochs: int = 30
    qat_learning_rate: float = 2e-5

    @property
    def qat_name(self) -> str | None:
        """The QAT variant's stage and folder name, e.g. 'qat_w4a4' (None: no QAT)."""
        return None if self.qat_bits is None else f"qat_w{self.qat_bits[0]}a{self.qat_bits[1]}"
