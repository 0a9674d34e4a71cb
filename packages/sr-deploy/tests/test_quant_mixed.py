"""Mixed precision (keep_float / layer_bits), per-conv sensitivity, onnxruntime scoring and speed."""

from __future__ import annotations

import math
import statistics

import pytest
import torch
from torch.utils.data import Dataset

from sr_deploy import quant
from sr_deploy.testing import smooth_pairs, tiny_net
from sr_eval import evaluate

SCALE = 2


class TinySet(Dataset):
    """Three smooth random 48x48 HR images and their bicubic LR (enough for PSNR/SSIM)."""

    name = "tiny"

    def __init__(self, scale: int = SCALE) -> None:
        lr, hr = smooth_pairs(3, 48, scale, coarse_side=8)
        self.items = [{"lr": lr[i], "hr": hr[i], "name": f"img{i}"} for i in range(3)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


@pytest.fixture(scope="module")
def calibration() -> torch.Tensor:
    return torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(2))


CONVS = ["0", "2", "4"]


def test_keep_float_leaves_the_named_convs_float(calibration):
    qmodel = quant.ptq(tiny_net(), calibration, keep_float=["2"])
    assert quant.float_convs(qmodel) == ["2"]
    assert [layer.name for layer in quant.quantized_layers(qmodel)] == ["0", "4"]


def test_keep_float_patterns_and_layer_bits(calibration):
    qmodel = quant.ptq(tiny_net(), calibration, 4, 4, keep_float=["[02]"], layer_bits={"4": (6, 5)})
    assert quant.float_convs(qmodel) == ["0", "2"]
    (last,) = quant.quantized_layers(qmodel)
    assert (last.name, last.weight_bits, last.act_bits) == ("4", 6, 5)


def test_layer_bits_win_over_io_bits(calibration):
    layers = quant.quantized_layers(
        quant.ptq(tiny_net(), calibration, 4, 4, layer_bits={"0": (3, 3)}, keep_float=())
    )
    assert [(layer.weight_bits, layer.act_bits) for layer in layers] == [(3, 3), (4, 4), (8, 4)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_float": ["body.*"]}, "keep_float: 'body.*' matches no conv"),
        ({"layer_bits": {"9": (8, 8)}}, "layer_bits: '9' matches no conv"),
        ({"keep_float": ["*"]}, "every conv float"),
        ({"keep_float": "2"}, "not the string"),
        ({"layer_bits": {"2": 8}}, r"layer_bits\['2'\] must be \(weight_bits, act_bits\)"),
        ({"layer_bits": {"2": (9, 8)}}, r"layer_bits\['2'\] weight bits: unsupported bit width 9"),
    ],
)
def test_bad_mixed_precision_options_are_named(calibration, options, message):
    with pytest.raises(ValueError, match=message):
        quant.ptq(tiny_net(), calibration, **{"keep_float": (), **options})


def test_qat_takes_keep_float_too(calibration):
    qmodel = quant.qat(tiny_net(), 8, 8, calibration_batches=calibration, keep_float=["4"])
    assert quant.float_convs(qmodel) == ["4"] and qmodel.training


def test_sensitivity_ranks_the_conv_given_two_bits_first(calibration):
    net, data = tiny_net(), TinySet()
    (psnr, _), rows = quant.layer_sensitivity(net, calibration, data, SCALE, layer_bits={"2": (2, 2)})
    assert [row.name for row in rows] == CONVS and [row.order for row in rows] == [0, 1, 2]
    assert psnr == pytest.approx(evaluate(net, [data], SCALE).summary["tiny"]["psnr"])
    ranked = sorted(rows, key=lambda row: -row.drop_db)
    assert ranked[0].name == "2" and ranked[0].drop_db > 3 * max(abs(r.drop_db) for r in ranked[1:])
    assert rows[1].shape == "8->8 3x3"
    assert "| `2` | 1 | 8->8 3x3 |" in quant.sensitivity_markdown(rows).splitlines()[2]


def test_sensitivity_only_and_unknown_names(calibration):
    _, rows = quant.layer_sensitivity(tiny_net(), calibration, TinySet(), SCALE, only=["4"])
    assert [row.name for row in rows] == ["4"]
    with pytest.raises(ValueError, match="'nope' is not a conv"):
        quant.layer_sensitivity(tiny_net(), calibration, TinySet(), SCALE, only=["nope"])


def test_plan_keeps_the_harmful_conv_float(calibration):
    net, data, options = tiny_net(), TinySet(), {"layer_bits": {"2": (2, 2)}}
    _, rows = quant.layer_sensitivity(net, calibration, data, SCALE, **options)
    keep, trials = quant.plan_keep_float(net, calibration, data, SCALE, rows, 0.5, **options)
    assert trials[0].keep_float == () and trials[0].drop_db > 0.5
    assert keep[0] == "2" and trials[-1].drop_db <= 0.5 and list(trials[-1].keep_float) == keep


