"""Activations at another width than the weights (`act_bits`, e.g. a uniform w4a8 network)."""

from __future__ import annotations

import pytest
import torch

from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.network import build_network
from sr_search_quantnas.ops import ConvSpec
from sr_search_quantnas.quantizers import HWGQ_STEPS
from sr_search_quantnas.settings import TrainSettings
from sr_search_quantnas.train_genotype import build_from_kwargs, network_kwargs
from sr_train import ConfigError

GENOTYPE = parse_genotype(
    "Genotype_SR(head=[('simple_3x3', 4)], body=[('simple_3x3', 4)], tail=[('simple_1x1', 4)], "
    "skip=[('simple_1x1', 4)], upsample=[('simple_3x3', 4)])"
)
ARGS = {"scale": 2, "c_fixed": 6, "body_cells": 1, "skip_mode": False}


def test_layer_quantises_weights_and_activations_at_their_own_widths() -> None:
    torch.manual_seed(0)
    layer = QuantReLUConv(ConvSpec(6, 6, (3, 3)), 4, act_bits=8)
    ints = layer.conv.quant_weight().int().detach()
    assert ints.min() >= -8 and ints.max() <= 7  # 4-bit weights
    levels = layer.act(torch.randn(4, 6, 16, 16) * 3) / HWGQ_STEPS[8]
    assert torch.allclose(levels, levels.round(), atol=1e-4)  # on the 8-bit HWGQ grid
    assert levels.max() > 15  # beyond the 4-bit grid's 15 levels
    assert "act_bits=8" in repr(layer)


def test_bitops_count_weight_times_activation_bits() -> None:
    w4a4 = bitops(build_network(GENOTYPE, **ARGS), (8, 8))
    w4a8 = bitops(build_network(GENOTYPE, **ARGS, act_bits=8), (8, 8))
    assert {(layer.weight_bits, layer.act_bits) for layer in w4a8.per_layer.values()} == {(4, 8)}
    assert w4a8.total == 2 * w4a4.total == w4a4.macs * 32


def test_checkpoint_kwargs_keep_act_bits_only_when_set() -> None:
    assert "act_bits" not in network_kwargs(GENOTYPE, **ARGS)
    net = build_from_kwargs(network_kwargs(GENOTYPE, **ARGS, act_bits=8))
    assert {m.act_bits for m in net.modules() if isinstance(m, QuantReLUConv)} == {8}


def test_train_settings_reject_an_unsupported_act_bits() -> None:
    assert TrainSettings(act_bits=8).act_bits == 8
    with pytest.raises(ConfigError, match="act_bits"):
        TrainSettings(act_bits=5)
