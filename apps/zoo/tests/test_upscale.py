"""`zoo upscale` through the command line: exit status = failed files, setup errors are one line
(the upscaler itself is `sr_deploy.upscale_files`, tested in sr-deploy)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import sr_deploy.upscale
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


def test_an_output_folder_that_is_the_input_folder_is_named_so(make_checkpoint, tmp_path, capsys):
    write_image(tmp_path / "a.png", np.full((4, 4, 3), 0.5))
    args = ["upscale", str(tmp_path), "--weights", str(make_checkpoint()), "--out", str(tmp_path), "--quiet"]
    assert main(args) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"zoo upscale: error: --out {tmp_path} is the input folder {tmp_path}; choose another --out"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "sesr_m3_x2.pt"]


@pytest.mark.parametrize("blocked", ["a file in the way", "a read-only folder"])
def test_an_output_folder_that_cannot_be_written_is_one_os_error_before_any_work(
    make_checkpoint, tmp_path, capsys, monkeypatch, blocked
):
    folder = tmp_path / "in"
    for name in ("a.png", "b.png"):
        write_image(folder / name, np.full((4, 4, 3), 0.5))
    if blocked == "a file in the way":
        (tmp_path / "taken").write_text("a file\n")
        out, named, reason = tmp_path / "taken" / "x2", tmp_path / "taken", "exists and is not a folder"
    else:
        out = named = tmp_path / "read_only"
        out.mkdir(mode=0o555)
        reason = "cannot be written"
        if os.access(out, os.W_OK):
            pytest.skip("this user (root) writes into read-only folders")
    upscaled = []
    monkeypatch.setattr(sr_deploy.upscale, "upscale_picture", lambda *a: upscaled.append(a))
    assert main(["upscale", str(folder), "--weights", str(make_checkpoint()), "--out", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"zoo upscale: error: {named}: {reason}") and "\n" not in error
    assert upscaled == []  # no network ran
