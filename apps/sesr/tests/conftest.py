"""Tiny photo folders cut from scikit-image's bundled photos, so whole `sesr` runs take seconds; the
`sesr` command run in this process (`sesr`) or as a subprocess, as a user runs it (`sesr_cli`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sr_data import SampleImages, read_image, write_image
from sr_deploy.testing import one_thread  # noqa: F401 (autouse: one torch thread per test)

# appended to every command a test runs: tiny data, a few steps, small patches and calibration
SHRINK = [
    "--epochs",
    "1",
    "--steps_per_epoch",
    "2",
    "--batch_size",
    "4",
    "--patch_size",
    "32",
    "--calibration_patches",
    "8",
    "--qat_epochs",
    "1",
    "--quiet",
]


def _crops(split: str, size: int, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for pair in SampleImages(split).pairs:
        image = read_image(pair.hr)
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        write_image(folder / f"{pair.name}.png", image[top : top + size, left : left + size])
    return folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict[str, str]:
    """{"train": 6 photos of 64x64, "test": 3 photos of 48x48}: folders of HR PNGs."""
    root = tmp_path_factory.mktemp("tiny_data")
    return {"train": str(_crops("train", 64, root / "train")), "test": str(_crops("test", 48, root / "test"))}


@pytest.fixture
def sesr(tiny_data):
    """``sesr(argv, out)``: run the `sesr` command on the tiny folders into ``out``, shrunk; the exit code.

    ``test_sets`` replaces the tiny test folder."""
    from sr_sesr.cli import main

    def run(argv: list[str], out: Path, test_sets: str | None = None) -> int:
        return main(argv + _data(tiny_data, out, test_sets) + SHRINK)

    return run


@pytest.fixture
def sesr_cli(tiny_data):
    """``sesr_cli(argv, out)``: like ``sesr``, but the real command in a subprocess; the finished
    process (returncode, stdout, stderr)."""

    def run(argv: list[str], out: Path, test_sets: str | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "sr_sesr.cli", *argv, *_data(tiny_data, out, test_sets), *SHRINK]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    return run


def _data(tiny_data: dict[str, str], out: Path, test_sets: str | None) -> list[str]:
    """--data, --test_sets (default: the tiny test folder) and --out."""
    return ["--data", tiny_data["train"], "--test_sets", test_sets or tiny_data["test"], "--out", str(out)]
