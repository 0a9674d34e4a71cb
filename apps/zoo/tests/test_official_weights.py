"""`--weights` with the authors' own checkpoints on every zoo command that builds a model, and the
wrong files (another scale, another model, a truncated file, a pickle holding code) as one line
naming the file, exit status 2, nothing written.

The real checkpoints are looked up in $SR_WEIGHTS, else ../shared/weights beside this checkout; the
tests that need them skip with a reason when absent. The truncated and pickled files are made here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sr_blocks import create_model
from sr_data import find_datasets_root, read_image, write_image
from sr_deploy import load_trained
from sr_deploy.testing import OFFICIAL_WEIGHTS, needs_official_weights, official_weights
from sr_zoo.cli import main


class Payload:
    """A custom class: a file pickling it holds code a weights-only load must refuse."""

    def __init__(self) -> None:
        self.weight = torch.zeros(3)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A 28x24 test photo, alone in its folder (which serves as a test set)."""
    y, x = np.mgrid[0:24, 0:28] / 4.0
    path = tmp_path / "images" / "photo.png"
    write_image(path, np.stack([0.5 + 0.4 * np.sin(x + c) * np.cos(y - c) for c in range(3)], axis=2))
    return path


def commands(weights: Path, image: Path, out: Path) -> dict[str, list[str]]:
    """Every zoo command that builds a model from --weights, writing under ``out``."""
    w = str(weights)
    return {
        "eval": ["eval", "--weights", w, "--sets", str(image.parent), "--out", str(out / "ev")],
        "deploy": ["deploy", "--weights", w, "--out", str(out / "dep")],
        "export": ["export", "--weights", w, "--out", str(out / "m.onnx")],
        "upscale": ["upscale", str(image), "--weights", w, "--out", str(out / "up"), "--quiet"],
        "quantize": ["quantize", "--weights", w, "--out", str(out / "q"), "--sets", str(image.parent)],
        "compare": ["compare", "--models", w, "--image", str(image), "--out", str(out / "g.png")],
    }


def refused(argv: list[str], capsys, out: Path, *words: str) -> None:
    """The command exits 2 with one stderr line holding every word, and writes nothing under ``out``."""
    assert main(argv) == 2, argv
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(word in lines[0] for word in words), (argv, lines)
    assert not out.exists() or not any(out.iterdir()), argv


@needs_official_weights
@pytest.mark.parametrize("command", ["eval", "deploy", "export", "upscale", "quantize", "compare"])
def test_another_scale_is_one_line_naming_the_file(command, image, tmp_path, capsys):
    weights, out = official_weights("IMDN_x4.pth"), tmp_path / "out"
    argv = [*commands(weights, image, out)[command], "--scale", "2"]
    refused(argv, capsys, out, str(weights), "seems to hold imdn x4", "not x2")


@needs_official_weights
@pytest.mark.parametrize("command", ["eval", "deploy", "export", "upscale", "quantize"])
def test_another_model_is_one_line_naming_the_file(command, image, tmp_path, capsys):
    weights, out = official_weights("IMDN_x4.pth"), tmp_path / "out"
    argv = [*commands(weights, image, out)[command], "--model", "rfdn"]
    refused(argv, capsys, out, str(weights), "seems to hold imdn x4", "not --model 'rfdn'")


@pytest.mark.parametrize("command", ["eval", "deploy", "export", "upscale", "quantize", "compare"])
def test_a_truncated_file_and_a_pickle_holding_code_are_one_line(
    command, make_checkpoint, image, tmp_path, capsys
):
    """Truncated: a copy of a toolkit checkpoint (zip format) and, where present, of an official file
    (legacy format: another reader, another error); the pickle holds an instance of a custom class."""
    sources = [make_checkpoint()] + (
        [official_weights("IMDN_x4.pth")] if OFFICIAL_WEIGHTS is not None else []
    )
    out = tmp_path / "out"
    for index, source in enumerate(sources):
        truncated = tmp_path / f"truncated_{index}.pth"
        truncated.write_bytes(source.read_bytes()[:3000])
        refused(
            commands(truncated, image, out)[command], capsys, out, str(truncated), "not a readable checkpoint"
        )
    pickled = tmp_path / "pickled.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "extra": Payload()}, pickled)
    refused(commands(pickled, image, out)[command], capsys, out, str(pickled), "Python objects")


@needs_official_weights
def test_a_file_that_does_not_tell_its_scale_needs_scale(image, tmp_path, capsys):
    weights, out = official_weights("IMDN_AS.pth"), tmp_path / "out"
    upscale = commands(weights, image, out)["upscale"]
    refused(upscale, capsys, out, str(weights), "imdn_as", "--scale N")
    assert main([*upscale, "--scale", "4"]) == 0
    assert read_image(out / "up" / "photo.png").shape == (96, 112, 3)


@needs_official_weights
def test_deploy_export_and_quantize_never_write_into_the_weights_folder(tmp_path, capsys):
    folder = tmp_path / "authors"
    weights = folder / "model_RTC.pth"  # a copy outside the project: the refusal must hold anywhere
    folder.mkdir()
    weights.write_bytes(official_weights("model_RTC.pth").read_bytes())
    before = sorted(folder.iterdir())
    for argv in (
        ["deploy", "--weights", str(weights), "--out", str(folder)],
        ["deploy", "--weights", str(weights), "--out", str(folder / "deploy")],
        ["export", "--weights", str(weights), "--out", str(folder / "m.onnx")],
        ["quantize", "--weights", str(weights), "--out", str(folder / "int8"), "--sets", "samples"],
    ):
        assert main(argv) == 2
        assert "folder of the official weights model_RTC.pth" in capsys.readouterr().err
    assert sorted(folder.iterdir()) == before


