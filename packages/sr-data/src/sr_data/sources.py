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


def open_test_sets(names: list[str], scale: int, notes: list[str] | None = None) -> list[PairedImages]:
    """The test sets `names` asks for, in order.

    A name is a benchmark (Set5, Set14, BSD68, ... under the datasets root), a folder of HR images,
    or "samples" (the bundled test photos). A name asked for that cannot be found is an error: a
    result table never silently holds other images than the ones named. A name ending in "?"
    ("Set5?") is optional: used when found, else skipped with a note in `notes`; when every name is
    optional and none is found, the bundled test photos are used, with a note saying so.
    """
    notes = [] if notes is None else notes
    found, skipped = [], []
    for name in names:
        optional = name.endswith("?")
        wanted = name[:-1] if optional else name
        try:
            found.append(SampleImages("test", scale) if wanted == "samples" else Benchmark(wanted, scale))
        except (FileNotFoundError, ValueError) as err:
            if not optional:
                raise type(err)(f"test set {wanted!r}: {err}") from None
            skipped.append(wanted)
    if skipped:
        notes.append(f"optional test sets not found (skipped): {', '.join(skipped)}")
    if not found:
        notes.append("none of the optional test sets was found: testing on the bundled sample photos")
        found.append(SampleImages("test", scale))
    return found


def open_validation(
    spec: str, train: PairedImages, scale: int, key: str = "val"
) -> tuple[PairedImages, PairedImages | None, list[str]]:
    """(training images, validation images or None, notes) for a validation spec.

    The one grammar every app's `val` takes: "holdout:N" (the last N training images, kept out of
    training), "samples" (the bundled test photos), "none" (no validation), a benchmark name or a
    folder of HR images. `key` names the setting in errors (e.g. "nas.dataset.val in esr_ea.yaml").
    """
    if spec.startswith("holdout:"):
        held = spec.split(":", 1)[1]
        if not held.isdigit() or not 0 < int(held) < len(train):
            raise ValueError(
                f"{key} {spec!r}: 'holdout:N' needs a whole number 0 < N < {len(train)} "
                f"(the number of training images)"
            )
        train, val = split_holdout(train, int(held))
        return train, val, [f"validation on the last {held} training images (held out)"]
    if spec == "none":
        return train, None, []
    if spec == "samples":
        return train, SampleImages("test", scale), []
    try:
        return train, Benchmark(spec, scale), []
    except (FileNotFoundError, ValueError) as err:
        raise type(err)(
            f"{key} {spec!r}: {err}; use holdout:N, samples, none, a benchmark name or a folder"
        ) from None


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
