"""PSNR/SSIM/Y: closed-form values, torch == numpy reference, batching, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sr_eval import psnr, psnr_reference, rgb_to_y, ssim, ssim_reference
from sr_eval.reference import gaussian_kernel_1d


def _pair(seed: int, shape=(40, 52, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hr = rng.random(shape).astype(np.float32)
    sr = np.clip(hr + rng.normal(0, 0.05, shape), 0, 1).astype(np.float32)
    return sr, hr


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def test_rgb_to_y_matches_matlab_range_and_agrees_between_numpy_and_torch():
    white, black = np.ones((2, 2, 3)), np.zeros((2, 2, 3))
    assert rgb_to_y(white) == pytest.approx(np.full((2, 2), 235.0 / 255), abs=1e-3 / 255)
    assert rgb_to_y(black) == pytest.approx(np.full((2, 2), 16.0 / 255))
    img = np.random.default_rng(0).random((5, 6, 3))
    y_np = rgb_to_y(img)
    y_t = rgb_to_y(torch.from_numpy(img.transpose(2, 0, 1)).unsqueeze(0))
    assert y_t.shape == (1, 1, 5, 6)
    assert np.array_equal(y_t[0, 0].numpy(), y_np)
    with pytest.raises(ValueError, match="3, H, W"):
        rgb_to_y(torch.zeros(2, 4, 4))
    with pytest.raises(TypeError, match="float"):
        rgb_to_y(np.zeros((4, 4, 3), np.uint8))


def test_psnr_closed_form_on_y_and_rgb():
    hr = np.zeros((8, 8, 3), np.uint8)
    sr = np.full((8, 8, 3), 10, np.uint8)
    assert psnr(sr, hr, 0, test_y_channel=False) == pytest.approx(10 * math.log10(255**2 / 100))
    y_step = (65.481 + 128.553 + 24.966) * 10 / 255
    assert psnr(sr, hr, 0) == pytest.approx(10 * math.log10(255**2 / y_step**2))
    assert psnr(hr, hr, 0) == math.inf
    assert torch.isinf(psnr(torch.zeros(3, 8, 8), torch.zeros(3, 8, 8), 0))


def test_float_input_is_quantised_to_uint8_first():
    sr, hr = _pair(1)
    as_uint8 = np.round(sr.astype(np.float64) * 255).astype(np.uint8)
    assert psnr(sr, hr, 2) == psnr(as_uint8, hr, 2)
    off_grid = (as_uint8.astype(np.float64) + 0.4) / 255  # rounds back to the same uint8 values
    assert psnr(off_grid, hr, 2) == psnr(as_uint8, hr, 2)
    assert ssim(_t(off_grid), _t(hr), 2).item() == pytest.approx(ssim(as_uint8, hr, 2), abs=1e-12)
    assert psnr(np.clip(off_grid + 0.2 / 255, 0, 1), hr, 2) != psnr(as_uint8, hr, 2)


def test_crop_border_excludes_the_border():
    hr = np.full((20, 20, 3), 0.5, np.float32)
    sr = hr.copy()
    sr[:3] = 0.0
    assert psnr(sr, hr, 3) == math.inf
    assert psnr(sr, hr, 2) < 30
    assert ssim(sr, hr, 3) == pytest.approx(1.0)


@pytest.mark.parametrize("test_y_channel", [True, False])
def test_torch_equals_numpy_reference_per_image_and_batched(test_y_channel):
    pairs = [_pair(seed) for seed in range(3)]
    batch_sr = torch.stack([_t(sr) for sr, _ in pairs])
    batch_hr = torch.stack([_t(hr) for _, hr in pairs])
    batched_psnr = psnr(batch_sr, batch_hr, 3, test_y_channel)
    batched_ssim = ssim(batch_sr, batch_hr, 3, test_y_channel)
    assert batched_psnr.shape == (3,) and batched_psnr.dtype == torch.float64
    for i, (sr, hr) in enumerate(pairs):
        assert batched_psnr[i].item() == pytest.approx(psnr_reference(sr, hr, 3, test_y_channel), abs=1e-10)
        assert batched_ssim[i].item() == pytest.approx(ssim_reference(sr, hr, 3, test_y_channel), abs=1e-10)
        assert ssim(_t(sr), _t(hr), 3, test_y_channel).dim() == 0


def test_ssim_properties():
    sr, hr = _pair(2)
    assert ssim(hr, hr, 0) == pytest.approx(1.0)
    assert ssim(sr, hr, 0) == pytest.approx(ssim(hr, sr, 0), abs=1e-12)
    assert 0 < ssim(sr, hr, 0) < 1
    taps = gaussian_kernel_1d()
    assert taps.shape == (11,) and taps.sum() == pytest.approx(1.0) and taps[5] == taps.max()
    assert taps[0] / taps[5] == pytest.approx(math.exp(-25 / (2 * 1.5**2)))


def test_grayscale_and_uint8_tensors():
    sr, hr = _pair(3, shape=(30, 30, 1))
    to_u8 = lambda a: np.round(a * 255).astype(np.uint8)  # noqa: E731
    ref = psnr_reference(sr[..., 0], hr[..., 0], 2)
    assert psnr(_t(to_u8(sr)), _t(to_u8(hr)), 2).item() == pytest.approx(ref, abs=1e-10)
    assert ssim(_t(sr), _t(hr), 2).item() == pytest.approx(ssim_reference(sr, hr, 2), abs=1e-10)


def test_bad_input_is_reported():
    sr, hr = _pair(4)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(sr, hr[:-1], 0)
    with pytest.raises(ValueError, match="crop_border"):
        psnr(sr, hr, 30)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(sr[:14, :14], hr[:14, :14], 2)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(_t(sr[:14, :14]), _t(hr[:14, :14]), 2)
    with pytest.raises(TypeError, match="not one of each"):
        psnr(_t(sr), hr, 0)
    with pytest.raises(TypeError, match="uint8"):
        psnr(sr.astype(np.int32), hr.astype(np.int32), 0)
    with pytest.raises(ValueError, match="N, 3, H, W"):
        psnr(torch.zeros(2, 4, 8, 8), torch.zeros(2, 4, 8, 8), 0)


def test_psnr_ssim_in_chunks_equals_the_separate_metrics(monkeypatch):
    from sr_eval import metrics

    pairs = [_pair(seed) for seed in range(4)]
    sr = torch.stack([_t(s) for s, _ in pairs])
    hr = torch.stack([_t(h) for _, h in pairs])
    whole_psnr, whole_ssim = metrics.psnr_ssim(sr, hr, 2)
    monkeypatch.setattr(metrics, "_PIECE_ELEMENTS", 1)  # one image per piece
    chunked_psnr, chunked_ssim = metrics.psnr_ssim(sr, hr, 2)
    assert torch.equal(whole_psnr, psnr(sr, hr, 2)) and torch.equal(whole_ssim, ssim(sr, hr, 2))
    assert torch.allclose(chunked_psnr, whole_psnr, rtol=0, atol=1e-12)
    assert torch.allclose(chunked_ssim, whole_ssim, rtol=0, atol=1e-14)
    with pytest.raises(TypeError, match="tensors"):
        metrics.psnr_ssim(pairs[0][0], pairs[0][1], 2)


def test_y_image_against_rgb_hr():
    """A Y-only model's output (1 channel) is rounded to the uint8 grid; the HR's Y is not rounded."""
    sr, hr = _pair(5)
    sr_y = rgb_to_y(sr.astype(np.float64)).astype(np.float32)
    hr_255 = rgb_to_y(np.round(hr.astype(np.float64) * 255) / 255)[3:-3, 3:-3] * 255
    sr_255 = np.round(sr_y.astype(np.float64) * 255)[3:-3, 3:-3]
    expected = 10 * math.log10(255**2 / np.mean((sr_255 - hr_255) ** 2))
    assert psnr(sr_y, hr, 3) == pytest.approx(expected, abs=1e-10)
    assert psnr(sr_y[..., None], hr, 3) == pytest.approx(expected, abs=1e-10)
    batched_psnr = psnr(torch.from_numpy(sr_y)[None, None], _t(hr)[None], 3)
    assert batched_psnr.shape == (1,) and batched_psnr.item() == pytest.approx(expected, abs=1e-10)
    batched_ssim = ssim(torch.from_numpy(sr_y)[None, None], _t(hr)[None], 3)
    assert batched_ssim.item() == pytest.approx(ssim_reference(sr_y, hr, 3), abs=1e-10)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(sr_y, hr, 3, test_y_channel=False)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(torch.from_numpy(sr_y)[None, None], _t(hr)[None], 3, test_y_channel=False)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(hr, sr_y, 3)  # an RGB SR against a Y HR is a mistake