@pytest.fixture(scope="module")
def onnx_files(tmp_path_factory, calibration):
    from sr_reparam import export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    net = tiny_net()
    example = calibration[:1]
    float_path = folder / "fp32.onnx"
    export_onnx(net, float_path, example_input=example)
    int8_path = quant.export_onnx_int8(
        quant.ptq(net, calibration, keep_float=()), folder / "int8.onnx", example
    )
    return net, float_path, int8_path


def test_evaluate_onnx_scores_like_the_torch_model(onnx_files):
    net, float_path, int8_path = onnx_files
    torch_psnr = evaluate(net, [TinySet()], SCALE).summary["tiny"]["psnr"]
    assert quant.evaluate_onnx(float_path, [TinySet()], SCALE).summary["tiny"]["psnr"] == pytest.approx(
        torch_psnr, abs=1e-3
    )
    int8_psnr = quant.evaluate_onnx(int8_path, [TinySet()], SCALE).summary["tiny"]["psnr"]
    assert math.isfinite(int8_psnr) and int8_psnr != pytest.approx(torch_psnr, abs=1e-6)
    assert quant.OnnxModule(float_path).in_channels == 3


def test_compare_onnx_speed_reports_interleaved_rounds(onnx_files):
    _, float_path, int8_path = onnx_files
    result = quant.compare_onnx_speed({"fp32": float_path, "int8": int8_path}, (1, 3, 20, 30), rounds=3)
    assert result["threads"] == 1 and result["input_shape"] == [1, 3, 20, 30]
    for clock, speedups in (("seconds", "speedup_vs_fp32"), ("cpu_seconds", "cpu_speedup_vs_fp32")):
        times = result[clock]
        assert sorted(times) == ["fp32", "int8"] and all(len(values) == 3 for values in times.values())
        assert result[f"median_{clock}"] == {
            label: statistics.median(values) for label, values in times.items()
        }
        per_round = [reference / t for reference, t in zip(times["fp32"], times["int8"], strict=True)]
        assert result[speedups] == {"fp32": 1.0, "int8": statistics.median(per_round)}


def test_compare_onnx_speed_refuses_a_single_file(onnx_files):
    with pytest.raises(ValueError, match="two files or more"):
        quant.compare_onnx_speed({"fp32": onnx_files[1]})
    with pytest.raises(FileNotFoundError, match="ONNX file not found"):
        quant.OnnxModule(onnx_files[1].parent / "missing.onnx")


def test_distillation_patches_hold_the_teachers_outputs():
    from sr_train import PatchTensors

    net = tiny_net().train()
    lr = torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(3))
    patches = quant.distillation_patches(net, PatchTensors(lr, torch.zeros(5, 3, 12, 12)), batch=2)
    assert torch.equal(patches.lr, lr) and net.training
    with torch.no_grad():
        assert torch.allclose(patches.hr, net.eval()(lr))


def test_qat_towards_the_teacher_runs_and_bad_targets_are_named(tmp_path):
    request = quant.QuantizeRequest(
        weights=tmp_path / "unused.pt",
        out=tmp_path,
        qat_steps=2,
        qat_target="teacher",
        calibration_patches=8,
        batch_size=4,
        patch_size=32,
    )
    qmodel, info = quant.quantize_model(tiny_net(), request, SCALE, log=lambda message: None)
    assert info["qat_steps"] == 2 and quant.quantized_layers(qmodel)
    with pytest.raises(ValueError, match="qat_target must be one of hr, teacher, got 'lr'"):
        quant.QuantizeRequest(weights=tmp_path, out=tmp_path, qat_target="lr").mixed_precision()


def test_op_profile_names_the_integer_convs_and_the_float_ops(onnx_files):
    from sr_deploy.quant.op_profile import onnx_op_profile, op_profile_markdown

    _, float_path, int8_path = onnx_files
    rows = {row.op_type: row for row in onnx_op_profile(int8_path, (1, 3, 16, 16), runs=2)}
    assert rows["QLinearConv"].kind == "integer" and rows["QLinearConv"].nodes == 2  # the last conv's
    assert rows["DepthToSpace"].kind == "float"  # output is float: it stays a Conv
    assert sum(row.share for row in rows.values()) == pytest.approx(1)
    assert "QLinearConv" not in {row.op_type for row in onnx_op_profile(float_path, (1, 3, 16, 16), runs=1)}
    assert "| QLinearConv | integer | 2 |" in op_profile_markdown(list(rows.values()))
