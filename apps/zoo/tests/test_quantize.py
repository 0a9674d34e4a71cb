"""`zoo quantize` end to end on a tiny model: PTQ and QAT, tables, int8 QCDQ ONNX checked in onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sr_zoo.cli import main
from sr_zoo.quantize import parse_bits

pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")
pytest.importorskip("sr_search_quantnas.quant", reason="zoo quantize needs sr-zoo[quant]")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

TINY = ["--calibration", "16", "--patch-size", "32", "--sets", "samples", "--data", "samples"]


def test_ptq_int8_loses_little_and_exports_checked_qcdq(make_checkpoint, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["quantize", "--weights", str(make_checkpoint()), "--out", str(out), *TINY]) == 0
    report = json.loads((out / "results.json").read_text())
    row = report["benchmarks"]["samples-test"]
    assert abs(row["psnr_drop"]) <= 0.2 and row["fp32"]["psnr"] > 20
    assert report["onnxruntime_vs_brevitas_max_abs"] <= 2 / 255
    graph = onnx.load(out / "model_w8a8.onnx").graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    int8 = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(int8) == 5  # every conv of the deployed SESR-M3 (5x5, three 3x3, 5x5) has int8 weights
    assert (out / "model_fp32.onnx").is_file() and "drop (dB)" in (out / "benchmark.md").read_text()
    assert "onnxruntime vs Brevitas" in capsys.readouterr().out


def test_qat_of_a_y_only_model_at_w4a8(make_checkpoint, tmp_path):
    weights = make_checkpoint("sesr_m3", in_channels=1, out_channels=1)
    out = tmp_path / "w4a8"
    args = ["quantize", "--weights", str(weights), "--out", str(out), "--bits", "w4a8", "--method", "mse"]
    assert main([*args, "--qat-steps", "2", "--batch-size", "4", *TINY]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["qat_steps"] == 2 and np.isfinite(report["qat_best_val_psnr"])
    assert report["onnxruntime_vs_brevitas_max_abs"] <= 2 / 255
    assert (out / "model_w4a8.onnx").is_file()


def test_bad_bits_are_reported(make_checkpoint, tmp_path, capsys):
    assert parse_bits("w4a8") == (4, 8)
    assert (
        main(["quantize", "--weights", str(make_checkpoint()), "--bits", "int8", "--out", str(tmp_path)]) == 2
    )
    assert "w8a8" in capsys.readouterr().err
