"""16-bit-per-channel colour images (RGB/RGBA PNG and TIFF), which Pillow reduces to 8 bits.

Pillow's decoders undo PNG filters / TIFF compression for 48-bit RGB and 64-bit RGBA, but its
unpackers keep only the high byte of each sample. Decoding the pixel data a second time with the
opposite byte order (``RGB;16B`` <-> ``RGB;16L``) makes the same unpacker keep the low byte, and the
two together give the full 16 bits. Writing uses a minimal PNG encoder (filter type 0, zlib), since
Pillow cannot write 48-bit RGB or 64-bit RGBA.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

_NATIVE = "L" if sys.byteorder == "little" else "B"
_OPPOSITE = {"B": "L", "L": "B", "N": "B" if _NATIVE == "L" else "L"}
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {3: 2, 4: 6}  # PNG colour types: truecolour, truecolour with alpha


def _rawmode(tile) -> str | None:
    args = tile[3]
    return args if isinstance(args, str) else (args[0] if args and isinstance(args[0], str) else None)


def is_color16(image: Image.Image) -> bool:
    """True when every tile of ``image`` holds 16-bit RGB or RGBA samples."""
    modes = [_rawmode(tile) for tile in image.tile]
    return bool(modes) and all(m is not None and m[:-1] in ("RGB;16", "RGBA;16") for m in modes)


def _with_rawmode(tile, rawmode: str):
    args = tile[3]
    args = rawmode if isinstance(args, str) else (rawmode, *args[1:])
    return tile._replace(args=args) if hasattr(tile, "_replace") else (*tile[:3], args)


def _decode_byte(path: Path, low_byte: bool) -> np.ndarray:
    with Image.open(path) as image:
        if low_byte:
            image.tile = [_with_rawmode(t, _rawmode(t)[:-1] + _OPPOSITE[_rawmode(t)[-1]]) for t in image.tile]
        image.load()
        return np.asarray(image)


def decode_color16(path: Path) -> np.ndarray:
    """(H, W, 3 or 4) uint16 pixels of a 16-bit RGB or RGBA image (``is_color16``)."""
    high = _decode_byte(path, low_byte=False).astype(np.uint16)
    low = _decode_byte(path, low_byte=True).astype(np.uint16)
    return (high << 8) | low


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_rgb16_png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes for an (H, W, 3) RGB or (H, W, 4) RGBA uint16 array (zlib ``compress_level``)."""
    height, width, channels = pixels.shape
    if channels not in _COLOR_TYPE:
        raise ValueError(f"encode_rgb16_png: expected 3 (RGB) or 4 (RGBA) channels, got {pixels.shape}")
    rows = pixels.astype(">u2").reshape(height, width * channels).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 16, _COLOR_TYPE[channels], 0, 0, 0)
    data = _chunk(b"IDAT", zlib.compress(raw, compress_level))
    return _SIGNATURE + _chunk(b"IHDR", header) + data + _chunk(b"IEND", b"")
