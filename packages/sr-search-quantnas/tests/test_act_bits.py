"""Activations at another width than the weights: (op, weight_bits, act_bits) genotype entries and the
`act_bits` override (e.g. a uniform w4a8 network); a w4a8 network trained, reloaded and exported."""

from __future__ import annotations

import onnx
import pytest
import torch
from onnx import numpy_helper

from sr_data import RandomPatches, SampleImages
from sr_deploy.quant import export_onnx_int8, onnx_int8_agreement
from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.network import build_network
from sr_search_quantnas.ops import ConvSpec
from sr_search_quantnas.quantizers import HWGQ_STEPS
from sr_search_quantnas.settings import TrainSettings
from sr_search_quantnas.train_genotype import (
    build_from_kwargs,
    load_trained_network,
    network_kwargs,
    train_genotype,
)
from sr_train import ConfigError, stack_patches

GENOTYPE = parse_genotype(
    "Genotype_SR(head=[('simple_3x3', 4)], body=[('simple_3x3', 4)], tail=[('simple_1x1', 4)], "
    "skip=[('simple_1x1', 4)], upsample=[('simple_3x3', 4)])"
)
W4A8 = parse_genotype(
    "Genotype_SR(head=[('simple_3x3', 4, 8)], body=[('simple_3x3', 4, 8)], tail=[('simple_1x1', 4, 8)], "
    "skip=[('simple_1x1', 4, 8)], upsample=[('simple_3x3', 4, 8)])"
)
ARGS = {"scale": 2, "c_fixed": 6, "body_cells": 1, "skip_mode": False}


def _widths(net: torch.nn.Module) -> set[tuple[int, int]]:
    return {(m.bits, m.act_bits) for m in net.modules() if isinstance(m, QuantReLUConv)}


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


def test_triples_set_each_layers_activation_bits_and_the_override_wins() -> None:
    mixed = parse_genotype(
        "Genotype_SR(head=[('simple_3x3', 4, 8)], body=[('simple_3x3', 8, 4)], tail=[], "
        "skip=[('simple_1x1', 2)], upsample=[('simple_3x3', 4, 32)])"
    )
    net = build_network(mixed, **ARGS)
    assert (net.head[0][0].bits, net.head[0][0].act_bits) == (4, 8)
    assert (net.cells[0].body[0][0].bits, net.cells[0].body[0][0].act_bits) == (8, 4)
    assert (net.cells[0].skip[0][0].bits, net.cells[0].skip[0][0].act_bits) == (2, 2)
    assert (net.upsample[0][0].bits, net.upsample[0][0].act_bits) == (4, 32)
    assert _widths(build_network(mixed, **ARGS, act_bits=8)) == {(4, 8), (8, 8), (2, 8)}


def test_a_w4a8_genotype_trains_reloads_and_exports_to_qcdq_onnx(tmp_path) -> None:
    images = SampleImages("train", 2)
    train = RandomPatches(images, 24, 8, seed=1)
    val = stack_patches(RandomPatches(images, 24, 4, seed=2))
    settings = TrainSettings(epochs=1, lr=1e-3, print_freq=1)
    run = {"batch_size": 4, "out_dir": tmp_path / "train", "device": "cpu", "progress": False}
    result = train_genotype(W4A8, train, val, settings, **ARGS, **run)
    assert 5 < result.best_psnr < 60
    net = load_trained_network(result.checkpoint)
    assert str(net.genotype) == str(W4A8) and _widths(net) == {(4, 8)}
    x = torch.rand(1, 3, 8, 8)
    path = export_onnx_int8(net, tmp_path / "w4a8.onnx", x)
    model = onnx.load(str(path))
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    assert "Clip" not in ops  # 8-bit activations need no clip; the 4-bit weights' clips are folded
    ints = [numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    weights = [w for w in ints if w.ndim == 4]  # the rest are zero points
    assert len(weights) == 5 and all(w.min() >= -8 and w.max() <= 7 for w in weights)
    assert onnx_int8_agreement(net, path, x)["max_diff_255"] < 255e-5
