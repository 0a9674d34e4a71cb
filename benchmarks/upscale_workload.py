"""What the upscaler benchmarks run (`bench_deploy.py`, `gpu_suite.py`): a folder of video-sized
frames, and `zoo upscale`'s images/s over it next to the bare forward of the same engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from bench_timing import median_times
from PIL import Image

from sr_data import find_datasets_root, list_images
from sr_deploy import TorchEngine, plan_jobs, upscale_files
from sr_eval import time_calls_ms


def photo_source() -> list[Path]:
    """The SunHays80 photos when the datasets root has them (real content), else none."""
    root = find_datasets_root()
    folder = root / "SunHays80" / "HR" if root else None
    return list_images(folder) if folder and folder.is_dir() else []


def write_frames(folder: Path, count: int, size: tuple[int, int]) -> str:
    """``count`` frames of ``size`` (H, W) as PNG: SunHays80 photos cropped to the aspect and resized
    (real image content, so decoding and encoding cost what they cost on photos), else noise.
    Returns what the frames are made of ("SunHays80 photos" or "noise")."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = photo_source()
    height, width = size
    for index in range(count):
        if photos:
            with Image.open(photos[index % len(photos)]) as photo:
                photo = photo.convert("RGB")
                crop_h = min(photo.height, photo.width * height // width)
                crop_w = crop_h * width // height
                frame = photo.crop((0, 0, crop_w, crop_h)).resize((width, height), Image.Resampling.BICUBIC)
        else:
            frame = Image.fromarray(
                np.random.default_rng(index).integers(0, 256, (height, width, 3), np.uint8)
            )
        frame.save(folder / f"frame_{index:04d}.png")
    return "SunHays80 photos" if photos else "noise"


@dataclass(frozen=True)
class UpscaleRates:
    """Images/s of the bare forward on a preloaded tensor and of `upscale_files` over the folder."""

    frames: int
    bare_per_s: float
    upscale_per_s: float

    @property
    def share(self) -> float:
        """The upscaler's images/s as a fraction of the bare forward's."""
        return self.upscale_per_s / self.bare_per_s


def upscale_rates(
    engine: TorchEngine,
    frames: Path,
    out: Path,
    frame_size: tuple[int, int],
    workers: int,
    png_level: int,
    forward_repeats: int,
) -> UpscaleRates:
    """Time ``engine``'s forward on one frame-sized tensor (in its dtype and memory format), then
    `upscale_files` over every frame in ``frames`` (after one untimed warm-up file)."""
    x = torch.rand(1, engine.in_channels, *frame_size, device=engine.device, dtype=engine.dtype)
    x = x.contiguous(memory_format=engine.memory_format)
    with torch.inference_mode():
        bare = median_times({"forward": lambda: engine.model(x)}, engine.device, 1, forward_repeats)
    jobs = plan_jobs([frames], out)
    upscale_files(jobs[:1], engine, progress=False)  # warm-up (first-call costs), not timed
    reports = []
    options = dict(overwrite=True, workers=workers, progress=False, png_level=png_level)
    (ms,) = time_calls_ms(lambda: reports.append(upscale_files(jobs, engine, **options)), 0, 1)
    (report,) = reports
    if report.failed:
        raise RuntimeError(f"upscale failed on {report.failed[0][0]}: {report.failed[0][1]}")
    rate = len(report.written) / (ms / 1e3)
    return UpscaleRates(len(report.written), 1 / bare["forward"], rate)
