"""What `quant` builds, layer by layer, on untrained registry models: levels, signs, bit plans, errors."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import sr_blocks
import sr_reparam
from sr_deploy import quant
from sr_deploy.quant import sample_study

warnings.filterwarnings("ignore", message=".*fast_hadamard_transform.*")


def deployed(name: str, **kwargs) -> nn.Module:
    torch.manual_seed(0)
    return sr_reparam.deploy(sr_blocks.create_model(name, scale=2, **kwargs)).eval()


def images(channels: int = 3, count: int = 4, size: int = 24) -> torch.Tensor:
    return torch.rand(count, channels, size, size, generator=torch.Generator().manual_seed(1))


def input_levels(qmodel: nn.Module, lr: torch.Tensor) -> dict[str, int]:
    """Distinct integer values each quantised layer's input took on `lr`."""
    seen: dict[str, int] = {}
    hooks = [
        layer.input_quant.register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, int(out.int().unique().numel()))
        )
        for name, layer in qmodel.named_modules()
        if name in {info.name for info in quant.quantized_layers(qmodel)}
    ]
    for layer in qmodel.modules():
        if hasattr(layer, "input_quant"):
            layer.input_quant.return_quant_tensor = True
    with torch.no_grad():
        qmodel(lr)
    for hook in hooks:
        hook.remove()
    return seen


@pytest.mark.parametrize(
    ("name", "weight_bits", "act_bits"), [("fsrcnn", 4, 4), ("espcn", 8, 8), ("espcn", 4, 8)]
)
def test_weights_and_inputs_take_at_most_2_to_the_b_levels(name, weight_bits, act_bits):
    qmodel = quant.ptq(deployed(name), images(), weight_bits, act_bits, io_bits=None, keep_float=())
    infos = quant.quantized_layers(qmodel)
    assert len(infos) == sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in deployed(name).modules())
    for info in infos:
        layer = qmodel.get_submodule(info.name)
        assert (info.weight_bits, info.act_bits) == (weight_bits, act_bits)
        weight = layer.quant_weight()
        assert weight.scale.numel() == layer.out_channels  # one scale per output channel
        ints = weight.int().transpose(0, layer.output_channel_dim).reshape(layer.out_channels, -1)
        assert max(row.unique().numel() for row in ints) <= 2**weight_bits
        assert ints.abs().max() <= 2 ** (weight_bits - 1) - 1  # narrow range, symmetric
    levels = input_levels(qmodel, images(count=2, size=40))
    assert levels and max(levels.values()) <= 2**act_bits


def test_input_signs_follow_the_data():
    infos = {
        i.name: i for i in quant.quantized_layers(quant.ptq(deployed("fsrcnn"), images(), keep_float=()))
    }
    assert infos["conv_first.0"].input_signed is False  # the image
    assert infos["body.0.0"].input_signed is True  # after a PReLU
    assert infos["conv_last"].kind == "deconv"
    relu = quant.quantized_layers(quant.ptq(deployed("espcn", act="relu"), images(), keep_float=()))
    assert not any(info.input_signed for info in relu)  # image, then ReLU outputs


def test_low_bits_keep_the_image_layers_at_io_bits():
    infos = quant.quantized_layers(
        quant.ptq(deployed("espcn"), images(), weight_bits=4, act_bits=4, keep_float=())
    )
    bits = [(i.weight_bits, i.act_bits) for i in infos]
    assert bits == [(8, 8), (4, 4), (8, 4)]
    uniform = quant.quantized_layers(
        quant.ptq(deployed("espcn"), images(), 4, 4, io_bits=None, keep_float=())
    )
    assert [(i.weight_bits, i.act_bits) for i in uniform] == [(4, 4)] * 3


