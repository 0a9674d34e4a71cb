"""Compute data/golden_metrics.json with BasicSR 1.4.2's own metric functions (run once, by hand).

BasicSR is not a dependency: its two metric files are imported by path from its source
distribution, with stub parent packages so that its heavy ``basicsr/__init__.py`` never runs.
They need OpenCV (``cv2.filter2D`` for SSIM), which is installed into a scratch folder only:

    pip download basicsr==1.4.2 --no-deps --no-binary :all: --no-build-isolation -d /tmp/eval
    tar xzf /tmp/eval/basicsr-1.4.2.tar.gz -C /tmp/eval
    pip install --no-deps --target /tmp/eval/pylib opencv-python-headless
    PYTHONPATH=/tmp/eval/pylib python packages/sr-eval/tests/make_golden.py --basicsr /tmp/eval/basicsr-1.4.2

Real cases use Set5 from the shared datasets folder (``--datasets``, default: sr_data's
``find_datasets_root()``); synthetic pairs are regenerated into data/golden_images.npz.
BasicSR expects BGR order (OpenCV), so RGB images are reversed before the call.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

import golden_cases as cases
import numpy as np


def _load_file(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_basicsr_metrics(sdist_root: Path) -> types.ModuleType:
    """basicsr.metrics.psnr_ssim from an unpacked sdist, without running basicsr/__init__.py."""
    package = sdist_root / "basicsr"
    if not (package / "metrics" / "psnr_ssim.py").is_file():
        raise FileNotFoundError(f"no basicsr/metrics/psnr_ssim.py under {sdist_root}")
    for name, folder in (
        ("basicsr", package),
        ("basicsr.utils", package / "utils"),
        ("basicsr.metrics", package / "metrics"),
    ):
        stub = types.ModuleType(name)
        stub.__path__ = [str(folder)]
        sys.modules[name] = stub
    color = _load_file("basicsr.utils.color_util", package / "utils" / "color_util.py")
    sys.modules["basicsr.utils"].bgr2ycbcr = color.bgr2ycbcr
    _load_file("basicsr.utils.registry", package / "utils" / "registry.py")
    _load_file("basicsr.metrics.metric_util", package / "metrics" / "metric_util.py")
    return _load_file("basicsr.metrics.psnr_ssim", package / "metrics" / "psnr_ssim.py")


def basicsr_values(metrics: types.ModuleType, sr: np.ndarray, hr: np.ndarray, crop: int) -> dict[str, float]:
    """PSNR/SSIM on Y and on RGB, as BasicSR computes them from uint8 images."""
    to_bgr = (lambda img: img[..., ::-1].copy()) if sr.ndim == 3 else (lambda img: img)
    a, b = to_bgr(sr), to_bgr(hr)
    return {
        "psnr_y": float(metrics.calculate_psnr(a, b, crop, test_y_channel=True)),
        "ssim_y": float(metrics.calculate_ssim(a, b, crop, test_y_channel=True)),
        "psnr_rgb": float(metrics.calculate_psnr(a, b, crop, test_y_channel=False)),
        "ssim_rgb": float(metrics.calculate_ssim(a, b, crop, test_y_channel=False)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basicsr", type=Path, required=True, help="unpacked basicsr-1.4.2 sdist")
    parser.add_argument("--datasets", type=Path, default=None, help="folder holding Set5/HR")
    args = parser.parse_args()
    metrics = load_basicsr_metrics(args.basicsr)

    pairs = cases.make_synthetic_pairs()
    cases.DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cases.SYNTHETIC_NPZ, **pairs)
    synthetic = []
    for name, (sr, hr) in cases.synthetic_pairs().items():
        for crop in cases.SYNTHETIC_CROPS:
            synthetic.append({"name": name, "crop_border": crop, **basicsr_values(metrics, sr, hr, crop)})

    from sr_data import find_datasets_root, read_image

    root = args.datasets or find_datasets_root()
    if root is None or not (root / "Set5" / "HR").is_dir():
        raise SystemExit(f"Set5/HR not found under {root}; pass --datasets")
    real = []
    for image in cases.REAL_IMAGES:
        hr_full = np.round(read_image(root / "Set5" / "HR" / image).astype(np.float64) * 255).astype(np.uint8)
        for kind in cases.REAL_DEGRADATIONS:
            hr, sr = cases.degrade(hr_full, kind)
            crop = cases.crop_for(kind)
            real.append(
                {
                    "dataset": "Set5",
                    "image": image,
                    "degradation": kind,
                    "crop_border": crop,
                    "hr_sha256": cases.sha256(hr),
                    "sr_sha256": cases.sha256(sr),
                    **basicsr_values(metrics, sr, hr, crop),
                }
            )

    golden = {
        "source": "BasicSR 1.4.2 basicsr/metrics/psnr_ssim.py (calculate_psnr, calculate_ssim), OpenCV "
        + __import__("cv2").__version__,
        "command": "PYTHONPATH=/tmp/eval/pylib python packages/sr-eval/tests/make_golden.py "
        "--basicsr /tmp/eval/basicsr-1.4.2",
        "synthetic": synthetic,
        "real": real,
    }
    cases.GOLDEN_JSON.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {len(synthetic)} synthetic and {len(real)} real cases to {cases.GOLDEN_JSON}")


if __name__ == "__main__":
    main()
