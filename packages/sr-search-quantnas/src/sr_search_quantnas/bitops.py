"""BitOps of a (quantised) network: MACs x weight bits x activation bits, per conv and in total.

A conv's MACs are counted for one input of the given LR size by running the model once with
forward hooks. Its bit widths: a `QuantReLUConv` knows both; another Brevitas `QuantConv2d` gives
its weight bit width and its input quantiser's, and a float conv counts 32 x 32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.quantizers import FLOAT_BITS


@dataclass(frozen=True)
class LayerBitOps:
    """One conv: its MACs for the given input, weight and activation bit widths, BitOps."""

    name: str
    macs: int
    weight_bits: int
    act_bits: int

    @property
    def bitops(self) -> int:
        return self.macs * self.weight_bits * self.act_bits


@dataclass
class BitOpsReport:
    """``per_layer`` maps conv names to `LayerBitOps`; ``total`` is the sum of their BitOps."""

    per_layer: dict[str, LayerBitOps] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(layer.bitops for layer in self.per_layer.values())

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.per_layer.values())


def _quant_bits(proxy: object) -> int:
    """Bit width of a Brevitas quant proxy, or 32 when it does not quantise."""
    if proxy is None or not getattr(proxy, "is_quant_enabled", False):
        return FLOAT_BITS
    return int(proxy.bit_width())


def _conv_bits(module: nn.Conv2d, owner: QuantReLUConv | None) -> tuple[int, int]:
    if owner is not None:
        return owner.bits, owner.act_bits
    return _quant_bits(getattr(module, "weight_quant", None)), _quant_bits(
        getattr(module, "input_quant", None)
    )


def bitops(model: nn.Module, lr_size: tuple[int, int], in_channels: int | None = None) -> BitOpsReport:
    """BitOps of every conv of ``model`` for one input of ``lr_size`` (h, w) pixels.

    ``in_channels`` defaults to the first conv's input channels.
    """
    height, width = lr_size
    if min(height, width) < 1:
        raise ValueError(f"lr_size must be positive (h, w), got {lr_size!r}")
    owners = {id(m.conv): m for m in model.modules() if isinstance(m, QuantReLUConv)}
    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("bitops: the model has no convolution")
    channels = in_channels or convs[0][1].in_channels
    report = BitOpsReport()

    def hook(name: str, module: nn.Conv2d):
        def record(_module, _inputs, output):
            out = output.value if hasattr(output, "value") else output
            kh, kw = module.kernel_size
            macs = (
                out.shape[1] * out.shape[2] * out.shape[3] * (module.in_channels // module.groups) * kh * kw
            )
            w_bits, a_bits = _conv_bits(module, owners.get(id(module)))
            report.per_layer[name] = LayerBitOps(name, int(macs), w_bits, a_bits)

        return record

    handles = [m.register_forward_hook(hook(name, m)) for name, m in convs]
    was_training = model.training
    try:
        model.eval()
        param = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, channels, height, width, device=param.device, dtype=param.dtype))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return report
