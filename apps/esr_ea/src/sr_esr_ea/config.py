"""The ESR_EA configuration: the YAML of seed 000 (vega's esr_ea.yml keys, as written), checked.

```yaml
nas:
  dataset: {patch_size: 64, batch_size: 16, patches_per_epoch: 800, val: holdout:10}   # ours
  search_space:
    type: SearchSpace
    modules: [esrbody]
    esrbody: {type: ESRN, block_type: [S,G,C], conv_num: [4,6,8], growth_rate: [8,16,24,32],
              type_prob: [1,1,1], conv_prob: [1,1,1], growth_prob: [1,1,1,1], G0: 32, scale: 2}
  search_algorithm:
    type: ESRSearch
    codec: ESRCodec
    policy: {num_generation: 20, num_individual: 8, num_elitism: 4, mutation_rate: 0.05}
    range: {node_num: 20, min_active: 16, max_params: 325000, min_params: 315000}
  trainer: {epochs: 500}             # fast training of every candidate
fully_train:
  top_k: 1                           # ours: how many of the best candidates are fully trained
  dataset: {...}                     # as nas.dataset
  trainer:
    epochs: 15000
    lr_scheduler: {type: MultiStepLR, milestones: [8000, 12000, 13500, 14500], gamma: 0.5}
evaluate: {test: [Set5, Set14, BSD68]}   # ours
```

An epoch is `dataset.patches_per_epoch` random patches (vega's DIV2K epoch: one crop of each of the
800 images), so a trainer's budget is `epochs * (patches_per_epoch // batch_size)` optimiser steps;
`lr_scheduler.milestones` count epochs. A trainer may give `steps` instead of `epochs`. Besides
vega's `optim`, `lr_scheduler`, `loss` and `seed`, a trainer takes the sr_train.TrainConfig knobs
listed in `TRAINER_EXTRAS` under their TrainConfig names.

A section left out takes the seed's values (for `nas.trainer`: 500 epochs; for `fully_train.trainer`:
15000 epochs with the seed's milestones); keys left out of a section that is given take the defaults
of the classes below. An unknown key, or a value of the wrong type, is a ConfigError
naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sr_train import ConfigError, TrainConfig, check_keys, check_types, find_config, read_yaml
from sr_train import shipped_configs as shipped_config_names

CONFIG_DIRS = (Path(__file__).parent / "configs", Path(__file__).resolve().parents[2] / "configs")

# vega's type names -> sr_train's
OPTIMIZERS = {"Adam": "adam", "AdamW": "adamw"}
SCHEDULERS = {"MultiStepLR": "multistep", "CosineAnnealingLR": "cosine", "ConstantLR": "constant"}
LOSSES = {"L1Loss": "l1", "MSELoss": "mse", "CharbonnierLoss": "charbonnier"}

# TrainConfig fields a trainer section may set directly (the rest come from the sections above, from
# the dataset section, or from the command line)
TRAINER_EXTRAS = (
    "steps",
    "warmup_steps",
    "grad_clip",
    "ema_decay",
    "amp",
    "compile",
    "channels_last",
    "deterministic",
    "num_workers",
    "val_every",
    "val_ssim",
    "log_every",
    "checkpoint_every",
    "tensorboard",
    "charbonnier_eps",
)


@dataclass
class Section:
    """A config mapping with known keys and typed values (checked on construction)."""

    def __post_init__(self) -> None:
        check_types(self)


@dataclass
class ESRBody(Section):
    """`nas.search_space.esrbody`: the blocks that may be chosen and the network frame."""

    type: Literal["ESRN"] = "ESRN"
    block_type: list[str] = field(default_factory=lambda: ["S", "G", "C"])
    conv_num: list[int] = field(default_factory=lambda: [4, 6, 8])
    growth_rate: list[int] = field(default_factory=lambda: [8, 16, 24, 32])
    type_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    conv_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    growth_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0])
    G0: int = 32
    scale: int = 2


@dataclass
class SearchSpaceSection(Section):
    """`nas.search_space` (vega's wrapper: one module, `esrbody`)."""

    type: Literal["SearchSpace"] = "SearchSpace"
    modules: list[Literal["esrbody"]] = field(default_factory=lambda: ["esrbody"])
    esrbody: ESRBody = field(default_factory=ESRBody)


@dataclass
class Policy(Section):
    """`nas.search_algorithm.policy`: the seed's four keys plus sr_search_evo.EvoSettings' others."""

    num_generation: int = 20
    num_individual: int = 8
    num_elitism: int = 4
    mutation_rate: float = 0.05
    selection: Literal["tournament", "roulette"] = "tournament"
    tournament_size: int = 2
    crossover_rate: float = 0.5
    guided_mutation: bool = False
    objective: Literal["psnr", "nsga2"] = "psnr"
    seed: int = 0


@dataclass
class Range(Section):
    """`nas.search_algorithm.range`: block count and parameter budget of every candidate."""

    node_num: int = 20
    min_active: int = 16
    max_params: int = 325000
    min_params: int = 315000


@dataclass
class SearchAlgorithm(Section):
    """`nas.search_algorithm`."""

    type: Literal["ESRSearch"] = "ESRSearch"
    codec: Literal["ESRCodec"] = "ESRCodec"
    policy: Policy = field(default_factory=Policy)
    range: Range = field(default_factory=Range)


@dataclass
class DatasetSection(Section):
    """Training patches and validation data of one stage (`nas.dataset`, `fully_train.dataset`).

    `patch_size` is the HR patch side. `val`: "holdout:N" (the last N training images, kept out of
    training), "samples" (the bundled test photos), a benchmark name or folder. `val_crop`: when > 0,
    validation uses the centre `val_crop` x `val_crop` HR crop of each image (fast search fitness).
    """

    patch_size: int = 64
    batch_size: int = 16
    patches_per_epoch: int = 800
    val: str = "holdout:10"
    val_crop: int = 0


@dataclass
class Optim(Section):
    type: Literal["Adam", "AdamW"] = "Adam"
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    amsgrad: bool = False


@dataclass
class LrScheduler(Section):
    """Milestones count epochs (steps when the trainer gives `steps`)."""

    type: Literal["MultiStepLR", "CosineAnnealingLR", "ConstantLR"] = "MultiStepLR"
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.5
    min_lr: float = 0.0


@dataclass
class Loss(Section):
    type: Literal["L1Loss", "MSELoss", "CharbonnierLoss"] = "L1Loss"


@dataclass
class Trainer(Section):
    """A trainer section: budget, vega's optim/lr_scheduler/loss/seed, and `extras` (TrainConfig keys)."""

    epochs: int | None = None
    optim: Optim = field(default_factory=Optim)
    lr_scheduler: LrScheduler = field(default_factory=LrScheduler)
    loss: Loss = field(default_factory=Loss)
    seed: int = 0
    extras: dict = field(default_factory=dict)

    def train_config(self, dataset: DatasetSection, scale: int, **run: Any) -> TrainConfig:
        """The sr_train.TrainConfig of this trainer on `dataset` (`run`: device, out_dir, progress...)."""
        values = {
            "scale": scale,
            "epochs": self.epochs,
            "batch_size": dataset.batch_size,
            "loss": LOSSES[self.loss.type],
            "optimizer": OPTIMIZERS[self.optim.type],
            "lr": self.optim.lr,
            "betas": self.optim.betas,
            "weight_decay": self.optim.weight_decay,
            "amsgrad": self.optim.amsgrad,
            "scheduler": SCHEDULERS[self.lr_scheduler.type],
            "milestones": self.lr_scheduler.milestones,
            "gamma": self.lr_scheduler.gamma,
            "min_lr": self.lr_scheduler.min_lr,
            "seed": self.seed,
            **self.extras,
            **run,
        }
        if values.get("steps") is not None:
            values["epochs"] = None
        return TrainConfig.from_dict(values)

    def steps(self, dataset: DatasetSection) -> int:
        """The budget in optimiser steps (an epoch is patches_per_epoch // batch_size steps)."""
        if self.extras.get("steps") is not None:
            return self.extras["steps"]
        return self.epochs * max(1, dataset.patches_per_epoch // dataset.batch_size)


@dataclass
class Nas(Section):
    dataset: DatasetSection = field(default_factory=lambda: DatasetSection(val_crop=256))
    search_space: SearchSpaceSection = field(default_factory=SearchSpaceSection)
    search_algorithm: SearchAlgorithm = field(default_factory=SearchAlgorithm)
    trainer: Trainer = field(default_factory=lambda: Trainer(epochs=500))


@dataclass
class FullyTrain(Section):
    top_k: int = 1
    dataset: DatasetSection = field(default_factory=DatasetSection)
    trainer: Trainer = field(
        default_factory=lambda: Trainer(
            epochs=15000, lr_scheduler=LrScheduler(milestones=[8000, 12000, 13500, 14500], gamma=0.5)
        )
    )


@dataclass
class Evaluate(Section):
    """Test sets of the final table (names under sr_data's datasets root, folders, or "samples")."""

    test: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])


