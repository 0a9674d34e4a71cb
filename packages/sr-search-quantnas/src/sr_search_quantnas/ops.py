"""QuantNAS operations by name: which convolutions each one is made of.

An operation is a chain of convolutions (each preceded by the activation quantiser), an identity
(``skip_connect``) or ``zero``. Names follow the QuantNAS reference (On-Point-RND/QuantNAS, 2022),
and the shapes are the reference's, including its quirks:

* ``simple_KxK``: one KxK conv C_in -> C_out; ``simple_KxK_grouped_G`` with G groups
  (``_grouped_full``: depthwise, groups = C_in).
* ``conv_Kx1_1xK``: Kx1 conv C_in -> C_fixed, then 1xK conv C_fixed -> C_out.
* ``growthN_KxK``: KxK conv C_in -> N*C_fixed, then KxK conv N*C_fixed -> C_out.
* ``decenc_KxK_R`` / ``decenc_KxK_R_gG``: three KxK convs C_in -> C_fixed/R -> C_fixed/R -> C_out
  (G groups each; the middle conv's input is C_in/R, so C_in must equal C_fixed).
* ``DWS_KxK``: a 1x1 conv C_in -> 4*C_in, then a grouped 1x1 conv 4*C_in -> C_in with C_in groups.
  As in the reference, K does not change the convolutions and C_out must equal C_in.
* ``skip_connect``: identity; ``zero``: outputs zeros (both need C_in == C_out).

Padding keeps the spatial size (K odd, stride 1 everywhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The names the reference's OPS table defines (listed in the unknown-name error).
REFERENCE_OPS = (
    "zero", "skip_connect",
    "conv_5x1_1x5", "conv_3x1_1x3",
    "simple_1x1", "simple_3x3", "simple_5x5", "simple_9x9",
    "simple_1x1_grouped_full", "simple_3x3_grouped_full", "simple_5x5_grouped_full",
    "simple_1x1_grouped_3", "simple_3x3_grouped_3", "simple_5x5_grouped_3",
    "DWS_3x3", "DWS_5x5", "growth2_3x3", "growth2_5x5",
    "decenc_3x3_4", "decenc_3x3_2", "decenc_5x5_2", "decenc_5x5_4", "decenc_3x3_8", "decenc_5x5_8",
    "decenc_3x3_4_g3", "decenc_3x3_2_g3", "decenc_5x5_2_g3", "decenc_5x5_4_g3", "decenc_3x3_8_g3",
    "decenc_5x5_8_g3",
)  # fmt: skip

NAME_PATTERNS = (
    "simple_KxK", "simple_KxK_grouped_G", "simple_KxK_grouped_full", "conv_Kx1_1xK", "growthN_KxK",
    "decenc_KxK_R", "decenc_KxK_R_gG", "DWS_KxK", "skip_connect", "zero",
)  # fmt: skip

_SIMPLE = re.compile(r"simple_(\d+)x(\d+)(?:_grouped_(\d+|full))?")
_FACTORISED = re.compile(r"conv_(\d+)x1_1x(\d+)")
_GROWTH = re.compile(r"growth(\d+)_(\d+)x(\d+)")
_DECENC = re.compile(r"decenc_(\d+)x(\d+)_(\d+)(?:_g(\d+))?")
_DWS = re.compile(r"DWS_(\d+)x(\d+)")


class UnknownOperationError(ValueError):
    """An operation name that is not one of the QuantNAS operations."""


@dataclass(frozen=True)
class ConvSpec:
    """One stride-1, bias-free convolution of an operation."""

    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    groups: int = 1

    @property
    def padding(self) -> tuple[int, int]:
        """Padding that keeps the spatial size."""
        return self.kernel[0] // 2, self.kernel[1] // 2

    def macs(self, height: int, width: int) -> int:
        """Multiply-accumulates for one input of ``height`` x ``width`` pixels."""
        per_pixel = self.out_channels * (self.in_channels // self.groups) * self.kernel[0] * self.kernel[1]
        return per_pixel * height * width


@dataclass(frozen=True)
class OpSpec:
    """An operation: ``kind`` is "conv" (a chain of ``convs``), "identity" or "zero"."""

    name: str
    kind: str
    in_channels: int
    out_channels: int
    convs: tuple[ConvSpec, ...] = ()

    def macs(self, height: int, width: int) -> int:
        """Multiply-accumulates of the whole operation for one input of ``height`` x ``width``."""
        return sum(conv.macs(height, width) for conv in self.convs)


def _unknown(name: str, why: str = "") -> UnknownOperationError:
    reason = f" ({why})" if why else ""
    return UnknownOperationError(
        f"unknown operation {name!r}{reason}; known operations: {', '.join(REFERENCE_OPS)} "
        f"(patterns: {', '.join(NAME_PATTERNS)}, K odd)"
    )


def _square_kernel(name: str, first: str, second: str) -> int:
    if first != second:
        raise _unknown(name, "kernel must be square")
    size = int(first)
    if size < 1 or size % 2 == 0:
        raise _unknown(name, "kernel size must be odd")
    return size


@dataclass(frozen=True)
class _Recipe:
    """What an operation name says: family, kernel size and the family's number (groups, growth...)."""

    family: str
    kernel: int = 1
    number: int = 1
    groups: int = 1
    full_groups: bool = False


