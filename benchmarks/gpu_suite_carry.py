"""What a lent GPU machine needs beside the repository to run the GPU suite, in one folder.

The device gets the repository's tracked and untracked-not-ignored files, plus the ignored paths a
call names in ``carry``; it has its own Python with CUDA torch but none of this project's
third-party dependencies that are not in its image, no network, and no ``../shared``. So
``.device/gpu_suite/`` (ignored by git) holds:

- ``wheels/``: DEAP (sr-search-evo) and Brevitas (sr-search-quantnas) with the dependencies the
  device image lacks, for CPython 3.12 on manylinux x86-64, at the versions installed here;
- ``datasets/Set5/HR`` (item 7's PSNR) and ``datasets/SunHays80/HR`` (a few photos: item 6's frames);
- ``weights/IMDN_x2.pth`` (item 7), when ``../shared/weights`` has it.

`prepare` builds it (pip download + copies); `describe` lists it with sizes and the one-call
command for the device.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CARRY_DIR = REPO / ".device" / "gpu_suite"
LIMIT_BYTES = 64 * 2**20  # the working tree plus carried paths that travel to the device
# third-party distributions the suite needs that the device image does not hold
WHEELS = ("deap", "moocore", "cffi", "pycparser", "platformdirs", "brevitas", "dependencies", "unfoldNd")
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)
FRAME_PHOTOS = 8  # SunHays80 photos carried for item 6's frames
WEIGHTS = ("IMDN_x2.pth",)


def device_command(out: str = "$OUT") -> str:
    """The shell command for the device: install the carried wheels, then run the suite into ``out``."""
    wheels = CARRY_DIR.relative_to(REPO) / "wheels"
    return (
        f"python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site {wheels}/*.whl && "
        f"PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 benchmarks/gpu_suite.py --out {out}"
    )


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _tree_bytes() -> int:
    """Bytes of the files that travel anyway: tracked, and untracked but not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return sum(
        (REPO / name.decode()).stat().st_size for name in listed if name and (REPO / name.decode()).is_file()
    )


def _download_wheel(name: str, wheels: Path, python: str) -> None:
    version = importlib.metadata.version(name)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", python, "--implementation", "cp", "-d", str(wheels)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command + [f"{name}=={version}"], check=True)


def _copy_tree(source: Path, target: Path, limit: int | None = None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.iterdir() if p.is_file())
    for path in files[:limit]:
        shutil.copy2(path, target / path.name)


def prepare(datasets: Path | None, weights: Path | None, python: str = "3.12") -> None:
    """Build the carry folder: wheels for the device's Python, Set5, a few SunHays80 photos, weights."""
    wheels = CARRY_DIR / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for name in WHEELS:
        _download_wheel(name, wheels, python)
    if datasets is None:
        print("no datasets root ($SR_DATASETS, ../shared/datasets): no Set5 (item 7) nor photos (item 6)")
    else:
        _copy_tree(datasets / "Set5" / "HR", CARRY_DIR / "datasets" / "Set5" / "HR")
        _copy_tree(datasets / "SunHays80" / "HR", CARRY_DIR / "datasets" / "SunHays80" / "HR", FRAME_PHOTOS)
    for name in WEIGHTS:
        source = weights / name if weights else None
        if source and source.is_file():
            (CARRY_DIR / "weights").mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, CARRY_DIR / "weights" / name)
        else:
            print(f"{name} not found (SR_WEIGHTS or ../shared/weights): item 7 will time the untrained net")


def describe() -> int:
    """Print what to carry, its size, the working tree's, and the device command; 1 if over the limit
    or not prepared."""
    if not CARRY_DIR.is_dir():
        print(f"{CARRY_DIR} does not exist: run `python benchmarks/gpu_suite.py --prepare-carry` first")
        return 1
    carried = {p.relative_to(REPO).as_posix(): _size(p) for p in sorted(CARRY_DIR.iterdir())}
    tree = _tree_bytes()
    total = tree + sum(carried.values())
    print("carry (one path, ignored by git):")
    print(f"  {CARRY_DIR.relative_to(REPO).as_posix()}")
    for path, size in carried.items():
        print(f"    {path:40s} {size / 2**20:7.2f} MiB")
    print(f"working tree that travels anyway: {tree / 2**20:.2f} MiB")
    print(f"total: {total / 2**20:.2f} MiB of {LIMIT_BYTES / 2**20:.0f} MiB")
    print(f"device command:\n  {device_command()}")
    if total > LIMIT_BYTES:
        print("over the limit: carry fewer photos or weights")
        return 1
    return 0
