"""Zoo recipes: one YAML file = model + data + training settings of a classic training recipe.

```yaml
model: {name: imdn, kwargs: {}}          # --model overrides the name
data: {patch_size: 128, patches_per_epoch: 16000, val: holdout:10, test: [Set5, Set14, BSD68]}
train: {steps: 1000, batch_size: 16, lr: 2.0e-4, ...}   # any sr_train.TrainConfig field
```

An unknown key, a key given twice or an empty file is an error naming the key and the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_train import (
    ConfigError,
    TrainConfig,
    check_keys,
    check_types,
    find_config,
    read_yaml,
    section_from_dict,
    shipped_configs,
)

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

    `val` and `test` take sr_data's grammar (`open_validation`, `open_test_sets`): `val` is
    "holdout:N" (the last N training images, kept out of training), "samples" (the bundled test
    photos), "none", a benchmark name (Set5, ...) or a folder; `test` lists benchmark names, folders
    or "samples" for the final table. A test set that is not found stops the run before it starts;
    "Set5?" is optional (skipped with a note when it is not found).
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


def shipped_recipes() -> list[str]:
    """Names of the recipes in configs/."""
    return shipped_configs(CONFIG_DIRS)


def load_recipe(name_or_path: str) -> Recipe:
    """Read and check a recipe; errors name the file and the offending key/value."""
    path = find_config(name_or_path, CONFIG_DIRS)
    data = read_yaml(path)
    where = str(path)
    check_keys(data, {"model", "data", "train"}, "", where)
    model = section_from_dict(ModelSection, data.get("model"), "model", where)
    data_section = section_from_dict(DataSection, data.get("data"), "data", where)
    train = data.get("train") or {}
    if not isinstance(train, dict):
        raise ConfigError(f"section 'train' in {where} must be a mapping")
    recipe = Recipe(model, data_section, train, where)
    TrainConfig.from_dict(
        {"steps": 1, **train} if "epochs" not in train and "steps" not in train else train, source=where
    )  # checks every key and type now, before any work
    return recipe
