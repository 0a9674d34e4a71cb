"""The data of a zoo run: training images from `--data` (see `sr_data.open_training_images`), the
recipe's validation set and its test benchmarks (found by name under sr_data's datasets root)."""

from __future__ import annotations

from dataclasses import dataclass

from sr_data import (
    Benchmark,
    PairedImages,
    SampleImages,
    open_test_sets,
    open_training_images,
    split_holdout,
)
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
    train = open_training_images(data, scale)
    val = None
    if section.val.startswith("holdout:"):
        held = section.val.split(":", 1)[1]
        if not held.isdigit() or not 0 < int(held) < len(train):
            raise ValueError(
                f"data.val {section.val!r}: 'holdout:N' needs a whole number 0 < N < {len(train)} "
                f"(the number of training images)"
            )
        count = int(held)
        train, val = split_holdout(train, count)
        notes.append(f"validation: the last {count} of the training images (held out)")
    elif section.val == "samples":
        val = SampleImages("test", scale)
    elif section.val != "none":
        val = Benchmark(section.val, scale)
    test = open_test_sets(section.test, scale, notes)
    return RunData(train, val, test, notes)
