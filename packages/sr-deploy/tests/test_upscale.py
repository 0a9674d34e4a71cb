"""The folder upscaler and its engines: formats, bit depths, alpha, grayscale, EXIF, corrupt files,
re-runs, tiling, ONNX, and the setup errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from sr_data import (
    decode_image_with_alpha,
    image_bits,
    imresize,
    read_image,
    write_image,
    write_image_with_alpha,
)
from sr_deploy import OnnxEngine, TorchEngine, load_trained, open_engine, plan_jobs, upscale_files
from sr_eval import rgb_to_y
from sr_reparam import export_onnx

RNG = np.random.default_rng(0)


def smooth(height: int, width: int, channels: int = 3) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width] / 17.0
    planes = [0.5 + 0.4 * np.sin(x + 2 * c) * np.cos(y - c) for c in range(channels)]
    return np.stack(planes, axis=2).squeeze(2) if channels == 1 else np.stack(planes, axis=2)


def reference_sr(weights, rgb: np.ndarray) -> np.ndarray:
    """The deployed model's plain forward of an (H, W, 3) image, clipped."""
    model, _ = load_trained(weights, deployed=True)
    with torch.no_grad():
        out = model(torch.from_numpy(rgb.astype(np.float32).transpose(2, 0, 1))[None])
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()


def run(*inputs, out, fmt="png", **engine) -> int:
    """Upscale ``inputs`` into ``out`` as `zoo upscale` does; returns the exit status (failed files)."""
    report = upscale_files(plan_jobs(inputs, out, fmt), open_engine(**engine), progress=False)
    print(report.summary(), file=sys.stderr)
    return report.exit_status


