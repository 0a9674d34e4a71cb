"""`quantize_checkpoint` (what `zoo quantize` runs) end to end on a tiny model: PTQ and QAT, tables,
fp32 and int8 QCDQ ONNX checked in onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from sr_deploy.quant import QuantizeRequest, parse_bits, quantize_checkpoint

TINY = dict(
    calibration_patches=16, calibration_patch_size=32, patch_size=32, sets=["samples"], data="samples"
)


def test_default_ptq_int8_loses_little_and_exports_checked_qcdq(make_checkpoint, tmp_path):
    out = tmp_path / "int8"
    messages: list[str] = []
    report = quantize_checkpoint(QuantizeRequest(make_checkpoint(), out, **TINY), log=messages.append)
    assert json.loads((out / "results.json").read_text()) == report
    row = report["benchmarks"]["samples-test"]
    assert abs(row["psnr_drop"]) <= 0.2 and row["fp32"]["psnr"] > 20
    assert report["onnx_within_2_255"] and report["onnx_max_diff_255"] <= 2
    assert report["onnx_fp32_max_abs_diff"] < 1e-4
    graph = onnx.load(out / "model_w8a8.onnx").graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    int8 = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(int8) == report["quantized_layers"]  # of SESR-M3's five convs (5x5, three 3x3, 5x5)
    plan = report["mixed_plan"]  # the automatic plan, on a held-out quarter of the 16 patches
    assert (plan["calibration_items"], plan["holdout_items"]) == (12, 4)
    assert report["quantized_layers"] + len(report["float_convs"]) == 5
    assert sorted(report["float_convs"]) == sorted(plan["keep_float"])
    assert plan["all_int8_drop"] >= plan["max_drop"] or not plan["keep_float"]
    for name in ("model_fp32.onnx", "benchmark_fp32.md", "benchmark_w8a8.json"):
        assert (out / name).is_file(), name
    assert "drop (dB)" in (out / "benchmark.md").read_text()
    assert "mixed-precision plan (hold-out: 4 of the calibration items" in (out / "benchmark.md").read_text()
    assert any("onnxruntime vs Brevitas" in message for message in messages)


def test_qat_of_a_y_only_model_at_w4a8_from_a_run_folder(make_checkpoint, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    make_checkpoint("sesr_m3", in_channels=1, out_channels=1).rename(run / "last.pt")
    request = QuantizeRequest(
        run, tmp_path / "w4a8", bits="w4a8", method="mse", qat_steps=2, batch_size=4, **TINY
    )
    report = quantize_checkpoint(request, log=lambda _: None)
    assert report["weights"] == str(run / "last.pt")
    assert report["qat_steps"] == 2 and np.isfinite(report["qat_best_val_psnr"])
    assert report["onnx_max_diff_255"] <= 2
    assert (tmp_path / "w4a8" / "model_w4a8.onnx").is_file()


def test_bad_bits_fail_before_any_file_is_written(make_checkpoint, tmp_path):
    assert parse_bits("w4a8") == (4, 8)
    with pytest.raises(ValueError, match="w8a8"):
        parse_bits("int8")
    with pytest.raises(ValueError, match="w9a8: weight bits: unsupported bit width 9; supported: 2 to 8"):
        parse_bits("w9a8")
    with pytest.raises(ValueError, match="w8a8"):
        quantize_checkpoint(QuantizeRequest(make_checkpoint(), tmp_path / "out", bits="8bit"))
    assert not (tmp_path / "out").exists()
