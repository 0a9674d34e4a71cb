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
from typing import Any, ClassVar

from sr_train import TrainConfig, check_types, config_dirs, load_section, shipped_configs

CONFIG_DIRS = config_dirs(__file__)


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
    test: list[str] = field(default_factory=lambda: ["Set5?", "Set14?", "BSD68?"])
    cache: bool = True

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class Recipe:
    """A recipe file's three sections; `source` (the file) is named in errors."""

    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: dict = field(default_factory=dict)  # sr_train.TrainConfig fields
    source: ClassVar[str] = "a recipe"  # set per instance by load_recipe (not a key of the file)

    def __post_init__(self) -> None:
        check_types(self)

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
    recipe, path = load_section(Recipe, name_or_path, CONFIG_DIRS)
    recipe.source = str(path)
    budget = {} if {"steps", "epochs"} & recipe.train.keys() else {"steps": 1}  # else from --steps/--epochs
    TrainConfig.from_dict({**budget, **recipe.train}, source=recipe.source)  # every key and type, now
    return recipe
