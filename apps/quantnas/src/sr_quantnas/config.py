"""QuantNAS run configs: the reference's YAML (`dataset`, `arch`, `env`, `search`, `train`), keys verbatim.

`arch`, `search` and `train` are sr_search_quantnas.settings' sections; `dataset` and `env` are the
app's. An unknown section or key, a value of the wrong type, a duplicate key, an empty file or an
impossible combination is a ConfigError naming the key and the file. `dataset.files_list` names the
training images (here "samples", a DIV2K root or a folder of HR images; `--data` overrides it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_search_quantnas.settings import ArchSettings, SearchSettings, TrainSettings
from sr_train import ConfigError, check_types, config_dirs, load_section, merge
from sr_train.strict_config import section_from_dict, section_to_dict

CONFIG_DIRS = config_dirs(__file__)


@dataclass
class DatasetSettings:
    """`dataset`: training images, LR patch side (`crop_size`), batch, the search's share of patches."""

    scale: int = 4
    search_subsample: float = 0.7
    batch_size: int = 32
    crop_size: int = 45
    files_list: str = "samples"
    debug_mode: bool = False  # two batches per epoch
    # extension: patches per epoch (default: the reference's count of 200x200/stride-70 HR tiles)
    patches_per_epoch: int | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if not 0 < self.search_subsample <= 1:
            raise ConfigError(f"search_subsample must be in (0, 1], got {self.search_subsample!r}")
        for key in ("scale", "batch_size", "crop_size", "patches_per_epoch"):
            if (value := getattr(self, key)) is not None and value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value!r}")


@dataclass
class EnvSettings:
    """`env`: run name, device (`gpu`: an index, "cpu", "auto" or "cuda:N"), output root, seed, logging."""

    run_name: str = "quantnas"
    gpu: object = "auto"
    log_dir: str = "runs/quantnas"
    im_dir: str = "arch_images"
    workers: int = 0
    seed: int = 777
    print_freq: int = 60

    def __post_init__(self) -> None:
        check_types(self)
        if isinstance(self.gpu, bool) or not isinstance(self.gpu, (int, str)):
            raise ConfigError(f"gpu must be a device index, 'cpu', 'auto' or 'cuda:N', got {self.gpu!r}")
        if self.workers < 0 or self.print_freq < 1:
            raise ConfigError(f"need workers >= 0 and print_freq >= 1, got {self.workers}, {self.print_freq}")

    def device_name(self) -> str:
        """`gpu` in sr_eval.runtime.resolve_device's words (an index N is cuda:N)."""
        return f"cuda:{self.gpu}" if isinstance(self.gpu, int) else self.gpu


@dataclass
class QuantNASConfig:
    """A whole run config: the five sections of the reference's YAML."""

    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    arch: ArchSettings = field(default_factory=ArchSettings)
    env: EnvSettings = field(default_factory=EnvSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.dataset.scale != self.arch.scale:
            raise ConfigError(f"dataset.scale {self.dataset.scale} and arch.scale {self.arch.scale} differ")


def load_config(name_or_path: str | Path, changes: dict[str, Any] | None = None) -> QuantNASConfig:
    """Read and check a config file (or a shipped one by name), with command-line `changes` merged in."""
    return load_section(QuantNASConfig, name_or_path, CONFIG_DIRS, changes, changes_from="the command line")[
        0
    ]


def with_changes(config: QuantNASConfig, changes: dict[str, Any], source: str) -> QuantNASConfig:
    """A copy with `changes` ({section: {key: value}}) merged in and checked like a file."""
    return section_from_dict(QuantNASConfig, merge(section_to_dict(config), changes), "", source)
