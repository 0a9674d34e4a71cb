"""decode_image_with_alpha / write_image_with_alpha, EXIF orientation and image_bits."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from sr_data import (
    decode_image,
    decode_image_with_alpha,
    image_bits,
    image_size,
    read_image,
    write_image,
    write_image_with_alpha,
)
from sr_data.sixteen_bit import encode_rgb16_png

RNG = np.random.default_rng(3)
RGB8 = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)
ALPHA8 = RNG.integers(0, 256, (6, 5), dtype=np.uint8)


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", [".png", ".tif", ".webp"])
def test_exif_orientation_matches_pillow(tmp_path, orientation, ext):
    path = tmp_path / f"o{ext}"
    Image.fromarray(RGB8).save(path, exif=exif_with_orientation(orientation), lossless=True)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert np.array_equal(decode_image(path), expected)
    assert image_size(path) == expected.shape[:2]


def test_exif_rotated_jpeg_is_upright(tmp_path):
    upright = np.zeros((16, 8, 3), np.uint8)  # portrait: bright top half
    upright[:8] = 255
    stored = np.rot90(upright, 1)  # what a camera held sideways stores; orientation 6 turns it back
    Image.fromarray(np.ascontiguousarray(stored)).save(
        tmp_path / "r.jpg", exif=exif_with_orientation(6), quality=100
    )
    out = read_image(tmp_path / "r.jpg")
    assert out.shape == (16, 8, 3) and image_size(tmp_path / "r.jpg") == (16, 8)
    assert out[:8].mean() > 0.9 and out[8:].mean() < 0.1


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_kept(tmp_path, mode):
    rgba = np.concatenate([RGB8, ALPHA8[:, :, None]], axis=2)
    Image.fromarray(rgba).convert(mode).save(tmp_path / "a.png")
    decoded = decode_image_with_alpha(tmp_path / "a.png")
    assert np.array_equal(decoded.alpha, ALPHA8)
    assert decoded.grayscale == (mode == "LA") and decoded.bits == 8
    assert decoded.pixels.shape == (6, 5, 3) and decoded.pixels.dtype == np.uint8


def test_16bit_rgba_alpha_kept_and_rotated(tmp_path):
    pixels = RNG.integers(0, 65536, (7, 4, 4), dtype=np.uint16)
    (tmp_path / "p.png").write_bytes(encode_rgb16_png(pixels))
    decoded = decode_image_with_alpha(tmp_path / "p.png")
    assert decoded.bits == 16 and not decoded.grayscale
    assert np.array_equal(decoded.pixels, pixels[:, :, :3]) and np.array_equal(decoded.alpha, pixels[:, :, 3])


def test_grayscale_flag_and_bits(tmp_path):
    Image.fromarray(RGB8[:, :, 0]).save(tmp_path / "g.png")
    Image.fromarray(RGB8[:, :, 0].astype(np.uint16) * 257).save(tmp_path / "g16.png")
    write_image(tmp_path / "c16.png", RGB8 / 255, bits=16)
    assert decode_image_with_alpha(tmp_path / "g.png").grayscale
    assert decode_image_with_alpha(tmp_path / "g16.png").grayscale
    assert not decode_image_with_alpha(tmp_path / "c16.png").grayscale
    assert [image_bits(tmp_path / n) for n in ("g.png", "g16.png", "c16.png")] == [8, 16, 16]


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("gray", [False, True])
def test_write_with_alpha_roundtrip(tmp_path, bits, gray):
    peak = 2**bits - 1
    img = RGB8[:, :, 0] / 255 if gray else RGB8 / 255
    write_image_with_alpha(tmp_path / "w.png", img, ALPHA8 / 255, bits=bits)
    decoded = decode_image_with_alpha(tmp_path / "w.png")
    assert decoded.bits == bits
    assert np.array_equal(decoded.alpha, np.floor(ALPHA8 / 255 * peak + 0.5))
    expected = np.floor(np.atleast_3d(img) * peak + 0.5)
    assert np.array_equal(decoded.pixels, np.broadcast_to(expected, (6, 5, 3)))


def test_write_with_alpha_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="x.jpg"):
        write_image_with_alpha(tmp_path / "x.jpg", RGB8 / 255, ALPHA8 / 255)
    with pytest.raises(ValueError, match="alpha"):
        write_image_with_alpha(tmp_path / "x.png", RGB8 / 255, np.zeros((2, 2)))
    assert not list(tmp_path.iterdir())  # no partial or temporary file


def test_write_image_save_options(tmp_path):
    smooth = np.clip(np.linspace(0, 1, 64 * 64 * 3).reshape(64, 64, 3), 0, 1)
    write_image(tmp_path / "lo.jpg", smooth, quality=10)
    write_image(tmp_path / "hi.jpg", smooth, quality=95)
    assert (tmp_path / "lo.jpg").stat().st_size < (tmp_path / "hi.jpg").stat().st_size


@pytest.mark.parametrize("orientation", [2, 6, 7])
def test_16bit_colour_tiff_orientation(tmp_path, orientation):
    pixels = RNG.integers(0, 65536, (5, 3, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "t.tif", pixels, photometric="rgb", extratags=[(274, 3, 1, orientation)])
    eight_bit = np.asarray(
        Image.fromarray((pixels >> 8).astype(np.uint8)).transpose(
            {
                2: Image.Transpose.FLIP_LEFT_RIGHT,
                6: Image.Transpose.ROTATE_270,
                7: Image.Transpose.TRANSVERSE,
            }[orientation]
        )
    )
    out = decode_image(tmp_path / "t.tif")
    assert out.dtype == np.uint16 and np.array_equal(out >> 8, eight_bit)
    assert image_size(tmp_path / "t.tif") == out.shape[:2]
