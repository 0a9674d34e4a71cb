"""The `arch`, `search` and `train` sections of a QuantNAS config, with the reference's keys verbatim.

Each section is a dataclass whose field names are the keys of the reference's
`configs/quant_config.yaml` (On-Point-RND/QuantNAS); `sr_train.section_from_dict` builds one from a
mapping and rejects an unknown key or a value of the wrong type with an error naming the section,
the key and the file. Our few additions (marked "extension" below) are optional and default to the
reference's behaviour.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from sr_search_quantnas.architecture import BLOCK_TYPES
from sr_search_quantnas.image_output import image_output_options
from sr_search_quantnas.ops import UnknownOperationError, check_op_name
from sr_search_quantnas.quantizers import SUPPORTED_BITS
from sr_train import ConfigError, check_types

# The search space of the QuantNAS reference's quant_config.yaml (the reference's `arch.primitives`).
REFERENCE_PRIMITIVES = {
    "head": ["simple_3x3", "simple_5x5", "simple_3x3_grouped_3", "simple_5x5_grouped_3"],
    "body": ["conv_5x1_1x5", "conv_3x1_1x3", "simple_3x3", "simple_5x5"],
    "skip": ["simple_1x1", "simple_3x3", "simple_5x5"],
    "tail": ["simple_1x1", "simple_3x3", "simple_5x5", "simple_5x5_grouped_3", "simple_3x3_grouped_3"],
    "upsample": ["simple_5x5_grouped_3", "simple_3x3_grouped_3", "simple_3x3", "simple_5x5"],
}


@dataclass
class ArchSettings:
    """`arch`: the supernet. `bits: [32]` is a full-precision search; `skip_mode: false` = ADM.

    `act_bits` (extension): the activation widths, searched as a choice of their own (e.g. `bits:
    [8, 4]` with `act_bits: [8, 4]` reaches w4a8); unset, the activations follow the weight bits
    (the reference). `image_residual` (extension: none, nearest or bicubic) adds the upsampled input
    at the output and `clip_output` clips it to [0, 1] at inference (`image_output`); both off in
    the reference.
    """

    bits: list[int] = dataclasses.field(default_factory=lambda: [8, 4])
    channels: int = 3
    c_fixed: int = 36
    scale: int = 4
    arch_pattern: object = dataclasses.field(
        default_factory=lambda: {"head": 2, "skip": 1, "tail": 2, "body": 2, "upsample": 1}
    )
    body_cells: int = 3
    skip_mode: bool = True
    primitives: object = None
    act_bits: list[int] | None = None
    image_residual: Literal["none", "nearest", "bicubic"] = "none"
    clip_output: bool = False

    def __post_init__(self) -> None:
        check_types(self)
        if not self.bits or any(b < 1 or b > 32 for b in self.bits):
            raise ConfigError(f"bits must be a non-empty list of widths in 1..32, got {self.bits!r}")
        if self.act_bits is not None:
            bad = [b for b in self.act_bits if b not in SUPPORTED_BITS]
            if not self.act_bits or bad or len(set(self.act_bits)) != len(self.act_bits):
                raise ConfigError(
                    f"act_bits must be a non-empty list of distinct widths from {list(SUPPORTED_BITS)} "
                    f"(or unset: activations at the weight bits), got {self.act_bits!r}"
                )
        for key, count in _per_block_type("arch_pattern", self.arch_pattern, "count").items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ConfigError(f"arch_pattern.{key} must be a whole number >= 0, got {count!r}")
        if self.primitives is not None:
            for key, ops in _per_block_type("primitives", self.primitives, "op names").items():
                if not isinstance(ops, list) or not ops or not all(isinstance(op, str) for op in ops):
                    raise ConfigError(f"primitives.{key} must be a non-empty list of op names, got {ops!r}")
                for op in ops:
                    try:
                        check_op_name(op)
                    except UnknownOperationError as err:
                        raise ConfigError(f"primitives.{key}: {err}") from None
        for key in ("channels", "c_fixed", "scale", "body_cells"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)!r}")

    def pattern(self) -> dict[str, int]:
        """`arch_pattern` with every block type present (a missing type counts 0, as tail may be)."""
        return {key: int(self.arch_pattern.get(key, 0)) for key in BLOCK_TYPES}

    def network_args(self) -> dict[str, Any]:
        """What `network.build_network` (and `train_genotype`) take besides the genotype (the image
        output keys only when set, so that the checkpoints of networks without them read as before)."""
        args = {
            "scale": self.scale,
            "c_fixed": self.c_fixed,
            "body_cells": self.body_cells,
            "skip_mode": self.skip_mode,
            "in_channels": self.channels,
        }
        return {**args, **self.image_output_args()}

    def image_output_args(self) -> dict[str, Any]:
        """`image_residual` and `clip_output` where they differ from the reference's (none, off)."""
        return image_output_options(self.image_residual, self.clip_output)


