"""QuantNAS run configs: the reference's YAML (`dataset`, `arch`, `env`, `search`, `train`), keys verbatim.

`load_config("quant_config.yaml")` reads a file, or a shipped config of that name (configs/);
an unknown section or key, or a value of the wrong type, is an error naming it and the file.
`arch`, `search` and `train` are sr_search_quantnas.settings' sections; `dataset` and `env` are
the pipeline's. `dataset.files_list` names the training images (the reference's list of DIV2K
tiles; here "samples", a DIV2K root or a folder of HR images, overridden by `--data`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from sr_data import write_text_atomic
from sr_search_quantnas.settings import ArchSettings, SearchSettings, TrainSettings
from sr_train import ConfigError, check_keys, check_types, find_config, read_yaml, section_from_dict
from sr_train import shipped_configs as shipped_config_names

CONFIG_DIRS = (Path(__file__).parent / "configs", Path(__file__).resolve().parents[2] / "configs")


@dataclass
class DatasetSettings:
    """`dataset`: training images, LR patch side (`crop_size`), batch, the search's share of patches."""

    scale: int = 4
    search_subsample: float = 0.7
    batch_size: int = 32
    crop_size: int = 45
    files_list: str = "samples"
    debug_mode: bool = False
    # extension: patches per epoch (default: the reference's count of 200x200/stride-70 HR tiles)
    patches_per_epoch: int | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if not 0 < self.search_subsample <= 1:
            raise ConfigError(f"search_subsample must be in (0, 1], got {self.search_subsample!r}")
        for key in ("scale", "batch_size", "crop_size"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if self.patches_per_epoch is not None and self.patches_per_epoch < 1:
            raise ConfigError(f"patches_per_epoch must be >= 1, got {self.patches_per_epoch!r}")


@dataclass
class EnvSettings:
    """`env`: run name, device (`gpu`: an index, "cpu" or "auto"), output folder, seed, logging."""

    run_name: str = "quantnas"
    gpu: object = "auto"
    log_dir: str = "runs/quantnas"
    im_dir: str = "arch_images"
    workers: int = 0
    seed: int = 777
    print_freq: int = 60

    def __post_init__(self) -> None:
        check_types(self)
        valid_gpu = isinstance(self.gpu, int) and not isinstance(self.gpu, bool) and self.gpu >= 0
        if not valid_gpu and self.gpu not in ("cpu", "auto"):
            raise ConfigError(f"gpu must be a device index, 'cpu' or 'auto', got {self.gpu!r}")
        if self.workers < 0 or self.print_freq < 1:
            raise ConfigError(
                f"need workers >= 0 and print_freq >= 1, got {self.workers!r}, {self.print_freq!r}"
            )

    def device(self) -> str:
        """The torch device: cuda:<gpu> when CUDA is present, else the CPU."""
        if self.gpu == "cpu" or not torch.cuda.is_available():
            return "cpu"
        return "cuda" if self.gpu == "auto" else f"cuda:{self.gpu}"


@dataclass
class QuantNASConfig:
    """A whole run config; `source` is the file it came from (named in errors)."""

    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    arch: ArchSettings = field(default_factory=ArchSettings)
    env: EnvSettings = field(default_factory=EnvSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    source: str | None = None

    def __post_init__(self) -> None:
        if self.dataset.scale != self.arch.scale:
            raise ConfigError(
                f"dataset.scale ({self.dataset.scale}) and arch.scale ({self.arch.scale}) differ"
                + (f" in {self.source}" if self.source else "")
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping of the five sections (what a run folder's config.yaml holds)."""
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def replace(self, section: str, **changes: Any) -> QuantNASConfig:
        """A copy with some keys of one section changed (checked like the original)."""
        data = self.to_dict()
        data[section].update(changes)
        return config_from_dict(data, self.source)


SECTIONS = {
    "dataset": DatasetSettings,
    "arch": ArchSettings,
    "env": EnvSettings,
    "search": SearchSettings,
    "train": TrainSettings,
}


def config_from_dict(data: Any, source: str | None = None) -> QuantNASConfig:
    """Check and build a config from a mapping of sections."""
    check_keys(data, SECTIONS, source=source, what="config section")
    sections = {name: section_from_dict(cls, data.get(name), name, source) for name, cls in SECTIONS.items()}
    return QuantNASConfig(**sections, source=source)


def shipped_configs() -> list[str]:
    """Names of the configs in configs/."""
    return shipped_config_names(CONFIG_DIRS)


def load_config(name_or_path: str | Path) -> QuantNASConfig:
    """Read and check a config file (or a shipped one by name)."""
    path = find_config(name_or_path, CONFIG_DIRS)
    return config_from_dict(read_yaml(path), str(path))


def save_config(config: QuantNASConfig, path: Path) -> None:
    """Write the config used by a run (atomic)."""
    write_text_atomic(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
