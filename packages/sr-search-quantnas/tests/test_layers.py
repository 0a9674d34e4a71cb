"""The Brevitas quantised conv: exact float path, level counts, and agreement with the supernet's maths."""

from __future__ import annotations

import pytest
import torch
from brevitas.nn import QuantConv2d, QuantReLU
from torch import nn

from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.ops import ConvSpec
from sr_search_quantnas.quantizers import HWGQ_STEPS, hwgq, lsq, lsq_init_scale

SPECS = [
    ConvSpec(6, 6, (3, 3)),
    ConvSpec(6, 12, (5, 5), groups=3),
    ConvSpec(6, 6, (5, 1)),
    ConvSpec(3, 6, (1, 1)),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_32_bits_is_exactly_conv_of_relu(spec: ConvSpec) -> None:
    torch.manual_seed(0)
    layer = QuantReLUConv(spec, 32)
    plain = nn.Conv2d(
        spec.in_channels, spec.out_channels, spec.kernel, padding=spec.padding, groups=spec.groups, bias=False
    )
    plain.weight.data.copy_(layer.conv.weight.data)
    x = torch.randn(2, spec.in_channels, 9, 7)
    assert torch.equal(layer(x), plain(torch.relu(x)))


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("spec", SPECS[:2], ids=str)
def test_weight_and_input_levels(spec: ConvSpec, bits: int) -> None:
    torch.manual_seed(1)
    layer = QuantReLUConv(spec, bits)
    weight = layer.conv.quant_weight().value.detach()
    for channel in weight:
        assert torch.unique(channel).numel() <= 2**bits
    ints = layer.conv.quant_weight().int()
    assert ints.min() >= -(2 ** (bits - 1)) and ints.max() <= 2 ** (bits - 1) - 1
    x = torch.randn(4, spec.in_channels, 16, 16) * 3
    acts = layer.act(x).detach()
    assert torch.unique(acts).numel() <= 2**bits
    assert acts.min() >= 0
    steps = acts / HWGQ_STEPS[bits]
    assert torch.allclose(steps, steps.round(), atol=1e-3)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_brevitas_layer_matches_supernet_quantisers(bits: int) -> None:
    torch.manual_seed(2)
    spec = ConvSpec(6, 6, (3, 3))
    layer = QuantReLUConv(spec, bits)
    w = layer.conv.weight.detach()
    scale = layer.weight_scale().detach()
    assert torch.allclose(scale, lsq_init_scale(w, bits), rtol=1e-5)
    assert torch.allclose(layer.conv.quant_weight().value.detach(), lsq(w, scale, bits), atol=1e-6)
    x = torch.randn(2, 6, 8, 8) * 2
    assert torch.allclose(layer.act(x), hwgq(x, bits), atol=1e-6)


def test_only_brevitas_modules_and_learned_scale() -> None:
    layer = QuantReLUConv(ConvSpec(6, 6, (3, 3)), 4)
    assert isinstance(layer.act, QuantReLU) and isinstance(layer.conv, QuantConv2d)
    names = [name for name, _ in layer.named_parameters()]
    assert any(name.endswith("scaling_impl.value") for name in names)
    x = torch.randn(2, 6, 8, 8, requires_grad=True)
    layer(x).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unsupported_bits_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported bit width 5"):
        QuantReLUConv(ConvSpec(6, 6, (3, 3)), 5)


def test_hwgq_gradient_is_straight_through_inside_the_clip() -> None:
    x = torch.tensor([-1.0, 0.05, 0.5, 10.0], requires_grad=True)
    hwgq(x, 4).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 0.0]
