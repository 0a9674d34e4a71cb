"""Image files in and out, with one policy for every format Pillow reads.

Policy (``decode_image`` / ``read_image``):
- 8-bit images give uint8 and read as value / 255; 16-bit ones (PNG or TIFF, gray or colour) give
  uint16 and read as value / 65535. Nothing is clipped or gamma-corrected.
- Grayscale (1-bit, L, 16-bit) is replicated to 3 channels; palette images are expanded to RGB;
  CMYK / YCbCr / LAB are converted to RGB by Pillow.
- An alpha channel is dropped (not composited) with an ``ImagePolicyWarning`` naming the file.
- Multi-frame files (GIF, TIFF) give their first frame.
- Anything else (a missing, unreadable, corrupt or truncated file, 32-bit float images) raises
  ``ImageReadError`` naming the file. Every image is fully decoded on read, and Pillow's
  ``LOAD_TRUNCATED_IMAGES`` is never turned on, so a truncated file cannot pass silently.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFile

from sr_data.atomic import atomic_write
from sr_data.sixteen_bit import decode_color16, encode_rgb16_png, is_color16

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".gif")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


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


def _drop_alpha(array: np.ndarray, path: Path) -> np.ndarray:
    if array.shape[2] == 4:
        warnings.warn(f"{path}: alpha channel dropped (RGBA read as RGB)", ImagePolicyWarning, stacklevel=3)
        array = np.ascontiguousarray(array[:, :, :3])
    return array


def _to_rgb_array(image: Image.Image, path: Path) -> np.ndarray:
    """Apply the policy to a loaded Pillow image: an (H, W, 3) uint8 or uint16 array."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        warnings.warn(f"{path}: alpha channel dropped ({mode} read as RGB)", ImagePolicyWarning, stacklevel=3)
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
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def decode_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to an (H, W, 3) uint8 (8-bit files) or uint16 (16-bit files) RGB array."""
    path = Path(path)
    image = _open(path)
    try:
        if is_color16(image):
            return _drop_alpha(decode_color16(path), path)
        image.load()
        return _to_rgb_array(image, path)
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"cannot decode image {path}: {error}") from error
    finally:
        image.close()


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
        return image.height, image.width


def _to_hwc_numpy(img) -> np.ndarray:
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu()
        if img.ndim == 3:
            img = img.permute(1, 2, 0)
        img = img.numpy()
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"write_image: expected (H, W, 3) / (H, W) array or (3, H, W) tensor: {img.shape}")
    return img


def write_image(path: str | os.PathLike, img, bits: int = 8) -> None:
    """Write a float image in [0, 1] ((H, W, 3) or (H, W) numpy, or a (3, H, W) tensor).

    Values are clipped and rounded half up to the 8- or 16-bit grid. 16-bit needs PNG. The file
    appears atomically: it is written to a temporary file beside it and renamed.
    """
    path = Path(path)
    if bits not in (8, 16):
        raise ValueError(f"write_image: bits must be 8 or 16, got {bits}")
    peak = 255 if bits == 8 else 65535
    if bits == 16 and path.suffix.lower() != ".png":
        raise ValueError(f"write_image: 16-bit output needs a .png file, got {path}")
    data = np.floor(np.clip(_to_hwc_numpy(img), 0.0, 1.0) * peak + 0.5)
    data = data.astype(np.uint8 if bits == 8 else np.uint16)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"write_image: unknown image extension in {path}")
    with atomic_write(path) as stream:
        if bits == 16 and data.ndim == 3:
            stream.write(encode_rgb16_png(data))
        else:
            Image.fromarray(data).save(stream, format=fmt)
