"""`zoo quantize` through the command line (the work itself is `sr_deploy.quant.quantize_checkpoint`,
tested in sr-deploy)."""

from __future__ import annotations

import json

import pytest

from sr_zoo.cli import main

pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")
pytest.importorskip("sr_deploy.quant", reason="zoo quantize needs sr-zoo[quant]")
pytest.importorskip("onnxruntime")

TINY = ["--calibration", "16", "--patch-size", "32", "--sets", "samples", "--data", "samples"]


def test_ptq_writes_the_results_folder(make_checkpoint, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["quantize", "--weights", str(make_checkpoint()), "--out", str(out), *TINY]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["settings"]["bits"] == "w8a8" and report["onnx_within_2_255"]
    assert (out / "model_w8a8.onnx").is_file() and "drop (dB)" in capsys.readouterr().out


def test_bad_bits_are_reported(make_checkpoint, tmp_path, capsys):
    assert (
        main(["quantize", "--weights", str(make_checkpoint()), "--bits", "int8", "--out", str(tmp_path)]) == 2
    )
    assert "w8a8" in capsys.readouterr().err