def test_y_only_sesr_quantises_exports_and_runs(tmp_path):
    model = deployed("sesr_m5", in_channels=1, out_channels=1)
    qmodel = quant.ptq(model, images(channels=1), keep_float=())
    lr = images(channels=1, count=1, size=37)
    with torch.no_grad():
        expected, reference = qmodel(lr), model(lr)
    assert expected.shape == (1, 1, 74, 74)
    assert (expected - reference).abs().max() < 0.05
    path = quant.export_onnx_int8(qmodel, tmp_path / "sesr.onnx", images(channels=1, count=1))
    assert quant.onnx_int8_agreement(qmodel, path, lr)["max_diff_255"] <= 2


def test_onnxruntime_runs_every_conv_but_the_last_as_qlinearconv(tmp_path):
    model = deployed("sesr_m5", in_channels=1, out_channels=1)  # a conv output feeds a conv and an add
    path = quant.export_onnx_int8(
        quant.ptq(model, images(channels=1), keep_float=()), tmp_path / "sesr.onnx", images(1, 1)
    )
    graph = onnx.load(path).graph
    activation_zero_points = {n.input[2] for n in graph.node if n.op_type == "QuantizeLinear"}
    types = {i.data_type for i in graph.initializer if i.name in activation_zero_points}
    assert types == {onnx.TensorProto.UINT8} and "PRelu" not in {n.op_type for n in graph.node}
    sr_reparam.onnxruntime_session(path, optimized_path=tmp_path / "optimised.onnx")
    ops = [node.op_type for node in onnx.load(tmp_path / "optimised.onnx").graph.node]
    assert ops.count("QLinearConv") == 6 and ops.count("Conv") == 1  # SESR-M5 has 7 convs


def test_outputs_are_quantised_at_8_bit_activations_only():
    def output_quantisers(qmodel: nn.Module) -> int:
        return sum(
            layer.output_quant.is_quant_enabled
            for layer in qmodel.modules()
            if hasattr(layer, "output_quant")
        )

    assert (
        output_quantisers(quant.ptq(deployed("espcn"), images(), keep_float=())) == 2
    )  # all convs but the last
    assert output_quantisers(quant.ptq(deployed("espcn"), images(), 4, 4, keep_float=())) == 0
    assert (
        output_quantisers(quant.ptq(deployed("espcn"), images(), 4, 4, quantize_outputs=True, keep_float=()))
        == 2
    )
    assert output_quantisers(quant.qat(deployed("espcn"), 8, 8, quantize_outputs=False)) == 0


