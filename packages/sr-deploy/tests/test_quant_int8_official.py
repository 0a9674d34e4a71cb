"""The int8-on-official-networks driver (experiments/int8_official/run.py), as a --quick smoke run.

The official file is stood in for by a small randomly initialised IMDN checkpoint in the toolkit's
format, so the test needs no real weights; it needs the repository checkout (the driver is not
part of the wheel) and the shared Set5 / SunHays80 images, and skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sr_blocks import create_model
from sr_data import find_datasets_root
from sr_train import RunFolder, model_checkpoint, save_checkpoint

DRIVER = Path(__file__).resolve().parents[3] / "experiments" / "int8_official" / "run.py"
DATASETS = find_datasets_root()
CELLS = ("fp32", "ptq_default", "ptq_w8a8", "sensitivity", "plan", "qat_w8a8", "qat_w4a4")

pytestmark = [
    pytest.mark.skipif(
        not DRIVER.is_file(), reason=f"driver not found: {DRIVER} (not a repository checkout)"
    ),
    pytest.mark.skipif(
        DATASETS is None or not (DATASETS / "Set5").is_dir() or not (DATASETS / "SunHays80").is_dir(),
        reason="the shared Set5 and SunHays80 images are not here",
    ),
]


def run_driver(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(DRIVER), *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8_official")
    torch.manual_seed(0)
    kwargs = {"num_feat": 64, "num_block": 1}  # 64: four hidden channels in the attention
    model = create_model("imdn", scale=4, **kwargs)
    save_checkpoint(folder / "IMDN_x4.pth", model_checkpoint(model, "imdn", 4, kwargs))
    out = folder / "out"
    first = run_driver("--quick", "--weights-dir", str(folder), "--out", str(out))
    return folder, out, first


def test_quick_run_writes_every_cell_and_the_report(quick_run):
    _, out, first = quick_run
    assert first.returncode == 0, first.stderr[-3000:]
    stages = RunFolder(out / "imdn_x4")
    for cell in CELLS:
        assert stages.done(cell)["cell"] == cell
    qat = stages.done("qat_w4a4")
    assert qat["bits"] == "w4a4" and qat["qat_steps"] == 2 and set(qat["onnxruntime"]) == {"Set5"}
    assert (out / "imdn_x4" / "qat_w8a8" / "model.onnx").is_file()
    plan = stages.done("ptq_default")["mixed_plan"]  # `zoo quantize`'s default: the automatic plan
    assert (plan["calibration_items"], plan["holdout_items"]) == (12, 4)
    speed = json.loads((out / "speed.json").read_text())
    assert speed["networks"]["imdn_x4"]["speedup_vs_fp32"]["fp32"] == 1.0
    report = (out / "results.md").read_text()
    assert (
        "| QAT w4a4 |" in report and "## onnxruntime CPU speed" in report and "Per-conv sensitivity" in report
    )
    assert (
        "| PTQ w8a8, default (automatic plan) |" in report
        and "Default (`zoo quantize` as documented)" in report
    )


def test_a_second_run_resumes_from_the_finished_cells(quick_run):
    folder, out, _ = quick_run
    qat = RunFolder(out / "imdn_x4").stage_path("qat_w8a8")
    before = qat.stat().st_mtime_ns
    again = run_driver("--quick", "--weights-dir", str(folder), "--out", str(out), "--stage", "cells")
    assert again.returncode == 0, again.stderr[-3000:]
    finished = len(RunFolder(out / "imdn_x4").finished_stages())
    assert finished >= len(CELLS) and again.stderr.count("already done, skipped") == finished
    assert qat.stat().st_mtime_ns == before


def test_missing_weights_are_named(tmp_path):
    result = run_driver("--quick", "--weights-dir", str(tmp_path), "--out", str(tmp_path / "out"))
    assert (
        result.returncode != 0 and f"official weights not found: {tmp_path / 'IMDN_x4.pth'}" in result.stderr
    )
