"""The sr-eval command: model lookup through entry points, checkpoints, data folders, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from sr_eval import cli, models


class UpConv(nn.Module):
    def __init__(self, scale: int, width: int = 4):
        super().__init__()
        self.width = width
        self.body = nn.Conv2d(3, 3 * scale * scale, 3, padding=1)
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


def test_bad_checkpoints_and_names(fake_factory, tmp_path):
    incomplete = tmp_path / "incomplete.pt"
    torch.save({"model_name": "upconv", "state_dict": {}}, incomplete)
    with pytest.raises(ValueError, match="lacks model_kwargs, scale"):
        models.load_model(str(incomplete), 2)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        models.load_model(str(tmp_path / "missing.pt"), 2)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
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


def test_cli_does_not_import_sr_blocks():
    code = "import sys, sr_eval, sr_eval.cli; assert 'sr_blocks' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_evaluates_the_bundled_sample_images(fake_factory, capsys):
    pytest.importorskip("skimage", reason="sr-data[samples] (scikit-image) not installed")
    assert cli.main(["--model", "upconv", "--scale", "3", "--data", "samples"]) == 0
    assert "| samples-test | 3 |" in capsys.readouterr().out
