"""PairedFolder, Benchmark, DIV2K and SampleImages: layouts, the modcrop policy and bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from sr_data import (
    DIV2K,
    Benchmark,
    ImageReadError,
    PairedFolder,
    SampleImages,
    imresize,
    modcrop,
    quantize,
    read_image,
    write_image,
)


def test_modcrop_numpy_and_tensor():
    assert modcrop(np.zeros((7, 10, 3)), 3).shape == (6, 9, 3)
    assert modcrop(np.zeros((7, 10)), 2).shape == (6, 10)
    assert modcrop(torch.zeros(2, 3, 7, 10), 4).shape == (2, 3, 4, 8)
    with pytest.raises(ValueError):
        modcrop(np.zeros((4, 4)), 1.5)


def test_quantize_rounds_to_uint8_grid():
    x = np.array([0.0, 0.5 / 255, 0.3, 1.2, -0.1])
    q = quantize(x)
    assert np.allclose(q * 255, np.round(q * 255)) and q[1] == 1 / 255 and q[3] == 1 and q[4] == 0
    assert torch.allclose(quantize(torch.from_numpy(x)), torch.from_numpy(q))


def test_paired_folder_makes_lr_after_modcrop(image_folder):
    hr_dir = image_folder("hr", {"a": (25, 31), "b": (24, 24)})
    data = PairedFolder(hr_dir, scale=3)
    item = data[0]
    assert item["name"] == "a" and item["hr"].shape == (3, 24, 30) and item["lr"].shape == (3, 8, 10)
    hr = modcrop(read_image(hr_dir / "a.png"), 3).astype(np.float64)
    expected = quantize(imresize(hr, 1 / 3))
    assert np.abs(item["lr"].permute(1, 2, 0).numpy() - expected).max() < 1e-6


@pytest.mark.parametrize("lr_name", ["a", "ax2"])
def test_paired_folder_reads_given_lr(image_folder, lr_name):
    hr_dir = image_folder("hr", {"a": (21, 16)})
    lr_dir = image_folder("lr", {lr_name: (10, 8)})
    item = PairedFolder(hr_dir, lr_dir, scale=2)[0]
    assert item["hr"].shape == (3, 20, 16) and item["lr"].shape == (3, 10, 8)
    given = torch.from_numpy(read_image(lr_dir / f"{lr_name}.png")).permute(2, 0, 1)
    assert torch.allclose(item["lr"], given)


def test_paired_folder_stems_ending_like_the_scale_suffix(image_folder):
    """'box2' at x2 is a name, not 'bo' plus the DIV2K suffix 'x2'."""
    hr_dir = image_folder("hr", {"box2": (8, 8), "0001": (8, 8)})
    lr_dir = image_folder("lr", {"box2": (4, 4), "0001x2": (4, 4)})
    data = PairedFolder(hr_dir, lr_dir, scale=2)
    assert [(p.hr.name, p.lr.name) for p in data.pairs] == [
        ("0001.png", "0001x2.png"),
        ("box2.png", "box2.png"),
    ]


def test_paired_folder_ambiguous_partners_named(image_folder):
    hr_dir = image_folder("hr", {"a": (8, 8)})
    with pytest.raises(ValueError, match=r"hr[/\\]a\.png has 2 LR partners.*a\.png.*ax2\.png"):
        PairedFolder(hr_dir, image_folder("lr1", {"a": (4, 4), "ax2": (4, 4)}), scale=2)
    hr_both = image_folder("hr2", {"a": (8, 8), "ax2": (8, 8)})
    with pytest.raises(ValueError, match=r"ax2\.png is the partner of two HR files"):
        PairedFolder(hr_both, image_folder("lr2", {"ax2": (4, 4)}), scale=2)


def test_paired_folder_size_mismatch_names_both_files(image_folder):
    hr_dir = image_folder("hr", {"a": (20, 16)})
    lr_dir = image_folder("lr", {"a": (10, 9)})
    with pytest.raises(ValueError, match=r"lr[/\\]a\.png.*hr[/\\]a\.png"):
        PairedFolder(hr_dir, lr_dir, scale=2)


def test_paired_folder_missing_partners(image_folder):
    hr_dir = image_folder("hr", {"a": (8, 8), "b": (8, 8)})
    with pytest.raises(ValueError, match=r"b\.png has no LR partner"):
        PairedFolder(hr_dir, image_folder("lr1", {"a": (4, 4)}), scale=2)
    with pytest.raises(ValueError, match=r"c\.png has no HR partner"):
        PairedFolder(hr_dir, image_folder("lr2", {"a": (4, 4), "b": (4, 4), "c": (4, 4)}), scale=2)


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match="no image files.*empty"):
        PairedFolder(tmp_path / "empty", scale=2)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        PairedFolder(tmp_path / "nowhere", scale=2)


def test_bad_scale(image_folder):
    with pytest.raises(ValueError, match="scale"):
        PairedFolder(image_folder("hr", {"a": (8, 8)}), scale=0)
    with pytest.raises(ValueError, match=r"tiny\.png is smaller than the scale 4"):
        PairedFolder(image_folder("small", {"tiny": (3, 9)}), scale=4)


def test_corrupt_files_named(image_folder):
    hr_dir = image_folder("hr", {"a": (8, 8), "c": (32, 32)})
    (hr_dir / "c.png").write_bytes((hr_dir / "c.png").read_bytes()[:-200])  # header intact, data cut
    data = PairedFolder(hr_dir, scale=2)
    with pytest.raises(ImageReadError, match=r"c\.png"):
        data[1]
    (hr_dir / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ImageReadError, match=r"b\.png"):
        PairedFolder(hr_dir, scale=2)


def test_sixteen_bit_rgba_gray_palette_sources(tmp_path):
    from PIL import Image

    rgb = (np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)
    folder = tmp_path / "mixed"
    folder.mkdir()
    write_image(folder / "deep.png", rgb / 255.0, bits=16)
    Image.fromarray(rgb).convert("RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("L").save(folder / "gray.png")
    Image.fromarray(rgb).convert("P").save(folder / "pal.png")
    with pytest.warns(UserWarning, match=r"rgba\.png"):
        items = {item["name"]: item for item in PairedFolder(folder, scale=2)}
    assert all(item["hr"].shape == (3, 8, 8) and item["lr"].shape == (3, 4, 4) for item in items.values())
    expected = torch.from_numpy(rgb / 255.0).permute(2, 0, 1).float()
    assert torch.allclose(items["deep"]["hr"], expected, atol=1e-6)
    assert torch.equal(items["gray"]["hr"][0], items["gray"]["hr"][2])


def test_benchmark_by_path_name_and_root(tmp_path, image_folder, monkeypatch):
    image_folder("Set5/HR", {"baby": (13, 14)})
    bench = Benchmark(tmp_path / "Set5", 2)
    assert bench.name == "Set5" and bench[0]["hr"].shape == (3, 12, 14)
    assert Benchmark("set5", 2, root=tmp_path).folder == tmp_path / "Set5" / "HR"
    image_folder("BSD100", {"x": (8, 8)})
    assert Benchmark("B100", 4, root=tmp_path).name == "B100"
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))
    assert len(Benchmark("BSD100", 2)) == 1
    with pytest.raises(FileNotFoundError, match="Urban100"):
        Benchmark("Urban100", 2)
    with pytest.raises(ValueError, match="unknown benchmark 'Set6'"):
        Benchmark("Set6", 2)


def test_benchmark_lr_is_standard_protocol(image_folder):
    bench = Benchmark(image_folder("B", {"a": (30, 22)}), 4)
    item = bench[0]
    hr = item["hr"].double()
    assert torch.allclose(item["lr"].double(), quantize(imresize(hr, 1 / 4)), atol=1e-6)


def make_div2k(image_folder, with_lr: bool):
    hr = image_folder("DIV2K/DIV2K_train_HR", {"0001": (16, 12), "0002": (12, 16), "0003": (8, 8)})
    image_folder("DIV2K/DIV2K_valid_HR", {"0801": (8, 8)})
    if with_lr:
        lr_sizes = {"0001x2": (8, 6), "0002x2": (6, 8), "0003x2": (4, 4)}
        image_folder("DIV2K/DIV2K_train_LR_bicubic/X2", lr_sizes)
    return hr.parent


@pytest.mark.parametrize("with_lr", [True, False])
def test_div2k_layout(image_folder, with_lr):
    root = make_div2k(image_folder, with_lr)
    data = DIV2K(root, "train", 2, indices=(1, 3))
    assert data.lr_source == ("files" if with_lr else "on-the-fly") and len(data) == 3
    assert data[1]["name"] == "0002" and data[1]["lr"].shape == (3, 6, 8)
    assert DIV2K(root, "train", 2, lr="on-the-fly", indices=(1, 3)).lr_source == "on-the-fly"
    assert len(DIV2K(root, "valid", 2, indices=(801, 801))) == 1


def test_div2k_missing_files_named(image_folder):
    root = make_div2k(image_folder, with_lr=True)
    with pytest.raises(FileNotFoundError, match="0004"):
        DIV2K(root, "train", 2, indices=(1, 4))
    with pytest.raises(FileNotFoundError, match="DIV2K_valid_HR"):
        DIV2K(root.parent, "valid", 2)
    (root / "DIV2K_train_LR_bicubic" / "X2" / "0002x2.png").unlink()
    with pytest.raises(FileNotFoundError, match="0002x2"):
        DIV2K(root, "train", 2, indices=(1, 3))
    with pytest.raises(ValueError, match="split"):
        DIV2K(root, "test", 2)


def test_sample_images_splits():
    train, test = SampleImages("train", 2), SampleImages("test", 4)
    assert len(train) == 6 and len(test) == 3
    assert not {p.name for p in train.pairs} & {p.name for p in test.pairs}
    item = test[2]
    assert (
        item["name"] == "camera" and item["hr"].shape == (3, 512, 512) and item["lr"].shape == (3, 128, 128)
    )
    assert torch.equal(item["hr"][0], item["hr"][1])  # grayscale replicated to RGB
    with pytest.raises(ValueError, match="split"):
        SampleImages("val")


def test_sample_images_without_scikit_image(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    with pytest.raises(ImportError, match=r"sr-data\[samples\]"):
        SampleImages("train")


def test_real_set5(datasets_root):
    bench = Benchmark("Set5", 3)
    sizes = {item["name"]: tuple(item["hr"].shape[1:]) for item in bench}
    assert sizes == {
        "baby": (510, 510),
        "bird": (288, 288),
        "butterfly": (255, 255),
        "head": (279, 279),
        "woman": (342, 228),
    }
