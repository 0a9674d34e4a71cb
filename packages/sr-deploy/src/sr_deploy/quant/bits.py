"""The one bit-width check of the toolkit's quantisers: PTQ/QAT here, the QuantNAS search above."""

from __future__ import annotations

from collections.abc import Collection

QCDQ_BITS = range(2, 9)  # what QCDQ ONNX carries: int8 QuantizeLinear, plus a Clip below 8 bits


def check_bits(bits: int, where: str = "bits", supported: Collection[int] = QCDQ_BITS) -> int:
    """Return ``bits`` when it is an integer in ``supported``; else a ValueError naming ``where``."""
    if isinstance(bits, bool) or not isinstance(bits, int) or bits not in supported:
        raise ValueError(f"{where}: unsupported bit width {bits!r}; supported: {describe_bits(supported)}")
    return bits


def describe_bits(supported: Collection[int]) -> str:
    """'2 to 8' for a range, else the widths in order ('1, 2, 4, 8, 32')."""
    if isinstance(supported, range) and supported.step == 1 and len(supported) > 1:
        return f"{supported.start} to {supported.stop - 1}"
    return ", ".join(str(bits) for bits in sorted(supported))