@needs_official_weights
def test_deploy_export_and_compare_an_official_file(image, tmp_path, capsys):
    weights = official_weights("model_RTC.pth")
    runs = commands(weights, image, tmp_path)
    assert main([*runs["deploy"], "--model", "imdn_rtc", "--scale", "2"]) == 0  # agreeing: accepted
    assert main(runs["export"]) == 0 and (tmp_path / "m.onnx").stat().st_size > 10_000
    official_model = create_model("imdn_rtc", 2, weights=weights).eval()
    deployed, ckpt = load_trained(tmp_path / "dep" / "deployed.pt")
    assert ckpt["model_name"] == "imdn_rtc" and ckpt["scale"] == 2
    x = torch.rand(1, 3, 12, 10)
    torch.testing.assert_close(deployed(x), official_model(x), rtol=1e-5, atol=1e-5)
    capsys.readouterr()
    assert main([*runs["compare"], "--labels", "IMDN-RTC (official)"]) == 0
    assert "photo.png: IMDN-RTC (official): PSNR" in capsys.readouterr().out


@needs_official_weights
def test_upscale_with_the_official_imdn_x4_beats_bicubic(tmp_path):
    """A real upscaler: IMDN x4 on a downscaled test image is much closer to it than bicubic."""
    datasets = find_datasets_root()
    if datasets is None or not (datasets / "Set5" / "HR" / "butterfly.png").is_file():
        pytest.skip("Set5 not found: set SR_DATASETS or provide ../shared/datasets")
    from sr_data import imresize, modcrop, quantize
    from sr_eval import psnr

    hr = modcrop(read_image(datasets / "Set5" / "HR" / "butterfly.png"), 4)
    write_image(tmp_path / "in" / "butterfly.png", quantize(imresize(hr, scale=1 / 4)))
    argv = ["upscale", str(tmp_path / "in"), "--model", "imdn", "--scale", "4", "--quiet"]
    assert (
        main([*argv, "--weights", str(official_weights("IMDN_x4.pth")), "--out", str(tmp_path / "imdn")]) == 0
    )
    assert main(["upscale", str(tmp_path / "in"), "--model", "bicubic", "--scale", "4", "--quiet",
                 "--out", str(tmp_path / "bicubic")]) == 0  # fmt: skip
    sr, bicubic = (read_image(tmp_path / name / "butterfly.png") for name in ("imdn", "bicubic"))
    assert sr.shape == hr.shape
    assert psnr(sr, hr, crop_border=4) > psnr(bicubic, hr, crop_border=4) + 3  # 28.57 vs 22.10 dB (Y)


@needs_official_weights
def test_quantize_an_official_file(image, tmp_path, capsys):
    out = tmp_path / "q"
    argv = [
        "quantize",
        "--weights",
        str(official_weights("model_RTC.pth")),
        "--out",
        str(out),
        "--sets",
        str(image.parent),
    ]
    plan = ["--keep-float", "conv_first", "upsample.*"]  # a mixed-precision plan: the image's two convs
    assert main([*argv, *plan, "--calibration", "16", "--calibration-size", "32", "--data", "samples"]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["model"] == "imdn_rtc" and report["scale"] == 2
    assert sorted(report["float_convs"]) == ["conv_first", "upsample.0"]
    assert (out / "model_w8a8.onnx").is_file()


def test_quantize_refuses_a_plan_naming_no_conv(tmp_path, capsys, make_checkpoint):
    weights = make_checkpoint("espcn")
    argv = ["quantize", "--weights", str(weights), "--keep-float", "no_such_conv", "--sets", "samples"]
    assert main([*argv, "--calibration", "4", "--patch-size", "32", "--out", str(tmp_path / "q")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "no_such_conv" in error[0]


@needs_official_weights
@pytest.mark.parametrize(
    ("filename", "args", "expected"),
    [
        ("model_RTC.pth", [], (37.3204, 0.95847)),  # packages/sr-blocks/README.md, "Pretrained"
        ("RFDN_AIM.pth", ["--model", "rfdn", "--scale", "4"], (32.1552, 0.89449)),
    ],
)
def test_zoo_eval_gives_the_pretrained_table_row_on_set5(filename, args, expected, tmp_path):
    if find_datasets_root() is None:
        pytest.skip("benchmark images not found: set SR_DATASETS or provide ../shared/datasets")
    argv = [
        "eval",
        "--weights",
        str(official_weights(filename)),
        *args,
        "--sets",
        "Set5",
        "--out",
        str(tmp_path),
    ]
    assert main([*argv, "--device", "cpu"]) == 0
    summary = json.loads((tmp_path / "benchmark.json").read_text())["summary"]["Set5"]
    assert summary["psnr"] == pytest.approx(expected[0], abs=0.01)
    assert summary["ssim"] == pytest.approx(expected[1], abs=0.0005)
