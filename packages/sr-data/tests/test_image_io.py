"""read_image / write_image: the documented policy for every mode, and clear errors naming the file."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image, features

from sr_data import ImagePolicyWarning, ImageReadError, decode_image, image_size, read_image, write_image
from sr_data.sixteen_bit import encode_rgb16_png

RNG = np.random.default_rng(0)
RGB8 = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif", ".ppm"])
def test_lossless_8bit_roundtrip(tmp_path, ext):
    path = tmp_path / f"a{ext}"
    write_image(path, RGB8 / 255.0)
    out = read_image(path)
    assert out.dtype == np.float32 and out.shape == (6, 5, 3)
    assert np.array_equal(np.round(out * 255).astype(np.uint8), RGB8)


@pytest.mark.parametrize("ext", [".jpg", ".webp"])
def test_lossy_formats_read(tmp_path, ext):
    if ext == ".webp" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    path = tmp_path / f"a{ext}"
    smooth = np.full((16, 16, 3), 0.5)
    write_image(path, smooth)
    assert np.abs(read_image(path) - 0.5).max() < 0.02


def test_write_tensor_and_rounding_half_up(tmp_path):
    img = torch.full((3, 2, 2), 0.5 / 255)  # exactly half a step: rounds up to 1
    write_image(tmp_path / "t.png", img)
    assert decode_image(tmp_path / "t.png").max() == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_write_clips_and_rejects_bad_arguments(tmp_path):
    write_image(tmp_path / "c.png", np.full((2, 2, 3), 1.7))
    assert decode_image(tmp_path / "c.png").min() == 255
    with pytest.raises(ValueError, match="bits"):
        write_image(tmp_path / "x.png", RGB8 / 255, bits=12)
    with pytest.raises(ValueError, match="png"):
        write_image(tmp_path / "x.jpg", RGB8 / 255, bits=16)
    with pytest.raises(ValueError, match="extension"):
        write_image(tmp_path / "x.unknown", RGB8 / 255)
    with pytest.raises(ValueError, match="expected"):
        write_image(tmp_path / "x.png", np.zeros((2, 2, 4)))


def test_16bit_rgb_png_full_precision(tmp_path):
    pixels = RNG.integers(0, 65536, (7, 5, 3), dtype=np.uint16)
    (tmp_path / "p.png").write_bytes(encode_rgb16_png(pixels))
    assert np.array_equal(decode_image(tmp_path / "p.png"), pixels)
    assert np.allclose(read_image(tmp_path / "p.png"), pixels / 65535.0, atol=1e-7)
    write_image(tmp_path / "w.png", pixels / 65535.0, bits=16)
    assert np.array_equal(decode_image(tmp_path / "w.png"), pixels)


def filtered_rgb16_png(pixels: np.ndarray) -> bytes:
    """A 16-bit RGB PNG whose rows use PNG filters 0-4 in turn (other encoders' files look like this)."""
    height, width, _ = pixels.shape
    rows = pixels.astype(">u2").reshape(height, width * 3).view(np.uint8).astype(np.int64)
    bpp, previous, raw = 6, np.zeros(width * 6, np.int64), b""
    for y, row in enumerate(rows):
        kind = y % 5
        left = np.concatenate([np.zeros(bpp, np.int64), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), previous[:-bpp]])
        estimate = left + previous - upleft
        pa, pb, pc = np.abs(estimate - left), np.abs(estimate - previous), np.abs(estimate - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, upleft))
        predictor = [0, left, previous, (left + previous) // 2, paeth][kind]
        raw += bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes()
        previous = row
    plain = encode_rgb16_png(pixels)
    start = plain.index(b"IDAT") - 4
    end = start + 12 + int.from_bytes(plain[start : start + 4], "big")
    idat = zlib.compress(raw)
    chunk = len(idat).to_bytes(4, "big") + b"IDAT" + idat + zlib.crc32(b"IDAT" + idat).to_bytes(4, "big")
    return plain[:start] + chunk + plain[end:]


def test_16bit_rgb_png_with_filters(tmp_path):
    pixels = RNG.integers(0, 65536, (10, 7, 3), dtype=np.uint16)
    (tmp_path / "f.png").write_bytes(filtered_rgb16_png(pixels))
    assert np.array_equal(decode_image(tmp_path / "f.png"), pixels)


@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_tiff_full_precision(tmp_path, channels):
    pixels = RNG.integers(0, 65536, (9, 6, channels), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "t.tif", pixels, photometric="rgb", rowsperstrip=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImagePolicyWarning)
        assert np.array_equal(decode_image(tmp_path / "t.tif"), pixels[:, :, :3])


def test_16bit_grayscale_replicated(tmp_path):
    gray = RNG.integers(0, 65536, (4, 6), dtype=np.uint16)
    Image.fromarray(gray).save(tmp_path / "g.png")
    out = decode_image(tmp_path / "g.png")
    assert out.dtype == np.uint16 and out.shape == (4, 6, 3)
    assert all(np.array_equal(out[:, :, c], gray) for c in range(3))


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grayscale_replicated(tmp_path, mode):
    Image.fromarray(RGB8[:, :, 0]).convert(mode).save(tmp_path / "g.png")
    out = decode_image(tmp_path / "g.png")
    assert out.shape == (6, 5, 3) and np.array_equal(out[:, :, 0], out[:, :, 2])


def test_palette_expanded(tmp_path):
    Image.fromarray(RGB8).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(tmp_path / "p.png")
    out = decode_image(tmp_path / "p.png")
    assert out.shape == (6, 5, 3) and out.dtype == np.uint8
    assert np.array_equal(out, np.asarray(Image.open(tmp_path / "p.png").convert("RGB")))


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_dropped_with_warning_naming_file(tmp_path, mode):
    rgba = np.concatenate([RGB8, np.zeros((6, 5, 1), np.uint8)], axis=2)
    Image.fromarray(rgba).convert(mode).save(tmp_path / "a.png")
    with pytest.warns(ImagePolicyWarning, match="a.png"):
        out = decode_image(tmp_path / "a.png")
    if mode == "RGBA":
        assert np.array_equal(out, RGB8)  # colour kept although fully transparent


def test_palette_with_transparency_drops_alpha(tmp_path):
    image = Image.fromarray(RGB8).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    image.save(tmp_path / "t.png", transparency=0)
    with pytest.warns(ImagePolicyWarning, match="t.png"):
        assert decode_image(tmp_path / "t.png").shape == (6, 5, 3)


def test_float_tiff_rejected(tmp_path):
    Image.fromarray(np.zeros((3, 3), np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ImageReadError, match="f.tif"):
        decode_image(tmp_path / "f.tif")


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_file_named(tmp_path, ext):
    path = tmp_path / f"cut{ext}"
    write_image(path, np.random.default_rng(1).random((64, 64, 3)))
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(ImageReadError, match=f"cut\\{ext}"):
        read_image(path)


def test_garbage_and_missing_files_named(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match="junk.png"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(ImageReadError, match="missing.png"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="junk.png"):
        image_size(tmp_path / "junk.png")


def test_image_read_error_is_value_error():
    assert issubclass(ImageReadError, ValueError)


def test_truncated_images_setting_refused(tmp_path, monkeypatch):
    from PIL import ImageFile

    write_image(tmp_path / "ok.png", RGB8 / 255)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with warnings.catch_warnings(), pytest.raises(ImageReadError, match="LOAD_TRUNCATED_IMAGES"):
        read_image(tmp_path / "ok.png")


def test_cmyk_converted_to_rgb(tmp_path):
    Image.fromarray(RGB8).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    out = decode_image(tmp_path / "c.jpg")
    assert out.shape == (6, 5, 3) and out.dtype == np.uint8
