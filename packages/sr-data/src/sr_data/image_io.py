"""Image files in and out, with one policy for every format Pillow reads.

Policy (``decode_image`` / ``read_image``):
- 8-bit images give uint8 and read as value / 255; 16-bit ones (PNG or TIFF, gray or colour) give
  uint16 and read as value / 65535. Nothing is clipped or gamma-corrected.
- Grayscale (1-bit, L, 16-bit) is replicated to 3 channels; palette images are expanded to RGB;
  CMYK / YCbCr / LAB are converted to RGB by Pillow.
- An alpha channel is dropped (not composited) with an ``ImagePolicyWarning`` naming the file;
  ``decode_image_with_alpha`` keeps it (and says whether the file was grayscale and its bit depth).
- The EXIF orientation tag (JPEG, WebP, TIFF, PNG eXIf) is applied, as ``ImageOps.exif_transpose``
  does, so pixels are upright as photo viewers show them; ``image_size`` reports the upright size.
- Multi-frame files (GIF, TIFF) give their first frame.
- Anything else (a missing, unreadable, corrupt or truncated file, 32-bit float images) raises
  ``ImageReadError`` naming the file. Every image is fully decoded on read, and Pillow's
  ``LOAD_TRUNCATED_IMAGES`` is never turned on, so a truncated file cannot pass silently.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFile

from sr_data.atomic import atomic_write
from sr_data.sixteen_bit import decode_color16, encode_rgb16_png, is_color16

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".gif")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_QUANTIZE_BLOCK = 1 << 18  # samples rounded per block when writing


class ImageReadError(ValueError):
    """An image file that cannot be read; the message names the file."""


class ImagePolicyWarning(UserWarning):
    """Reading changed the image by policy (alpha dropped); the message names the file."""


def _open(path: Path) -> Image.Image:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageReadError(f"{path}: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; refusing partial decodes")
    try:
        image = Image.open(path)
        image.seek(0)
        return image
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageReadError(f"cannot read image {path}: {error}") from error


@dataclass(frozen=True)
class DecodedImage:
    """An image file's pixels as stored: colour, alpha (if any), whether it was grayscale, bit depth.

    ``pixels`` is (H, W, 3) uint8 or uint16 RGB (grayscale replicated); ``alpha`` is (H, W) of the
    same dtype, or None. Both are upright (EXIF orientation applied).
    """

    pixels: np.ndarray
    alpha: np.ndarray | None
    grayscale: bool

    @property
    def bits(self) -> int:
        """8 or 16: the bit depth of the file's samples."""
        return 16 if self.pixels.dtype == np.uint16 else 8


# Array operations equal to Pillow's ``ImageOps.exif_transpose`` for EXIF orientations 2..8.
_ORIENT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
_EXIF_ORIENTATION = 0x0112


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1 = upright, also when absent or unreadable), without decoding pixels.

    A PNG's orientation counts only when its eXIf chunk precedes the pixel data (where the PNG
    specification puts it): finding a later one would need a full decode, and ``image_size`` must
    agree with ``decode_image`` while staying a header read.
    """
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    if image.format == "TIFF" and _tiff_loader_orients():
        return 1  # Pillow turns TIFFs upright itself when it loads them (and reports the upright size)
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, SyntaxError, ValueError, struct.error):
        return 1  # a damaged EXIF block does not make the pixels unreadable
    return value if value in _ORIENT else 1


@functools.cache
def _tiff_loader_orients() -> bool:
    """Whether this Pillow applies a TIFF's orientation tag when loading it (recent versions do)."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = 2  # mirrored: a loader that orients swaps the two pixels
    Image.fromarray(np.array([[0, 255]], np.uint8)).save(buffer, format="TIFF", exif=exif)
    buffer.seek(0)
    with Image.open(buffer) as probe:
        return int(np.asarray(probe)[0, 0]) == 255


def _upright(array: np.ndarray | None, orientation: int) -> np.ndarray | None:
    if array is None or orientation not in _ORIENT:
        return array
    return np.ascontiguousarray(_ORIENT[orientation](array))


def _planes(image: Image.Image, path: Path) -> DecodedImage:
    """Apply the policy to a loaded Pillow image, keeping alpha apart."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    alpha = None
    if mode in _ALPHA_MODES:
        alpha = np.asarray(image.getchannel("A"))
        image = image.convert("RGB" if mode in ("RGBA", "RGBa", "PA") else "L")
        mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        gray = np.asarray(image).astype(np.uint16)
    elif mode == "I":
        gray = np.asarray(image)
        if gray.min() < 0 or gray.max() > 65535:
            raise ImageReadError(f"{path}: 32-bit integer image with values outside 0..65535 is unsupported")
        gray = gray.astype(np.uint16)
    elif mode in ("1", "L"):
        gray = np.asarray(image.convert("L"))
    elif mode == "F":
        raise ImageReadError(f"{path}: 32-bit float images are not supported; save it as 8- or 16-bit")
    else:
        return DecodedImage(np.asarray(image.convert("RGB")), alpha, grayscale=False)
    return DecodedImage(np.repeat(gray[:, :, None], 3, axis=2), alpha, grayscale=True)


def decode_image_with_alpha(path: str | os.PathLike) -> DecodedImage:
    """Decode an image file keeping its alpha channel, grayscale-ness and bit depth (upright)."""
    path = Path(path)
    image = _open(path)
    try:
        orientation = _orientation(image)
        if is_color16(image):  # before anything loads the image (loading reduces it to 8 bits)
            samples = decode_color16(path)
            alpha = np.ascontiguousarray(samples[:, :, 3]) if samples.shape[2] == 4 else None
            decoded = DecodedImage(np.ascontiguousarray(samples[:, :, :3]), alpha, grayscale=False)
        else:
            image.load()
            decoded = _planes(image, path)
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"cannot decode image {path}: {error}") from error
    finally:
        image.close()
    return DecodedImage(
        _upright(decoded.pixels, orientation), _upright(decoded.alpha, orientation), decoded.grayscale
    )


def decode_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to an (H, W, 3) uint8 (8-bit files) or uint16 (16-bit files) RGB array."""
    decoded = decode_image_with_alpha(path)
    if decoded.alpha is not None:
        warnings.warn(f"{path}: alpha channel dropped (read as RGB)", ImagePolicyWarning, stacklevel=2)
    return decoded.pixels


