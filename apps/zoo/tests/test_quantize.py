"""`zoo quantize` through the command line (the work itself is `sr_deploy.quant.quantize_checkpoint`,
tested in sr-deploy)."""

from __future__ import annotations

import json

import torch

from sr_zoo.cli import main

TINY = [
    "--calibration",
    "16",
    "--calibration-size",
    "32",
    "--patch-size",
    "32",
    "--sets",
    "samples",
    "--data",
    "samples",
]


def test_all_int8_ptq_writes_the_results_folder(make_checkpoint, tmp_path, capsys):
    out = tmp_path / "int8"
    argv = ["quantize", "--weights", str(make_checkpoint()), "--out", str(out), "--all-int8", *TINY]
    assert main(argv) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["settings"]["bits"] == "w8a8" and report["onnx_within_2_255"]
    assert (
        report["settings"]["keep_float"] == [] and report["float_convs"] == [] and "mixed_plan" not in report
    )
    assert (out / "model_w8a8.onnx").is_file() and "drop (dB)" in capsys.readouterr().out


def test_quantize_between_reaches_the_quantiser_and_the_record(make_checkpoint, tmp_path):
    out = tmp_path / "between"
    argv = [
        "quantize",
        "--weights",
        str(make_checkpoint()),
        "--out",
        str(out),
        "--all-int8",
        "--quantize-between",
    ]
    assert main([*argv, *TINY]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["settings"]["quantize_between"] is True and report["onnx_within_2_255"]


def test_bad_input_is_one_line_and_leaves_no_folder(make_checkpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))  # no benchmark here
    base = ["quantize", "--weights", str(make_checkpoint()), "--out", str(tmp_path / "q")]
    for args, word in (
        (["--bits", "int8"], "w8a8"),
        (["--device", "cuda:99" if torch.cuda.is_available() else "cuda"], "cuda"),
        (["--sets", "Set5"], "'Set5'"),
    ):
        assert main([*base, *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and word in err[0], err
    assert not (tmp_path / "q").exists()
