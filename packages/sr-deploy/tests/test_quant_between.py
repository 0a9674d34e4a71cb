"""Quantisers between the convs (`ptq(..., quantize_between=True)`): where they go, what onnxruntime
makes of them (integer kernels), and that it still computes what the Brevitas model computes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from sr_blocks import create_model
from sr_deploy import quant
from sr_deploy.quant.between import QUANT_INPUT, QUANT_OUTPUT
from sr_deploy.quant.onnx_rewrites import requantise_split_outputs
from sr_deploy.testing import smooth_pairs, tiny_net
from sr_reparam import onnxruntime_session
from sr_train import PatchTensors

SCALE = 2
BETWEEN_KERNELS = {"QLinearLeakyRelu", "QLinearSigmoid", "QLinearConcat", "QLinearAdd", "QLinearMul"}


def tiny_imdn() -> torch.nn.Module:
    """IMDN with two blocks of 16 channels: LeakyReLU, channel split, concatenation, contrast
    attention (sigmoid, product) and residual adds, as in the authors' network."""
    torch.manual_seed(0)
    return create_model("imdn", scale=SCALE, num_feat=16, num_block=2).eval()


@pytest.fixture(scope="module")
def patches() -> PatchTensors:
    """16 smooth random 32x32 HR patches and their bicubic LR."""
    return PatchTensors(*smooth_pairs(16, 32, SCALE))


@pytest.fixture(scope="module")
def between(patches) -> torch.nn.Module:
    return quant.ptq(tiny_imdn(), patches.lr, keep_float=(), quantize_between=True)


def optimised_ops(path: Path, tmp_path: Path) -> tuple[Counter, onnx.ModelProto]:
    """The operator types of the graph onnxruntime runs for the file at `path`, and that graph."""
    optimised = tmp_path / f"{path.stem}_optimised.onnx"
    onnxruntime_session(path, optimized_path=optimised)
    graph = onnx.load(str(optimised))
    return Counter(node.op_type for node in graph.graph.node), graph


def test_each_tensor_between_the_convs_gets_one_quantiser_that_the_convs_share(between):
    block = between.body.blocks[0]
    assert block.conv2.input_quant is block.act.quant_output.act_quant  # through the channel split
    assert between.body.blocks[1].conv1.input_quant is block.quant_output.act_quant  # residual add
    assert hasattr(block.cca, QUANT_INPUT) and hasattr(block.cca, QUANT_OUTPUT)  # concat, product
    assert hasattr(block.cca.excite[3], QUANT_OUTPUT)  # the sigmoid
    assert not hasattr(block, QUANT_INPUT)  # its input, conv_first's output, is quantised already
    # the global residual add feeds the last conv alone, whose input quantiser follows it; the image
    # (the model's output) stays float
    assert not hasattr(between.upsample, QUANT_INPUT) and not hasattr(between.upsample, QUANT_OUTPUT)


def test_networks_without_such_tensors_are_unchanged(patches):
    plain = quant.ptq(tiny_net(SCALE), patches.lr, keep_float=())
    option = quant.ptq(tiny_net(SCALE), patches.lr, keep_float=(), quantize_between=True)
    assert option.state_dict().keys() == plain.state_dict().keys()
    assert torch.equal(option(patches.lr), plain(patches.lr))


def test_onnxruntime_stays_within_one_quantisation_step_of_brevitas(between, patches, tmp_path):
    path = quant.export_onnx_int8(between, tmp_path / "between.onnx", patches.lr[:1])
    agreement = quant.onnx_int8_agreement(between, path, patches.lr[:4])
    assert agreement["max_diff_255"] <= 1.0, agreement  # one step of an 8-bit image


def test_onnxruntime_runs_the_ops_between_the_convs_as_integer_kernels(between, patches, tmp_path):
    path = quant.export_onnx_int8(between, tmp_path / "between.onnx", patches.lr[:1])
    ops, graph = optimised_ops(path, tmp_path)
    assert BETWEEN_KERNELS <= set(ops), ops
    assert not {"LeakyRelu", "Sigmoid", "Concat"} & set(ops), ops
    producers = {name: node.op_type for node in graph.graph.node for name in node.output}
    splits = [node for node in graph.graph.node if node.op_type == "Split"]
    assert splits and all(producers[node.input[0]] != "DequantizeLinear" for node in splits)
    profiled = {row.op_type for row in quant.onnx_op_profile(path, (1, 3, 12, 16), runs=1)}
    assert BETWEEN_KERNELS <= profiled

    plain = quant.ptq(tiny_imdn(), patches.lr, keep_float=())
    ops, _ = optimised_ops(quant.export_onnx_int8(plain, tmp_path / "plain.onnx", patches.lr[:1]), tmp_path)
    assert {"LeakyRelu", "Sigmoid", "Concat"} <= set(ops)  # float in each block without the option
    assert not {"QLinearConcat", "QLinearMul", "QLinearSigmoid"} & set(ops)


def test_the_state_dict_rebuilds_the_model(between, patches):
    rebuilt = quant.ptq(tiny_imdn(), patches.lr[8:], keep_float=(), quantize_between=True)
    rebuilt.load_state_dict(between.state_dict())
    assert torch.equal(rebuilt(patches.lr[:2]), between(patches.lr[:2]))


def test_the_automatic_plan_works_with_it(patches):
    qmodel = quant.ptq(tiny_imdn(), patches, quantize_between=True, max_drop=0.05)
    assert qmodel.mixed_plan.drop < 0.05
    assert hasattr(qmodel.body.blocks[0].act, QUANT_OUTPUT)
    with pytest.raises(ValueError, match=r"or quantize_between=False \(its quantisers are no part of"):
        quant.ptq(tiny_imdn(), patches, quantize_between=True, max_drop=0)


def test_qat_learns_the_scales_between_the_convs(patches):
    qmodel = quant.qat(tiny_imdn(), calibration_batches=patches.lr[:4], quantize_between=True)
    F.l1_loss(qmodel(patches.lr[:2]), patches.hr[:2]).backward()
    scales = [p for n, p in qmodel.body.blocks[0].act.quant_output.named_parameters() if "scaling" in n]
    assert scales and all(p.grad is not None and p.grad.abs().sum() > 0 for p in scales)


def test_requantising_split_outputs_is_exact(tmp_path):
    scale, zero = np.float32(0.05), np.uint8(128)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
        helper.make_node("Split", ["d"], ["a", "b"], axis=1),
        helper.make_node("Relu", ["a"], ["y"]),
        helper.make_node("QuantizeLinear", ["b", "s", "z"], ["bq"]),
        helper.make_node("DequantizeLinear", ["bq", "s", "z"], ["w"]),
    ]
    graph = helper.make_graph(
        nodes,
        "split",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 5])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 2, 3, 5]) for name in ("y", "w")],
        [numpy_helper.from_array(np.array(scale), "s"), numpy_helper.from_array(np.array(zero), "z")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    x = np.random.default_rng(0).normal(0, 2, (1, 4, 3, 5)).astype(np.float32)
    before = onnxruntime_session(model.SerializeToString()).run(None, {"x": x})
    assert requantise_split_outputs(model) == 1  # "a" only: "b" is quantised on that grid already
    onnx.checker.check_model(model)
    after = onnxruntime_session(model.SerializeToString()).run(None, {"x": x})
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
