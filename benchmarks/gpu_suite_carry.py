"""The GPU suite's offline bundle: wheels and data links for a GPU machine without network access.

Such a machine gets a copy of the checkout (tracked and untracked-not-ignored files) plus the
bundle's paths listed in ``CARRIED`` (a path through a symbolic link is copied as the files it
reaches). It has a Python with CUDA torch, but maybe not the suite's other third-party
dependencies, no network, and no ``../shared``. So ``.device/gpu_suite/`` (ignored by git) holds:

- ``wheels/``: DEAP (sr-search-evo) and Brevitas (sr-search-quantnas) with the dependencies a bare
  CUDA torch image lacks, for CPython 3.12 on manylinux x86-64, at the versions installed here;
- ``datasets``: a link to the datasets root, of which Set5 (item 7's PSNR) and SunHays80 (item 6's
  frames) are copied along;
- ``weights``: a link to the weights root, of which IMDN_x2.pth (item 7) is copied along.

The datasets and weights are linked, never copied into the project. `prepare` builds the folder
(pip download, links); `describe` lists the paths to copy with their sizes, checks that checkout and
bundle stay under ``LIMIT_BYTES``, and prints the command to run on the GPU machine.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CARRY_DIR = REPO / ".device" / "gpu_suite"
LIMIT_BYTES = 64 * 2**20  # the checkout plus the bundle: small enough to copy in one transfer
# third-party distributions the suite needs that a bare CUDA torch image does not hold
WHEELS = ("deap", "moocore", "cffi", "pycparser", "platformdirs", "brevitas", "dependencies", "unfoldNd")
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)
CARRIED = ("wheels", "datasets/Set5", "datasets/SunHays80", "weights/IMDN_x2.pth")


def device_command(out: str = "results/gpu_suite") -> str:
    """The shell command for the GPU machine: install the bundle's wheels, then run the suite into ``out``."""
    wheels = CARRY_DIR.relative_to(REPO) / "wheels"
    return (
        f"python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site {wheels}/*.whl && "
        f"PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 benchmarks/gpu_suite.py --out {out}"
    )


def _size(path: Path) -> int:
    path = path.resolve()
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
    paths = [REPO / name.decode() for name in listed if name]
    return sum(path.stat().st_size for path in paths if path.is_file())


def _download_wheel(name: str, wheels: Path, python: str) -> None:
    version = importlib.metadata.version(name)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", python, "--implementation", "cp", "-d", str(wheels)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command + [f"{name}=={version}"], check=True)


def _link(name: str, target: Path | None) -> None:
    link = CARRY_DIR / name
    if link.is_symlink():
        link.unlink()
    if target is None:
        print(f"no {name} root: the suite on the GPU machine will miss what it holds (items 6 and 7)")
        return
    link.symlink_to(target.resolve(), target_is_directory=True)


def prepare(datasets: Path | None, weights: Path | None, python: str = "3.12") -> None:
    """Download the wheels for the GPU machine's Python; link the datasets and weights roots."""
    wheels = CARRY_DIR / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for name in WHEELS:
        _download_wheel(name, wheels, python)
    _link("datasets", datasets)
    _link("weights", weights)


def describe() -> int:
    """Print the paths to copy with their sizes, the checkout's size and the GPU machine's command;
    1 when the folder is not prepared or the total is over the limit."""
    if not (CARRY_DIR / "wheels").is_dir():
        print(f"{CARRY_DIR / 'wheels'} does not exist: run `python benchmarks/gpu_suite.py --prepare-carry`")
        return 1
    paths = {(CARRY_DIR / name).relative_to(REPO).as_posix(): CARRY_DIR / name for name in CARRIED}
    missing = [name for name, path in paths.items() if not path.exists()]
    sizes = {name: _size(path) for name, path in paths.items() if path.exists()}
    tree = _tree_bytes()
    total = tree + sum(sizes.values())
    print("bundle:")
    for name, size in sizes.items():
        print(f"  {name:45s} {size / 2**20:7.2f} MiB")
    for name in missing:
        print(f"  {name:45s} missing (its item reports what it could not do)")
    print(f"checkout (copied anyway): {tree / 2**20:.2f} MiB")
    print(f"total: {total / 2**20:.2f} MiB of {LIMIT_BYTES / 2**20:.0f} MiB")
    print("paths to copy besides the checkout:", list(sizes))
    print(f"command on the GPU machine:\n  {device_command()}")
    if total > LIMIT_BYTES:
        print("over the limit")
        return 1
    return 0