def _parse_name(name: object) -> _Recipe:
    if not isinstance(name, str):
        raise _unknown(repr(name), "not a string")
    if name in ("skip_connect", "zero"):
        return _Recipe(name)
    if match := _SIMPLE.fullmatch(name):
        groups = match[3] or "1"
        full = groups == "full"
        return _Recipe(
            "simple", _square_kernel(name, match[1], match[2]), 1, 1 if full else int(groups), full
        )
    if match := _FACTORISED.fullmatch(name):
        return _Recipe("factorised", _square_kernel(name, match[1], match[2]))
    if match := _GROWTH.fullmatch(name):
        return _Recipe("growth", _square_kernel(name, match[2], match[3]), int(match[1]))
    if match := _DECENC.fullmatch(name):
        return _Recipe("decenc", _square_kernel(name, match[1], match[2]), int(match[3]), int(match[4] or 1))
    if match := _DWS.fullmatch(name):
        return _Recipe("dws", _square_kernel(name, match[1], match[2]))
    raise _unknown(name)


def check_op_name(name: str) -> str:
    """Return ``name`` if it names a QuantNAS operation, else raise UnknownOperationError."""
    recipe = _parse_name(name)
    if recipe.number < 1 or recipe.groups < 1:
        raise _unknown(name, "growth, reduction and groups must be positive")
    return name


def _conv(name: str, c_in: int, c_out: int, kernel: tuple[int, int], groups: int = 1) -> ConvSpec:
    if min(c_in, c_out, groups) < 1 or c_in % groups or c_out % groups:
        raise ValueError(
            f"operation {name!r}: a conv {c_in}->{c_out} channels cannot have {groups} groups "
            "(channels must be positive multiples of the groups)"
        )
    return ConvSpec(c_in, c_out, kernel, groups)


def _conv_chain(name: str, recipe: _Recipe, c_in: int, c_out: int, c_fixed: int) -> tuple[ConvSpec, ...]:
    k = recipe.kernel
    if recipe.family == "simple":
        return (_conv(name, c_in, c_out, (k, k), c_in if recipe.full_groups else recipe.groups),)
    if recipe.family == "factorised":
        return _conv(name, c_in, c_fixed, (k, 1)), _conv(name, c_fixed, c_out, (1, k))
    if recipe.family == "growth":
        wide = c_fixed * recipe.number
        return _conv(name, c_in, wide, (k, k)), _conv(name, wide, c_out, (k, k))
    if recipe.family == "decenc":
        narrow = c_fixed // recipe.number
        if c_in // recipe.number != narrow:
            raise ValueError(
                f"operation {name!r}: needs C_in // {recipe.number} == C_fixed // {recipe.number} "
                f"(got C_in={c_in}, C_fixed={c_fixed})"
            )
        return (
            _conv(name, c_in, narrow, (k, k), recipe.groups),
            _conv(name, narrow, narrow, (k, k), recipe.groups),
            _conv(name, narrow, c_out, (k, k), recipe.groups),
        )
    # DWS
    if c_out != c_in:
        raise ValueError(f"operation {name!r}: DWS outputs C_in channels; got C_in={c_in}, C_out={c_out}")
    return _conv(name, c_in, 4 * c_in, (1, 1)), _conv(name, 4 * c_in, c_in, (1, 1), c_in)


def op_spec(name: str, c_in: int, c_out: int, c_fixed: int) -> OpSpec:
    """The convolutions of operation ``name`` between ``c_in`` and ``c_out`` channels.

    Raises UnknownOperationError (a ValueError) listing the known names for an unknown ``name``,
    and a ValueError naming the operation when the channel counts do not fit it.
    """
    recipe = _parse_name(check_op_name(name))
    if recipe.family in ("skip_connect", "zero"):
        if c_in != c_out:
            raise ValueError(f"operation {name!r} needs C_in == C_out, got {c_in} and {c_out}")
        return OpSpec(name, "identity" if name == "skip_connect" else "zero", c_in, c_out)
    return OpSpec(name, "conv", c_in, c_out, _conv_chain(name, recipe, c_in, c_out, c_fixed))
