"""The common core of every dataset here: a list of HR files, each with an LR file or none.

When an LR file is absent the LR image is made the standard way, from the modcropped HR:
``quantize(imresize(hr, 1 / scale))``. HR images are always modcropped to a multiple of the scale
(bottom/right); a given LR image must then be exactly HR / scale, else a ValueError names both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from sr_data.cache import DecodeCache
from sr_data.image_io import decode_image, image_size
from sr_data.ops import modcrop, to_tensor
from sr_data.resize import imresize


@dataclass(frozen=True)
class ImagePair:
    """One training/test image: its name, HR file and optional LR file."""

    name: str
    hr: Path
    lr: Path | None = None


def bicubic_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 LR image from an (H, W, 3) uint8/uint16 HR array whose sides are multiples of ``scale``.

    Computed as MATLAB's ``imresize`` does for an integer image: in float64 on the 0..255 scale
    (uint16 divided by 257, as ``im2uint8``), rounded half up. At x2 and x4 the bicubic weights are
    dyadic, so exact ties (k + 0.5) occur; on the [0, 1] scale they land a hair below and round down.
    """
    values = hr.astype(np.float64)
    if hr.dtype == np.uint16:
        values /= 257.0
    lr = imresize(values, scale=1 / scale)
    return np.clip(np.floor(lr + 0.5), 0, 255).astype(np.uint8)


def check_scale(scale: int) -> int:
    """``scale`` as an int; a ValueError naming the value unless it is a positive integer."""
    if isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return int(scale)


class PairedImages(Dataset):
    """Full images as ``{"lr": (3,h,w), "hr": (3,h*s,w*s), "name": str}`` float tensors in [0, 1].

    ``name`` (a class default, set per instance by the subclasses) names the set in result tables.
    """

    name: str = "images"

    def __init__(self, pairs: list[ImagePair], scale: int):
        self.scale = check_scale(scale)
        if not pairs:
            raise ValueError(f"{type(self).__name__}: no images")
        self.pairs = list(pairs)
        self._check_headers()

    def __len__(self) -> int:
        return len(self.pairs)

    def hr_size(self, index: int) -> tuple[int, int]:
        """Modcropped HR (height, width) of image ``index``, read from the file header."""
        h, w = image_size(self.pairs[index].hr)
        return h - h % self.scale, w - w % self.scale

    def _check_headers(self) -> None:
        """Read every file's header: unreadable files, HR images smaller than the scale and LR files
        whose size is not modcropped HR / scale fail here, before any work starts, naming the files."""
        for index, pair in enumerate(self.pairs):
            hr_hw = self.hr_size(index)
            if min(hr_hw) == 0:
                raise ValueError(f"HR {pair.hr} is smaller than the scale {self.scale} in height or width")
            if pair.lr is not None:
                self._check_lr_size(pair, hr_hw, image_size(pair.lr))

    def _check_lr_size(self, pair: ImagePair, hr_hw: tuple[int, int], lr_hw: tuple[int, int]) -> None:
        expected = (hr_hw[0] // self.scale, hr_hw[1] // self.scale)
        if tuple(lr_hw) != expected:
            raise ValueError(
                f"LR {pair.lr} is {lr_hw[1]}x{lr_hw[0]} but HR {pair.hr} (modcropped to x{self.scale}) "
                f"is {hr_hw[1]}x{hr_hw[0]}, so LR must be {expected[1]}x{expected[0]}"
            )

    def load_arrays(self, index: int, cache: DecodeCache | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(lr, hr) as (H, W, 3) integer arrays (memory-mapped when ``cache`` is given); HR modcropped."""
        pair = self.pairs[index]
        hr = modcrop(self._decode(pair.hr, cache), self.scale)
        if pair.lr is None:
            if cache is None:
                return bicubic_lr(hr, self.scale), hr
            return cache.load(pair.hr, lambda: bicubic_lr(hr, self.scale), f"bicubic_x{self.scale}"), hr
        lr = self._decode(pair.lr, cache)
        self._check_lr_size(pair, hr.shape[:2], lr.shape[:2])
        return lr, hr

    @staticmethod
    def _decode(path: Path, cache: DecodeCache | None) -> np.ndarray:
        return decode_image(path) if cache is None else cache.load(path, lambda: decode_image(path))

    def __getitem__(self, index: int) -> dict:
        lr, hr = self.load_arrays(index)
        return {"lr": to_tensor(lr), "hr": to_tensor(hr), "name": self.pairs[index].name}
