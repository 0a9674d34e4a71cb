"""The folder upscaler (behind `zoo upscale`): upscale files and folders of photos with an engine.

Every file keeps what it is: 8-bit stays 8-bit and 16-bit stays 16-bit, grayscale stays grayscale,
alpha is kept (upscaled with MATLAB-style bicubic), and EXIF orientation is applied on reading (the
output is upright). Y-only networks (in_channels=1) upscale Y, with Cb/Cr upscaled by bicubic.

A run can be interrupted and re-run: outputs appear atomically and existing ones are skipped. A file
that cannot be read or written is reported and skipped; the others go on. Reading the next files
and writing the previous results happen in worker threads while the network runs, so the device
does not wait on decoding or encoding.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sr_data import (
    IMAGE_EXTENSIONS,
    DecodedImage,
    ImageReadError,
    decode_image_with_alpha,
    image_bits,
    imresize,
    write_image_with_alpha,
)
from sr_data.image_io import to_float
from sr_deploy.engines import Engine
from sr_eval import rgb_to_ycbcr, ycbcr_to_rgb

# extensions Pillow writes; others (and 16-bit images not going to PNG) are written as PNG
WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
LOSSY_QUALITY = 95  # JPEG / WebP outputs
# full-range luma weights (what Pillow's convert("L") uses) for writing a grayscale result
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
MAX_EXIT_STATUS = 100  # the exit status counts failed files up to this


@dataclass(frozen=True)
class UpscaleJob:
    """One image to upscale and where its result goes."""

    source: Path
    target: Path


@dataclass
class UpscaleReport:
    """What a run did: files written, skipped (their output already existed) and failed (with why)."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        line = (
            f"{len(self.written)} upscaled, {len(self.skipped)} skipped (output exists), "
            f"{len(self.failed)} failed"
        )
        return "\n".join([line, *(f"  failed: {source}: {why}" for source, why in self.failed)])

    @property
    def exit_status(self) -> int:
        """0 when every file went through, else the number of failed files (at most 100)."""
        return min(len(self.failed), MAX_EXIT_STATUS)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W) full-range luma, for writing the result of a grayscale input as grayscale."""
    return rgb @ LUMA_WEIGHTS


def output_suffix(source: Path, fmt: str) -> str:
    """The output's extension: ``png``, or ``same`` as the source where that format can hold the result."""
    if fmt == "png":
        return ".png"
    if fmt != "same":
        raise ValueError(f"--format must be 'png' or 'same', got {fmt!r}")
    suffix = source.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES or suffix == ".png":
        return ".png"
    try:
        return ".png" if image_bits(source) == 16 else source.suffix
    except ImageReadError:
        return source.suffix  # unreadable: reading it fails later and is reported with the others


def _images_in(folder: Path, recursive: bool, exclude: Path) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(
        p
        for p in found
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and exclude not in p.resolve().parents
    )
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return files


def plan_jobs(
    inputs: Iterable[str | Path], out: str | Path, fmt: str = "png", recursive: bool = False
) -> list[UpscaleJob]:
    """Input files and folders -> jobs. A folder's files keep their relative paths under ``out``.

    Files inside ``out`` are never inputs (a re-run does not upscale its own results). Two inputs
    that would write the same output, an output that would replace its input, and ``out`` being an
    input folder are errors.
    """
    out = Path(out)
    out_resolved = out.resolve()
    jobs: dict[Path, Path] = {}
    for item in map(Path, inputs):
        if item.is_dir() and item.resolve() == out_resolved:
            raise ValueError(f"--out {out} is the input folder {item}; choose another --out")
        if item.is_dir():
            pairs = [(p, p.relative_to(item)) for p in _images_in(item, recursive, out_resolved)]
        elif item.is_file():
            pairs = [(item, Path(item.name))]
        else:
            raise FileNotFoundError(f"input not found: {item}")
        for source, relative in pairs:
            target = out / relative.with_suffix(output_suffix(source, fmt))
            if target in jobs:
                raise ValueError(f"{jobs[target]} and {source} would both be written to {target}")
            if target.resolve() == source.resolve():
                raise ValueError(f"{target} would overwrite its input; choose another --out")
            jobs[target] = source
    return [UpscaleJob(source, target) for target, source in jobs.items()]


