"""Open the data an app was pointed at: `--data` for training and benchmark names for testing.

Every app (zoo, esr_ea, quantnas, sesr) takes the same `--data`: "samples" (scikit-image's photos,
no download), a DIV2K root (holding DIV2K_train_HR), or any folder of HR images (LR made with
MATLAB-style bicubic; an `HR/` subfolder is used when present).
"""

from __future__ import annotations

from pathlib import Path

from sr_data.benchmark import Benchmark
from sr_data.div2k import DIV2K
from sr_data.paired_folder import PairedFolder
from sr_data.pairs import PairedImages
from sr_data.samples import SampleImages


def open_training_images(data: str, scale: int) -> PairedImages:
    """The HR/LR training pairs that `data` names ("samples", a DIV2K root or a folder of HR images)."""
    if data == "samples":
        return SampleImages("train", scale)
    path = Path(data)
    if not path.is_dir():
        raise FileNotFoundError(f"--data {data!r}: not 'samples' and not a folder")
    if (path / "DIV2K_train_HR").is_dir():
        return DIV2K(path, "train", scale)
    return PairedFolder(path / "HR" if (path / "HR").is_dir() else path, scale=scale)


def open_test_sets(names: list[str], scale: int, notes: list[str]) -> list[PairedImages]:
    """The named benchmarks ("samples" = the bundled test photos) that can be found, or the bundled
    test photos when none can; what was skipped is appended to `notes`."""
    found, missing = [], []
    for name in names:
        try:
            found.append(SampleImages("test", scale) if name == "samples" else Benchmark(name, scale))
        except (FileNotFoundError, ValueError):
            missing.append(name)
    if missing:
        notes.append(f"test sets not found (skipped): {', '.join(missing)}")
    if not found:
        notes.append("no benchmark found: testing on the bundled sample test photos")
        found.append(SampleImages("test", scale))
    return found


def split_holdout(images: PairedImages, count: int) -> tuple[PairedImages, PairedImages]:
    """(training images, held-out images): the last `count` images kept out of training to validate on.

    The held-out set is named "holdout" in result tables. `count` must leave at least one image for
    training (0 < count < len(images)), else a ValueError says how many images there are.
    """
    if not 0 < count < len(images):
        raise ValueError(
            f"cannot hold out {count} of {len(images)} training images: need 0 < count < {len(images)}"
        )
    held = PairedImages(images.pairs[-count:], images.scale)
    held.name = "holdout"
    return PairedImages(images.pairs[:-count], images.scale), held
