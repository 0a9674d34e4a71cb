"""Make tests/data/imresize_golden.npz: BasicSR's imresize outputs that test_resize.py compares to.

Run once, from the repository root, with BasicSR's source (the PyPI sdist, unpacked, or a clone):

    pip download basicsr==1.4.2 --no-deps --no-binary :all: --no-build-isolation -d /tmp/bsr
    tar xzf /tmp/bsr/basicsr-1.4.2.tar.gz -C /tmp/bsr
    python packages/sr-data/tests/make_golden.py /tmp/bsr/basicsr-1.4.2

BasicSR's ``basicsr/utils/matlab_functions.py`` is loaded by path (it needs only numpy and torch).
Inputs: a 60x47 crop of Set5 ``baby.png`` (downscales), a 12x9 crop of it (upscales) and a 13x11
synthetic grayscale image; the inputs are stored beside the outputs, so the test needs no dataset.
BasicSR computes in float32, so outputs are stored as float32.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from sr_data import find_datasets_root, read_image

DOWN = (2, 3, 4)
UP = (2, 3, 4)


def load_basicsr_imresize(basicsr_root: Path):
    path = basicsr_root / "basicsr" / "utils" / "matlab_functions.py"
    spec = importlib.util.spec_from_file_location("basicsr_matlab_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.imresize


def synthetic_image() -> np.ndarray:
    """A 13x11 grayscale image with smooth waves, a hard edge and both extremes."""
    y, x = np.mgrid[0:13, 0:11].astype(np.float64)
    img = 0.5 + 0.35 * np.sin(0.9 * x + 0.4 * y) * np.cos(0.6 * y)
    img[:, 7:] = np.where(y[:, 7:] > 5, 1.0, 0.0)
    return img


def main(basicsr_root: Path) -> None:
    reference = load_basicsr_imresize(basicsr_root)
    datasets = find_datasets_root()
    if datasets is None:
        sys.exit("needs ../shared/datasets (or SR_DATASETS) for Set5/HR/baby.png")
    baby = np.round(read_image(datasets / "Set5" / "HR" / "baby.png") * 255).astype(np.uint8)
    arrays = {
        "real_down_in": baby[100:160, 200:247],
        "real_up_in": baby[300:312, 150:159],
        "synthetic_in": synthetic_image(),
    }
    real_down = arrays["real_down_in"].astype(np.float32) / 255
    real_up = arrays["real_up_in"].astype(np.float32) / 255
    for s in DOWN:
        arrays[f"real_down_x{s}"] = reference(real_down, 1 / s)
        arrays[f"synthetic_down_x{s}"] = reference(arrays["synthetic_in"], 1 / s)
    for s in UP:
        arrays[f"real_up_x{s}"] = reference(real_up, s)
        arrays[f"synthetic_up_x{s}"] = reference(arrays["synthetic_in"], s)
    out = Path(__file__).parent / "data" / "imresize_golden.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
