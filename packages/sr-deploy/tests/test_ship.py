"""Loading, deploy + verify, the checked ONNX export and `ship_trained` on small registry models."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import sr_deploy.onnx_export
from sr_blocks import create_model
from sr_data import PairedFolder, write_image
from sr_deploy import (
    check_input,
    deploy_verified,
    export_onnx_checked,
    find_weights,
    load_trained,
    ship_trained,
)
from sr_reparam.deploy import undeployed_modules
from sr_train import deployed_checkpoint, save_checkpoint


def test_find_weights_prefers_best_then_last_and_names_an_empty_folder(tmp_path, make_checkpoint):
    weights = make_checkpoint()
    assert find_weights(weights) == weights
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no best.pt or last.pt"):
        find_weights(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint or run folder"):
        find_weights(tmp_path / "nope")
    (tmp_path / "last.pt").write_bytes(weights.read_bytes())
    assert find_weights(tmp_path) == tmp_path / "last.pt"
    (tmp_path / "best.pt").write_bytes(weights.read_bytes())
    assert find_weights(tmp_path) == tmp_path / "best.pt"


def test_load_trained_rebuilds_training_and_deployed_checkpoints(tmp_path, make_checkpoint):
    weights = make_checkpoint("sesr_m3")
    trained, ckpt = load_trained(weights)
    assert not trained.training and undeployed_modules(trained)
    deployed, _ = load_trained(weights, deployed=True)
    assert not undeployed_modules(deployed)
    save_checkpoint(tmp_path / "deployed.pt", deployed_checkpoint(ckpt, deployed))
    again, again_ckpt = load_trained(tmp_path / "deployed.pt")
    assert again_ckpt["deployed"] and not undeployed_modules(again)
    x = torch.rand(1, 3, 11, 9)
    with torch.no_grad():
        torch.testing.assert_close(again(x), trained(x), rtol=1e-5, atol=1e-5)


def test_load_trained_names_a_file_that_is_no_checkpoint(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(ValueError, match="tensor.pt"):
        load_trained(tmp_path / "tensor.pt")


def test_deploy_verified_handles_one_channel_sesr_and_identity_deploys():
    torch.manual_seed(0)
    sesr = create_model("sesr_m3", scale=2, in_channels=1, out_channels=1).eval()
    check = deploy_verified(sesr)
    assert check.reparameterized > 0 and check.max_abs_diff < 1e-4
    assert check_input(sesr).shape == (1, 1, 27, 21)  # odd size, the model's channels
    assert sesr.training is False and undeployed_modules(sesr)  # the model itself is not changed
    model, gap, blocks = deploy_verified(create_model("espcn", scale=2))  # unpacks as a tuple
    assert gap == 0.0 and blocks == 0 and not undeployed_modules(model)


def test_deploy_verified_catches_a_wrong_reparameterisation():
    class Wrong(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x)

        def reparameterize(self) -> nn.Module:
            wrong = nn.Conv2d(3, 3, 3, padding=1)
            wrong.weight.data = self.conv.weight.data * 2
            wrong.bias.data = self.conv.bias.data
            return wrong

    assert deploy_verified(nn.Sequential(Wrong())).max_abs_diff > 1e-2


def test_checked_export_is_atomic_and_measures_onnxruntime(tmp_path, make_checkpoint):
    model, _ = load_trained(make_checkpoint("sesr_m3", in_channels=1, out_channels=1), deployed=True)
    out = tmp_path / "onnx"
    report = export_onnx_checked(model, out / "m.onnx", log=lambda _: None)
    assert report.path.is_file() and report.max_abs_diff < 1e-4
    assert json.dumps(report.to_dict())
    before = report.path.read_bytes()

    class FailsMidExport(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("traced forward failed")

    with pytest.raises(RuntimeError, match="traced forward failed"):
        export_onnx_checked(FailsMidExport(), out / "m.onnx")
    assert report.path.read_bytes() == before  # the old file is kept whole
    assert [p.name for p in out.iterdir()] == ["m.onnx"]  # and no temporary file is left


def test_without_onnx_nothing_is_written_and_the_reason_is_logged(tmp_path, monkeypatch):
    monkeypatch.setattr(sr_deploy.onnx_export, "find_spec", lambda name: None)
    messages: list[str] = []
    assert (
        export_onnx_checked(create_model("espcn", scale=2), tmp_path / "m.onnx", log=messages.append) is None
    )
    assert "sr-deploy[onnx]" in messages[0] and not (tmp_path / "m.onnx").exists()


def test_ship_trained_writes_every_artifact_of_a_run_folder(tmp_path, make_checkpoint):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    make_checkpoint("sesr_m3").rename(run_dir / "last.pt")
    for index in range(2):
        write_image(tmp_path / "tests" / f"{index}.png", torch.rand(3, 24, 20))
    messages: list[str] = []
    report = ship_trained(run_dir, [PairedFolder(tmp_path / "tests", scale=2)], log=messages.append)
    assert report["weights"] == str(run_dir / "last.pt") and report["model"] == "sesr_m3"
    assert report["params"] > report["deployed_params"] > 0 and report["macs_720p"] > 0
    assert report["deploy_max_abs_diff"] < 1e-4 and report["reparameterized_blocks"] > 0
    assert 0 < report["benchmarks"]["tests"]["psnr"] < 100
    for name in ("benchmark.md", "benchmark.json", "benchmark.csv", "deployed.pt"):
        assert (run_dir / name).is_file(), name
    deployed, ckpt = load_trained(run_dir / "deployed.pt")
    assert ckpt["deployed"] and not undeployed_modules(deployed)
    assert report["onnx"] == str(run_dir / "model.onnx") and (run_dir / "model.onnx").is_file()
    json.dumps(report)  # JSON-ready
    assert any("re-parameterised" in message for message in messages)
