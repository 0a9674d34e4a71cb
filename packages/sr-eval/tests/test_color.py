"""rgb_to_ycbcr / ycbcr_to_rgb: MATLAB's rgb2ycbcr and its exact inverse."""

from __future__ import annotations

import numpy as np

from sr_eval import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def test_ycbcr_round_trip_and_y_is_rgb_to_y():
    rgb = np.random.default_rng(0).random((5, 7, 3))
    ycbcr = rgb_to_ycbcr(rgb)
    assert ycbcr.dtype == np.float32 and ycbcr.shape == (5, 7, 3)
    np.testing.assert_allclose(ycbcr[..., 0], rgb_to_y(rgb), atol=1e-6)
    np.testing.assert_allclose(ycbcr_to_rgb(ycbcr), rgb, atol=1e-5)


def test_ycbcr_of_white_black_and_red_match_matlab():
    pixels = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    expected = np.array([[[235, 128, 128], [16, 128, 128], [81.481, 90.203, 240]]]) / 255
    np.testing.assert_allclose(rgb_to_ycbcr(pixels), expected, atol=1e-5)