@dataclass
class EsrConfig:
    """A whole ESR_EA configuration; `source` is the file it came from."""

    nas: Nas
    fully_train: FullyTrain
    evaluate: Evaluate
    source: str

    @property
    def scale(self) -> int:
        return self.nas.search_space.esrbody.scale

    def to_dict(self) -> dict[str, Any]:
        """The configuration as YAML-ready data, in the file's own layout (loadable again)."""
        return {
            "nas": _plain(self.nas),
            "fully_train": _plain(self.fully_train),
            "evaluate": _plain(self.evaluate),
        }


def shipped_configs() -> list[str]:
    """Names of the configs in configs/."""
    return shipped_config_names(CONFIG_DIRS)


def load_config(name_or_path: str, overrides: dict[str, Any] | None = None) -> EsrConfig:
    """Read and check a config; `overrides` (nested like the file) are merged over it first."""
    path = find_config(name_or_path, CONFIG_DIRS)
    data = read_yaml(path)
    where = str(path)
    if overrides:
        data = merge(data, overrides)
    return config_from_dict(data, where)


def config_from_dict(data: Any, where: str) -> EsrConfig:
    """Check `data` (the parsed YAML) against the layout; errors name the key and `where`."""
    sections = _build(_Root, data, "", where)
    config = EsrConfig(sections.nas, sections.fully_train, sections.evaluate, where)
    _check_consistency(config)
    return config


