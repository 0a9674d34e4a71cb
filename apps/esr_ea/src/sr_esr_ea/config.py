"""The ESR_EA config: seed 000's YAML keys (vega's esr_ea.yml) mapped onto the packages' sections.

`nas.search_space` and `nas.search_algorithm` (its `policy` and `range`) are sr_search_evo's
sections, `nas.trainer` and `fully_train.trainer` sr_train's TrainerSection (vega's `epochs`,
`optim: {type: Adam}`, `lr_scheduler: {type: MultiStepLR, milestones}`, `loss: {type: L1Loss}`),
the `dataset` sections, `fully_train.top_k` and `evaluate.test` ours. A section left out takes
the seed's values (500 epochs of fast training, 15000 of full training with the seed's
milestones); an unknown key, a wrong type or an impossible combination is a ConfigError naming the
key and the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_search_evo import ESRSearchAlgorithm, ESRSearchSpace
from sr_train import ConfigError, check_types, find_config, read_yaml, section_from_dict, with_assignments
from sr_train.trainer_section import SchedulerSection, TrainerSection

CONFIG_DIRS = (Path(__file__).parent / "configs", Path(__file__).resolve().parents[2] / "configs")


@dataclass
class DatasetSection:
    """`nas.dataset` / `fully_train.dataset`: training patches and validation data of one stage.

    An epoch is `patches_per_epoch` random patches of `patch_size` HR pixels. `val`: "holdout:N"
    (the last N training images), "samples", a benchmark name or a folder. `val_crop` > 0:
    validate on the centre `val_crop` x `val_crop` HR crop of each image.
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
        return self.patches_per_epoch // self.batch_size


@dataclass
class NasSection:
    dataset: DatasetSection = field(default_factory=lambda: DatasetSection(val_crop=256))
    search_space: ESRSearchSpace = field(default_factory=ESRSearchSpace)
    search_algorithm: ESRSearchAlgorithm = field(default_factory=ESRSearchAlgorithm)
    trainer: TrainerSection = field(default_factory=lambda: TrainerSection(epochs=500))


@dataclass
class FullyTrainSection:
    top_k: int = 1  # how many of the best candidates are fully trained; 0: search only
    dataset: DatasetSection = field(default_factory=DatasetSection)
    trainer: TrainerSection = field(
        default_factory=lambda: TrainerSection(
            epochs=15000, lr_scheduler=SchedulerSection(milestones=[8000, 12000, 13500, 14500], gamma=0.5)
        )
    )

    def __post_init__(self) -> None:
        check_types(self)
        if self.top_k < 0:
            raise ConfigError(f"top_k must be >= 0 (0: search only), got {self.top_k}")


@dataclass
class EvaluateSection:
    """Test sets of the final table: names, folders, "samples"; "Set5?" is skipped when not found."""

    test: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class EsrConfig:
    nas: NasSection = field(default_factory=NasSection)
    fully_train: FullyTrainSection = field(default_factory=FullyTrainSection)
    evaluate: EvaluateSection = field(default_factory=EvaluateSection)

    def __post_init__(self) -> None:
        for stage in ("nas", "fully_train"):
            dataset, trainer = getattr(self, stage).dataset, getattr(self, stage).trainer
            for key in ("patch_size", "val_crop"):
                if (value := getattr(dataset, key)) % self.scale:
                    raise ConfigError(
                        f"{stage}.dataset.{key} {value} is not a multiple of the scale {self.scale}"
                    )
            try:  # the trainer as it will run, with its stage's batches
                trainer.train_config(self.scale, dataset.batch_size, dataset.steps_per_epoch)
            except ConfigError as err:
                raise ConfigError(f"{stage}.trainer.{err}") from None

    @property
    def scale(self) -> int:
        return self.nas.search_space.esrbody.scale


def load_config(
    name_or_path: str, assignments: Sequence[str] = (), data: dict[str, Any] | None = None
) -> tuple[EsrConfig, Path]:
    """(config, its file): a config file or shipped name with `--set KEY=VALUE` `assignments`
    merged over it; or, given `data`, that mapping (a run folder's record named `name_or_path`)."""
    path = Path(name_or_path) if data is not None else find_config(name_or_path, CONFIG_DIRS)
    data = read_yaml(path) if data is None else data
    return section_from_dict(EsrConfig, with_assignments(data, assignments), "", path), path
