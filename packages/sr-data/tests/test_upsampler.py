"""BicubicUpsampler: imresize upscaling behind the model signature, and sr-data's model factory."""

from importlib.metadata import entry_points

import numpy as np
import pytest
import torch

from sr_data import imresize
from sr_data.upsampler import BicubicUpsampler, create_model


def _random(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("scale", [1, 2, 3, 4])
@pytest.mark.parametrize("size", [(7, 9), (1, 1), (2, 3), (1, 6), (16, 5)])
def test_equals_the_numpy_imresize_tables(scale, size):
    """The model (torch, dense per-axis matrices) against the numpy tap tables, tiny sizes included."""
    img = _random(3, *size, seed=scale)
    out = BicubicUpsampler(scale)(img[None])[0]
    assert out.shape == (3, size[0] * scale, size[1] * scale)
    expected = imresize(img.permute(1, 2, 0).numpy(), scale)
    np.testing.assert_allclose(out.permute(1, 2, 0).numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_float32_batch_is_imresize_and_float64_to_float_precision(scale):
    imgs = _random(4, 3, 10, 11)
    out = BicubicUpsampler(scale)(imgs.float())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, imresize(imgs.float(), scale), rtol=0, atol=0)
    torch.testing.assert_close(out.double(), imresize(imgs, scale), rtol=0, atol=2e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_reproduces_linear_ramps_away_from_the_border(scale):
    # Keys' cubic reproduces polynomials up to degree 2, so an interior ramp samples exactly at
    # MATLAB's coordinates u = (o + 0.5) / scale - 0.5 (0-based).
    w = 12
    ramp = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w).expand(1, 1, 5, w)
    out = BicubicUpsampler(scale, 1, 1)(ramp)[0, 0, 0]
    u = (torch.arange(w * scale, dtype=torch.float64) + 0.5) / scale - 0.5
    interior = slice(2 * scale, (w - 2) * scale)
    torch.testing.assert_close(out[interior], u[interior], rtol=0, atol=1e-12)


def test_no_parameters_constant_stays_constant_and_gradient_reaches_the_input():
    model = BicubicUpsampler(3)
    assert sum(p.numel() for p in model.parameters()) == 0
    assert model(torch.full((1, 3, 4, 5), 0.25)).sub(0.25).abs().max() < 1e-7
    x = torch.rand(1, 3, 4, 4, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("scale", [0, -2, 2.0, 1.5, True, "2"])
def test_rejects_a_scale_that_is_not_a_positive_integer(scale):
    with pytest.raises(ValueError, match="positive integer scale"):
        BicubicUpsampler(scale)


def test_rejects_a_channel_change():
    with pytest.raises(ValueError, match="in_channels=3 != out_channels=1"):
        BicubicUpsampler(2, in_channels=3, out_channels=1)


def test_factory_builds_bicubic_only_and_is_the_installed_entry_point():
    model = create_model("bicubic", scale=4, deployed=True, in_channels=1, out_channels=1)
    assert isinstance(model, BicubicUpsampler) and model.scale == 4
    with pytest.raises(KeyError, match="sr-data builds only bicubic, not 'edsr'"):
        create_model("edsr", scale=2)
    installed = {ep.name: ep.load() for ep in entry_points(group="sr_toolkit.models")}
    assert installed.get("sr_data") is create_model
