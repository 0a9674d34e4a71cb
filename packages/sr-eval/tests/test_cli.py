"""The sr-eval command: model lookup through entry points, checkpoints, data folders, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from sr_eval import cli, evaluate, models


class UpConv(nn.Module):
    def __init__(self, scale: int, width: int = 4, in_channels: int = 3, out_channels: int = 3):
        super().__init__()
        self.width = width
        self.body = nn.Conv2d(in_channels, out_channels * scale * scale, 3, padding=1)
        self.up = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.body(x))


def fake_create_model(name: str, scale: int = 2, **kwargs) -> nn.Module:
    if name != "upconv":
        raise KeyError(f"unknown model {name!r}; registered models: upconv")
    return UpConv(scale, **kwargs)


@pytest.fixture
def fake_factory(monkeypatch):
    monkeypatch.setattr(models, "model_factories", lambda: {"fake": fake_create_model})


@pytest.fixture
def image_folder(tmp_path):
    from sr_data import write_image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(36, 48), (40, 40)]):
        write_image(folder / f"im{i}.png", rng.random((h, w, 3)))
    return folder


def test_checkpoint_round_trip(fake_factory, tmp_path):
    model = UpConv(2, width=7)
    path = tmp_path / "ckpt.pt"
    torch.save(
        {"model_name": "upconv", "model_kwargs": {"width": 7}, "scale": 2, "state_dict": model.state_dict()},
        path,
    )
    loaded, name = models.load_model(str(path), 2)
    assert name == "upconv" and loaded.width == 7
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    with pytest.raises(ValueError, match="scale 2, not 3"):
        models.load_model(str(path), 3)
    plain = tmp_path / "weights.pt"
    torch.save(model.state_dict(), plain)
    by_name, _ = models.load_model("upconv", 2, weights=plain)
    assert torch.equal(by_name.body.weight, model.body.weight)


def test_a_deployed_checkpoint_is_built_in_deployed_form(monkeypatch, tmp_path):
    calls = []

    def factory(name: str, scale: int = 2, deployed: bool = False, **kwargs) -> nn.Module:
        calls.append(deployed)
        return fake_create_model(name, scale, **kwargs)

    monkeypatch.setattr(models, "model_factories", lambda: {"fake": factory})
    ckpt = {"model_name": "upconv", "model_kwargs": {}, "scale": 2, "state_dict": UpConv(2).state_dict()}
    torch.save({**ckpt, "deployed": True}, tmp_path / "deployed.pt")
    torch.save(ckpt, tmp_path / "trained.pt")
    models.load_model(str(tmp_path / "deployed.pt"), 2)
    models.load_model(str(tmp_path / "trained.pt"), 2)
    assert calls == [True, False]


def test_bad_checkpoints_and_names(fake_factory, tmp_path):
    incomplete = tmp_path / "incomplete.pt"
    torch.save({"model_name": "upconv", "state_dict": {}}, incomplete)
    with pytest.raises(ValueError, match="lacks model_kwargs, scale"):
        models.load_model(str(incomplete), 2)
    bare = tmp_path / "bare_state_dict.pth"  # another project's weights: they name no model
    torch.save(UpConv(2).state_dict(), bare)
    with pytest.raises(ValueError, match=f"names no model.*--model NAME --weights {bare}"):
        models.load_model(str(bare), 2)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        models.load_model(str(tmp_path / "missing.pt"), 2)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"corrupt\.pt: not a readable checkpoint \(not a torch.save file\)"):
        models.load_model(str(corrupt), 2)
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        models.load_model("nope", 2)


def test_no_factory_installed(monkeypatch):
    monkeypatch.setattr(models, "model_factories", lambda: {})
    with pytest.raises(LookupError, match="sr_toolkit.models"):
        models.create_model("anything", 2)


def test_cli_evaluates_a_folder_and_writes_results(fake_factory, image_folder, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--model", "upconv", "--scale", "2", "--data", str(image_folder), "--out", str(out)]
    code = cli.main([*args, "--tile", "8", "--overlap", "4"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "| images | 2 |" in printed and "parameters" in printed
    result = json.loads((out / "results.json").read_text())
    assert result["settings"]["model"] == "upconv" and result["settings"]["tile"] == 8
    assert result["settings"]["params"] == sum(p.numel() for p in UpConv(2).parameters())
    assert (out / "results.csv").read_text().count("\n") == 3


def test_cli_reports_errors_without_a_traceback(fake_factory, image_folder, capsys):
    assert cli.main(["--model", "nope", "--scale", "2", "--data", str(image_folder)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_an_out_that_is_a_file_is_refused_before_any_evaluation(fake_factory, image_folder, tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("a file\n")
    args = ["--model", "upconv", "--scale", "2", "--data", str(image_folder), "--out", str(out)]
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == f"sr-eval: error: {out}: exists and is not a folder"
    assert captured.out == "" and out.read_text() == "a file\n"  # no table: nothing was evaluated


def test_cli_does_not_import_sr_blocks():
    code = "import sys, sr_eval, sr_eval.cli; assert 'sr_blocks' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_evaluates_the_bundled_sample_images(fake_factory, capsys):
    assert cli.main(["--model", "upconv", "--scale", "3", "--data", "samples"]) == 0
    assert "| samples-test | 3 |" in capsys.readouterr().out


def test_cli_evaluates_a_y_only_model(fake_factory, image_folder, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--model", "upconv", "--scale", "2", "--data", str(image_folder), "--out", str(out)]
    assert cli.main([*args, "--in-channels", "1"]) == 0
    assert "Y-only model" in capsys.readouterr().out
    result = json.loads((out / "results.json").read_text())
    assert result["settings"]["model_input"] == "Y"
    torch.manual_seed(0)
    model = UpConv(2, in_channels=1, out_channels=1)
    checkpoint = tmp_path / "y.pt"
    kwargs = {"in_channels": 1, "out_channels": 1}
    torch.save(
        {"model_name": "upconv", "model_kwargs": kwargs, "scale": 2, "state_dict": model.state_dict()},
        checkpoint,
    )
    assert (
        cli.main(["--model", str(checkpoint), "--scale", "2", "--data", str(image_folder), "--out", str(out)])
        == 0
    )
    from_checkpoint = json.loads((out / "results.json").read_text())
    expected = evaluate(model, str(image_folder), 2).summary
    assert from_checkpoint["settings"]["model_input"] == "Y"  # detected from the model
    assert from_checkpoint["summary"]["images"]["psnr"] == pytest.approx(
        expected["images"]["psnr"], abs=1e-12
    )
    capsys.readouterr()
    assert (
        cli.main(
            ["--model", str(checkpoint), "--in-channels", "3", "--scale", "2", "--data", str(image_folder)]
        )
        == 2
    )
    assert "--in-channels 3, but" in capsys.readouterr().err


def test_checkpoint_errors_name_the_file(fake_factory, tmp_path):
    unnamed = tmp_path / "unnamed.pt"
    weights = UpConv(2).state_dict()
    torch.save({"model_name": None, "model_kwargs": {}, "scale": 2, "state_dict": weights}, unnamed)
    with pytest.raises(ValueError, match=r"unnamed\.pt does not name its model.*--weights"):
        models.load_model(str(unnamed), 2)
    model, _ = models.load_model("upconv", 2, weights=unnamed)  # sr-train writes None when unknown
    assert torch.equal(model.body.weight, weights["body.weight"])
    with pytest.raises(ValueError, match=r"weights in .*unnamed\.pt do not fit UpConv"):
        models.load_model("upconv", 3, weights=unnamed)
    wrong = tmp_path / "wrong.pt"
    torch.save({"model_name": "upconv", "model_kwargs": {"width": 5}, "scale": 2, "state_dict": {}}, wrong)
    with pytest.raises(ValueError, match=r"weights in .*wrong\.pt do not fit UpConv"):
        models.load_model(str(wrong), 2)


def test_cli_y_evaluation_of_a_channel_agnostic_model(monkeypatch, image_folder, tmp_path):
    """A parameter-free model (bicubic-like) says nothing about its channels: --in-channels 1 decides."""

    def nearest_factory(name: str, scale: int = 2, **kwargs) -> nn.Module:
        return nn.Upsample(scale_factor=scale, mode="nearest")

    monkeypatch.setattr(models, "model_factories", lambda: {"fake": nearest_factory})
    out = tmp_path / "out"
    args = ["--model", "nearest", "--scale", "2", "--data", str(image_folder), "--out", str(out)]
    assert cli.main([*args, "--in-channels", "1"]) == 0
    assert json.loads((out / "results.json").read_text())["settings"]["model_input"] == "Y"
