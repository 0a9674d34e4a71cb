"""`DatasetSection`: the training patches and validation data of one training stage, as a config section."""

from __future__ import annotations

from dataclasses import dataclass

from sr_train.strict_config import ConfigError, check_types


@dataclass
class DatasetSection:
    """Training patches and validation data of one stage (a search's fast training, a full training).

    An epoch is `patches_per_epoch` random patches of `patch_size` HR pixels, in batches of
    `batch_size`. `val`: "holdout:N" (the last N training images), "samples", a benchmark name or a
    folder (`sr_data.open_validation`). `val_crop` > 0: validate on the centre `val_crop` x `val_crop`
    HR crop of each image.
    """

    patch_size: int = 64
    batch_size: int = 16
    patches_per_epoch: int = 800
    val: str = "holdout:10"
    val_crop: int = 0

    def __post_init__(self) -> None:
        check_types(self)
        for key in ("patch_size", "batch_size"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)}")
        if self.patches_per_epoch < self.batch_size:
            raise ConfigError(
                f"patches_per_epoch {self.patches_per_epoch} is below batch_size {self.batch_size}"
            )

    @property
    def steps_per_epoch(self) -> int:
        """Whole batches in an epoch."""
        return self.patches_per_epoch // self.batch_size
