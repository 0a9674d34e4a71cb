"""PTQ / QAT / int8 ONNX of a briefly trained ESPCN x2 (bundled sample images, CPU, ~40 s in all)."""

from __future__ import annotations

import copy
import warnings

import onnx
import pytest
import torch
from torch import nn

import sr_blocks
import sr_data
import sr_train
from sr_deploy import quant
from sr_train.validation import validate

warnings.filterwarnings("ignore", message=".*fast_hadamard_transform.*")

SCALE = 2
TRAIN_STEPS = 200
CALIBRATION_PATCHES = 64


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """(float ESPCN x2 trained 200 steps, training patches, sample test images, its test PSNR)."""
    train_images = sr_data.SampleImages("train", SCALE)
    test_images = sr_data.SampleImages("test", SCALE)
    patches = sr_train.stack_patches(
        sr_data.RandomPatches(
            train_images, 64, TRAIN_STEPS * 16, seed=0, cache_dir=tmp_path_factory.mktemp("decoded")
        )
    )
    torch.manual_seed(0)
    model = sr_blocks.create_model("espcn", scale=SCALE)
    sr_train.train_and_validate(
        model, patches, TRAIN_STEPS, first(patches, 16), batch_size=16, lr=1e-3, scheduler="cosine"
    )
    model.eval()
    return model, patches, test_images, test_psnr(model, test_images)


def test_psnr(model: nn.Module, images) -> float:
    return validate(model, images, SCALE, torch.device("cpu"), with_ssim=False)["psnr"]


test_psnr.__test__ = False  # a helper, not a test


def first(patches: sr_train.PatchTensors, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    return patches.lr[:count], patches.hr[:count]


def calibration(patches: sr_train.PatchTensors) -> torch.Tensor:
    return patches.lr[:CALIBRATION_PATCHES]


@pytest.mark.parametrize("method", quant.METHODS)
def test_ptq_w8a8_loses_at_most_0_2_db(trained, method):
    model, patches, images, float_psnr = trained
    qmodel = quant.ptq(model, calibration(patches), method=method, keep_float=())
    loss = float_psnr - test_psnr(qmodel, images)
    print(f"ESPCN x2 PTQ w8a8 {method}: float {float_psnr:.3f} dB, loss {loss:+.3f} dB")
    assert loss <= 0.2


def test_ptq_leaves_the_float_model_untouched(trained):
    model, patches, _, _ = trained
    before = copy.deepcopy(model.state_dict())
    types = [type(m) for m in model.modules()]
    quant.ptq(model, calibration(patches), weight_bits=4, act_bits=4, keep_float=())
    assert [type(m) for m in model.modules()] == types
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_w4a4_is_quantised_and_worse_than_w8a8(trained):
    model, patches, images, float_psnr = trained
    w8a8 = quant.ptq(model, calibration(patches), keep_float=())
    w4a4 = quant.ptq(model, calibration(patches), weight_bits=4, act_bits=4, keep_float=())
    loss8, loss4 = float_psnr - test_psnr(w8a8, images), float_psnr - test_psnr(w4a4, images)
    print(f"ESPCN x2 PTQ percentile: w8a8 loss {loss8:+.3f} dB, w4a4 loss {loss4:+.3f} dB")
    assert loss4 > loss8 + 0.1


def test_int8_onnx_matches_brevitas_within_2_of_255(trained, tmp_path):
    model, patches, images, _ = trained
    qmodel = quant.ptq(model, calibration(patches), keep_float=())
    path = quant.export_onnx_int8(qmodel, tmp_path / "espcn_int8.onnx", patches.lr[:1])
    graph = onnx.load(path).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("Conv") == 3
    assert ops.count("QuantizeLinear") == 3 + 2  # three conv inputs, the outputs of all convs but the last
    int8 = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4}
    weight_dq = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8]
    assert len(weight_dq) == 3  # every conv weight is an int8 initialiser feeding a DequantizeLinear
    agreement = quant.onnx_int8_agreement(qmodel, path, images[0]["lr"])  # another size: dynamic H/W
    assert agreement["max_diff_255"] <= 2 and agreement["psnr_db"] > 50


def test_float_outputs_also_export_and_match(trained, tmp_path):
    model, patches, images, float_psnr = trained
    qmodel = quant.ptq(model, calibration(patches), quantize_outputs=False, keep_float=())
    assert float_psnr - test_psnr(qmodel, images) <= 0.2
    path = quant.export_onnx_int8(qmodel, tmp_path / "espcn_int8_float_out.onnx", patches.lr[:1])
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops.count("QuantizeLinear") == 3  # the conv inputs only
    assert quant.onnx_int8_agreement(qmodel, path, images[1]["lr"])["max_diff_255"] <= 2


def test_qat_steps_lower_the_loss_and_learn_the_scales(trained):
    model, patches, _, _ = trained
    qmodel = quant.qat(model, weight_bits=4, act_bits=4, calibration_batches=calibration(patches))
    scale_params = {n: p.detach().clone() for n, p in qmodel.named_parameters() if "scaling_impl" in n}
    assert any("weight_quant" in n for n in scale_params) and any("input_quant" in n for n in scale_params)
    lr, hr = first(patches, 32)

    def l1() -> float:
        with torch.no_grad():
            return (qmodel.eval()(lr) - hr).abs().mean().item()

    before = l1()
    sr_train.train_and_validate(qmodel, patches, 40, first(patches, 16), batch_size=16, lr=5e-4)
    after = l1()
    print(f"ESPCN x2 QAT w4a4: L1 {before:.5f} -> {after:.5f} after 40 sr_train steps")
    assert after < before
    changed = [
        n for n, p in qmodel.named_parameters() if n in scale_params and not torch.equal(p, scale_params[n])
    ]
    assert changed, "no quantisation scale was learned"