def _per_block_type(name: str, value: Any, what: str) -> dict[str, Any]:
    """`value`, checked to be a mapping whose keys are block types (a ConfigError naming `name`)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a mapping of block type to {what}, got {value!r}")
    for key in value:
        if key not in BLOCK_TYPES:
            raise ConfigError(f"{name}: unknown block type {key!r}; known: {', '.join(BLOCK_TYPES)}")
    return value


@dataclass
class SearchSettings:
    """`search`: the bi-level optimisation, the penalty and the sparsity regulariser.

    `penalty` weighs the normalised expected BitOps; `sparse_type` is one of entropy, l1,
    l1_softmax, none, weighed by `sparse_coef`; alphas stay frozen for the first `warm_up` epochs;
    the selector temperature goes linearly from `temp_max` to `temp_min` after them.
    """

    warm_up: int = 0
    load_path: str | None = None
    penalty: float = 0.0
    alpha_selector: Literal["softmax", "gumbel", "hard_gumbel"] = "softmax"
    sparse_type: Literal["entropy", "l1", "l1_softmax", "none"] = "entropy"
    sparse_coef: float = 1e-3
    optimizer: Literal["adam", "sgd"] = "adam"
    quant_noise: bool = False
    lr_scheduler: Literal["cosine", "linear"] = "cosine"
    w_lr: float = 1e-3
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-8
    w_grad_clip: float = 5.0
    epochs: int = 20
    alpha_lr: float = 3e-4
    alpha_weight_decay: float = 0.0
    temp_max: float = 10.0
    temp_min: float = 0.1
    # extension: separate weights per bit width (the third mixed-precision mode); excludes quant_noise
    separate_weights: bool = False

    def __post_init__(self) -> None:
        check_types(self)
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs!r}")
        if not 0 <= self.warm_up:
            raise ConfigError(f"warm_up must be >= 0, got {self.warm_up!r}")
        for key in ("penalty", "sparse_coef", "w_weight_decay", "alpha_weight_decay", "w_momentum"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be >= 0, got {getattr(self, key)!r}")
        for key in ("w_lr", "alpha_lr", "w_grad_clip", "temp_max", "temp_min"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key} must be > 0, got {getattr(self, key)!r}")
        if self.quant_noise and self.separate_weights:
            raise ConfigError(
                "quant_noise and separate_weights exclude each other (pick one mixed-precision mode)"
            )

    @property
    def quant_mode(self) -> str:
        """The supernet's mixed-precision mode: "noise", "separate" or "shared"."""
        if self.quant_noise:
            return "noise"
        return "separate" if self.separate_weights else "shared"


@dataclass
class TrainSettings:
    """`train`: training a found genotype from scratch (`warm_up` full-precision epochs first)."""

    warm_up: int = 0
    lr_scheduler: Literal["cosine", "linear"] = "cosine"
    lr: float = 1e-4
    weight_decay: float = 0.0
    print_freq: int = 200
    epochs: int = 30
    genotype_path: str | None = None
    # extension: every activation quantiser at this width (weights keep the genotype's bits), for
    # uniform baselines such as w4a8; None = each genotype entry's activation bits
    act_bits: int | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if self.act_bits is not None and self.act_bits not in SUPPORTED_BITS:
            raise ConfigError(f"act_bits must be one of {list(SUPPORTED_BITS)}, got {self.act_bits!r}")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs!r}")
        if not 0 <= self.warm_up <= self.epochs:
            raise ConfigError(f"warm_up must be in 0..epochs ({self.epochs}), got {self.warm_up!r}")
        if not self.lr > 0 or self.weight_decay < 0 or self.print_freq < 1:
            raise ConfigError(
                f"need lr > 0, weight_decay >= 0, print_freq >= 1; got lr={self.lr!r}, "
                f"weight_decay={self.weight_decay!r}, print_freq={self.print_freq!r}"
            )
