"""The QuantNAS network plan shared by the supernet and the derived network.

Blocks, in data order: ``head`` (in_channels -> c_fixed), ``body_cells`` residual cells of ``body``
and ``skip`` layers (c_fixed -> c_fixed, summed), ``upsample`` (c_fixed -> in_channels * scale^2,
then pixel shuffle) and ``tail`` (at HR resolution, in_channels -> c_fixed -> ... -> in_channels;
may have 0 layers). Residuals: every cell, the whole body (around the head's output) and the tail.
"""

from __future__ import annotations

from collections.abc import Mapping

# The reference's order of alphas (SearchCNNController.alphas_names).
BLOCK_TYPES = ("head", "body", "skip", "upsample", "tail")

_HEAD_OPS = (
    "conv_5x1_1x5", "conv_3x1_1x3", "simple_1x1", "simple_3x3", "simple_5x5", "growth2_5x5", "growth2_3x3",
    "simple_1x1_grouped_3", "simple_3x3_grouped_3", "simple_5x5_grouped_3",
)  # fmt: skip
_BODY_OPS = (
    "skip_connect", "conv_5x1_1x5", "conv_3x1_1x3", "simple_3x3", "simple_1x1", "simple_5x5",
    "simple_1x1_grouped_3", "simple_3x3_grouped_3", "simple_5x5_grouped_3", "DWS_3x3", "DWS_5x5",
    "growth2_5x5", "growth2_3x3", "decenc_3x3_4", "decenc_3x3_2", "decenc_5x5_2", "decenc_5x5_8",
    "decenc_3x3_8", "decenc_3x3_4_g3", "decenc_3x3_2_g3", "decenc_5x5_2_g3",
)  # fmt: skip

# The reference's default search space (genotypes.PRIMITIVES_SR, 2022): skip uses the body list,
# tail and upsample the head list.
DEFAULT_PRIMITIVES: dict[str, tuple[str, ...]] = {
    "head": _HEAD_OPS,
    "body": _BODY_OPS,
    "skip": _BODY_OPS,
    "upsample": _HEAD_OPS,
    "tail": _HEAD_OPS,
}


def check_arch_pattern(arch_pattern: Mapping[str, int]) -> dict[str, int]:
    """Validate ``arch_pattern`` (layers per block type): all five keys, ints, tail >= 0, others >= 1."""
    if not isinstance(arch_pattern, Mapping):
        raise ValueError(f"arch_pattern must be a mapping of {', '.join(BLOCK_TYPES)}, got {arch_pattern!r}")
    unknown = sorted(set(arch_pattern) - set(BLOCK_TYPES))
    missing = [name for name in BLOCK_TYPES if name not in arch_pattern]
    if unknown or missing:
        raise ValueError(f"arch_pattern: unknown keys {unknown}, missing keys {missing}")
    for name in BLOCK_TYPES:
        count = arch_pattern[name]
        low = 0 if name == "tail" else 1
        if isinstance(count, bool) or not isinstance(count, int) or count < low:
            raise ValueError(f"arch_pattern.{name} must be an integer >= {low}, got {count!r}")
    return {name: arch_pattern[name] for name in BLOCK_TYPES}


def layer_channels(
    block: str, index: int, count: int, c_fixed: int, in_channels: int, scale: int
) -> tuple[int, int]:
    """(C_in, C_out) of layer ``index`` of ``count`` in ``block`` (the reference's CommonBlock plan).

    An upsample block of more than one layer keeps c_fixed until its last layer (the reference only
    works with one).
    """
    first, last = index == 0, index == count - 1
    if block == "head":
        return (in_channels if first else c_fixed), c_fixed
    if block == "tail":
        return (in_channels if first else c_fixed), (in_channels if last else c_fixed)
    if block == "upsample":
        return c_fixed, (in_channels * scale * scale if last else c_fixed)
    if block in ("body", "skip"):
        return c_fixed, c_fixed
    raise ValueError(f"unknown block type {block!r}; known: {', '.join(BLOCK_TYPES)}")


def check_scale(scale: int) -> int:
    """Return ``scale`` if it is an integer upscaling factor >= 1."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
    return scale