def merge(base: Any, overrides: Any) -> Any:
    """`overrides` merged into `base` (nested mappings merged key by key, anything else replaced)."""
    if isinstance(base, dict) and isinstance(overrides, dict):
        merged = dict(base)
        for key, value in overrides.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return overrides


def parse_assignment(text: str) -> dict[str, Any]:
    """`"nas.trainer.epochs=2"` -> {"nas": {"trainer": {"epochs": 2}}} (the value read as YAML)."""
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", key.strip()):
        raise ConfigError(f"--set {text!r}: expected KEY.PATH=VALUE, e.g. nas.trainer.epochs=2")
    nested: Any = yaml.safe_load(value) if value.strip() else None
    for part in reversed(key.strip().split(".")):
        nested = {part: nested}
    return nested


@dataclass
class _Root(Section):
    nas: Nas = field(default_factory=Nas)
    fully_train: FullyTrain = field(default_factory=FullyTrain)
    evaluate: Evaluate = field(default_factory=Evaluate)


def _build(cls: type, data: Any, prefix: str, where: str, default: Any = None) -> Any:
    """An instance of the section dataclass `cls` from `data`, nested sections built recursively.

    A section absent from the file is `default` (the enclosing section's default for it, so
    `nas.dataset` and `fully_train.dataset` differ); a section present starts from the class defaults.
    """
    if data is None:
        data = {}
    else:
        default = None
    if cls is Trainer:
        return _build_trainer(data, prefix, where, default)
    check_keys(data, [f.name for f in dataclasses.fields(cls)], prefix, where)
    base = default if default is not None else cls()
    values = {}
    for f in dataclasses.fields(cls):
        inner = getattr(base, f.name)
        if f.type in _SECTIONS:
            values[f.name] = _build(_SECTIONS[f.type], data.get(f.name), f"{prefix}{f.name}.", where, inner)
        else:
            values[f.name] = data.get(f.name, inner)
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"{prefix}{err} in {where}") from None