def test_qat_without_calibration_data_trains_on_its_own():
    qmodel = quant.qat(deployed("espcn"))
    assert qmodel.training
    assert quant.quantized_layers(qmodel)[0].input_signed is False
    lr, hr = images(size=16), torch.rand(4, 3, 32, 32)
    optimizer = torch.optim.Adam(qmodel.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        loss = (qmodel(lr) - hr).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_calibration_data_in_every_shape_the_toolkit_produces():
    lr = images(count=4)
    pairs = [(lr[i], torch.rand(3, 48, 48)) for i in range(4)]
    dicts = [{"lr": lr[i : i + 2], "hr": None} for i in (0, 2)]
    generator = (lr[i : i + 1] for i in range(4))
    for data in (lr, pairs, dicts, generator):
        assert [tuple(b.shape) for b in quant.as_batches(data)][0][1:] == (3, 24, 24)
    with pytest.raises(ValueError, match="empty"):
        quant.ptq(deployed("espcn"), [], keep_float=())
    with pytest.raises(ValueError, match="'lr'"):
        quant.as_batches([{"hr": lr}])


def test_clear_errors():
    model = deployed("espcn")
    with pytest.raises(ValueError, match="unknown calibration method 'kl'"):
        quant.ptq(model, images(), method="kl", keep_float=())
    with pytest.raises(ValueError, match="weight_bits: unsupported bit width 16; supported: 2 to 8"):
        quant.ptq(model, images(), weight_bits=16, keep_float=())
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        quant.ptq(nn.Sequential(nn.ReLU()), images(), keep_float=())
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        quant.qat(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match=r"cannot quantise 1 \(Linear"):
        quant.ptq(nn.Sequential(nn.Conv2d(3, 3, 1), nn.Linear(24, 24)), images(), keep_float=())
    with pytest.raises(ValueError, match="sr_reparam.deploy"):
        quant.ptq(sr_blocks.create_model("sesr_m5", scale=2), images(), keep_float=())
    with pytest.raises(ValueError, match="already quantised"):
        quant.ptq(quant.ptq(model, images(), keep_float=()), images(), keep_float=())
    with pytest.raises(ValueError, match="no quantised layer"):
        quant.export_onnx_int8(model, "unused.onnx", images(count=1))


@pytest.mark.parametrize("make", ["ptq", "qat"])
def test_a_saved_state_dict_reloads_into_a_rebuilt_model(make):
    model = deployed("fsrcnn")
    if make == "ptq":
        saved = quant.ptq(model, images(), method="mse", keep_float=())
        rebuilt = quant.ptq(model, images(count=1), method="mse", keep_float=())
    else:
        saved, rebuilt = quant.qat(model, 4, 4, calibration_batches=images()), quant.qat(model, 4, 4)
    rebuilt.load_state_dict(saved.state_dict(), strict=True)
    lr = images(count=1, size=19)
    with torch.no_grad():
        assert torch.equal(saved.eval()(lr), rebuilt.eval()(lr))


def test_the_sample_study_prints_every_setting(tmp_path, capsys):
    sample_study.run_study("sesr_m3", 2, 1, 2, True, str(tmp_path), training_patches=32)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss" in line]
    assert len(lines) == len(sample_study.ptq_settings()) + 2  # every PTQ variant, QAT twice


@pytest.mark.parametrize(("weight_bits", "act_bits"), [(8, 8), (4, 4)])
def test_uint8_activations_and_prelu_rewrite_keep_the_function(tmp_path, weight_bits, act_bits):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.PReLU(4), nn.Conv2d(4, 3, 3, padding=1)).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([-0.5, 0.3, 1.7, 0.0]))  # any slope, not only 0..1
    qmodel = quant.ptq(model, images(), weight_bits, act_bits, keep_float=())
    path = quant.export_onnx_int8(qmodel, tmp_path / "prelu.onnx", images(count=1))
    graph = onnx.load(path).graph
    assert "PRelu" not in {node.op_type for node in graph.node}
    integer_bounds = {n.input[1] for n in graph.node if n.op_type == "Clip"}  # below 8 bits, between Q and DQ
    assert all(i.data_type == onnx.TensorProto.UINT8 for i in graph.initializer if i.name in integer_bounds)
    assert len(integer_bounds) == (0 if act_bits == 8 else 1)
    assert quant.onnx_int8_agreement(qmodel, path, images(count=1, size=29))["max_diff_255"] <= 2


class MeanGate(nn.Module):
    """x * sigmoid(conv(spatial mean of x)): the pooled attention of IMDN / RCAN blocks."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.conv(x.mean(dim=(2, 3), keepdim=True)))


def test_spatial_means_become_global_average_pools_with_the_same_output(tmp_path):
    from sr_deploy.quant.onnx_rewrites import spatial_mean_as_global_average_pool

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), MeanGate(4), nn.Conv2d(4, 3, 3, padding=1)).eval()
    qmodel = quant.ptq(model, images(), keep_float=())
    path = quant.export_onnx_int8(qmodel, tmp_path / "gate.onnx", images(count=1))
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert "ReduceMean" not in ops and ops.count("GlobalAveragePool") == 1
    assert quant.onnx_int8_agreement(qmodel, path, images(count=1, size=29))["max_diff_255"] <= 2
    other = onnx.helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)  # a channel mean stays
    graph = onnx.helper.make_graph([other], "g", [], [])
    assert spatial_mean_as_global_average_pool(onnx.helper.make_model(graph)) == 0
