"""The data of a run: training images from ``--data``, the ``--val`` set and the ``--test_sets``.

``--val auto`` is the official code's choice: DIV2K's validation split when ``--data`` is a DIV2K root
holding one (as the official code validates), else the last ``max(1, n // 16)`` training images,
held out. Any other value is sr_data's validation grammar (holdout:N, samples, none, a benchmark
name or a folder).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from sr_data import DIV2K, PairedImages, open_test_sets, open_training_images, open_validation
from sr_train import LumaView


def open_run_data(
    data: str, scale: int, val: str, test_sets: list[str]
) -> tuple[PairedImages, Dataset | None, list[PairedImages], list[str]]:
    """(training images, Y validation set or None, test sets, notes for the log); a named set that
    cannot be found is an error."""
    train = open_training_images(data, scale)
    notes: list[str] = []
    if val == "auto" and isinstance(train, DIV2K) and (Path(data) / "DIV2K_valid_HR").is_dir():
        val_set: PairedImages | None = DIV2K(data, "valid", scale)
        notes.append("validation: DIV2K's validation split (801-900), as the official code")
    else:
        spec = f"holdout:{max(1, len(train) // 16)}" if val == "auto" else val
        train, val_set, found = open_validation(spec, train, scale, key="--val")
        notes += found
    test = open_test_sets(test_sets, scale, notes)
    # validation feeds the model Y and scores its Y output against the RGB HR's Y (sr_eval's protocol)
    return train, None if val_set is None else LumaView(val_set, keys=("lr",)), test, notes
