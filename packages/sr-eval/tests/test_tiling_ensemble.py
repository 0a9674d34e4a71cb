"""Tiled inference equals untiled inference; self-ensemble averages the 8 dihedral transforms."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sr_eval.ensemble import self_ensemble
from sr_eval.tiling import tile_spans, tiled_forward


def small_conv_net(scale: int, integer_weights: bool = False) -> nn.Module:
    """Three 3x3 convolutions: receptive-field radius 3 LR pixels.

    With ``integer_weights`` every weight is a small integer, so on integer inputs all sums are
    exact in float64 and any summation order gives bit-identical results.
    """
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
        nn.PixelShuffle(scale),
    ).double()
    if integer_weights:
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randint(-3, 4, p.shape))
    return net


@pytest.mark.parametrize("scale", [2, 3])
def test_tiled_equals_untiled_exactly_when_overlap_covers_the_receptive_field(scale):
    model = small_conv_net(scale, integer_weights=True)
    lr = torch.randint(0, 256, (2, 3, 29, 37)).double()
    with torch.no_grad():
        full = model(lr)
        tiled = tiled_forward(model, lr, scale, tile=12, overlap=6)
    assert tiled.shape == full.shape
    assert torch.equal(tiled, full)


def test_tiled_equals_untiled_to_rounding_for_real_valued_weights():
    model = small_conv_net(2)
    lr = torch.rand(1, 3, 29, 37, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(tiled_forward(model, lr, 2, tile=12, overlap=6), model(lr), rtol=0, atol=1e-14)


def test_too_small_overlap_shows_seams():
    model = small_conv_net(2)
    lr = torch.rand(1, 3, 29, 37, dtype=torch.float64)
    with torch.no_grad():
        assert not torch.allclose(tiled_forward(model, lr, 2, tile=12, overlap=0), model(lr))


def test_tile_spans_partition_the_axis():
    for length in (5, 12, 13, 40, 101):
        spans = tile_spans(length, tile=12, overlap=4)
        kept = [i for _, _, k0, k1 in spans for i in range(k0, k1)]
        assert kept == list(range(length))
        for w0, w1, k0, k1 in spans:
            assert 0 <= w0 <= k0 < k1 <= w1 <= length and w1 - w0 == min(12, length)
            assert k0 == 0 or k0 - w0 >= 2
            assert k1 == length or w1 - k1 >= 2
    with pytest.raises(ValueError, match="larger than overlap"):
        tile_spans(20, tile=8, overlap=8)


def test_self_ensemble_is_the_mean_of_the_eight_transforms():
    model = small_conv_net(2)
    lr = torch.rand(1, 3, 9, 13, dtype=torch.float64)
    outputs = []
    for transpose in (False, True):
        for k in range(4):
            x = lr.transpose(-2, -1) if transpose else lr
            y = torch.rot90(model(torch.rot90(x, k, (-2, -1))), -k, (-2, -1))
            outputs.append(y.transpose(-2, -1) if transpose else y)
    expected = torch.stack(outputs).mean(0)
    with torch.no_grad():
        assert torch.allclose(self_ensemble(model, lr), expected, atol=1e-12)
        identity_up = nn.Upsample(scale_factor=2, mode="nearest")
        assert torch.allclose(self_ensemble(identity_up, lr), identity_up(lr), rtol=0, atol=1e-15)
