"""The one builder of Brevitas convolutions in the toolkit.

`quant_conv` makes a `QuantConv2d` / `QuantConvTranspose2d` from a conv's geometry, quantiser classes
and bit widths: PTQ/QAT's twins of float convs (`quant_twin`) and the QuantNAS search's layers both
come from it. Bit widths are checked by the caller (`check_bits`), which knows what it supports.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import torch
from brevitas.nn import QuantConv2d, QuantConvTranspose2d
from torch import nn

QUANT_CONVS = {nn.Conv2d: QuantConv2d, nn.ConvTranspose2d: QuantConvTranspose2d}
GEOMETRY = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "padding_mode",
)


def conv_geometry(conv: nn.Conv2d | nn.ConvTranspose2d) -> dict[str, Any]:
    """The keyword arguments that rebuild ``conv`` (shape, stride, padding, groups, bias ...)."""
    geometry = {name: getattr(conv, name) for name in GEOMETRY}
    geometry["bias"] = conv.bias is not None
    if isinstance(conv, nn.ConvTranspose2d):
        geometry["output_padding"] = conv.output_padding
    return geometry


def quant_conv(
    geometry: Mapping[str, Any],
    weight_quant: type | None,
    weight_bits: int | None = None,
    *,
    transposed: bool = False,
    input_quant: type | nn.Module | None = None,
    input_bits: int | None = None,
    output_quant: type | None = None,
    output_bits: int | None = None,
    bias_quant: type | None = None,
    **options: Any,
) -> QuantConv2d | QuantConvTranspose2d:
    """A Brevitas conv of ``geometry`` (nn.Conv2d keyword arguments; ``transposed``: ConvTranspose2d).

    ``weight_quant`` None keeps float weights. Input, output and bias quantisers are off unless given;
    each quantiser's bit width goes with it. ``input_quant`` may also be another module's quantiser
    proxy, which the conv then shares (one scale for both). ``options`` are further Brevitas keyword arguments
    (``weight_scaling_impl_type=...``, ``device=...``).
    """
    kwargs: dict[str, Any] = {**geometry, "weight_quant": weight_quant, **options}
    if weight_quant is not None:
        kwargs["weight_bit_width"] = weight_bits
    if input_quant is not None:
        kwargs["input_quant"] = input_quant
        if isinstance(input_quant, type):  # a proxy instance is shared with its owner, width included
            kwargs["input_bit_width"] = input_bits
    if output_quant is not None:
        kwargs.update(output_quant=output_quant, output_bit_width=output_bits)
    if bias_quant is not None:
        kwargs["bias_quant"] = bias_quant
    with warnings.catch_warnings():  # Brevitas reads a shared proxy's own `input_quant` as unused
        warnings.filterwarnings("ignore", "Keyword arguments are being passed but they not being used")
        return (QuantConvTranspose2d if transposed else QuantConv2d)(**kwargs)


def quant_twin(
    conv: nn.Conv2d | nn.ConvTranspose2d, weight_quant: type | None, weight_bits: int, **quantizers: Any
):
    """The Brevitas twin of a float conv: same geometry, device, dtype, weights and train/eval mode."""
    twin = quant_conv(
        conv_geometry(conv),
        weight_quant,
        weight_bits,
        transposed=isinstance(conv, nn.ConvTranspose2d),
        device=conv.weight.device,
        dtype=conv.weight.dtype,
        **quantizers,
    )
    with torch.no_grad():
        twin.weight.copy_(conv.weight)
        if conv.bias is not None:
            twin.bias.copy_(conv.bias)
    return twin.train(conv.training)