def upscale_rgb(rgb: np.ndarray, engine: Engine) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1] -> (H*s, W*s, 3) in [0, 1]; Y-only networks upscale Y only."""
    if engine.in_channels == 3:
        return engine(rgb)
    if engine.in_channels != 1:
        raise ValueError(
            f"{engine.name} takes {engine.in_channels} input channels; upscale needs 1 (Y) or 3 (RGB)"
        )
    ycbcr = rgb_to_ycbcr(rgb)
    y = engine(ycbcr[:, :, :1])
    cbcr = imresize(np.ascontiguousarray(ycbcr[:, :, 1:]), scale=engine.scale)
    return np.clip(ycbcr_to_rgb(np.concatenate([y, cbcr], axis=2)), 0.0, 1.0)


def upscale_picture(decoded: DecodedImage, engine: Engine) -> tuple[np.ndarray, np.ndarray | None]:
    """(image, alpha) upscaled: image (H*s, W*s, 3) RGB, or (H*s, W*s) for a grayscale file; floats."""
    sr = upscale_rgb(to_float(decoded.pixels), engine)
    alpha = None
    if decoded.alpha is not None:
        alpha = np.clip(imresize(to_float(decoded.alpha), scale=engine.scale), 0.0, 1.0)
    return (to_gray(sr) if decoded.grayscale else sr), alpha


def save_options(target: Path, png_level: int) -> dict[str, int]:
    """Pillow save options: JPEG/WebP quality, PNG zlib level (1 encodes a 4K frame ~4x faster than
    Pillow's default 6, for files ~10% larger)."""
    suffix = target.suffix.lower()
    if suffix in (".jpg", ".jpeg", ".webp"):
        return {"quality": LOSSY_QUALITY}
    return {"compress_level": png_level} if suffix == ".png" else {}


def _write(job: UpscaleJob, image: np.ndarray, alpha: np.ndarray | None, bits: int, png_level: int) -> None:
    write_image_with_alpha(job.target, image, alpha, bits=bits, **save_options(job.target, png_level))


def upscale_files(
    jobs: list[UpscaleJob],
    engine: Engine,
    *,
    overwrite: bool = False,
    workers: int = 2,
    progress: bool = True,
    png_level: int = 1,
) -> UpscaleReport:
    """Upscale every job's source into its target; reading and writing overlap with inference.

    ``workers`` threads decode the next files (up to ``workers`` ahead) and encode finished ones (at
    most ``workers`` waiting), which bounds memory to a few images. ``png_level`` is the zlib level
    of PNG outputs (0-9).
    """
    report, todo = UpscaleReport(), []
    for job in jobs:
        if overwrite or not job.target.exists():
            todo.append(job)
        else:
            report.skipped.append(job.source)
    bar = tqdm(total=len(todo), unit="img", disable=not progress, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reads: deque[tuple[UpscaleJob, Future]] = deque()
        writes: deque[tuple[UpscaleJob, Future]] = deque()
        upcoming = iter(todo)

        def fail(job: UpscaleJob, why: str) -> None:
            report.failed.append((job.source, why))
            bar.write(f"cannot upscale {job.source}: {why}", file=sys.stderr)

        def finish_write() -> None:
            job, future = writes.popleft()
            try:
                future.result()
                report.written.append(job.target)
            except (ValueError, OSError) as err:
                fail(job, f"cannot write {job.target}: {err}")
            bar.update()

        def read_ahead() -> None:
            while len(reads) < max(1, workers) and (job := next(upcoming, None)) is not None:
                reads.append((job, pool.submit(decode_image_with_alpha, job.source)))

        read_ahead()
        while reads:
            job, future = reads.popleft()
            read_ahead()
            try:
                decoded = future.result()
                image, alpha = upscale_picture(decoded, engine)
            except ImageReadError as err:
                fail(job, str(err))
                bar.update()
                continue
            except RuntimeError as err:  # e.g. out of device memory: a smaller --tile helps
                fail(job, f"{type(err).__name__}: {err} (try a smaller --tile)")
                bar.update()
                continue
            writes.append((job, pool.submit(_write, job, image, alpha, decoded.bits, png_level)))
            while len(writes) > max(1, workers) or (writes and writes[0][1].done()):
                finish_write()
        while writes:
            finish_write()
    bar.close()
    return report
