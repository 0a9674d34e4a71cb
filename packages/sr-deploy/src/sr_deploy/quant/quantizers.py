"""Brevitas quantiser classes for each calibration method.

Weights are quantised per output channel, symmetric and narrow-range (b bits give the 2^b - 1 levels
-(2^(b-1) - 1) .. 2^(b-1) - 1), with the scale from the channel's absolute maximum (percentile and
minmax) or from a local MSE search (mse). Activations (the inputs of the convs) are quantised per
tensor, unsigned or signed, with a scale collected over the calibration batches: the 99.999th
percentile of |x| (percentile), the largest |x| (minmax) or the scale minimising the quantisation
MSE (mse). Brevitas averages each statistic over the calibration batches.

For quantisation-aware training the weight scale becomes a parameter initialised from the
statistic (learned, as in LSQ); the activation scales are parameters in every mode already.
Bit widths are not part of the classes: the layers receive them as keyword arguments.
"""

from __future__ import annotations

from brevitas.inject.enum import ScalingImplType, StatsOp
from brevitas.quant import (
    Int8ActPerTensorFloat,
    Int8ActPerTensorFloatMSE,
    Int8WeightPerChannelFloat,
    Int8WeightPerChannelFloatMSE,
    Int32Bias,
    Uint8ActPerTensorFloat,
    Uint8ActPerTensorFloatMSE,
)

METHODS = ("percentile", "mse", "minmax")
BIAS_QUANT = Int32Bias


class SignedActPerTensorMax(Int8ActPerTensorFloat):
    """Signed per-tensor activation quantiser whose scale comes from the largest |x| seen."""

    scaling_stats_op = StatsOp.MAX


class UnsignedActPerTensorMax(Uint8ActPerTensorFloat):
    """Unsigned per-tensor activation quantiser whose scale comes from the largest x seen."""

    scaling_stats_op = StatsOp.MAX


class LearnedWeightPerChannel(Int8WeightPerChannelFloat):
    """Per-channel weight quantiser whose scale starts at the channel's |w| maximum and is then learned."""

    scaling_impl_type = ScalingImplType.PARAMETER_FROM_STATS


_ACT = {
    ("percentile", True): Int8ActPerTensorFloat,
    ("percentile", False): Uint8ActPerTensorFloat,
    ("mse", True): Int8ActPerTensorFloatMSE,
    ("mse", False): Uint8ActPerTensorFloatMSE,
    ("minmax", True): SignedActPerTensorMax,
    ("minmax", False): UnsignedActPerTensorMax,
}


def check_method(method: str) -> None:
    """Raise a ValueError naming the known methods when `method` is not one of them."""
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; known: {', '.join(METHODS)}")


def weight_quantizer(method: str, learned: bool) -> type:
    """The weight quantiser class for `method`; `learned` gives it a trainable scale (QAT)."""
    check_method(method)
    if method == "mse":
        return Int8WeightPerChannelFloatMSE  # its scale is a parameter initialised by the MSE search
    return LearnedWeightPerChannel if learned else Int8WeightPerChannelFloat


def act_quantizer(method: str, signed: bool) -> type:
    """The input-activation quantiser class for `method`, signed or unsigned."""
    check_method(method)
    return _ACT[(method, signed)]
