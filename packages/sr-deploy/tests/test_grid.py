"""The comparison grid: each panel shows its own image's crop, enlarged, with its PSNR in the caption."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sr_data import write_image
from sr_deploy import open_engine
from sr_deploy.grid import CAPTION_HEIGHT, PAD, Crop, Panel, compare_grid, compare_panels, render_grid
from sr_eval import psnr


def stripes(height: int, width: int) -> np.ndarray:
    """An RGB test image on the 8-bit grid: colour bands that change along both axes."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([(x * 7 + y * 3 + 40 * c) % 256 for c in range(3)], axis=2)
    return rgb / 255.0


def test_panels_are_bicubic_each_network_and_hr_with_their_psnr():
    hr = stripes(41, 48)  # modcropped to 40x48 at x2
    panels = compare_panels(hr, [open_engine(model="bicubic", scale=2)], scale=2)
    assert [p.title for p in panels] == ["bicubic", "bicubic", "HR"]
    assert panels[2].image.shape == (40, 48, 3) and panels[2].psnr is None
    assert panels[0].psnr == pytest.approx(psnr(panels[0].image, panels[2].image, crop_border=2))
    assert panels[0].psnr == pytest.approx(panels[1].psnr, abs=0.05)  # sr_data.imresize vs the model
    with pytest.raises(ValueError, match="upscales x2, the comparison is x4"):
        compare_panels(hr, [open_engine(model="bicubic", scale=2)], scale=4)


def test_each_cell_holds_its_panel_crop_enlarged_by_the_zoom():
    images = [np.full((12, 16, 3), level / 255.0) for level in (0, 128)]
    images[1][2:4, 3:5] = 1.0  # a white square inside the crop of the second panel
    panels = [Panel("dark", images[0], 30.0), Panel("HR", images[1], None)]
    crop, zoom = Crop(2, 1, 6, 4), 3
    grid = np.asarray(render_grid(panels, crop, zoom))
    assert grid.shape == (4 * zoom + CAPTION_HEIGHT + 2 * PAD, 2 * 6 * zoom + 3 * PAD, 3)
    for index, panel in enumerate(panels):
        left = PAD + index * (6 * zoom + PAD)
        cell = grid[PAD : PAD + 4 * zoom, left : left + 6 * zoom]
        expected = np.round(crop.cut(panel.image) * 255).astype(np.uint8).repeat(zoom, 0).repeat(zoom, 1)
        assert np.array_equal(cell, expected), panel.title
    assert grid[: PAD - 1].min() == 255  # white padding above the cells


def test_the_written_grid_stacks_one_block_per_image_at_its_crop(tmp_path):
    for name, size in (("a.png", (20, 24)), ("b.png", (16, 20))):
        write_image(tmp_path / name, stripes(*size))
    engine = open_engine(model="bicubic", scale=2)
    crops = [Crop(0, 0, 8, 6), Crop(2, 2, 10, 4)]
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    blocks = compare_grid(paths, [engine], 2, tmp_path / "grid.png", crops, zoom=1)
    assert [panels[-1].title for panels in blocks] == ["HR (a)", "HR (b)"]
    with Image.open(tmp_path / "grid.png") as image:
        grid = np.asarray(image.convert("RGB"))
    assert grid.shape == (6 + 4 + 2 * CAPTION_HEIGHT + 3 * PAD, 3 * 10 + 4 * PAD, 3)
    second_top = PAD + 6 + CAPTION_HEIGHT + PAD
    hr_left = PAD + 2 * (10 + PAD)  # the HR panel of the second block
    hr_cell = grid[second_top : second_top + 4, hr_left : hr_left + 10]
    assert np.array_equal(hr_cell, np.round(crops[1].cut(blocks[1][-1].image) * 255).astype(np.uint8))


def test_crops_are_parsed_and_checked():
    assert Crop.parse("1,2,3,4") == Crop(1, 2, 3, 4)
    with pytest.raises(ValueError, match="x,y,w,h"):
        Crop.parse("1,2,3")
    assert Crop.centred(40, 60) == Crop(20, 10, 20, 20)
    with pytest.raises(ValueError, match="does not fit the HR image, 10x10"):
        Crop(5, 5, 8, 8).check_inside(10, 10)
