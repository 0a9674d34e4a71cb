"""The ESR_EA config: ESR_EA's YAML keys (vega's esr_ea.yml) mapped onto the packages' sections.

`nas.search_space` and `nas.search_algorithm` (its `policy` and `range`) are sr_search_evo's
sections, `nas.trainer` and `fully_train.trainer` sr_train's TrainerSection (vega's `epochs`,
`optim: {type: Adam}`, `lr_scheduler: {type: MultiStepLR, milestones}`, `loss: {type: L1Loss}`),
the `dataset` sections sr_train's DatasetSection, `fully_train.top_k` and `evaluate.test` ours. A
section left out takes ESR_EA's values (500 epochs of fast training, 15000 of full training with ESR_EA's
milestones); an unknown key, a wrong type or an impossible combination is a ConfigError naming the
key and the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_search_evo import ESRSearchAlgorithm, ESRSearchSpace
from sr_train import ConfigError, DatasetSection, check_types, config_dirs, load_section, with_assignments
from sr_train.trainer_section import SchedulerSection, TrainerSection

CONFIG_DIRS = config_dirs(__file__)


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
        return self.nas.search_space.scale


def load_config(
    name_or_path: str, assignments: Sequence[str] = (), data: dict[str, Any] | None = None
) -> tuple[EsrConfig, Path]:
    """(config, its file): a config file or shipped name with `--set KEY=VALUE` `assignments`
    merged over it; or, given `data`, that mapping (a run folder's record named `name_or_path`)."""
    return load_section(EsrConfig, name_or_path, CONFIG_DIRS, with_assignments({}, assignments), data)
