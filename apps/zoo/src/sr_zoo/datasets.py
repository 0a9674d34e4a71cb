"""The data of a zoo run from `--data`: training images, validation set and test benchmarks.

`--data` is "samples" (scikit-image's photos, no download), a DIV2K root (holding
DIV2K_train_HR), or any folder of HR images (LR made with MATLAB-style bicubic). Benchmarks are
found by name under sr_data's datasets root (SR_DATA_ROOT, SR_DATASETS or ../shared/datasets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sr_data import DIV2K, Benchmark, PairedFolder, PairedImages, SampleImages
from sr_zoo.recipe import DataSection


@dataclass
class RunData:
    train: PairedImages
    val: PairedImages | None
    test: list[PairedImages]
    notes: list[str]


def build_run_data(data: str, scale: int, section: DataSection) -> RunData:
    """Training images, validation set and test sets for `--data` and the recipe's data section."""
    notes: list[str] = []
    train = training_images(data, scale)
    val = None
    if section.val.startswith("holdout:"):
        held = section.val.split(":", 1)[1]
        if not held.isdigit() or not 0 < int(held) < len(train):
            raise ValueError(
                f"data.val {section.val!r}: 'holdout:N' needs a whole number 0 < N < {len(train)} "
                f"(the number of training images)"
            )
        count = int(held)
        val = PairedImages(train.pairs[-count:], scale)
        val.name = "holdout"
        train = PairedImages(train.pairs[:-count], scale)
        notes.append(f"validation: the last {count} of the training images (held out)")
    elif section.val == "samples":
        val = SampleImages("test", scale)
    elif section.val != "none":
        val = Benchmark(section.val, scale)
    test = test_sets(section.test, scale, notes)
    return RunData(train, val, test, notes)


def training_images(data: str, scale: int) -> PairedImages:
    if data == "samples":
        return SampleImages("train", scale)
    path = Path(data)
    if not path.is_dir():
        raise FileNotFoundError(f"--data {data!r}: not 'samples' and not a folder")
    if (path / "DIV2K_train_HR").is_dir():
        return DIV2K(path, "train", scale)
    return PairedFolder(path / "HR" if (path / "HR").is_dir() else path, scale=scale)


def test_sets(names: list[str], scale: int, notes: list[str]) -> list[PairedImages]:
    """The named benchmarks ("samples" = the bundled test photos) that can be found; the bundled test
    photos when none can."""
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
