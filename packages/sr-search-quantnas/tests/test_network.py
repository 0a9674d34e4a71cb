"""The derived network: builds from genotypes, runs at x2/x3/x4 and odd sizes, Brevitas layers only."""

from __future__ import annotations

import onnx
import pytest
import torch
from brevitas.export import export_onnx_qcdq
from brevitas.nn import QuantConv2d, QuantReLU
from torch import nn

from sr_deploy.quant import onnx_int8_agreement
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("skip_mode", [True, False])
def test_reference_genotype_builds_and_runs(
    reference_genotype_text: str, scale: int, skip_mode: bool
) -> None:
    torch.manual_seed(0)
    net = build_network(
        parse_genotype(reference_genotype_text), scale=scale, c_fixed=12, body_cells=2, skip_mode=skip_mode
    )
    x = torch.rand(2, 3, 7, 9)
    y = net(x)
    assert y.shape == (2, 3, 7 * scale, 9 * scale)
    assert torch.isfinite(y).all()
    y.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_default_width_and_cells(reference_genotype_text: str) -> None:
    net = build_network(parse_genotype(reference_genotype_text))
    assert len(net.cells) == 3
    assert net.head[0][0].conv.in_channels == 3 and net.head[1][0].conv.out_channels == 36
    assert net.upsample[0][0].conv.out_channels == 3 * 16
    assert net(torch.rand(1, 3, 5, 6)).shape == (1, 3, 20, 24)


def test_only_brevitas_convs_and_relus(reference_genotype_text: str) -> None:
    net = build_network(parse_genotype(reference_genotype_text), skip_mode=False)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(isinstance(m, QuantConv2d) for m in convs)
    acts = [name for name, m in net.named_modules() if isinstance(m, QuantReLU)]
    assert len(acts) == len(convs)
    plain_relus = [name for name, m in net.named_modules() if isinstance(m, nn.ReLU)]
    assert all(any(name.startswith(act + ".") for act in acts) for name in plain_relus)  # Brevitas' own
    # the genotype's bits reach the layers: 8 bits in the head, 2 in body and skip
    assert net.head[0][0].conv.quant_weight().bit_width == 8
    assert net.cells[0].body[0][0].conv.quant_weight().bit_width == 2
    assert net.cells[0].skip[0][2].act.act_quant.bit_width() == 2


def test_cells_have_own_weights(reference_genotype_text: str) -> None:
    net = build_network(parse_genotype(reference_genotype_text), c_fixed=12, body_cells=2)
    first, second = (cell.body[1][0].conv.weight for cell in net.cells)
    assert first is not second and not torch.equal(first, second)


def test_tail_layers_and_32_bits() -> None:
    text = (
        "Genotype_SR(head=[('simple_3x3', 32)], body=[('skip_connect', 8)], tail=[('simple_3x3', 4), "
        "('growth2_3x3', 4)], skip=[('zero', 8)], upsample=[('conv_3x1_1x3', 32)])"
    )
    net = build_network(parse_genotype(text), scale=2, c_fixed=6, body_cells=1)
    assert [layer[0].conv.in_channels for layer in net.tail] == [3, 6]
    assert net.tail[1][1].conv.out_channels == 3
    assert net(torch.rand(1, 3, 5, 5)).shape == (1, 3, 10, 10)


def test_nested_genotype_builds_per_cell(nested_genotype_text: str) -> None:
    genotype = parse_genotype(nested_genotype_text)
    with pytest.raises(ValueError, match="head"):
        build_network(genotype, body_cells=2)
    with_head = genotype._replace(head=[("simple_3x3", 8)])
    with pytest.raises(ValueError, match="2 cells but body_cells=3"):
        build_network(with_head, body_cells=3)
    net = build_network(with_head, scale=2, c_fixed=6, body_cells=2)
    assert net(torch.rand(1, 3, 5, 7)).shape == (1, 3, 10, 14)


def test_brevitas_qcdq_export_runs_in_onnxruntime(reference_genotype_text: str, tmp_path) -> None:
    torch.manual_seed(6)
    net = build_network(
        parse_genotype(reference_genotype_text), scale=2, c_fixed=12, body_cells=1, skip_mode=False
    )
    net.eval()
    x = torch.rand(1, 3, 8, 8)
    path = tmp_path / "net.onnx"
    export_onnx_qcdq(net, args=x, export_path=str(path), dynamo=False)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    assert onnx_int8_agreement(net, path, x)["max_diff_255"] < 255e-5
