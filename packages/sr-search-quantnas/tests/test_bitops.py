"""BitOps of derived networks: MACs x weight bits x activation bits, float convs 32 x 32."""

from __future__ import annotations

import torch
from brevitas.nn import QuantConv2d, QuantIdentity
from torch import nn

from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network


def test_reference_genotype_bitops_by_hand(reference_genotype_text: str) -> None:
    net = build_network(parse_genotype(reference_genotype_text), scale=4, c_fixed=36, body_cells=3)
    h, w = 10, 12
    pixels = h * w
    c = 36
    head = (3 * c // 3 * 25 + c * c * 9) * pixels * 8 * 8
    body = (c * c // 3 + c * c) * pixels * 2 * 2
    skip = (c * 18 + 18 * 18 + 18 * c) * 9 * pixels * 2 * 2
    upsample = c * 48 // 3 * 9 * pixels * 8 * 8
    report = bitops(net, (h, w))
    assert report.total == head + 3 * (body + skip) + upsample
    assert len(report.per_layer) == 2 + 3 * (2 + 3) + 1
    assert all(layer.weight_bits == layer.act_bits for layer in report.per_layer.values())


def test_float_and_other_brevitas_convs() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False),
        QuantIdentity(bit_width=6, return_quant_tensor=True),
        QuantConv2d(4, 5, 1, weight_bit_width=4, bias=False),
    )
    report = bitops(model, (6, 7))
    first, second = report.per_layer.values()
    assert (first.macs, first.weight_bits, first.act_bits) == (4 * 3 * 9 * 42, 32, 32)
    assert (second.macs, second.weight_bits) == (5 * 4 * 42, 4)
    assert report.total == first.macs * 32 * 32 + second.bitops


def test_bitops_scales_with_the_input_size(reference_genotype_text: str) -> None:
    net = build_network(parse_genotype(reference_genotype_text), scale=2, c_fixed=12, body_cells=1)
    small, large = bitops(net, (4, 5)).total, bitops(net, (8, 10)).total
    assert large == 4 * small
    assert net.training  # restored
    assert isinstance(torch.zeros(1), torch.Tensor)


def test_separate_activation_bits_by_hand() -> None:
    text = (
        "Genotype_SR(head=[('simple_3x3', 4, 8)], body=[('simple_1x1', 8, 2)], tail=[('simple_1x1', 4, 32)], "
        "skip=[('simple_1x1', 2)], upsample=[('simple_3x3', 8, 4)])"
    )
    net = build_network(parse_genotype(text), scale=2, c_fixed=6, body_cells=1)
    report = bitops(net, (4, 4))  # 16 LR pixels, 64 HR pixels
    widths = {name: (layer.weight_bits, layer.act_bits) for name, layer in report.per_layer.items()}
    assert sorted(widths.values()) == [(2, 2), (4, 8), (4, 32), (8, 2), (8, 4)]
    head = 6 * 3 * 9 * 16 * 4 * 8  # 3 -> 6 channels, 3x3, w4a8: 82,944
    body = 6 * 6 * 16 * 8 * 2  # 1x1, w8a2: 9,216
    skip = 6 * 6 * 16 * 2 * 2  # 1x1, w2a2 (a pair): 2,304
    upsample = 12 * 6 * 9 * 16 * 8 * 4  # 6 -> 3 * 2^2 channels, 3x3, w8a4: 331,776
    tail = 3 * 3 * 64 * 4 * 32  # at HR, 1x1, 4-bit weights on float activations: 73,728
    assert report.total == head + body + skip + upsample + tail == 499_968
