"""Bicubic: equals a direct transcription of MATLAB imresize's bicubic upscaling."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.bicubic import Bicubic, phase_filters, symmetric_indices

# No trainable parameters at any scale (MATLAB imresize has none to compare).
OFFICIAL_PARAMS = {("bicubic", 2): 0, ("bicubic", 4): 0}


def matlab_cubic(x):
    ax = x.abs()
    return (1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1) + (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * (
        (ax > 1) & (ax <= 2)
    )


def matlab_resize_matrix(in_len, scale):
    """MATLAB's contributions() for upscaling as an (out_len, in_len) matrix; indices 1-based as there."""
    out_len = in_len * scale
    x = torch.arange(1, out_len + 1, dtype=torch.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - 4 / 2)
    taps = left[:, None] + torch.arange(4 + 2, dtype=torch.float64)[None, :]
    weights = matlab_cubic(u[:, None] - taps)
    weights /= weights.sum(dim=1, keepdim=True)
    aux = torch.cat([torch.arange(1, in_len + 1), torch.arange(in_len, 0, -1)])
    indices = aux[torch.remainder(taps.long() - 1, len(aux))] - 1
    matrix = torch.zeros(out_len, in_len, dtype=torch.float64)
    for row in range(out_len):
        matrix[row].index_add_(0, indices[row], weights[row])
    return matrix


def matlab_imresize(img, scale):
    """img (C, H, W) float64 -> (C, H*scale, W*scale), one axis after the other."""
    rows, cols = matlab_resize_matrix(img.shape[1], scale), matlab_resize_matrix(img.shape[2], scale)
    return torch.einsum("oh,chw,pw->cop", rows, img, cols)


def _random(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(7, 9), (1, 1), (2, 3), (1, 6), (16, 5)])
def test_matches_matlab_transcription_float64(scale, size):
    img = _random(3, *size, seed=scale)
    torch.testing.assert_close(Bicubic(scale)(img[None])[0], matlab_imresize(img, scale), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_float32_batch_matches_to_float_precision(scale):
    imgs = _random(4, 3, 10, 11)
    actual = create_model("bicubic", scale=scale)(imgs.float())
    for img, out in zip(imgs, actual, strict=True):
        torch.testing.assert_close(out.double(), matlab_imresize(img, scale), rtol=0, atol=2e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_reproduces_linear_ramps_away_from_the_border(scale):
    # Keys' cubic reproduces polynomials up to degree 2, so an interior ramp samples exactly at
    # MATLAB's coordinates u = (o + 0.5) / scale - 0.5 (0-based).
    w = 12
    ramp = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w).expand(1, 1, 5, w)
    out = Bicubic(scale, 1, 1)(ramp)[0, 0, 0]
    u = (torch.arange(w * scale, dtype=torch.float64) + 0.5) / scale - 0.5
    interior = slice(2 * scale, (w - 2) * scale)
    torch.testing.assert_close(out[interior], u[interior], rtol=0, atol=1e-12)


def test_constant_image_stays_constant_and_model_has_no_parameters():
    model = create_model("bicubic", scale=3)
    assert sum(p.numel() for p in model.parameters()) == 0
    assert model(torch.full((1, 3, 4, 5), 0.25)).sub(0.25).abs().max() < 1e-7


def test_phase_filters_sum_to_one_and_hit_pixel_centres_for_odd_scales():
    for scale in (2, 3, 4):
        torch.testing.assert_close(phase_filters(scale).sum(dim=1), torch.ones(scale, dtype=torch.float64))
    middle = phase_filters(3)[1]
    torch.testing.assert_close(middle, torch.tensor([0, 0, 1, 0, 0], dtype=torch.float64))


def test_symmetric_indices_repeat_the_edge():
    assert symmetric_indices(4, 2).tolist() == [1, 0, 0, 1, 2, 3, 3, 2]
    assert symmetric_indices(1, 2).tolist() == [0, 0, 0, 0, 0]


def test_gradient_flows_to_the_input():
    x = torch.rand(1, 3, 4, 4, requires_grad=True)
    Bicubic(2)(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_rejects_channel_change_and_bad_scale():
    with pytest.raises(ValueError, match="keeps the channel count"):
        create_model("bicubic", in_channels=3, out_channels=1)
    with pytest.raises(ValueError, match="positive integer scale"):
        Bicubic(0)
