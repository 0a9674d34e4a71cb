"""A run's results folder: every stage's output, int8 ONNX checked in onnxruntime, and re-runs that
skip what is done, redo what changed and refuse other training settings."""

import json

import pytest
import torch

from sr_sesr.pipeline import build_model, load_deployed
from sr_sesr.settings import Network
from sr_train import load_checkpoint

pytest.importorskip("onnxruntime", reason="the ONNX checks need onnxruntime")

SMALL = ["--m", "2", "--int_features", "8", "--feature_size", "16"]
QAT = ["--quant_W", "8", "--quant_A", "8"]
STAGES = ["train", "deploy", "evaluate", "onnx", "ptq_w8a8", "qat_w8a8"]


@pytest.fixture
def finished(sesr, tmp_path):
    assert sesr(SMALL + QAT, tmp_path) == 0
    return tmp_path, Network(m=2, int_features=8, feature_size=16).run_dir(tmp_path)


def test_the_results_folder(finished):
    _, run = finished
    for name in [
        "config.yaml",
        "train.log",
        "metrics.jsonl",
        "last.pt",
        "best.pt",
        "deployed.pt",
        "model.onnx",
        "benchmark.md",
        "benchmark.json",
        "benchmark.csv",
        "results.json",
    ]:
        assert (run / name).is_file(), name
    for variant in ("ptq_w8a8", "qat_w8a8"):
        for name in ("benchmark.md", "benchmark.json", "model_int8.onnx"):
            assert (run / "int8" / variant / name).is_file(), f"{variant}/{name}"
    assert (run / "int8" / "qat_w8a8" / "last.pt").is_file()
    assert sorted(p.stem for p in (run / "stages").glob("*.json")) == sorted(STAGES)

    results = json.loads((run / "results.json").read_text())
    assert results["deploy"]["deploy_max_abs_diff"] < 1e-5
    assert results["onnx"]["onnx_max_abs_diff"] < 1e-5
    for variant in ("ptq_w8a8", "qat_w8a8"):
        report = results["int8"][variant]
        assert report["onnx_within_2_255"] and report["onnx_max_diff_255"] <= 2
        assert report["weight_bits"] == [8] and report["act_bits"] == [8] and report["quantized_layers"] == 4
        assert set(report["delta_psnr_db"]) == {"test"}
    assert results["int8"]["qat_w8a8"]["qat"]["steps"] == 2


def test_deployed_pt_is_the_collapsed_trained_network(finished):
    _, run = finished
    network = Network(m=2, int_features=8, feature_size=16)
    trained = build_model(network)
    trained.load_state_dict(load_checkpoint(run / "best.pt")["state_dict"])
    deployed = load_deployed(run / "deployed.pt", network)
    assert sum(p.numel() for p in deployed.parameters()) < sum(p.numel() for p in trained.parameters())
    x = torch.rand(1, 1, 17, 19)
    torch.testing.assert_close(deployed(x), trained.eval()(x), atol=1e-5, rtol=0)


def test_a_rerun_skips_finished_stages(sesr, finished):
    out, run = finished
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.suffix in (".pt", ".onnx")}
    assert sesr(SMALL + QAT, out) == 0
    log = (run / "train.log").read_text()
    for stage in STAGES:
        assert f"stage {stage}: already done, skipped" in log
    assert before == {p: p.stat().st_mtime_ns for p in before}


def test_other_test_sets_redo_only_what_depends_on_them(sesr, finished):
    out, run = finished
    assert sesr(SMALL + QAT, out, test_sets="samples") == 0
    log = (run / "train.log").read_text()
    for stage in ("train", "deploy", "onnx"):
        assert f"stage {stage}: already done, skipped" in log
    for stage in ("evaluate", "ptq_w8a8", "qat_w8a8"):
        assert f"stage {stage}: settings changed (test_sets" in log
    results = json.loads((run / "results.json").read_text())
    assert "samples-test" in results["fp32"]["benchmarks"]
    assert results["int8"]["qat_w8a8"]["qat"]["steps"] == 2  # QAT resumed at its end, not trained again


def test_other_training_settings_are_refused(sesr, finished, capsys):
    out, _ = finished
    assert sesr(SMALL + ["--learning_rate", "1e-3"], out) == 2
    assert "recipe.learning_rate: 0.0002 -> 0.001" in capsys.readouterr().err
