"""`zoo train|eval|deploy|export` end to end on the bundled samples, with a few steps (CPU)."""

import json

import pytest
import torch

from sr_deploy import load_trained
from sr_train import load_checkpoint
from sr_zoo.cli import main

pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")

RECIPE = """
model: {name: espcn}
data: {patch_size: 32, patches_per_epoch: 64, val: samples, test: [Set5]}
train: {steps: 6, batch_size: 8, lr: 1.0e-3, val_every: 3, val_ssim: false, log_every: 2}
"""


@pytest.fixture
def trained(tmp_path):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(RECIPE)
    out = tmp_path / "run"
    assert main(["train", "--data", "samples", "--config", str(recipe), "--out", str(out), "--quiet"]) == 0
    return recipe, out


def test_train_writes_a_complete_results_folder(trained):
    _, out = trained
    for name in (
        "config.yaml",
        "train.log",
        "metrics.jsonl",
        "last.pt",
        "best.pt",
        "results.json",
        "benchmark.md",
        "benchmark.json",
        "benchmark.csv",
        "deployed.pt",
    ):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_mode & 0o044, f"{name} is readable only by its owner"
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "espcn" and results["steps"] == 6 and results["params"] > 0
    assert results["deploy_max_abs_diff"] < 1e-4
    assert results["onnx"] is None or (out / "model.onnx").is_file()
    assert results["benchmarks"]


def test_rerun_resumes_and_refuses_other_settings(trained, tmp_path):
    recipe, out = trained
    before = load_checkpoint(out / "last.pt")["state_dict"]
    first = json.loads((out / "results.json").read_text())
    assert main(["train", "--data", "samples", "--config", str(recipe), "--out", str(out), "--quiet"]) == 0
    again = json.loads((out / "results.json").read_text())  # the run's timing, not the no-op re-run's
    assert again["train_seconds"] > 0.5 * first["train_seconds"] and again["patches_per_s"] > 0
    after = load_checkpoint(out / "last.pt")
    assert after["step"] == 6 and all(torch.equal(before[k], after["state_dict"][k]) for k in before)
    assert "resumed at step 6" in (out / "train.log").read_text()
    code = main(["train", "--data", "samples", "--config", str(recipe), "--out", str(out), "--lr", "0.1"])
    assert code == 2


def test_eval_deploy_export_from_the_checkpoint(trained, tmp_path, capsys):
    _, out = trained
    weights = str(out / "best.pt")
    assert main(["eval", "--weights", weights, "--sets", "Set5", "--out", str(tmp_path / "ev")]) == 0
    assert (tmp_path / "ev" / "benchmark.md").is_file()
    assert main(["deploy", "--weights", str(out / "best.pt"), "--out", str(tmp_path / "dep")]) == 0
    model, _ = load_trained(out / "best.pt")
    deployed, ckpt = load_trained(tmp_path / "dep" / "deployed.pt")
    x = torch.rand(1, 3, 10, 12)
    torch.testing.assert_close(deployed(x), model(x), rtol=1e-5, atol=1e-5)
    pytest.importorskip("onnx")
    assert main(["export", "--weights", str(out / "best.pt"), "--out", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 1000


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["train", "--model", "nope", "--config", "espcn", "--out", str(tmp_path / "x")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["eval", "--weights", str(tmp_path / "missing.pt")]) == 2
    capsys.readouterr()
    recipe = tmp_path / "typo.yaml"
    recipe.write_text(RECIPE.replace("{name: espcn}", "{name: espcn, kwargs: {widht: 8}}"))
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "typo")]) == 2
    err = capsys.readouterr().err
    assert "widht" in err and "typo.yaml" in err and not (tmp_path / "typo").exists()


def test_initial_weights_follow_the_recipe_seed(tmp_path, monkeypatch):
    """Two runs of one recipe start from the same weights (the data order is seeded too)."""
    import sr_zoo.pipeline

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(RECIPE)
    starts = []

    class Stop(Exception):
        pass

    def capture(model, *args, **kwargs):
        starts.append({k: v.clone() for k, v in model.state_dict().items()})
        raise Stop

    monkeypatch.setattr(sr_zoo.pipeline, "Trainer", capture)
    for run in ("a", "b"):
        torch.rand(7)  # whatever the global RNG did before
        with pytest.raises(Stop):
            main(["train", "--data", "samples", "--config", str(recipe), "--out", str(tmp_path / run)])
    assert all(torch.equal(starts[0][k], starts[1][k]) for k in starts[0])
