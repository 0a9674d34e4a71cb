"""`zoo compare`: the grid's size, what it prints, and its errors (what the grid shows: sr-deploy's
tests/test_grid.py)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from sr_data import write_image
from sr_deploy.grid import CAPTION_HEIGHT, PAD
from sr_zoo.cli import main


def photo(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width] / 5.0
    rgb = np.stack([0.5 + 0.4 * np.sin(x + c) * np.cos(0.7 * y - c) for c in range(3)], axis=2)
    return np.round(rgb * 255) / 255


def test_grid_png_of_the_expected_size(make_checkpoint, tmp_path, capsys):
    write_image(tmp_path / "hr.png", photo(41, 50))  # modcropped to 40x50 at x2
    weights = make_checkpoint()
    args = ["compare", "--models", str(weights), "bicubic", "--image", str(tmp_path / "hr.png")]
    assert main([*args, "--out", str(tmp_path / "g.png"), "--crop", "4,6,30,20", "--zoom", "3"]) == 0
    with Image.open(tmp_path / "g.png") as grid:
        # four panels in a row (bicubic, the checkpoint, the bicubic model, HR), each 90x60 + caption
        assert grid.size == (4 * 90 + 5 * PAD, 60 + CAPTION_HEIGHT + 2 * PAD)
    assert "sesr_m3: PSNR" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "h.png"), "--columns", "2"]) == 0
    with Image.open(tmp_path / "h.png") as grid:  # default crop: centred 20x20, zoom 2, 2 rows of 2
        assert grid.size == (2 * 40 + 3 * PAD, 2 * (40 + CAPTION_HEIGHT) + 3 * PAD)


def test_bad_crop_is_reported(tmp_path, capsys):
    write_image(tmp_path / "hr.png", photo(20, 20))
    base = ["compare", "--models", "bicubic", "--scale", "2", "--image", str(tmp_path / "hr.png")]
    assert main([*base, "--out", str(tmp_path / "g.png"), "--crop", "10,10,20,20"]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


def test_several_images_stack_one_block_each_with_labels(make_checkpoint, tmp_path, capsys):
    write_image(tmp_path / "a.png", photo(40, 50))
    write_image(tmp_path / "b.png", photo(30, 36))
    args = [
        "compare",
        "--models",
        str(make_checkpoint()),
        "--labels",
        "mine",
        "--out",
        str(tmp_path / "g.png"),
    ]
    images = ["--image", str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    assert main([*args, *images, "--crop", "0,0,20,10", "2,2,16,12", "--zoom", "1"]) == 0
    with Image.open(tmp_path / "g.png") as grid:  # 3 panels per block; blocks share the PAD between them
        assert grid.size == (3 * 20 + 4 * PAD, (10 + 12 + 2 * CAPTION_HEIGHT) + 3 * PAD)
    out = capsys.readouterr().out
    assert "a.png: mine: PSNR" in out and "b.png: mine: PSNR" in out and "sesr_m3" not in out
    for extra, words in (
        (["--crop", "0,0,8,8", "0,0,8,8", "0,0,8,8"], "one per image (2), not 3"),
        (["--crop", "0,0,8,8", "0,0,40,8"], "b.png, 36x30"),
        (["--labels", "x", "y"], "one per --models entry (1), not 2"),
    ):
        assert main([*args, *images, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
