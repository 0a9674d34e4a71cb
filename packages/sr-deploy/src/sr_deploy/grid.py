"""A PNG grid of the same crop upscaled by several networks, for READMEs and papers (`zoo compare`).

One block of panels per image (one under the other), so one command makes a figure over several
test images.

The HR image is modcropped to the scale and downscaled with MATLAB-style bicubic (LR on the uint8
grid, the standard protocol). Panels: bicubic upscaling of the LR, each network's result (rounded to
8 bits), and the HR; every caption gives the PSNR on Y of the whole image (crop border = scale), so
the numbers match ``zoo eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sr_data import atomic_write, imresize, modcrop, quantize, read_image
from sr_deploy.engines import Engine
from sr_deploy.upscale import upscale_rgb
from sr_eval import psnr

PAD = 8  # pixels between panels and around the grid
CAPTION_HEIGHT = 36  # two lines of text under each panel
FONT_SIZE = 14


@dataclass(frozen=True)
class Panel:
    """One column of the grid: a caption title, the full upscaled image and its PSNR (None for HR)."""

    title: str
    image: np.ndarray
    psnr: float | None


@dataclass(frozen=True)
class Crop:
    """A rectangle of the HR image, in HR pixels."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Crop:
        try:
            x, y, w, h = (int(v) for v in text.split(","))
        except ValueError as err:
            raise ValueError(f"--crop must be x,y,w,h (integers), got {text!r}") from err
        return cls(x, y, w, h)

    @classmethod
    def centred(cls, height: int, width: int) -> Crop:
        """The default: a square in the middle, half the shorter side (at most 128 px)."""
        side = max(1, min(height, width, 256) // 2)
        return cls((width - side) // 2, (height - side) // 2, side, side)

    def check_inside(self, height: int, width: int, image: str = "the HR image") -> None:
        if self.width < 1 or self.height < 1 or self.x < 0 or self.y < 0:
            raise ValueError(f"--crop {self}: position must be >= 0 and size >= 1")
        if self.x + self.width > width or self.y + self.height > height:
            raise ValueError(f"--crop {self} does not fit {image}, {width}x{height} (modcropped)")

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.y : self.y + self.height, self.x : self.x + self.width]


def compare_panels(hr: np.ndarray, engines: list[Engine], scale: int) -> list[Panel]:
    """Bicubic, every engine and HR, each with its Y PSNR against the (modcropped) HR."""
    hr = modcrop(hr, scale)
    lr = quantize(imresize(hr, scale=1 / scale))
    results = [("bicubic", np.clip(imresize(lr, scale=scale), 0, 1))]
    for engine in engines:
        if engine.scale != scale:
            raise ValueError(f"{engine.name} upscales x{engine.scale}, the comparison is x{scale}")
        results.append((engine.name, upscale_rgb(lr, engine)))
    panels = [Panel(title, quantize(sr), psnr(quantize(sr), hr, crop_border=scale)) for title, sr in results]
    return [*panels, Panel("HR", hr, None)]


def grid_size(panels: int, crop: Crop, zoom: int, columns: int) -> tuple[int, int]:
    """(width, height) in pixels of the grid image."""
    rows = -(-panels // columns)
    cell_w, cell_h = crop.width * zoom, crop.height * zoom + CAPTION_HEIGHT
    return columns * cell_w + (columns + 1) * PAD, rows * cell_h + (rows + 1) * PAD


def render_grid(panels: list[Panel], crop: Crop, zoom: int = 2, columns: int | None = None) -> Image.Image:
    """The grid: each panel's crop enlarged ``zoom`` times (nearest neighbour) over its caption."""
    columns = columns or len(panels)
    grid = Image.new("RGB", grid_size(len(panels), crop, zoom, columns), "white")
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=FONT_SIZE)
    cell_w, cell_h = crop.width * zoom, crop.height * zoom + CAPTION_HEIGHT
    for index, panel in enumerate(panels):
        left = PAD + (index % columns) * (cell_w + PAD)
        top = PAD + (index // columns) * (cell_h + PAD)
        pixels = np.round(crop.cut(panel.image) * 255).astype(np.uint8)
        grid.paste(
            Image.fromarray(pixels).resize((cell_w, crop.height * zoom), Image.Resampling.NEAREST),
            (left, top),
        )
        caption = "reference" if panel.psnr is None else f"PSNR {panel.psnr:.2f} dB"
        text_top = top + crop.height * zoom + 2
        draw.text((left, text_top), panel.title, fill="black", font=font)
        draw.text((left, text_top + FONT_SIZE + 2), caption, fill="black", font=font)
    return grid


def stack_vertically(blocks: list[Image.Image]) -> Image.Image:
    """One image of ``blocks`` one under the other (left-aligned, sharing the padding between them)."""
    width = max(block.width for block in blocks)
    height = sum(block.height for block in blocks) - PAD * (len(blocks) - 1)
    grid = Image.new("RGB", (width, height), "white")
    top = 0
    for block in blocks:
        grid.paste(block, (0, top))
        top += block.height - PAD
    return grid


def compare_grid(
    images: str | Path | Sequence[str | Path],
    engines: list[Engine],
    scale: int,
    out: str | Path,
    crop: Crop | Sequence[Crop] | None = None,
    zoom: int = 2,
    columns: int | None = None,
) -> list[list[Panel]]:
    """Write the comparison grid of ``images`` to ``out`` (PNG, atomically): one block of panels per
    image, one under the other, each cut at its crop (one for all images, or one per image; default
    centred). The HR panel is titled with the image's name. Returns each image's panels."""
    images = [images] if isinstance(images, str | Path) else list(images)
    crops = list(crop) if isinstance(crop, Sequence) else [crop] * len(images)
    if len(crops) == 1:
        crops *= len(images)
    if len(crops) != len(images):
        raise ValueError(f"--crop: give one, or one per image ({len(images)}), not {len(crops)}")
    if zoom < 1:
        raise ValueError(f"--zoom must be >= 1, got {zoom}")
    hrs = [read_image(image) for image in images]  # every image read and every crop checked first
    for index, (image, hr) in enumerate(zip(images, hrs, strict=True)):
        height, width = (side - side % scale for side in hr.shape[:2])  # as compare_panels modcrops
        crops[index] = crops[index] or Crop.centred(height, width)
        crops[index].check_inside(height, width, str(image))
    results, blocks = [], []
    for image, hr, cut in zip(images, hrs, crops, strict=True):
        panels = compare_panels(hr, engines, scale)
        panels[-1] = Panel(f"HR ({Path(image).stem})", panels[-1].image, None)
        blocks.append(render_grid(panels, cut, zoom, columns))
        results.append(panels)
    grid = stack_vertically(blocks)
    with atomic_write(out) as stream:
        grid.save(stream, format="PNG", optimize=True)
    return results
