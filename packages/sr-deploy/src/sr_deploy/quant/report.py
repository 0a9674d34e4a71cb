"""`quantized_layers`: what each quantised layer of a model does, for tests and reports;
`float_convs`: the convs a mixed-precision plan left float."""

from __future__ import annotations

from dataclasses import dataclass

from brevitas.nn import QuantConvTranspose2d
from brevitas.nn.quant_layer import QuantWeightBiasInputOutputLayer as QuantWBIOL
from torch import nn


@dataclass(frozen=True)
class QuantLayerInfo:
    """One quantised layer: its path, kind ("conv" | "deconv"), bit widths and input sign."""

    name: str
    kind: str
    weight_bits: int
    act_bits: int | None
    input_signed: bool | None
    out_channels: int

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "weight_bits": self.weight_bits,
            "act_bits": self.act_bits,
            "input_signed": self.input_signed,
            "out_channels": self.out_channels,
        }


def quantized_layers(qmodel: nn.Module) -> list[QuantLayerInfo]:
    """Every Brevitas weight layer of `qmodel` in module order (act_bits None: input not quantised)."""
    layers = []
    for name, module in qmodel.named_modules():
        if not isinstance(module, QuantWBIOL):
            continue
        input_quant = module.input_quant
        quantises_input = input_quant.is_quant_enabled
        layers.append(
            QuantLayerInfo(
                name=name,
                kind="deconv" if isinstance(module, QuantConvTranspose2d) else "conv",
                weight_bits=int(module.weight_quant.bit_width()),
                act_bits=int(input_quant.bit_width()) if quantises_input else None,
                input_signed=bool(input_quant.is_signed) if quantises_input else None,
                out_channels=module.out_channels,
            )
        )
    return layers


def float_convs(qmodel: nn.Module) -> list[str]:
    """The convs of `qmodel` that stayed float (`keep_float`), in module order."""
    float_types = (nn.Conv2d, nn.ConvTranspose2d)
    return [name for name, module in qmodel.named_modules() if type(module) in float_types]
