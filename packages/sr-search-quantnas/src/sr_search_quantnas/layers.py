"""The quantised convolution of a derived QuantNAS network, made of Brevitas layers only.

`QuantReLUConv(spec, bits)` is activation quantiser -> convolution, as every conv of QuantNAS is
(``act_bits`` gives the activation quantiser another width than the weights', e.g. w4a8):

* activation: Brevitas `QuantReLU` with a constant per-tensor scale equal to the HWGQ step of
  ``bits`` and an unsigned ``bits``-bit grid (the reference's HWGQ: ReLU, clip at
  ``step * (2^b - 1)``, round to the step);
* weights: Brevitas `QuantConv2d` with a per-output-channel, learned (parameter) scale, signed
  ``bits``-bit integers ``[-2^(b-1), 2^(b-1) - 1]``, initialised as LSQ does
  (``s = 2 mean|W| / sqrt(2^(b-1) - 1)``); no LSQ gradient scaling (Brevitas' parameter scaling).

At 32 bits both quantisers are off: the layer is exactly ``conv2d(relu(x))``. Because the network
holds nothing but `QuantReLU`/`QuantConv2d` (plus float ADM residual arithmetic), Brevitas' QCDQ /
QONNX export applies to it directly.
"""

from __future__ import annotations

import warnings

import torch
from brevitas.nn import QuantConv2d, QuantReLU
from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloatMaxInit
from torch import Tensor, nn

from sr_deploy.quant import check_bits, quant_conv
from sr_search_quantnas.ops import ConvSpec
from sr_search_quantnas.quantizers import FLOAT_BITS, SUPPORTED_BITS, hwgq_step, lsq_init_scale, lsq_limits


def quant_relu(bits: int) -> QuantReLU:
    """A Brevitas ReLU quantised like HWGQ at ``bits`` (plain ReLU at 32 bits)."""
    check_bits(bits, "bits", SUPPORTED_BITS)
    if bits >= FLOAT_BITS:
        return QuantReLU(act_quant=None, return_quant_tensor=False)
    return QuantReLU(
        act_quant=Uint8ActPerTensorFloatMaxInit,
        bit_width=bits,
        max_val=hwgq_step(bits) * float(2**bits - 1),
        scaling_impl_type="const",
        return_quant_tensor=False,
    )


def _scale_parameter(conv: QuantConv2d) -> nn.Parameter:
    return next(p for name, p in conv.named_parameters() if name.endswith("scaling_impl.value"))


def lsq_conv(spec: ConvSpec, bits: int) -> QuantConv2d:
    """A bias-free Brevitas conv (`sr_deploy.quant.quant_conv`) with LSQ-initialised per-channel
    learned weight scales at ``bits`` (float weights at 32 bits)."""
    check_bits(bits, "bits", SUPPORTED_BITS)
    geometry = dict(
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        kernel_size=spec.kernel,
        padding=spec.padding,
        groups=spec.groups,
        bias=False,
    )
    if bits >= FLOAT_BITS:
        return quant_conv(geometry, None)
    conv = quant_conv(
        geometry,
        Int8WeightPerChannelFloat,
        bits,
        weight_narrow_range=False,
        weight_scaling_impl_type="parameter",
        weight_scaling_init=torch.ones(spec.out_channels, 1, 1, 1),
    )
    low, _ = lsq_limits(bits)
    with torch.no_grad():  # Brevitas' parameter is the threshold: scale * 2^(b-1) for a non-narrow grid
        _scale_parameter(conv).copy_(lsq_init_scale(conv.weight, bits) * float(-low))
    return conv


class QuantReLUConv(nn.Module):
    """Activation quantiser then quantised convolution, both at ``bits`` (32: float ReLU + conv), or
    the activations at ``act_bits`` when given (weights at ``bits``)."""

    def __init__(self, spec: ConvSpec, bits: int, act_bits: int | None = None) -> None:
        super().__init__()
        self.bits = check_bits(bits, "bits", SUPPORTED_BITS)
        self.act_bits = self.bits if act_bits is None else check_bits(act_bits, "act_bits", SUPPORTED_BITS)
        self.spec = spec
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.act = quant_relu(self.act_bits)
            self.conv = lsq_conv(spec, bits)

    def weight_scale(self) -> Tensor:
        """The per-output-channel weight scale (ones at 32 bits), shape (C_out, 1, 1, 1)."""
        if self.bits >= FLOAT_BITS:
            return torch.ones(self.spec.out_channels, 1, 1, 1)
        return self.conv.quant_weight().scale

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.act(x))

    def extra_repr(self) -> str:
        return f"bits={self.bits}" + (f", act_bits={self.act_bits}" if self.act_bits != self.bits else "")
