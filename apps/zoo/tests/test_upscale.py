"""`zoo upscale` through the command line: exit status = failed files, setup errors are one line
(the upscaler itself is `sr_deploy.upscale_files`, tested in sr-deploy)."""

from __future__ import annotations

import numpy as np
import torch

from sr_data import read_image, write_image
from sr_zoo.cli import main


def test_corrupt_files_set_the_exit_status(make_checkpoint, tmp_path, capsys):
    folder = tmp_path / "in"
    write_image(folder / "good.png", np.full((9, 11, 3), 0.5))
    (folder / "junk.png").write_bytes(b"not an image")
    args = ["upscale", str(folder), "--weights", str(make_checkpoint()), "--out", str(tmp_path / "out")]
    assert main([*args, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "junk.png" in err and "1 failed" in err
    assert read_image(tmp_path / "out" / "good.png").shape == (18, 22, 3)


def test_setup_errors_exit_2_with_one_line(make_checkpoint, tmp_path, capsys):
    write_image(tmp_path / "a.png", np.full((4, 4, 3), 0.5))
    args = ["upscale", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*args, "--weights", str(make_checkpoint()), "--scale", "3"]) == 2
    assert "not x3" in capsys.readouterr().err
    assert main([*args, "--model", "bicubic", "--scale", "2"]) == 0


def test_an_absent_device_is_refused_before_any_file_is_read(make_checkpoint, tmp_path, capsys):
    write_image(tmp_path / "a.png", np.full((4, 4, 3), 0.5))
    device = "cuda:99" if torch.cuda.is_available() else "cuda"
    args = ["upscale", str(tmp_path / "a.png"), "--weights", str(make_checkpoint()), "--device", device]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and device in err[0] and not (tmp_path / "o").exists()
