"""Zoo recipes: one YAML file = model + data + training settings of a classic training recipe.

```yaml
model: {name: imdn, kwargs: {}}          # --model overrides the name
data: {patch_size: 128, patches_per_epoch: 16000, val: samples, test: [Set5, Set14, BSD68]}
train: {steps: 1000, batch_size: 16, lr: 2.0e-4, ...}   # any sr_train.TrainConfig field
```

An unknown key in any section is an error naming the key and the file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sr_train import ConfigError, TrainConfig
from sr_train.config import check_types

CONFIG_DIRS = (Path(__file__).parent / "configs", Path(__file__).resolve().parents[2] / "configs")


@dataclass
class ModelSection:
    """Which registered model, with which constructor arguments."""

    name: str | None = None
    kwargs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class DataSection:
    """Training patches and the validation / test sets.

    `val`: "samples" (the bundled test photos), "holdout:N" (the last N training images, kept out
    of training), a benchmark name (Set5, ...) or a folder, or "none". `test`: benchmark names or
    folders for the final table (the bundled test photos are used when none is found).
    """

    patch_size: int = 96
    patches_per_epoch: int = 16000
    val: str = "holdout:5"
    test: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])
    cache: bool = True

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class Recipe:
    model: ModelSection
    data: DataSection
    train: dict[str, Any]
    source: str

    def train_config(self, **overrides: Any) -> TrainConfig:
        """The TrainConfig of this recipe with `overrides` (None values ignored) applied."""
        values = {**self.train, **{k: v for k, v in overrides.items() if v is not None}}
        if overrides.get("steps") is not None:
            values.pop("epochs", None)
        if overrides.get("epochs") is not None:
            values.pop("steps", None)
        return TrainConfig.from_dict(values, source=self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": dataclasses.asdict(self.model),
            "data": dataclasses.asdict(self.data),
            "train": dict(self.train),
        }


def find_recipe(name_or_path: str) -> Path:
    """A YAML path as given, or the shipped recipe of that name (e.g. "imdn" -> configs/imdn.yaml)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        return path
    for folder in CONFIG_DIRS:
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no config file {name_or_path!r} and no shipped recipe of that name; shipped: "
        f"{', '.join(shipped_recipes())}"
    )


def shipped_recipes() -> list[str]:
    """Names of the recipes in configs/."""
    return sorted({p.stem for folder in CONFIG_DIRS if folder.is_dir() for p in folder.glob("*.yaml")})


def load_recipe(name_or_path: str) -> Recipe:
    """Read and check a recipe; errors name the file and the offending key/value."""
    path = find_recipe(name_or_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = str(path)
    _check_keys(data, {"model", "data", "train"}, "", where)
    model = _section(ModelSection, data.get("model") or {}, "model", where)
    data_section = _section(DataSection, data.get("data") or {}, "data", where)
    train = data.get("train") or {}
    if not isinstance(train, dict):
        raise ConfigError(f"section 'train' in {where} must be a mapping")
    recipe = Recipe(model, data_section, train, where)
    TrainConfig.from_dict(
        {"steps": 1, **train} if "epochs" not in train and "steps" not in train else train, source=where
    )  # checks every key and type now, before any work
    return recipe


def _check_keys(data: Any, known: set[str], prefix: str, where: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'} in {where} must be a mapping, got {data!r}")
    for key in data:
        if key not in known:
            raise ConfigError(
                f"unknown config key '{prefix}{key}' in {where}; known: {', '.join(sorted(known))}"
            )


def _section(cls: type, data: dict, name: str, where: str) -> Any:
    _check_keys(data, {f.name for f in dataclasses.fields(cls)}, f"{name}.", where)
    try:
        return cls(**data)
    except ConfigError as err:
        raise ConfigError(f"{name}.{err} in {where}") from None
