"""Test support shared by the test suites of the toolkit's packages and apps (pytest fixtures and
assertions), imported by tests only: it needs pytest, which every project's ``test`` extra installs.

- `make_checkpoint`: a fixture writing seeded, untrained registry models as sr_train checkpoints;
- `OFFICIAL_WEIGHTS`, `needs_official_weights` and `official_weights`: the authors' checkpoints
  ($SR_WEIGHTS, else ../shared/weights beside the checkout), or a skip with the reason;
- `one_thread`: an autouse fixture giving each test one torch thread;
- `drawn`: a fixture holding the axes of every matplotlib figure saved during the test, so that a
  test reads back what a plot draws (its lines', points' and labels' data), not only its file;
- `one_line_error`: a command line's refusal is one line on stderr, with its exit status;
- `dominated`: Pareto dominance written plainly, the reference the searches' fronts are checked with;
- `tiny_net`: a three-conv x2 upscaler that scores well in seconds, the quantisation tests' network.

Why here: each project's tests run on their own against the installed packages, so a shared helper
must live in a package that every user requires. A checkpoint needs sr-blocks (the model) and
sr-train (the file format), and sr-deploy is the lowest package that requires both; the search
packages, the apps and the cross-package tests all require sr-deploy. A fixture works where it is
imported: ``from sr_deploy.testing import make_checkpoint`` in a conftest.py serves that folder's
tests, and `one_thread` imported into a module or conftest.py applies to every test there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sr_blocks import create_model
from sr_data import find_weights_root
from sr_train import model_checkpoint, save_checkpoint

OFFICIAL_WEIGHTS = find_weights_root()
needs_official_weights = pytest.mark.skipif(
    OFFICIAL_WEIGHTS is None,
    reason="official checkpoints not found: set SR_WEIGHTS or provide ../shared/weights",
)


def official_weights(name: str) -> Path:
    """The official checkpoint file `name`; the calling test skips when it is absent."""
    path = None if OFFICIAL_WEIGHTS is None else OFFICIAL_WEIGHTS / name
    if path is None or not path.is_file():
        pytest.skip(f"official checkpoint {name} not found (SR_WEIGHTS: {OFFICIAL_WEIGHTS})")
    return path


@pytest.fixture
def make_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """``make_checkpoint(name="sesr_m3", scale=2, **model_kwargs)``: write a seeded, randomly
    initialised registry model as an sr_train checkpoint in the test's folder; returns its path."""

    def make(name: str = "sesr_m3", scale: int = 2, **model_kwargs) -> Path:
        torch.manual_seed(0)
        model = create_model(name, scale=scale, **model_kwargs)
        suffix = "".join(f"_{key}{value}" for key, value in sorted(model_kwargs.items()))
        path = tmp_path / f"{name}_x{scale}{suffix}.pt"
        save_checkpoint(path, model_checkpoint(model, name, scale, model_kwargs))
        return path

    return make


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread during each test: small tensors, and test processes sharing a few busy cores
    without OpenMP threads waiting on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The axes of each matplotlib figure saved during the test, in the order saved (the files are
    still written). Needs matplotlib, which only the projects that plot require."""
    from matplotlib.figure import Figure

    saved: list[list[Any]] = []
    savefig = Figure.savefig

    def keep(figure: Figure, *args: Any, **kwargs: Any) -> Any:
        saved.append(list(figure.axes))
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return saved


def one_line_error(result: subprocess.CompletedProcess, status: int, *fragments: str) -> str:
    """Assert that the command of `result` exited with `status` and wrote one line on stderr (no
    traceback) holding every fragment; returns that line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def dominated(record: dict, others: Sequence[dict], costs: Sequence[str]) -> bool:
    """Whether some record of `others` is at least as good as `record` on PSNR and every cost (lower
    is better) and better on one of them."""
    return any(
        o["psnr"] >= record["psnr"]
        and all(o[c] <= record[c] for c in costs)
        and (o["psnr"] > record["psnr"] or any(o[c] < record[c] for c in costs))
        for o in others
    )


def smooth_pairs(
    count: int, hr_side: int, scale: int = 2, coarse_side: int | None = None, seed: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """(LR, HR) of `count` smooth random images: uniform noise of `coarse_side` (default a quarter of
    `hr_side`) pixels bicubic-upsampled to `hr_side`, and its antialiased bicubic downscaling
    (seeded: every call returns the same images)."""
    side = coarse_side or hr_side // 4
    coarse = torch.rand(count, 3, side, side, generator=torch.Generator().manual_seed(seed))
    hr = F.interpolate(coarse, size=(hr_side, hr_side), mode="bicubic", align_corners=False).clamp(0, 1)
    lr = F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True).clamp(0, 1)
    return lr, hr


def tiny_net(scale: int = 2, outlier: bool = False) -> nn.Module:
    """conv - ReLU - conv - ReLU - conv - pixel shuffle, in eval mode, set up as a noisy
    nearest-neighbour upscaler (centre taps pass the colours through), so that it scores well and
    quantisation shows (seeded: every call returns the same weights). With `outlier` its first conv
    also writes a huge channel that the second conv ignores: every per-tensor activation quantiser
    after the first conv is stretched by it, so the all-integer network loses several dB."""
    torch.manual_seed(0)
    convs = [
        nn.Conv2d(3, 8, 3, padding=1),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.Conv2d(8, 3 * scale**2, 3, padding=1),
    ]
    with torch.no_grad():
        for conv in convs:
            conv.weight.normal_(0, 0.01)
            conv.bias.zero_()
        for channel in range(3):
            convs[0].weight[channel, channel, 1, 1] += 1
            convs[1].weight[channel, channel, 1, 1] += 1
            convs[2].weight[channel * scale**2 : (channel + 1) * scale**2, channel, 1, 1] += 1
        if outlier:
            convs[0].weight[7, 0, 1, 1] = 2000.0
            convs[1].weight[:, 7] = 0
    return nn.Sequential(convs[0], nn.ReLU(), convs[1], nn.ReLU(), convs[2], nn.PixelShuffle(scale)).eval()