def _build_trainer(data: dict, prefix: str, where: str, default: Trainer | None) -> Trainer:
    structured = {f.name for f in dataclasses.fields(Trainer)} - {"extras"}
    check_keys(data, structured | set(TRAINER_EXTRAS), prefix, where)
    base = default or Trainer()
    extras = {**base.extras, **{k: v for k, v in data.items() if k in TRAINER_EXTRAS}}
    try:
        trainer = Trainer(
            epochs=data.get("epochs", base.epochs),
            optim=_build(Optim, data.get("optim"), f"{prefix}optim.", where, base.optim),
            lr_scheduler=_build(
                LrScheduler, data.get("lr_scheduler"), f"{prefix}lr_scheduler.", where, base.lr_scheduler
            ),
            loss=_build(Loss, data.get("loss"), f"{prefix}loss.", where, base.loss),
            seed=data.get("seed", base.seed),
            extras=extras,
        )
        # every extra and the budget are checked by TrainConfig itself, now, before any work
        trainer.train_config(DatasetSection(), scale=2)
    except ConfigError as err:
        raise ConfigError(f"{prefix}{err} in {where}") from None
    return trainer


def _check_consistency(config: EsrConfig) -> None:
    """Values that are well typed but cannot work together."""
    where = config.source
    body = config.nas.search_space.esrbody
    for values, probs in (
        ("block_type", "type_prob"),
        ("conv_num", "conv_prob"),
        ("growth_rate", "growth_prob"),
    ):
        if len(getattr(body, values)) != len(getattr(body, probs)):
            raise ConfigError(
                f"nas.search_space.esrbody.{probs} has {len(getattr(body, probs))} entries but "
                f"{values} has {len(getattr(body, values))} in {where}"
            )
    if config.fully_train.top_k < 1:
        raise ConfigError(f"fully_train.top_k must be >= 1, got {config.fully_train.top_k} in {where}")
    for stage in ("nas", "fully_train"):
        dataset = getattr(config, stage).dataset
        if dataset.patch_size % body.scale:
            raise ConfigError(
                f"{stage}.dataset.patch_size {dataset.patch_size} is not a multiple of the scale "
                f"{body.scale} in {where}"
            )


def _plain(section: Any) -> Any:
    if isinstance(section, Trainer):
        values = {"epochs": section.epochs} if section.epochs is not None else {}
        values.update(
            optim=_plain(section.optim),
            lr_scheduler=_plain(section.lr_scheduler),
            loss=_plain(section.loss),
            seed=section.seed,
            **section.extras,
        )
        return values
    if dataclasses.is_dataclass(section):
        return {f.name: _plain(getattr(section, f.name)) for f in dataclasses.fields(section)}
    return section


_SECTIONS = {
    cls.__name__: cls
    for cls in (
        ESRBody,
        SearchSpaceSection,
        Policy,
        Range,
        SearchAlgorithm,
        DatasetSection,
        Optim,
        LrScheduler,
        Loss,
        Trainer,
        Nas,
        FullyTrain,
        Evaluate,
    )
}
