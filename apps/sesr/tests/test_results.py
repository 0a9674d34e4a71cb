"""A run's results folder: every stage's output, int8 ONNX checked in onnxruntime, and reruns that
skip what is done, redo what changed, add a QAT variant asked for later and refuse other training
settings (through the real command, as a subprocess) with the folder left as it was."""

import json

import torch

from sr_deploy import load_trained
from sr_sesr.pipeline import build_model
from sr_sesr.settings import Network
from sr_train import load_checkpoint

SMALL = ["--m", "2", "--int_features", "8", "--feature_size", "16"]
QAT = ["--quant_W", "8", "--quant_A", "8"]
STAGES = ["train", "ship", "ptq_w8a8", "qat_w8a8"]


def snapshot(run):
    """{file: (bytes, mtime)} of a run folder, but its run log (which records every rerun)."""
    files = [p for p in run.rglob("*") if p.is_file() and p.name != "run.log"]
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def finished_run(sesr, out):
    assert sesr(SMALL + QAT, out) == 0
    return out, Network(m=2, int_features=8, feature_size=16).run_dir(out)


def test_the_results_folder(sesr, tmp_path):
    _, run = finished_run(sesr, tmp_path)
    for name in ["config.yaml", "run.log", "train.log", "metrics.jsonl", "last.pt", "best.pt", "deployed.pt"]:
        assert (run / name).is_file(), name
    for name in ["model.onnx", "benchmark.md", "benchmark.json", "benchmark.csv", "results.json"]:
        assert (run / name).is_file(), name
    for variant in ("ptq_w8a8", "qat_w8a8"):
        for name in ("benchmark.md", "benchmark.json", "model_int8.onnx"):
            assert (run / "int8" / variant / name).is_file(), f"{variant}/{name}"
    assert (run / "int8" / "qat_w8a8" / "last.pt").is_file()
    assert (run / "int8" / "qat_w8a8" / "config.yaml").is_file()
    assert sorted(p.stem for p in (run / "stages").glob("*.json")) == sorted(STAGES)

    results = json.loads((run / "results.json").read_text())
    assert results["fp32"]["deploy_max_abs_diff"] < 1e-5
    assert results["fp32"]["onnx_max_abs_diff"] < 1e-5
    assert results["fp32"]["weights"] == str(run / "best.pt")
    for variant in ("ptq_w8a8", "qat_w8a8"):
        report = results["int8"][variant]
        assert report["onnx_within_2_255"] and report["onnx_max_diff_255"] <= 2
        assert report["weight_bits"] == [8] and report["act_bits"] == [8] and report["quantized_layers"] == 4
        assert set(report["delta_psnr_db"]) == {"test"}
    assert results["int8"]["qat_w8a8"]["qat"]["steps"] == 2

    # deployed.pt is the collapsed trained network
    network = Network(m=2, int_features=8, feature_size=16)
    trained = build_model(network)
    trained.load_state_dict(load_checkpoint(run / "best.pt")["state_dict"])
    deployed = load_trained(run / "deployed.pt")[0]
    assert sum(p.numel() for p in deployed.parameters()) < sum(p.numel() for p in trained.parameters())
    x = torch.rand(1, 1, 17, 19)
    torch.testing.assert_close(deployed(x), trained.eval()(x), atol=1e-5, rtol=0)


def test_a_finished_run_rerun_does_nothing(sesr, sesr_cli, tmp_path):
    out, run = finished_run(sesr, tmp_path)
    before = snapshot(run)
    done = sesr_cli(SMALL + QAT, out)
    assert done.returncode == 0, done.stderr
    assert "| qat_w8a8 |" in done.stdout  # --quiet prints the comparison table
    assert snapshot(run) == before
    log = (run / "run.log").read_text()
    for stage in STAGES:
        assert f"{stage}: already done, skipped" in log


def test_other_training_settings_are_refused_and_the_folder_is_left_alone(sesr, sesr_cli, tmp_path):
    out, run = finished_run(sesr, tmp_path)
    before = snapshot(run)
    refused = sesr_cli(SMALL + QAT + ["--learning_rate", "1e-3"], out)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "recipe.learning_rate: 0.0002 -> 0.001" in refused.stderr
    assert snapshot(run) == before  # config.yaml byte-identical, nothing else written
    # another QAT learning rate for the same bit widths is refused too, by the QAT folder
    refused = sesr_cli(SMALL + QAT + ["--qat_learning_rate", "1e-3"], out)
    assert refused.returncode == 2 and "qat_learning_rate: 2e-05 -> 0.001" in refused.stderr
    assert str(run / "int8" / "qat_w8a8") in refused.stderr
    assert snapshot(run) == before


def test_other_test_sets_redo_only_what_depends_on_them_and_qat_can_be_added(sesr, tmp_path):
    out, run = finished_run(sesr, tmp_path)
    assert sesr(SMALL + QAT, out, test_sets="samples") == 0
    log = (run / "run.log").read_text()
    assert "train: already done, skipped" in log
    for stage in ("ship", "ptq_w8a8", "qat_w8a8"):
        assert f"{stage}: settings changed (test_sets" in log
    results = json.loads((run / "results.json").read_text())
    assert list(results["fp32"]["benchmarks"]) == ["samples-test"]
    assert results["int8"]["qat_w8a8"]["qat"]["steps"] == 2  # QAT resumed at its end, not trained again

    assert sesr(SMALL + ["--quant_W", "4", "--quant_A", "4"], out, test_sets="samples") == 0
    results = json.loads((run / "results.json").read_text())
    assert sorted(results["int8"]) == ["ptq_w8a8", "qat_w4a4", "qat_w8a8"]  # the new variant beside the old
    assert 4 in results["int8"]["qat_w4a4"]["weight_bits"]  # (the first and last layers stay at 8 bits)
