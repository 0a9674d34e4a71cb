"""The standard SR test sets (HR only; LR made with MATLAB-style bicubic after modcrop)."""

from __future__ import annotations

import os
from pathlib import Path

from sr_data.pairs import ImagePair, PairedImages
from sr_data.paths import find_datasets_root, list_images

# folder names tried, in order, under the data root for each benchmark name
BENCHMARK_FOLDERS: dict[str, tuple[str, ...]] = {
    "Set5": ("Set5",),
    "Set14": ("Set14",),
    "B100": ("B100", "BSD100"),
    "BSD100": ("B100", "BSD100"),
    "BSD68": ("BSD68",),
    "Urban100": ("Urban100",),
    "Manga109": ("Manga109",),
    "DIV2K-val": ("DIV2K-val", "DIV2K_valid_HR", "DIV2K/DIV2K_valid_HR"),
}


def _image_folder(folder: Path) -> Path:
    """``folder/HR`` when it exists, else ``folder`` itself."""
    return folder / "HR" if (folder / "HR").is_dir() else folder


def resolve_benchmark(
    name_or_path: str | os.PathLike, root: str | os.PathLike | None = None
) -> tuple[str, Path]:
    """(display name, folder of HR images) for a benchmark name or a folder path."""
    as_path = Path(name_or_path)
    canonical = {known.lower(): known for known in BENCHMARK_FOLDERS}.get(str(name_or_path).lower())
    if canonical is None:
        if as_path.is_dir():
            folder = _image_folder(as_path)
            return (folder.parent.name if folder.name == "HR" else folder.name), folder
        raise ValueError(
            f"unknown benchmark {str(name_or_path)!r}: not a folder and not one of "
            f"{', '.join(BENCHMARK_FOLDERS)}"
        )
    name = canonical
    base = root or find_datasets_root()
    if base is None:
        raise FileNotFoundError(f"benchmark {name}: no data root; pass root= or set SR_DATASETS")
    tried = []
    for sub in BENCHMARK_FOLDERS[name]:
        folder = _image_folder(Path(base) / sub)
        if folder.is_dir():
            return name, folder
        tried.append(str(folder))
    raise FileNotFoundError(f"benchmark {name} not found; tried {', '.join(tried)}")


class Benchmark(PairedImages):
    """A test set by name (Set5, Set14, B100/BSD100, BSD68, Urban100, Manga109, DIV2K-val) or folder.

    Names (any case; a known name is looked up as a name, never as a relative path) resolve to
    ``<root>/<name>/HR/`` or ``<root>/<name>/``; ``root`` defaults to ``find_datasets_root()`` (env
    ``SR_DATASETS``). HR is modcropped to the scale and LR = quantize(imresize(hr, 1 / scale)),
    the standard protocol. ``self.name`` is the set's name.
    """

    def __init__(self, name_or_path: str | os.PathLike, scale: int, root: str | os.PathLike | None = None):
        self.name, self.folder = resolve_benchmark(name_or_path, root)
        super().__init__([ImagePair(hr.stem, hr) for hr in list_images(self.folder)], scale)
