"""The bicubic baseline on the real test sets reproduces the published and cross-check figures."""

from __future__ import annotations

import pytest

from sr_data.upsampler import BicubicUpsampler
from sr_eval import evaluate

# MATLAB figures of the SR literature (Y rounded to uint8 there, hence the 0.03 dB tolerance).
PUBLISHED_SET5 = {2: (33.66, 0.9299), 3: (30.39, 0.8682), 4: (28.42, 0.8104)}
# Cross-check table of ../shared/datasets/README.md (same protocol as ours; 0.01 dB tolerance).
CROSS_CHECK = {
    ("Set5", 2): (33.68, 0.9305), ("Set5", 3): (30.41, 0.8690), ("Set5", 4): (28.43, 0.8113),
    ("Set14", 2): (30.33, 0.8700), ("Set14", 3): (27.63, 0.7760), ("Set14", 4): (26.09, 0.7050),
    ("BSD68", 2): (29.75, 0.8534), ("BSD68", 3): (27.36, 0.7530), ("BSD68", 4): (26.07, 0.6833),
}  # fmt: skip


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set5_matches_published_and_cross_check(datasets_root, scale):
    result = evaluate(BicubicUpsampler(scale), "Set5", scale, data_root=datasets_root).summary["Set5"]
    assert result["psnr"] == pytest.approx(PUBLISHED_SET5[scale][0], abs=0.03)
    assert result["psnr"] == pytest.approx(CROSS_CHECK["Set5", scale][0], abs=0.01)
    assert result["ssim"] == pytest.approx(CROSS_CHECK["Set5", scale][1], abs=1e-4)
    if scale == 2:
        assert result["ssim"] == pytest.approx(PUBLISHED_SET5[2][1], abs=1e-3)


@pytest.mark.parametrize(("name", "scale"), [key for key in CROSS_CHECK if key[0] != "Set5"])
def test_set14_and_bsd68_match_cross_check(datasets_root, name, scale):
    result = evaluate(BicubicUpsampler(scale), name, scale, data_root=datasets_root).summary[name]
    assert result["psnr"] == pytest.approx(CROSS_CHECK[name, scale][0], abs=0.01)
    assert result["ssim"] == pytest.approx(CROSS_CHECK[name, scale][1], abs=1e-4)


def test_moved_bicubic_upsampler_keeps_a_deprecated_alias():
    import sr_eval.bicubic_baseline as baseline

    with pytest.deprecated_call(match="sr_data.upsampler.BicubicUpsampler"):
        assert baseline.BicubicUpsampler is BicubicUpsampler