def test_odd_size_rgb_matches_the_model(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    rgb = np.round(smooth(33, 45) * 255) / 255
    write_image(tmp_path / "in" / "odd.png", rgb)
    assert run(tmp_path / "in", weights=weights, out=tmp_path / "out") == 0
    out = read_image(tmp_path / "out" / "odd.png")
    assert out.shape == (66, 90, 3)
    assert np.abs(out - reference_sr(weights, rgb)).max() <= 0.5 / 255 + 1e-6


def test_16bit_stays_16bit(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    rgb = np.round(smooth(21, 18) * 65535) / 65535
    write_image(tmp_path / "deep.png", rgb, bits=16)
    assert run(tmp_path / "deep.png", weights=weights, out=tmp_path / "out") == 0
    assert image_bits(tmp_path / "out" / "deep.png") == 16
    out = read_image(tmp_path / "out" / "deep.png")
    assert np.abs(out - reference_sr(weights, rgb)).max() <= 0.5 / 65535 + 1e-6  # 16-bit precision kept


def test_rgba_alpha_upscaled_with_bicubic(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    rgb, alpha = np.round(smooth(14, 19) * 255) / 255, np.round(smooth(14, 19, 1) * 255) / 255
    write_image_with_alpha(tmp_path / "a.webp", rgb, alpha, lossless=True)
    assert run(tmp_path / "a.webp", weights=weights, out=tmp_path / "out", fmt="same") == 0
    decoded = decode_image_with_alpha(tmp_path / "out" / "a.webp")
    expected = np.clip(imresize(alpha, scale=2), 0, 1)
    assert decoded.alpha.shape == (28, 38)
    assert np.abs(decoded.alpha / 255 - expected).max() <= 0.5 / 255 + 1e-6


def test_grayscale_stays_grayscale(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    Image.fromarray(np.uint8(smooth(15, 12, 1) * 255)).save(tmp_path / "g.tif")
    assert run(tmp_path / "g.tif", weights=weights, out=tmp_path / "out", fmt="same") == 0
    with Image.open(tmp_path / "out" / "g.tif") as result:
        assert result.mode == "L" and result.size == (24, 30)


def test_exif_rotated_jpeg_comes_out_upright(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: 12 wide x 20 high shows as 20 wide x 12 high
    Image.fromarray(np.uint8(smooth(20, 12) * 255)).save(tmp_path / "r.jpg", exif=exif, quality=95)
    assert run(tmp_path / "r.jpg", weights=weights, out=tmp_path / "out") == 0
    assert read_image(tmp_path / "out" / "r.png").shape == (24, 40, 3)


def test_corrupt_files_reported_skipped_and_counted(make_checkpoint, tmp_path, capsys):
    weights = make_checkpoint()
    folder = tmp_path / "in"
    write_image(folder / "good.png", smooth(9, 11))
    (folder / "junk.png").write_bytes(b"not an image")
    write_image(folder / "cut.jpg", RNG.random((40, 40, 3)))
    (folder / "cut.jpg").write_bytes((folder / "cut.jpg").read_bytes()[:300])
    assert run(folder, weights=weights, out=tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "junk.png" in err and "cut.jpg" in err and "2 failed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]  # nothing partial


def test_rerun_skips_existing_outputs_and_finishes_the_rest(make_checkpoint, tmp_path):
    engine = open_engine(weights=make_checkpoint())
    for name in "abc":
        write_image(tmp_path / "in" / f"{name}.png", smooth(8, 8))
    jobs = plan_jobs([tmp_path / "in"], tmp_path / "out")
    first = upscale_files(jobs[:2], engine, progress=False)  # an "interrupted" run: two of three
    stamp = (tmp_path / "out" / "a.png").stat().st_mtime_ns
    second = upscale_files(jobs, engine, progress=False)
    assert len(first.written) == 2 and len(second.written) == 1 and len(second.skipped) == 2
    assert (tmp_path / "out" / "a.png").stat().st_mtime_ns == stamp
    third = upscale_files(jobs, engine, overwrite=True, progress=False)
    assert len(third.written) == 3


def test_recursive_folders_keep_their_layout_and_skip_the_output_folder(tmp_path):
    write_image(tmp_path / "in" / "x.png", smooth(4, 4))
    write_image(tmp_path / "in" / "sub" / "y.jpg", smooth(4, 4))
    write_image(tmp_path / "in" / "up" / "old.png", smooth(4, 4))  # results of an earlier run
    jobs = plan_jobs([tmp_path / "in"], tmp_path / "in" / "up", fmt="same", recursive=True)
    assert sorted(str(j.target.relative_to(tmp_path / "in" / "up")) for j in jobs) == ["sub/y.jpg", "x.png"]
    assert len(plan_jobs([tmp_path / "in"], tmp_path / "out")) == 1  # not recursive: x.png only
    with pytest.raises(ValueError, match="both"):
        plan_jobs([tmp_path / "in" / "x.png", tmp_path / "in"], tmp_path / "out")
    with pytest.raises(ValueError, match="overwrite its input"):
        plan_jobs([tmp_path / "in" / "x.png"], tmp_path / "in", fmt="same")


def test_tiled_equals_untiled(make_checkpoint):
    model, _ = load_trained(make_checkpoint("sesr_m3"), deployed=True)  # receptive radius 7 LR px
    rgb = smooth(41, 53).astype(np.float32)
    whole = TorchEngine(model, 2, "sesr")(rgb)
    tiled = TorchEngine(model, 2, "sesr", tile=24, overlap=16)(rgb)
    assert np.abs(whole - tiled).max() < 1e-5


def test_y_only_model_upscales_y_and_keeps_colour(make_checkpoint, tmp_path):
    weights = make_checkpoint("sesr_m3", in_channels=1, out_channels=1)
    rgb = np.round(smooth(16, 20) * 255) / 255
    write_image(tmp_path / "c.png", rgb)
    assert run(tmp_path / "c.png", weights=weights, out=tmp_path / "out") == 0
    out = read_image(tmp_path / "out" / "c.png")
    model, _ = load_trained(weights, deployed=True)
    with torch.no_grad():
        y_sr = model(rgb_to_y(torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1))[None])[0, 0].numpy()
    assert out.shape == (32, 40, 3)
    assert np.abs(rgb_to_y(out) - np.clip(y_sr, 16 / 255, 235 / 255)).max() < 2 / 255  # Y from the model
    assert np.abs(out - np.clip(imresize(rgb, scale=2), 0, 1)).mean() < 0.1  # colour kept


def test_onnx_engine_matches_torch(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    model, _ = load_trained(weights, deployed=True)
    export_onnx(model, tmp_path / "m.onnx")
    engine = OnnxEngine(tmp_path / "m.onnx", tile=24, overlap=16)
    assert engine.scale == 2 and engine.in_channels == 3
    rgb = smooth(23, 37).astype(np.float32)
    assert np.abs(engine(rgb) - TorchEngine(model, 2, "m")(rgb)).max() < 1e-4
    write_image(tmp_path / "in.png", rgb)
    assert run(tmp_path / "in.png", onnx=tmp_path / "m.onnx", out=tmp_path / "out") == 0
    assert read_image(tmp_path / "out" / "in.png").shape == (46, 74, 3)
    with pytest.raises(ValueError, match="x2, not x3"):
        OnnxEngine(tmp_path / "m.onnx", scale=3)


def test_setup_errors_are_clear(make_checkpoint, tmp_path):
    weights = make_checkpoint()
    write_image(tmp_path / "a.png", smooth(4, 4))
    with pytest.raises(ValueError, match="not x3"):
        open_engine(weights=weights, scale=3)
    with pytest.raises(ValueError, match="--weights"):
        open_engine(model="edsr_baseline", scale=2)
    with pytest.raises(ValueError, match="CUDA"):
        open_engine(weights=weights, half=True, device="cpu")
    with pytest.raises(ValueError, match="larger than"):
        open_engine(weights=weights, tile=8, overlap=8)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        plan_jobs([tmp_path / "missing.png"], tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="no best.pt or last.pt"):
        open_engine(weights=tmp_path)  # a folder that is not a trained run
    assert run(tmp_path / "a.png", model="bicubic", scale=3, out=tmp_path / "o") == 0
    assert read_image(tmp_path / "o" / "a.png").shape == (12, 12, 3)


def test_a_run_folder_stands_for_its_best_weights_else_its_last(make_checkpoint, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    make_checkpoint("sesr_m3").rename(run_dir / "best.pt")
    make_checkpoint("espcn").rename(run_dir / "last.pt")
    assert open_engine(weights=run_dir).name == "sesr_m3"
    (run_dir / "best.pt").unlink()
    assert open_engine(weights=run_dir).name == "espcn"