def to_float(array: np.ndarray) -> np.ndarray:
    """uint8 / 255 or uint16 / 65535 as float32 in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    raise TypeError(f"to_float: expected uint8 or uint16, got {array.dtype}")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as float32 (H, W, 3) RGB in [0, 1] (see the module docstring for the policy)."""
    return to_float(decode_image(path))


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    path = Path(path)
    image = _open(path)
    with image:
        swapped = _orientation(image) in (5, 6, 7, 8)
        return (image.width, image.height) if swapped else (image.height, image.width)


def image_bits(path: str | os.PathLike) -> int:
    """8 or 16: the bit depth ``decode_image`` will give, from the file header (pixels not decoded)."""
    path = Path(path)
    image = _open(path)
    with image:
        return 16 if is_color16(image) or image.mode in (*_SIXTEEN_BIT_MODES, "I") else 8


def _to_hwc_numpy(img) -> np.ndarray:
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu()
        if img.ndim == 3:
            img = img.permute(1, 2, 0)
        img = img.numpy()
    img = np.asarray(img)
    if not np.issubdtype(img.dtype, np.floating):
        img = img.astype(np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"write_image: expected (H, W, 3) / (H, W) array or (3, H, W) tensor: {img.shape}")
    return img


def _quantize_samples(img: np.ndarray, bits: int) -> np.ndarray:
    """Clip to [0, 1] and round half up to the ``bits`` grid, in float64 and in blocks of rows (a 4K
    image would otherwise need several 200 MB temporaries)."""
    peak = 255 if bits == 8 else 65535
    out = np.empty(img.shape, np.uint8 if bits == 8 else np.uint16)
    rows = max(1, _QUANTIZE_BLOCK // max(1, img[0].size))
    for start in range(0, img.shape[0], rows):
        block = img[start : start + rows].astype(np.float64)  # a copy: the caller's array is kept
        np.clip(block, 0.0, 1.0, out=block)
        block *= peak
        block += 0.5
        out[start : start + rows] = np.floor(block, out=block)
    return out


def _save(path: Path, data: np.ndarray, bits: int, save_options: dict[str, Any]) -> None:
    """Write uint samples ((H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB, (H, W, 4) RGBA)."""
    if bits not in (8, 16):
        raise ValueError(f"write_image: bits must be 8 or 16, got {bits}")
    if bits == 16 and path.suffix.lower() != ".png":
        raise ValueError(f"write_image: 16-bit output needs a .png file, got {path}")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"write_image: unknown image extension in {path}")
    data = _quantize_samples(data, bits)
    try:
        with atomic_write(path) as stream:
            if bits == 16 and data.ndim == 3:
                stream.write(encode_rgb16_png(data, save_options.get("compress_level", 6)))
            else:
                Image.fromarray(data).save(stream, format=fmt, **save_options)
    except (OSError, KeyError) as error:  # e.g. alpha or 16-bit samples in a format that cannot hold them
        raise ValueError(
            f"write_image: cannot write {data.shape} {data.dtype} samples to {path}: {error}"
        ) from error


def write_image(path: str | os.PathLike, img, bits: int = 8, **save_options: Any) -> None:
    """Write a float image in [0, 1] ((H, W, 3) or (H, W) numpy, or a (3, H, W) tensor).

    Values are clipped and rounded half up to the 8- or 16-bit grid. 16-bit needs PNG. The file
    appears atomically: it is written to a temporary file beside it and renamed. ``save_options``
    go to Pillow's ``save`` (e.g. ``quality=95`` for JPEG/WebP, ``compress_level=1`` for PNG).
    """
    _save(Path(path), _to_hwc_numpy(img), bits, save_options)


def write_image_with_alpha(
    path: str | os.PathLike, img: np.ndarray, alpha: np.ndarray | None, bits: int = 8, **save_options: Any
) -> None:
    """``write_image`` of an (H, W, 3) RGB or (H, W) gray float image plus an (H, W) alpha plane.

    With ``alpha=None`` this is ``write_image``. Formats without alpha (JPEG) raise ValueError; 16-bit
    gray + alpha is written as 16-bit RGBA (PNG has no other 16-bit alpha form that Pillow reads back
    with full precision).
    """
    img = _to_hwc_numpy(img)
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=img.dtype)
        if alpha.shape != img.shape[:2]:
            raise ValueError(f"write_image_with_alpha: alpha {alpha.shape} does not match image {img.shape}")
        if img.ndim == 2 and bits == 16:
            img = np.repeat(img[:, :, None], 3, axis=2)
        img = np.concatenate([img.reshape(*img.shape[:2], -1), alpha[:, :, None]], axis=2)
    _save(Path(path), img, bits, save_options)
