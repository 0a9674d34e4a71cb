"""Agreement with BasicSR 1.4.2's calculate_psnr / calculate_ssim (golden values, see make_golden.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sr_eval import psnr, ssim

# Per image. BasicSR computes Y in float32 (its RGB path is float64 like ours): the largest differences
# on these cases are 2.3e-7 dB and 8.8e-9 SSIM on Y, 0 and 1e-14 on RGB.
PSNR_TOL_DB = 1e-6
SSIM_TOL = 1e-7


def _ours(sr: np.ndarray, hr: np.ndarray, crop: int) -> dict[str, tuple[float, float]]:
    """Each metric from the numpy reference and from the torch path."""

    def tensor(img: np.ndarray) -> torch.Tensor:
        chw = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(chw))[None]

    st, ht = tensor(sr), tensor(hr)
    values = {}
    for key, fn in (("psnr", psnr), ("ssim", ssim)):
        for suffix, y in (("y", True), ("rgb", False)):
            values[f"{key}_{suffix}"] = (
                fn(sr, hr, crop, test_y_channel=y),
                fn(st, ht, crop, test_y_channel=y).item(),
            )
    return values


def _check(case: dict, ours: dict[str, tuple[float, float]]) -> None:
    for key, (reference, batched) in ours.items():
        tol = PSNR_TOL_DB if key.startswith("psnr") else SSIM_TOL
        label = (
            f"{case.get('image', case.get('name'))} {case.get('degradation', '')} crop={case['crop_border']}"
        )
        assert reference == pytest.approx(case[key], abs=tol), f"{key} numpy reference vs BasicSR, {label}"
        assert batched == pytest.approx(case[key], abs=tol), f"{key} torch vs BasicSR, {label}"
        assert batched == pytest.approx(reference, abs=1e-10), f"{key} torch vs numpy reference, {label}"


@pytest.fixture(scope="module")
def golden(golden_cases) -> dict:
    return json.loads(golden_cases.GOLDEN_JSON.read_text())


def test_synthetic_pairs_agree_with_basicsr(golden, golden_cases):
    pairs = golden_cases.synthetic_pairs()
    assert len(golden["synthetic"]) == len(pairs) * len(golden_cases.SYNTHETIC_CROPS)
    for case in golden["synthetic"]:
        sr, hr = pairs[case["name"]]
        _check(case, _ours(sr, hr, case["crop_border"]))


def test_set5_pairs_agree_with_basicsr(golden, golden_cases, datasets_root):
    from sr_data import read_image

    for case in golden["real"]:
        path = datasets_root / case["dataset"] / "HR" / case["image"]
        hr_full = np.round(read_image(path).astype(np.float64) * 255).astype(np.uint8)
        hr, sr = golden_cases.degrade(hr_full, case["degradation"])
        assert golden_cases.sha256(hr) == case["hr_sha256"], f"{path} is not the image the golden values used"
        assert golden_cases.sha256(sr) == case["sr_sha256"], (
            f"{case['degradation']} of {path} changed (sr_data.imresize?): rerun tests/make_golden.py"
        )
        _check(case, _ours(sr, hr, case["crop_border"]))
